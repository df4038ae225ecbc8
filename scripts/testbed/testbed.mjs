#!/usr/bin/env node
/**
 * Real-kernel testbed for the linux-cake backend (root only; all traffic inside namespaces).
 *
 *   client ──c0/s0── shaper ──s1/i0── isp ──i1/v0── server
 *   10.77.1.2   10.77.1.1  10.77.2.1  10.77.2.2  10.77.3.1  10.77.3.2
 *
 * isp is the line: TBF at its capacity with a bloated buffer (300 ms at capacity) on both of its
 * egresses; the capacity steps down half-way through the load. shaper runs nothing (variant
 * "none") or the real wanctl-autorate (apps/autorate/dist/cli.js) with router.transport
 * linux-cake, qdisc tbf, on s0 (download) and s1 (upload), probing the server with fping.
 * Load: iperf3 CUBIC, several flows each way, both directions at once. A separate ping from
 * client to server gives RTT under load.
 *
 *   node scripts/testbed/testbed.mjs [--variants none,v1.3,adaptive] [--duration 36] [--flows 4]
 *                                    [--json FILE] [--record DIR]
 *
 * --record DIR: each daemon records its cycle inputs to DIR/<variant>.jsonl and its config to
 * DIR/<variant>.yaml; `wanctl-autorate replay --config DIR/adaptive.yaml --input
 * DIR/adaptive.jsonl` then shows what the law saw and decided, cycle by cycle.
 *
 * Prints one table: added RTT p50/p95/p99 (ms, over the idle median) and throughput as a share
 * of the capacity, per direction, for each variant. A law the config rejects is skipped with a
 * note. Every namespace is removed on exit, failure or SIGINT/SIGTERM.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseCli } from '../lib-cli.mjs';
import {
  addedRtt,
  autorateConfig,
  cleanupOnExit,
  configProblem,
  lineBytes,
  makeTmp,
  nsx,
  preflight,
  sh,
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
} from './lib.mjs';

// ---------------------------------------------------------------- arguments
const USAGE = `usage: node scripts/testbed/testbed.mjs [options]   (root; every namespace is removed on exit)
  --variants LIST       none, v1.3, adaptive, comma-separated (default none,v1.3,adaptive)
  --duration S          seconds of load per variant; the capacity steps down at S / 2 (default 36)
  --flows N             iperf3 CUBIC flows each way (default 4)
  --json FILE           write the results (and when the worst 1 % of the RTTs happened) as JSON
  --record DIR          each daemon records its cycle inputs to DIR/<variant>.jsonl, its config to
                        DIR/<variant>.yaml (for wanctl-autorate replay)
  --cpu                 one v1.3 run; the daemon's CPU only
  --dl-mbps N --ul-mbps N   the line before the step (default 40 / 10)
  --step F              the capacity after the step, as a share (default 0.5)
  --target-ms, --warn-ms, --hard-red-ms N   wanctl's thresholds (default 5 / 15 / 40)
  --tbf-latency-ms N    the shaper's TBF buffer (default 5)
  --ceiling F           wanctl's ceiling as a share of the line (default 0.95)
Exit 0; 3 when skipped (not root, no namespaces, a tool missing); 2 on bad arguments; 1 on failure.`;
const { args, fail } = parseCli('testbed', USAGE, {
  variants: { type: 'string' },
  duration: { type: 'string' },
  flows: { type: 'string' },
  json: { type: 'string' },
  record: { type: 'string' },
  cpu: { type: 'boolean' },
  'target-ms': { type: 'string' },
  'warn-ms': { type: 'string' },
  'hard-red-ms': { type: 'string' },
  'tbf-latency-ms': { type: 'string' },
  ceiling: { type: 'string' },
  'dl-mbps': { type: 'string' },
  'ul-mbps': { type: 'string' },
  step: { type: 'string' },
});
/** A number option > 0, or exit 2 naming it. */
const num = (name, dflt) => {
  const v = Number(args[name] ?? dflt);
  if (!(Number.isFinite(v) && v > 0)) fail(`--${name} must be a number > 0 (got "${args[name]}")`);
  return v;
};
const VARIANTS = (args.variants ?? 'none,v1.3,adaptive').split(',');
for (const v of VARIANTS)
  if (!['none', 'v1.3', 'adaptive'].includes(v)) fail(`unknown variant "${v}" (none, v1.3, adaptive)`);
const DURATION = num('duration', 36);
const FLOWS = num('flows', 4);
const JSON_OUT = args.json ?? null;
const RECORD_DIR = args.record ?? null;
const CPU_ONLY = args.cpu === true; // one v1.3 run, report the daemon's CPU only
// the controller's thresholds and the shaper's TBF buffer (a TBF has no flow queueing, so the
// probes see the shaper's own queue: the buffer is kept short)
const TUNE = {
  targetMs: num('target-ms', 5),
  warnMs: num('warn-ms', 15),
  hardRedMs: num('hard-red-ms', 40),
  tbfLatencyMs: num('tbf-latency-ms', 5),
  ceilingShare: num('ceiling', 0.95),
};
const LINE = {
  dlBefore: num('dl-mbps', 40) * 1e6,
  ulBefore: num('ul-mbps', 10) * 1e6,
  stepFactor: num('step', 0.5), // capacity × this at half time
  bufferMs: 300,
};
const CONFIG_LINE = { dlBps: LINE.dlBefore, ulBps: LINE.ulBefore };

// ---------------------------------------------------------------- helpers
const tmp = makeTmp('wanctl-testbed-');
const log = (m) => process.stderr.write(`testbed: ${m}\n`);
cleanupOnExit({ signals: true, log });

function childPids(pid) {
  return sh('pgrep', ['-P', String(pid)], { allowFail: true })
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
}

function cpuTicks(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
}
const CLK_TCK = Number(sh('getconf', ['CLK_TCK']).trim()) || 100;

// ---------------------------------------------------------------- one run
async function runVariant(variant, idx) {
  const tag = `wtb${process.pid}${idx}`;
  const dir = mkdtempSync(join(tmp, `${variant}-`));
  const n = topology(tag, { dlBps: LINE.dlBefore, ulBps: LINE.ulBefore, bufferMs: LINE.bufferMs });
  let daemon = null;
  const result = { variant };
  try {
    if (variant !== 'none') {
      const cfg = autorateConfig(dir, variant, { line: CONFIG_LINE, tune: TUNE });
      let record = null;
      if (RECORD_DIR) {
        mkdirSync(RECORD_DIR, { recursive: true });
        record = join(resolve(RECORD_DIR), `${variant}.jsonl`);
        rmSync(record, { force: true }); // the daemon appends
        copyFileSync(cfg, join(resolve(RECORD_DIR), `${variant}.yaml`));
      }
      daemon = await startAutorate(n.s, cfg, { record });
      result.qdisc = nsx(n.s, 'tc', 'qdisc', 'show', 'dev', 's0').trim();
    }
    // RTT: a separate ping, client → server, every 50 ms
    const ping = startPing(n.c);
    await sleep(3000);
    const idleEnd = Date.now();

    // load: iperf3 CUBIC, FLOWS each way, both directions at once
    const { dlIv, ulIv, clients, procs } = await startLoad(n, { flows: FLOWS, durationS: DURATION });
    const [dl, ul] = clients;
    const loadStart = Date.now();
    // the daemon itself, and its children (the tc -batch child and fping) beside it
    const kids = daemon ? childPids(daemon.pid) : [];
    const cpu0 = daemon
      ? { ticks: cpuTicks(daemon.pid), kids: kids.map((p) => cpuTicks(p)), t: performance.now() }
      : null;
    // what the line itself carries (frames, as its TBF counts them), from 2 s on
    await sleep(2000);
    const line0 = { dl: lineBytes(n.i, 'i0'), ul: lineBytes(n.i, 'i1'), t: performance.now() };
    // the capacity step, half-way
    await sleep((DURATION * 1000) / 2 - 2000);
    const line1 = { dl: lineBytes(n.i, 'i0'), ul: lineBytes(n.i, 'i1'), t: performance.now() };
    tbfLine(n.i, 'i0', LINE.dlBefore * LINE.stepFactor, 'change', LINE.bufferMs);
    tbfLine(n.i, 'i1', LINE.ulBefore * LINE.stepFactor, 'change', LINE.bufferMs);
    await Promise.race([Promise.all([dl.exited, ul.exited]), sleep((DURATION * 1000) / 2 + 1500)]);
    const loadEnd = Math.min(Date.now(), loadStart + DURATION * 1000);
    const line2 = { dl: lineBytes(n.i, 'i0'), ul: lineBytes(n.i, 'i1'), t: performance.now() };
    // the line's own utilisation: bits it sent over the bits its capacity allowed
    const lineShare = (k, before) => {
      const cap =
        before * ((line1.t - line0.t) / 1000) + before * LINE.stepFactor * ((line2.t - line1.t) / 1000);
      return ((line2[k] - line0[k]) * 8) / cap;
    };
    result.dlLineShare = lineShare('dl', LINE.dlBefore);
    result.ulLineShare = lineShare('ul', LINE.ulBefore);
    if (daemon && cpu0) {
      const dt = (performance.now() - cpu0.t) / 1000;
      result.cpuPercent = ((cpuTicks(daemon.pid) - cpu0.ticks) / CLK_TCK / dt) * 100;
      const kidTicks = kids.reduce((a, p, i) => a + (cpuTicks(p) - (cpu0.kids[i] ?? 0)), 0);
      result.childrenCpuPercent = (kidTicks / CLK_TCK / dt) * 100;
      result.children = kids.map((p) => readFileSync(`/proc/${p}/comm`, 'utf8').trim());
      result.cpuSeconds = dt;
    }
    await ping.stop();
    for (const c of procs) await stop(c, 'SIGKILL', 500);

    // RTT under load: skip the first 2 s (slow start) of the load
    const rtt = addedRtt(ping.rtts, { idleEnd, from: loadStart + 2000, to: loadEnd });
    result.idleRttMs = rtt.idleRttMs;
    result.samples = rtt.samples;
    result.sent = Math.round((loadEnd - loadStart - 2000) / 50);
    result.addedRttMs = rtt.addedRttMs;
    // when the worst 1 % happened (s from the load's start; the step is at DURATION / 2)
    result.peaks = rtt.peaks.map((r) => ({
      atS: Math.round((r.t - loadStart) / 100) / 10,
      addedMs: r.addedMs,
    }));
    // throughput as a share of the capacity the line offered, per second from 2 s on
    const stepped = (before) => (x) =>
      (x.start + x.end) / 2 < DURATION / 2 ? before : before * LINE.stepFactor;
    result.dlShare = shareOfCapacity(dlIv, stepped(LINE.dlBefore), { fromS: 2, toS: DURATION });
    result.ulShare = shareOfCapacity(ulIv, stepped(LINE.ulBefore), { fromS: 2, toS: DURATION });
    if (daemon) {
      result.rates = nsx(n.s, 'tc', '-j', 'qdisc', 'show', 'dev', 's0').trim();
      const r = await stop(daemon, 'SIGTERM', 5000);
      result.daemonExit = r.code;
    }
  } finally {
    await stopAll(500);
    teardown(n);
  }
  return result;
}

// ---------------------------------------------------------------- main
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

async function main() {
  const why = preflight(`wtb${process.pid}`);
  if (why !== null) {
    process.stdout.write(`SKIP: ${why}\n`);
    process.exitCode = 3;
    return;
  }
  const variants = CPU_ONLY ? ['v1.3'] : VARIANTS;
  const results = [];
  const notes = [];
  for (const [i, v] of variants.entries()) {
    if (v !== 'none') {
      const problem = configProblem(autorateConfig(tmp, v, { line: CONFIG_LINE, tune: TUNE }));
      if (problem !== null) {
        notes.push(`${v}: skipped, the config is refused: ${problem}`);
        continue;
      }
    }
    log(`variant ${v}: ${DURATION} s of load, ${FLOWS} CUBIC flows each way`);
    results.push(await runVariant(v, i));
  }
  const dl = (b) => `${b / 1e6}`;
  const lines = [
    `wanctl: target/warn/hard-red ${TUNE.targetMs}/${TUNE.warnMs}/${TUNE.hardRedMs} ms, shaper tbf latency ${TUNE.tbfLatencyMs} ms, 20 Hz`,
    `Line: download ${dl(LINE.dlBefore)} → ${dl(LINE.dlBefore * LINE.stepFactor)} Mbit/s, upload ${dl(LINE.ulBefore)} → ${dl(LINE.ulBefore * LINE.stepFactor)} Mbit/s at ${DURATION / 2} s; TBF buffer ${LINE.bufferMs} ms at capacity; ${FLOWS} CUBIC flows each way, ${DURATION} s`,
    '',
    '| variant | added RTT p50 (ms) | p95 | p99 | download share | upload share | line busy (down / up) | ping replies | daemon CPU |',
    '|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.variant === 'none' ? 'no wanctl' : `wanctl ${r.variant}`} | ${fmt(r.addedRttMs.p50)} | ${fmt(r.addedRttMs.p95)} | ${fmt(r.addedRttMs.p99)} | ${fmt(r.dlShare * 100, 0)} % | ${fmt(r.ulShare * 100, 0)} % | ${fmt(r.dlLineShare * 100, 0)} / ${fmt(r.ulLineShare * 100, 0)} % | ${r.samples}/${r.sent} | ${r.cpuPercent === undefined ? '—' : `${fmt(r.cpuPercent, 2)} % of a core (+ ${fmt(r.childrenCpuPercent, 2)} % ${r.children.join('+')}) over ${fmt(r.cpuSeconds, 0)} s`} |`,
    ),
    '',
    "Shares: iperf3 goodput over the line's capacity. Line busy: the frames the line itself sent over",
    "what its capacity allowed (headers, and the other direction's ACKs, count there).",
    ...notes.map((n) => `\nNote: ${n}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (JSON_OUT)
    writeFileSync(
      JSON_OUT,
      JSON.stringify({ line: LINE, tune: TUNE, duration: DURATION, flows: FLOWS, results, notes }, null, 2),
    );
}

main().catch((err) => {
  process.stderr.write(`testbed: FAILED: ${err.stack ?? err}\n`);
  process.exitCode = 1;
});
