/**
 * The live demo on the real kernel (`--backend linux`, root only): the demo's story played on
 * the testbed's namespaces (scripts/testbed/lib.mjs) instead of the emulated router and link.
 *
 *   client ──c0/s0── shaper ──s1/i0── isp ──i1/v0── server
 *
 * isp is the line: a TBF with a 300 ms buffer whose rate follows the profile's capacity trace,
 * scaled so that the trace's peak is a 40/10 Mbit/s line (what this machine carries in
 * namespaces), changed once a second with `tc qdisc change`. shaper runs the real
 * wanctl-autorate with router.transport linux-cake (qdisc tbf: this kernel has no CAKE) on s0
 * (download) and s1 (upload). Load: iperf3 CUBIC, 4 flows each way after the profile's idle
 * warm-up, bounded by the run's end; latency: a separate 20 Hz ping client → server.
 * Steering is not part of this backend: its mangle rule needs a RouterOS router.
 */
import {
  addedRtt,
  autorateConfig,
  cleanupOnExit,
  HEALTH_PORT,
  keepTmp,
  makeTmp,
  nsxAsync,
  SERVER_IP,
  shareOfCapacity,
  sleep,
  startAutorate,
  startLoad,
  startPing,
  stop,
  stopAll,
  tbfLine,
  teardown,
  topology,
} from '../testbed/lib.mjs';
import { DemoView, fmtMs, fmtPct, fmtRange, fmtStates, ZONES_DL, ZONES_UL } from './demo.mjs';
import { demoProfile } from './profiles.mjs';

/** The line the profile's peak capacity is mapped onto, bps (what 2 cores carry in namespaces). */
export const LINUX_LINE = { downBps: 40e6, upBps: 10e6, bufferMs: 300 };
/** The testbed's controller tuning for a tbf shaper (see packages/linux-cake/README.md). */
const TUNE = { targetMs: 5, warnMs: 15, hardRedMs: 40, tbfLatencyMs: 5 };
const FLOWS = 4;
/** Why steering is not part of the linux backend (printed, and in --help). */
export const NO_STEERING =
  'steering is not part of the linux backend: its mangle rule needs a RouterOS router (--no-steering implied)';

/** The trace's peak per direction over [0, durationS], sampled every 0.1 s. */
function tracePeak(trace, durationS) {
  const peak = { down: 0, up: 0 };
  for (let t = 0; t <= durationS; t += 0.1) {
    for (const d of /** @type {const} */ (['down', 'up'])) peak[d] = Math.max(peak[d], trace.at(t, d));
  }
  return peak;
}

/** Parses what readShaper's one shell call prints: /health's JSON and both tbf rates (bps). */
function parseShaper(text) {
  const [http = '', tcDown = '', tcUp = ''] = text.split('\n@@\n');
  let health = null;
  try {
    health = JSON.parse(http.slice(http.indexOf('\r\n\r\n') + 4));
  } catch {}
  const rate = (j) => {
    try {
      // tc -j gives the tbf rate in bytes per second
      return Number(JSON.parse(j)[0].options.rate) * 8;
    } catch {
      return Number.NaN;
    }
  };
  return { health, downBps: rate(tcDown), upBps: rate(tcUp) };
}

/** One call into the shaper namespace: the daemon's /health and the rates the kernel holds. */
async function readShaper(ns) {
  const script =
    `exec 3<>/dev/tcp/127.0.0.1/${HEALTH_PORT} && printf 'GET /health HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3 && cat <&3;` +
    " printf '\\n@@\\n'; tc -j qdisc show dev s0 root; printf '\\n@@\\n'; tc -j qdisc show dev s1 root";
  return parseShaper(await nsxAsync(ns, 'bash', ['-c', script], 3000));
}

/**
 * Runs the demo on the real kernel. Options as runDemo's where they apply: `profile`,
 * `durationS`, `seed`, `law`, `keep`, `tty`, `write`, `signal`. The caller has run the
 * testbed's preflight. Resolves with the summary; `summary.ok` when wanctl-autorate ran and
 * exited 0 on SIGTERM.
 */
export async function runLinuxDemo(opts = {}) {
  const durationS = opts.durationS ?? 60;
  const seed = opts.seed ?? 1;
  const law = opts.law ?? 'adaptive';
  const view = new DemoView({ tty: opts.tty ?? false, ...(opts.write ? { write: opts.write } : {}) });
  const out = view.write;
  cleanupOnExit({ signals: false }); // the caller turns signals into opts.signal
  const profile = demoProfile(opts.profile ?? 'cable', { durationS, seed });
  const peak = tracePeak(profile.trace, durationS);
  const scale = { down: LINUX_LINE.downBps / peak.down, up: LINUX_LINE.upBps / peak.up };
  const capAt = (tS) => ({
    down: profile.trace.at(tS, 'down') * scale.down,
    up: profile.trace.at(tS, 'up') * scale.up,
  });
  const configLine = { dlBps: LINUX_LINE.downBps, ulBps: LINUX_LINE.upBps };
  const dir = makeTmp('wanctl-demo-linux-');
  const tag = `wdm${process.pid}`;
  const summary = {
    ok: false,
    backend: 'linux',
    profile: profile.name,
    law,
    durationS,
    seed,
    dir,
    steering: null,
    steeringNote: NO_STEERING,
  };
  /** @type {any} */
  let n = null;
  /** @type {any} */
  let daemon = null;
  try {
    const cap0 = capAt(0);
    n = topology(tag, { dlBps: cap0.down, ulBps: cap0.up, bufferMs: LINUX_LINE.bufferMs });
    const cfg = autorateConfig(dir, law, { line: configLine, tune: TUNE, wanName: 'demo' });
    const mb = (b) => (b / 1e6).toFixed(b >= 10e6 ? 0 : 1);
    out(
      `wanctl demo (backend linux): profile ${profile.name} (${profile.description}), ${durationS} s, seed ${seed}, control law ${law}\n` +
        `  scale:   the profile's peak ${mb(peak.down)}/${mb(peak.up)} Mbit/s is a ${mb(LINUX_LINE.downBps)}/${mb(LINUX_LINE.upBps)} Mbit/s line here ` +
        `(download x${scale.down.toPrecision(3)}, upload x${scale.up.toPrecision(3)})\n` +
        `  line:    namespace ${n.i}: tbf at the scaled capacity, ${LINUX_LINE.bufferMs} ms buffer, changed once a second (tc qdisc change)\n` +
        `  shaper:  namespace ${n.s}: wanctl-autorate, router.transport linux-cake, tbf on s0 (download) and s1 (upload); ` +
        `floors ${mb(configLine.dlBps * 0.2)}/${mb(configLine.ulBps * 0.2)}, ceilings ${mb(configLine.dlBps * 0.95)}/${mb(configLine.ulBps * 0.95)} Mbit/s; ` +
        `target/warn/hard-red ${TUNE.targetMs}/${TUNE.warnMs}/${TUNE.hardRedMs} ms\n` +
        `  load:    idle ${profile.warmS.toFixed(0)} s, then iperf3 CUBIC ${FLOWS} down + ${FLOWS} up flows until the end; ping ${n.c} -> ${SERVER_IP} every 50 ms\n` +
        `  ${NO_STEERING}\n` +
        '  columns: link = the line (tbf in isp), wanctl = controller rate, router = the tbf rate the kernel holds in the shaper,\n' +
        "           deliv = iperf3's received rate; probe = the daemon's RTT, delta = its load RTT minus baseline\n" +
        `  config:  ${cfg}; logs in ${dir}\n`,
    );
    daemon = await startAutorate(n.s, cfg, { detached: true });
    const t0 = Date.now();
    out(
      `  wanctl-autorate up; link time starts now; running until t=${durationS} s (Ctrl-C stops earlier)\n\n`,
    );

    const ping = startPing(n.c, { detached: true });
    /** The line's capacity schedule: [{at (wall ms), down, up}] in bps. */
    const schedule = [{ at: t0, ...cap0 }];
    let lineChanges = 0;
    /** @type {any} */
    let load = null;
    let loadStart = 0;
    let loadDurationS = 0;
    const rows = [];
    const stateTime = { down: {}, up: {} };
    let health = null;
    let next = t0 + 1000;
    for (;;) {
      await sleep(Math.max(0, next - Date.now()));
      next += 1000;
      if (opts.signal?.aborted) break;
      const t = (Date.now() - t0) / 1000;
      if (daemon.exitCode !== null || daemon.signalCode !== null)
        throw new Error(`wanctl-autorate exited while running: ${daemon.errText}${daemon.out}`);
      if (t >= durationS - 0.5) break;
      // the line follows the trace (a change under 0.5 % is not written)
      const c = capAt(t);
      const last = schedule[schedule.length - 1];
      for (const [d, dev] of /** @type {const} */ ([
        ['down', 'i0'],
        ['up', 'i1'],
      ])) {
        if (Math.abs(c[d] - last[d]) > 0.005 * last[d]) {
          tbfLine(n.i, dev, c[d], 'change', LINUX_LINE.bufferMs);
          lineChanges++;
        } else c[d] = last[d];
      }
      if (c.down !== last.down || c.up !== last.up) schedule.push({ at: Date.now(), ...c });
      if (load === null && t >= profile.warmS) {
        loadDurationS = Math.max(1, Math.floor(durationS - t - 0.5));
        load = await startLoad(n, { flows: FLOWS, durationS: loadDurationS, detached: true });
        loadStart = Date.now();
      }
      const shaper = await readShaper(n.s);
      if (shaper.health) health = shaper.health;
      const w = shaper.health?.wans?.[0];
      // the last second iperf3 reported (it reports once a second, as it goes)
      const delivered = (iv) => {
        const x = iv?.at(-1);
        return x && x.at > Date.now() - 1500 ? x.bps / 1e6 : load ? Number.NaN : 0;
      };
      const row = {
        t,
        down: {
          capacity: c.down / 1e6,
          controller: w?.controller?.download_bps / 1e6,
          shaped: shaper.downBps / 1e6,
          delivered: delivered(load?.dlIv),
          zone: w?.download?.state ?? null,
        },
        up: {
          capacity: c.up / 1e6,
          controller: w?.controller?.upload_bps / 1e6,
          shaped: shaper.upBps / 1e6,
          delivered: delivered(load?.ulIv),
          zone: w?.upload?.state ?? null,
        },
        probeRttMs: w?.measurement?.last_measured_rtt_ms ?? Number.NaN,
        loadDeltaMs: w ? w.load_rtt_ms - w.baseline_rtt_ms : Number.NaN,
        steering: null,
      };
      rows.push(row);
      for (const d of ['down', 'up']) {
        const z = row[d].zone ?? 'unknown';
        stateTime[d][z] = (stateTime[d][z] ?? 0) + 1;
      }
      view.row(row);
    }
    const endedAt = Date.now();
    const stoppedEarly = (endedAt - t0) / 1000 < durationS - 1;
    await ping.stop();
    if (load) for (const c of load.procs) await stop(c, 'SIGKILL', 500);
    const final = (await readShaper(n.s)).health ?? health;
    const exit = await stop(daemon, 'SIGTERM', 10_000);

    // --- the summary ----------------------------------------------------------------------
    // RTT: the idle median before the load, then the load's replies from 2 s on (slow start)
    const loadEnd = load ? Math.min(endedAt, loadStart + loadDurationS * 1000) : endedAt;
    const rtt = load
      ? addedRtt(ping.rtts, { idleEnd: loadStart, from: loadStart + 2000, to: loadEnd })
      : null;
    // the capacity the line offered in an interval of the load (iperf3's clock starts once its
    // connections are up, later than loadStart on a loaded line: the interval ended when it arrived)
    const capOver = (d) => (x) => {
      const b = x.at;
      const a = b - (x.end - x.start) * 1000;
      let bits = 0;
      for (let i = 0; i < schedule.length; i++) {
        const from = Math.max(a, schedule[i].at);
        const to = Math.min(b, schedule[i + 1]?.at ?? Number.POSITIVE_INFINITY);
        if (to > from) bits += schedule[i][d] * (to - from);
      }
      return bits / (b - a);
    };
    const share = (iv, d) =>
      load ? shareOfCapacity(iv, capOver(d), { fromS: 2, toS: (loadEnd - loadStart) / 1000 }) : Number.NaN;
    const range = (d) => {
      const v = rows.map((r) => r[d].shaped).filter(Number.isFinite);
      return v.length
        ? { first: v[0], min: Math.min(...v), max: Math.max(...v), last: v[v.length - 1] }
        : { first: Number.NaN, min: Number.NaN, max: Number.NaN, last: Number.NaN };
    };
    // a few rows of the shaped rates over time
    const every = Math.max(1, Math.round(rows.length / 8));
    const overTime = rows
      .filter((_r, i) => i % every === every - 1 || i === rows.length - 1)
      .map((r) => ({
        t: Math.round(r.t),
        down: { line: r.down.capacity, shaped: r.down.shaped, delivered: r.down.delivered },
        up: { line: r.up.capacity, shaped: r.up.shaped, delivered: r.up.delivered },
      }));
    const fw = final?.wans?.[0];
    Object.assign(summary, {
      ok: exit.code === 0,
      stoppedEarly,
      seconds: (endedAt - t0) / 1000,
      samples: rows.length,
      scale: {
        down: { peakMbps: peak.down / 1e6, lineMbps: LINUX_LINE.downBps / 1e6, factor: scale.down },
        up: { peakMbps: peak.up / 1e6, lineMbps: LINUX_LINE.upBps / 1e6, factor: scale.up },
      },
      line: { bufferMs: LINUX_LINE.bufferMs, changes: lineChanges, flows: FLOWS },
      stateSeconds: stateTime,
      idleRttMs: rtt?.idleRttMs ?? Number.NaN,
      addedLatencyMs: rtt
        ? { ...rtt.addedRttMs, max: rtt.maxMs, samples: rtt.samples }
        : { p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN, samples: 0 },
      utilisation: { down: share(load?.dlIv ?? [], 'down'), up: share(load?.ulIv ?? [], 'up') },
      shapedMbps: { down: range('down'), up: range('up') },
      shapedOverTime: overTime,
      ceilingMbps: { down: (configLine.dlBps * 0.95) / 1e6, up: (configLine.ulBps * 0.95) / 1e6 },
      floorMbps: { down: (configLine.dlBps * 0.2) / 1e6, up: (configLine.ulBps * 0.2) / 1e6 },
      routerWrites: {
        autorateWritesOk: fw?.router?.writes_ok ?? null,
        autorateWritesFailed: fw?.router?.writes_failed ?? null,
        transport: fw?.router?.transport ?? 'linux-cake',
      },
      exits: { 'wanctl-autorate': exit.code ?? exit.sig },
    });
    printLinuxSummary(summary, out);
    return summary;
  } catch (err) {
    summary.error = err.message;
    if (daemon) {
      const e = await stop(daemon, 'SIGTERM', 3000);
      summary.exits = { 'wanctl-autorate': e.code ?? e.sig };
    }
    out(`\nwanctl demo: ${err.message}\n`);
    return summary;
  } finally {
    await stopAll(500);
    if (n) teardown(n);
    if (!summary.ok || opts.keep) {
      keepTmp(dir);
      out(`config and logs kept in ${dir}\n`);
    }
  }
}

function printLinuxSummary(s, out) {
  const sd = s.shapedMbps;
  const f1 = (v) => (Number.isFinite(v) ? v.toFixed(1) : '–');
  const lines = [
    '',
    `summary (${s.seconds.toFixed(0)} s${s.stoppedEarly ? ', stopped early' : ''}, backend linux, profile ${s.profile}, seed ${s.seed}, law ${s.law}):`,
    `  scale           the profile's peak ${f1(s.scale.down.peakMbps)}/${f1(s.scale.up.peakMbps)} Mbit/s as a ${s.scale.down.lineMbps}/${s.scale.up.lineMbps} Mbit/s line; ${s.line.changes} line changes (tc qdisc change)`,
    `  time in state   download: ${fmtStates(s.stateSeconds.down, ZONES_DL)}`,
    `                  upload:   ${fmtStates(s.stateSeconds.up, ZONES_UL)}`,
    `  added latency   under load (ping RTT - idle median ${fmtMs(s.idleRttMs)}, every 50 ms, from 2 s into the load): p50 ${fmtMs(
      s.addedLatencyMs.p50,
    )}, p95 ${fmtMs(s.addedLatencyMs.p95)}, p99 ${fmtMs(s.addedLatencyMs.p99)}, max ${fmtMs(s.addedLatencyMs.max)} (${s.addedLatencyMs.samples} replies)`,
    `  utilisation     iperf3 received / line capacity under load: download ${fmtPct(s.utilisation.down)}, upload ${fmtPct(
      s.utilisation.up,
    )}`,
    `  shaped rate     download ${fmtRange(sd.down)} Mbit/s (floor ${s.floorMbps.down}, ceiling ${s.ceilingMbps.down}); upload ${fmtRange(
      sd.up,
    )} Mbit/s (floor ${s.floorMbps.up}, ceiling ${s.ceilingMbps.up})`,
    '  over time       t      line down/up   shaped down/up   delivered down/up (Mbit/s)',
    ...s.shapedOverTime.map(
      (r) =>
        `                  ${String(r.t).padStart(3)} s  ${f1(r.down.line).padStart(5)} / ${f1(r.up.line).padEnd(5)}  ${f1(r.down.shaped).padStart(6)} / ${f1(r.up.shaped).padEnd(6)}  ${f1(r.down.delivered).padStart(6)} / ${f1(r.up.delivered)}`,
    ),
    `  router writes   wanctl-autorate: ${s.routerWrites.autorateWritesOk ?? '?'} rate writes ok, ${
      s.routerWrites.autorateWritesFailed ?? '?'
    } failed, via ${s.routerWrites.transport} (tc qdisc change in the shaper namespace)`,
    `  steering        ${NO_STEERING}`,
    `  daemons         ${Object.entries(s.exits)
      .map(([k, v]) => `${k} exit ${v}`)
      .join(', ')}`,
  ];
  out(`${lines.join('\n')}\n`);
}
