/**
 * The live demo: an emulated RouterOS router whose CAKE queues drive a simulated WAN link, and the
 * real wanctl-autorate and wanctl-steering daemons (child processes, production code) controlling
 * it. Only loopback is used; nothing needs root.
 *
 *   LinkSim (capacity trace, bufferbloat, greedy flows) <- RealtimeLinkDriver (wall clock)
 *     ^ max-limit writes             | queue counters           | path RTT
 *   RouterOS emulator (REST + SSH) --+                UDP echo reflectors on 127.0.0.{1,2,3}
 *     ^ REST (SSH fallback)                              ^ UDP probes
 *   wanctl-autorate (child)  -- state file -->  wanctl-steering (child) -> mangle rule
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinkSim, linkSimTrafficModel, RealtimeLinkDriver, startLinkReflector } from '@wanctl/link-sim';
import { buildFixture, startEmulator } from '@wanctl/routeros-emulator';
import yaml from 'js-yaml';
import ssh2 from 'ssh2';
import { deriveAutorateDoc, REPO_ROOT, readExample } from '../bench-control/bench.mjs';
import { demoProfile } from './profiles.mjs';

export const AUTORATE_CLI = join(REPO_ROOT, 'apps', 'autorate', 'dist', 'cli.js');
export const STEERING_CLI = join(REPO_ROOT, 'apps', 'steering', 'dist', 'cli.js');

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });
}

/** GET a JSON document on 127.0.0.1 (any status); null on a connection error or timeout. */
export function getJson(port, path, timeoutMs = 800) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          resolve(null);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Percentile (linear interpolation) of an unsorted array; NaN if empty. */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const s = Float64Array.from(values).sort();
  const pos = (p / 100) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (pos - lo) * (s[hi] - s[lo]);
}

/**
 * UDP reflectors for one sim: one per host, all on the same port (the daemons' probe config has
 * one port for all reflectors). Tries 127.0.0.1-3 for a median of three; falls back to 127.0.0.1
 * alone if the other loopback addresses cannot be bound.
 */
async function startReflectors(sim, seed) {
  const first = await startLinkReflector({ sim, host: '127.0.0.1', port: 0, seed });
  const refl = [first];
  try {
    for (const host of ['127.0.0.2', '127.0.0.3']) {
      refl.push(await startLinkReflector({ sim, host, port: first.port, seed }));
    }
  } catch {
    for (const r of refl.slice(1)) await r.close();
    refl.length = 1;
  }
  return refl;
}

/** Writes the autorate config for the demo (the example, pointed at the emulator and the temp dir). */
function autorateConfig(
  profile,
  { dir, emu, keyFile, udpPort, hosts, healthPort, dashboardPort, writeBudget, law },
) {
  const doc = deriveAutorateDoc(profile.example, profile.overrides);
  const wan = doc.wan_name;
  doc.router = {
    transport: 'rest',
    host: '127.0.0.1',
    user: 'wanctl',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a ${VAR} reference, expanded by the daemons' config loader
    password: '${WANCTL_ROUTER_PASSWORD}',
    port: emu.rest.port,
    scheme: 'http',
    ssh_key: keyFile,
    ssh_port: emu.ssh.port,
    ssh_host_key_sha256: emu.ssh.hostKeyFingerprint,
    call_deadline_ms: 2000,
  };
  const cm = doc.continuous_monitoring;
  cm.ping_hosts = hosts;
  cm.use_median_of_three = hosts.length >= 3;
  cm.probe = { method: 'udp', udp_port: udpPort };
  // No connectivity checks to the internet: the demo stays on loopback.
  cm.fallback_checks = { enabled: false };
  // the control law: the example's (adaptive) unless --law says otherwise
  if (law) cm.control_law = law;
  if (writeBudget) cm.write_budget = { max_writes: writeBudget.maxWrites, window_sec: writeBudget.windowSec };
  doc.logging = { main_log: join(dir, `${wan}.log`), debug_log: join(dir, `${wan}_debug.log`) };
  doc.lock_file = join(dir, `${wan}.lock`);
  doc.state_file = join(dir, `${wan}_state.json`);
  doc.health_check = { enabled: true, host: '127.0.0.1', port: healthPort };
  // history in the temp dir (kept with --keep), its dashboard served by the daemon on loopback
  doc.history = {
    enabled: true,
    file: join(dir, `${wan}_history.db`),
    flush_interval_sec: 1,
    dashboard: { enabled: true, host: '127.0.0.1', port: dashboardPort },
  };
  const file = join(dir, `${wan}.yaml`);
  writeFileSync(file, yaml.dump(doc, { lineWidth: 120 }));
  return { file, doc };
}

/** Writes the steering config: examples/steering.yaml watching the demo WAN. */
function steeringConfig(auto, { dir, udpPort, healthPort, mode }) {
  const doc = readExample('steering.yaml');
  // 'rtt': v1.3's legacy RTT-only assessment (bad_threshold_ms / bad_samples / good_samples).
  if (mode === 'rtt') doc.mode = { ...doc.mode, cake_aware: false };
  // 'confidence': CAKE-aware plus live confidence scoring (the example's keys, dry run off).
  if (mode === 'confidence') {
    doc.mode = { ...doc.mode, use_confidence_scoring: true };
    doc.confidence = { ...(doc.confidence ?? {}), dry_run: false };
  }
  const wan = auto.doc.wan_name;
  doc.topology = { ...doc.topology, primary_wan: wan, primary_wan_config: auto.file };
  doc.router = { ...auto.doc.router };
  doc.cake_state_sources = { primary: auto.doc.state_file };
  doc.cake_queues = { primary_download: auto.doc.queues.download, primary_upload: auto.doc.queues.upload };
  // One assessment a second (the example's 2 s, halved so the demo's line per second moves).
  doc.measurement = {
    ...doc.measurement,
    interval_seconds: 1,
    ping_host: '127.0.0.1',
    probe: { method: 'udp', udp_port: udpPort },
  };
  doc.state = { ...doc.state, file: join(dir, 'steering_state.json') };
  doc.logging = {
    ...doc.logging,
    main_log: join(dir, 'steering.log'),
    debug_log: join(dir, 'steering_debug.log'),
  };
  doc.lock_file = join(dir, 'steering.lock');
  doc.health_check = { enabled: true, host: '127.0.0.1', port: healthPort };
  doc.history = { enabled: true, file: join(dir, 'steering_history.db'), flush_interval_sec: 1 };
  const file = join(dir, 'steering.yaml');
  writeFileSync(file, yaml.dump(doc, { lineWidth: 120 }));
  return { file, doc };
}

/** A daemon child process: its stderr tail is kept for the report. */
function spawnDaemon(name, cli, args, env) {
  const child = spawn(process.execPath, [cli, 'run', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: Ctrl-C in the terminal reaches the demo only, which then stops the
    // daemons in order (SIGTERM) and reports their exit codes.
    detached: true,
  });
  const tail = [];
  const keep = (d) => {
    for (const line of d.toString().split('\n')) {
      if (!line) continue;
      tail.push(line);
      if (tail.length > 40) tail.shift();
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (err) => resolve({ code: null, signal: null, error: err.message }));
  });
  const proc = { name, child, tail, exited, exit: null };
  exited.then((e) => {
    proc.exit = e;
  });
  return proc;
}

async function stopDaemon(proc, timeoutMs = 10_000) {
  if (proc.exit) return proc.exit;
  try {
    proc.child.kill('SIGTERM');
  } catch {}
  const t = setTimeout(() => {
    try {
      proc.child.kill('SIGKILL');
    } catch {}
  }, timeoutMs);
  const e = await proc.exited;
  clearTimeout(t);
  return e;
}

/** Rate of the latency-sensitive traffic (a call, a game) the summary follows, bps each way. */
export const LS_BPS = 1e6;

const MODE_LABEL = {
  cake: 'CAKE-aware',
  confidence: 'CAKE-aware + confidence scoring',
  rtt: 'RTT-only',
};

/** The demo's default write budget (see runDemo); null keeps the config's. */
export const DEMO_WRITE_BUDGET = { maxWrites: 10, windowSec: 6 };

export const ZONES_DL = ['GREEN', 'YELLOW', 'SOFT_RED', 'RED'];
export const ZONES_UL = ['GREEN', 'YELLOW', 'RED'];

function colourFor(state) {
  if (state === 'GREEN' || /_GOOD$/.test(state)) return 32;
  if (state === 'YELLOW') return 33;
  if (state === 'SOFT_RED') return 35;
  if (state === 'RED' || /_DEGRADED$/.test(state)) return 31;
  return 0;
}

/** Formats the live view and the summary (plain text, or with ANSI colours on a TTY). */
export class DemoView {
  constructor({ tty = false, write = (s) => process.stdout.write(s) } = {}) {
    this.tty = tty;
    this.write = write;
    this.lines = 0;
  }

  paint(s, width) {
    const padded = width ? s.padEnd(width) : s;
    const c = colourFor(s);
    return this.tty && c ? `\x1b[${c}m${padded}\x1b[0m` : padded;
  }

  header() {
    const b = this.tty ? '\x1b[1m' : '';
    const e = this.tty ? '\x1b[0m' : '';
    this.write(
      `${b}      |        download (Mbit/s)           |          upload (Mbit/s)           |   RTT (ms)   |${e}\n` +
        `${b}    t | link  wanctl router deliv zone     | link  wanctl router deliv zone     | probe  delta | steering${e}\n`,
    );
  }

  row(r) {
    if (this.lines % 20 === 0) this.header();
    this.lines++;
    // Rates: integers from 100 Mbit/s up, one decimal below.
    const rate = (v) => (Number.isFinite(v) ? (v >= 99.95 ? v.toFixed(0) : v.toFixed(1)) : '–').padStart(5);
    const f = (v, w, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–').padStart(w);
    const dir = (x) =>
      `${rate(x.capacity)} ${rate(x.controller)}  ${rate(x.shaped)} ${rate(x.delivered)} ${this.paint(x.zone ?? '?', 8)}`;
    const steer = r.steering
      ? `${this.paint(r.steering.state ?? '?')}${r.steering.assessment ? ` (${r.steering.assessment})` : ''} ${
          r.steering.ruleOn ? 'rule ON' : 'rule off'
        }`
      : '(not running)';
    this.write(
      `${f(r.t, 4, 0)}s | ${dir(r.down)} | ${dir(r.up)} |${f(r.probeRttMs, 6)} ${f(r.loadDeltaMs, 6)} | ${steer}\n`,
    );
  }

  note(s) {
    this.write(`${this.tty ? '\x1b[2m' : ''}      ${s}${this.tty ? '\x1b[0m' : ''}\n`);
  }
}

/**
 * Runs the demo. Options: `profile` ('cable'), `durationS` (60), `seed` (1), `steering` (true),
 * `steeringMode` ('cake' | 'rtt'), `writeBudget` ({maxWrites, windowSec}; default
 * DEMO_WRITE_BUDGET; null keeps the example's 10 per 60 s), `restOutage` ({fromS, toS}: the
 * emulator's REST face is down in that window of link time, so the daemons fail over to SSH),
 * `tty` (colours), `write` (output), `keep` (keep the temp dir), `signal` (an AbortSignal that
 * stops the demo early, e.g. on SIGINT). Resolves with the summary object; `summary.ok` is true
 * when every daemon exited 0 after SIGTERM (`stoppedEarly` tells an interrupted run).
 */
export async function runDemo(opts = {}) {
  const durationS = opts.durationS ?? 60;
  const seed = opts.seed ?? 1;
  const withSteering = opts.steering ?? true;
  const steeringMode = opts.steeringMode ?? 'cake';
  // The demo compresses an evening into a minute; the write budget's window is compressed
  // likewise by default (10 writes per 6 s instead of the example's 10 per 60 s).
  const writeBudget = opts.writeBudget === undefined ? DEMO_WRITE_BUDGET : opts.writeBudget;
  const view = new DemoView({ tty: opts.tty ?? false, ...(opts.write ? { write: opts.write } : {}) });
  const out = view.write;
  const profile = demoProfile(opts.profile ?? 'cable', { durationS, seed });
  const dir = mkdtempSync(join(tmpdir(), 'wanctl-demo-'));
  const password = randomBytes(12).toString('hex');
  const cleanups = [];
  const procs = [];
  /** The configs whose history stores the run leaves (wanctl-history --config). */
  const historyConfigs = [];
  const summary = {
    ok: false,
    profile: profile.name,
    law: opts.law ?? 'adaptive',
    durationS,
    seed,
    steeringMode,
    dir,
  };
  let emu;
  try {
    // --- the simulated link and the emulated router ---------------------------------------
    const auto0 = deriveAutorateDoc(profile.example, profile.overrides);
    const queues = auto0.queues;
    const ceilDown = auto0.continuous_monitoring.download.ceiling_mbps * 1e6;
    const ceilUp = auto0.continuous_monitoring.upload.ceiling_mbps * 1e6;
    const sim = new LinkSim({
      seed,
      baseRttMs: profile.baseRttMs,
      trace: profile.trace,
      down: { ...profile.down, shaperRateBps: ceilDown },
      up: { ...profile.up, shaperRateBps: ceilUp },
      load: profile.load,
      ...(profile.alternate ? { alternate: profile.alternate } : {}),
    });
    const key = ssh2.utils.generateKeyPairSync('ed25519');
    const keyFile = join(dir, 'router_ed25519');
    writeFileSync(keyFile, key.private, { mode: 0o600 });
    const mangleComment = readExample('steering.yaml').mangle_rule.comment;
    emu = await startEmulator({
      users: [{ name: 'wanctl', password, group: 'full', authorizedKeys: [key.public] }],
      seed: buildFixture({
        wan: auto0.wan_name,
        downloadQueue: queues.download,
        uploadQueue: queues.upload,
        mangleComment,
        downloadMaxLimit: ceilDown,
        uploadMaxLimit: ceilUp,
      }),
      trafficModel: linkSimTrafficModel(sim, { downQueue: queues.download, upQueue: queues.upload }),
    });
    cleanups.push(() => emu.stop());
    // Started once the daemons answer: the trace's time 0 is when they are running.
    const driver = new RealtimeLinkDriver(sim, { intervalMs: 5, maxStepS: 0.1 });
    cleanups.push(() => driver.stop());
    const reflectors = await startReflectors(sim, seed);
    cleanups.push(() => Promise.all(reflectors.map((r) => r.close())));
    const hosts = reflectors.map((r) => r.host);
    const udpPort = reflectors[0].port;

    // Router writes, as the emulator saw them (either face); the rule's changes with their exact
    // link time (and, fetched right after, steering's reason from its /health).
    const writes = { maxLimit: 0, mangle: 0 };
    const wanUpper = String(auto0.wan_name).toUpperCase();
    const ruleChanges = [];
    const pendingReasons = [];
    let ruleOnNow = false;
    let steerPortRef = null;
    const ruleState = () => {
      const r = emu.state.find('/ip/firewall/mangle', (it) => it.comment === mangleComment)[0];
      return r ? r.disabled === 'false' : null;
    };
    const unsub = emu.state.onChange((ev) => {
      if (ev.action !== 'set') return;
      if (ev.path.includes('queue') && ev.props && 'max-limit' in ev.props) writes.maxLimit++;
      if (ev.path.includes('mangle') && ev.props && 'disabled' in ev.props) {
        writes.mangle++;
        queueMicrotask(() => {
          const on = ruleState() === true;
          if (on === ruleOnNow) return;
          ruleOnNow = on;
          const ch = {
            t: Math.round(sim.now * 100) / 100,
            enabled: on,
            from: `${wanUpper}_${on ? 'GOOD' : 'DEGRADED'}`,
            to: `${wanUpper}_${on ? 'DEGRADED' : 'GOOD'}`,
            reason: null,
          };
          ruleChanges.push(ch);
          if (steerPortRef !== null) {
            pendingReasons.push(
              getJson(steerPortRef, '/health', 2000).then((h) => {
                ch.reason = h?.last_transition?.reason ?? null;
              }),
            );
          }
        });
      }
    });
    cleanups.push(async () => unsub());

    // --- the daemons ----------------------------------------------------------------------
    const autoPort = await freePort();
    const steerPort = withSteering ? await freePort() : null;
    const dashboardPort = await freePort();
    const auto = autorateConfig(profile, {
      dir,
      emu,
      keyFile,
      udpPort,
      hosts,
      healthPort: autoPort,
      dashboardPort,
      writeBudget,
      law: opts.law ?? 'adaptive',
    });
    const steer = withSteering
      ? steeringConfig(auto, { dir, udpPort, healthPort: steerPort, mode: steeringMode })
      : null;
    steerPortRef = steerPort;
    historyConfigs.push(auto.file, ...(steer ? [steer.file] : []));
    summary.history = {
      dashboard: `http://127.0.0.1:${dashboardPort}/`,
      files: [auto.doc.history.file, ...(steer ? [steer.doc.history.file] : [])],
      configs: [...historyConfigs],
    };
    const env = { WANCTL_ROUTER_PASSWORD: password, WANCTL_LOG_FORMAT: 'text' };
    out(
      `wanctl demo: profile ${profile.name} (${profile.description}), ${durationS} s, seed ${seed}, control law ${summary.law}\n` +
        `  router: RouterOS emulator REST http://127.0.0.1:${emu.rest.port} (SSH fallback :${emu.ssh.port}, pinned host key)\n` +
        `  link:   base RTT ${profile.baseRttMs} ms, ISP buffer ${profile.down.bufferMs}/${profile.up.bufferMs} ms, ` +
        `idle ${profile.warmS.toFixed(0)} s then 4 down + 4 up greedy flows\n` +
        `  probes: UDP echo reflectors ${hosts.join(', ')} port ${udpPort}\n` +
        `  config: examples/${profile.example}${Object.keys(profile.overrides).length ? ' (rates scaled to the link)' : ''} -> ${auto.file}\n` +
        `  daemons: wanctl-autorate (health :${autoPort})${
          steer ? `, wanctl-steering (health :${steerPort}, ${MODE_LABEL[steeringMode] ?? steeringMode})` : ''
        }; logs in ${dir}\n` +
        `  history: dashboard http://127.0.0.1:${dashboardPort}/ (served by wanctl-autorate); stores in ${dir}\n` +
        `  budget: router writes at most ${
          writeBudget
            ? `${writeBudget.maxWrites} per ${writeBudget.windowSec} s (time is compressed; --write-budget 10/60 for the example's)`
            : 'as the config says'
        }; decreases are written at once, increases wait for budget\n` +
        '  columns: link = true capacity, wanctl = controller rate, router = max-limit on the router\n' +
        "           (increases wait for the write budget), deliv = delivered; probe = the daemon's RTT\n" +
        (sim.alternate
          ? `  alternate WAN: ${sim.alternate.downBps / 1e6}/${sim.alternate.upBps / 1e6} Mbit/s, base RTT ${sim.alternate.baseRttMs} ms, ` +
            `${Math.round(sim.alternate.backgroundUtilisation * 100)} % used by its own traffic; latency-sensitive traffic ` +
            `(${LS_BPS / 1e6} Mbit/s each way) uses it while the rule is on\n`
          : ''),
    );
    // The probe is in the configs (`probe: {method: udp}`); --udp-reflector says the same on the
    // command line for daemon builds that take the reflectors from there only.
    const udpArgs = (hs) => ['--udp-reflector', ...hs.map((h) => `${h}:${udpPort}`)];
    procs.push(spawnDaemon('wanctl-autorate', AUTORATE_CLI, ['--config', auto.file, ...udpArgs(hosts)], env));
    if (steer) {
      procs.push(
        spawnDaemon(
          'wanctl-steering',
          STEERING_CLI,
          ['--config', steer.file, ...udpArgs(hosts.slice(0, 1))],
          env,
        ),
      );
    }
    const killAll = () => {
      for (const p of procs) if (!p.exit) p.child.kill('SIGKILL');
    };
    process.on('exit', killAll);
    cleanups.push(async () => process.off('exit', killAll));

    // Wait for both health endpoints (or a daemon that died).
    const readyBy = Date.now() + 30_000;
    for (;;) {
      const dead = procs.find((p) => p.exit);
      if (dead) throw new DemoError(`${dead.name} exited during start-up (${fmtExit(dead.exit)})`, dead);
      const a = await getJson(autoPort, '/health');
      const s = steer ? await getJson(steerPort, '/health') : {};
      if (a && s) break;
      if (Date.now() > readyBy)
        throw new DemoError('the daemons did not answer on their health ports within 30 s');
      if (opts.signal?.aborted) break;
      await sleep(100);
    }
    driver.start();
    out(`  daemons up; link time starts now; running until t=${durationS} s (Ctrl-C stops earlier)\n\n`);

    // --- live view ----------------------------------------------------------------------------
    const snapD = sim.snapshot('down');
    const snapU = sim.snapshot('up');
    const added = [];
    const loadedCapBits = { down: 0, up: 0 };
    const loadedDelBits = { down: 0, up: 0 };
    let prev = {
      delD: snapD.deliveredBytes,
      delU: snapU.deliveredBytes,
      capD: snapD.capacityBits,
      capU: snapU.capacityBits,
      t: sim.now,
    };
    // True path RTT (what a user's packet would see), every 50 ms while the load is on; for
    // latency-sensitive traffic also where it actually goes: the alternate WAN while the rule is on.
    const ls = { primary: [], steered: [], collapsePrimary: [], collapseSteered: [] };
    const collapse = profile.collapse ?? null;
    const rttTimer = setInterval(() => {
      if (!sim.loadActive()) return;
      const primary = sim.rttMs() - profile.baseRttMs;
      added.push(primary);
      const steered =
        ruleOnNow && sim.alternate
          ? sim.alternate.rttMs({ down: LS_BPS, up: LS_BPS }) - profile.baseRttMs
          : primary;
      ls.primary.push(primary);
      ls.steered.push(steered);
      if (collapse && sim.now >= collapse.fromS && sim.now < collapse.toS) {
        ls.collapsePrimary.push(primary);
        ls.collapseSteered.push(steered);
      }
    }, 50);
    cleanups.push(async () => clearInterval(rttTimer));

    const stateTime = { down: {}, up: {}, steering: {} };
    const shaped = { down: [], up: [] };
    // Optional REST outage (--rest-outage): the REST face goes down, the daemons fail over to SSH.
    const outage = opts.restOutage ?? null;
    let outageState = 'before';
    let lastTransport = null;
    const transportChanges = [];
    // Requests per face, counted once a second from the emulator's request log (by sequence number).
    const requests = { rest: 0, ssh: 0 };
    let lastSeq = -1;
    const countRequests = () => {
      for (const e of emu.requests.all()) {
        if (e.seq <= lastSeq) continue;
        requests[e.face]++;
        lastSeq = e.seq;
      }
    };
    let lastRule = null;
    let rows = 0;
    const maxLimit = (q) => Number(emu.state.get('/queue/tree', q)?.['max-limit'] ?? Number.NaN);
    const ruleOn = () => {
      const r = emu.state.find('/ip/firewall/mangle', (it) => it.comment === mangleComment)[0];
      return r ? r.disabled === 'false' : null;
    };
    let next = Date.now() + 1000;
    while (sim.now < durationS - 0.5 && !opts.signal?.aborted) {
      await sleep(Math.max(0, next - Date.now()));
      next += 1000;
      if (opts.signal?.aborted) break;
      const dead = procs.find((p) => p.exit);
      if (dead) throw new DemoError(`${dead.name} exited while running (${fmtExit(dead.exit)})`, dead);
      const [ah, sh] = await Promise.all([
        getJson(autoPort, '/health'),
        steer ? getJson(steerPort, '/health') : Promise.resolve(null),
      ]);
      sim.snapshot('down', snapD);
      sim.snapshot('up', snapU);
      const dt = sim.now - prev.t || 1;
      const delDown = ((snapD.deliveredBytes - prev.delD) * 8) / dt;
      const delUp = ((snapU.deliveredBytes - prev.delU) * 8) / dt;
      if (sim.loadActive()) {
        loadedDelBits.down += (snapD.deliveredBytes - prev.delD) * 8;
        loadedDelBits.up += (snapU.deliveredBytes - prev.delU) * 8;
        loadedCapBits.down += snapD.capacityBits - prev.capD;
        loadedCapBits.up += snapU.capacityBits - prev.capU;
      }
      prev = {
        delD: snapD.deliveredBytes,
        delU: snapU.deliveredBytes,
        capD: snapD.capacityBits,
        capU: snapU.capacityBits,
        t: sim.now,
      };
      const w = ah?.wans?.[0];
      const row = {
        t: sim.now,
        down: {
          capacity: snapD.capacityBps / 1e6,
          shaped: maxLimit(queues.download) / 1e6,
          controller: w?.controller?.download_bps / 1e6,
          delivered: delDown / 1e6,
          zone: w?.download?.state ?? null,
        },
        up: {
          capacity: snapU.capacityBps / 1e6,
          shaped: maxLimit(queues.upload) / 1e6,
          controller: w?.controller?.upload_bps / 1e6,
          delivered: delUp / 1e6,
          zone: w?.upload?.state ?? null,
        },
        probeRttMs: w?.measurement?.last_measured_rtt_ms ?? Number.NaN,
        loadDeltaMs: w ? w.load_rtt_ms - w.baseline_rtt_ms : Number.NaN,
        steering: steer
          ? { state: sh?.state ?? null, assessment: sh?.congestion_state ?? null, ruleOn: ruleOn() }
          : null,
      };
      rows++;
      for (const dir of ['down', 'up']) {
        const z = row[dir].zone ?? 'unknown';
        stateTime[dir][z] = (stateTime[dir][z] ?? 0) + 1;
        if (Number.isFinite(row[dir].shaped)) shaped[dir].push(row[dir].shaped);
      }
      if (steer) {
        const st = row.steering.state ?? 'unknown';
        stateTime.steering[st] = (stateTime.steering[st] ?? 0) + 1;
      }
      view.row(row);
      countRequests();
      const transport = w?.router?.transport ?? null;
      if (lastTransport !== null && transport !== null && transport !== lastTransport) {
        transportChanges.push({ t: row.t, to: transport });
        view.note(`router: wanctl-autorate now talks to the router over ${transport.toUpperCase()}`);
      }
      if (transport !== null) lastTransport = transport;
      if (outage && outageState === 'before' && sim.now >= outage.fromS) {
        outageState = 'down';
        await emu.faults.set('rest', { down: true });
        view.note('router: REST face DOWN (connections refused) - failover to SSH expected');
      } else if (outage && outageState === 'down' && sim.now >= outage.toS) {
        outageState = 'after';
        await emu.faults.clear('rest');
        view.note('router: REST face back up - the daemons take REST back when its re-probe succeeds');
      }
      if (steer && lastRule !== null && row.steering.ruleOn !== lastRule) {
        view.note(
          row.steering.ruleOn
            ? `steering: mangle rule "${mangleComment}" ENABLED - latency-sensitive traffic leaves via the alternate WAN`
            : 'steering: mangle rule disabled again - the primary WAN has recovered',
        );
      }
      if (steer) lastRule = row.steering.ruleOn;
    }
    countRequests();
    const stoppedEarly = sim.now < durationS - 0.5;
    const health = await getJson(autoPort, '/health');
    const steerHealth = steer ? await getJson(steerPort, '/health') : null;

    await Promise.all(pendingReasons);
    const endS = sim.now;
    let steeredSeconds = 0;
    for (let i = 0; i < ruleChanges.length; i++) {
      const c = ruleChanges[i];
      if (c.enabled) steeredSeconds += (ruleChanges[i + 1]?.t ?? endS) - c.t;
    }
    const firstOn = collapse ? ruleChanges.find((c) => c.enabled && c.t >= collapse.fromS - 1) : null;
    const offAfter = collapse ? ruleChanges.find((c) => !c.enabled && c.t >= collapse.toS) : null;
    const stats = (a) => ({
      p50: percentile(a, 50),
      p95: percentile(a, 95),
      p99: percentile(a, 99),
      max: a.length ? Math.max(...a) : Number.NaN,
      mean: a.length ? a.reduce((x, y) => x + y, 0) / a.length : Number.NaN,
      samples: a.length,
    });
    const steeringReport = steer
      ? {
          mode: steeringMode,
          transitions: ruleChanges,
          enables: ruleChanges.filter((c) => c.enabled).length,
          steeredSeconds: Math.round(steeredSeconds * 10) / 10,
          ruleOnAtEnd: ruleOnNow,
          collapse: collapse
            ? {
                fromS: collapse.fromS,
                toS: collapse.toS,
                enabledAfterOnsetS: firstOn ? Math.round((firstOn.t - collapse.fromS) * 10) / 10 : null,
                disabledAfterRecoveryS: offAfter ? Math.round((offAfter.t - collapse.toS) * 10) / 10 : null,
                enablesDuringCollapse: ruleChanges.filter(
                  (c) => c.enabled && c.t >= collapse.fromS && c.t < collapse.toS,
                ).length,
              }
            : null,
          alternate: profile.alternate ?? null,
          latencySensitiveAddedMs: {
            note: `latency-sensitive traffic (${LS_BPS / 1e6} Mbit/s each way): RTT minus the primary's base RTT, every 50 ms under load`,
            primaryOnly: stats(ls.primary),
            withSteering: stats(ls.steered),
            collapse: collapse
              ? { primaryOnly: stats(ls.collapsePrimary), withSteering: stats(ls.collapseSteered) }
              : null,
          },
        }
      : null;

    // --- stop the daemons (SIGTERM, as systemd does) -----------------------------------------
    const exits = {};
    for (const p of [...procs].reverse()) exits[p.name] = await stopDaemon(p);
    const w = health?.wans?.[0];
    const util = (d) => (loadedCapBits[d] > 0 ? loadedDelBits[d] / loadedCapBits[d] : Number.NaN);
    Object.assign(summary, {
      ok: Object.values(exits).every((e) => e.code === 0),
      stoppedEarly,
      simSeconds: sim.now,
      samples: rows,
      stateSeconds: stateTime,
      steeringTransitions: ruleChanges,
      addedLatencyMs: {
        p50: percentile(added, 50),
        p95: percentile(added, 95),
        p99: percentile(added, 99),
        max: added.length ? Math.max(...added) : Number.NaN,
        samples: added.length,
      },
      utilisation: { down: util('down'), up: util('up') },
      shapedMbps: {
        down: {
          first: shaped.down[0],
          min: Math.min(...shaped.down),
          max: Math.max(...shaped.down),
          last: shaped.down.at(-1),
        },
        up: {
          first: shaped.up[0],
          min: Math.min(...shaped.up),
          max: Math.max(...shaped.up),
          last: shaped.up.at(-1),
        },
      },
      ceilingMbps: { down: ceilDown / 1e6, up: ceilUp / 1e6 },
      routerWrites: {
        maxLimit: writes.maxLimit,
        mangle: writes.mangle,
        autorateWritesOk: w?.router?.writes_ok ?? null,
        autorateWritesFailed: w?.router?.writes_failed ?? null,
        transport: w?.router?.transport ?? null,
        requests: { ...requests },
      },
      steering: steerHealth
        ? {
            state: steerHealth.state,
            corrections: steerHealth.rule?.corrections ?? null,
            stateReason: steerHealth.state_reason ?? null,
            ...steeringReport,
          }
        : null,
      simLagS: driver.lagS,
      transportChanges,
      exits: Object.fromEntries(Object.entries(exits).map(([k, e]) => [k, e.code ?? e.signal])),
    });
    printSummary(summary, out);
    return summary;
  } catch (err) {
    for (const p of procs) await stopDaemon(p, 3000);
    summary.error = err.message;
    summary.exits = Object.fromEntries(
      procs.map((p) => [p.name, p.exit ? (p.exit.code ?? p.exit.signal) : null]),
    );
    out(`\nwanctl demo: ${err.message}\n`);
    const p = err.proc ?? procs.find((x) => x.exit && x.exit.code !== 0);
    if (p?.tail.length) out(`--- last output of ${p.name} ---\n${p.tail.join('\n')}\n`);
    return summary;
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {}
    }
    if (summary.ok && !opts.keep) rmSync(dir, { recursive: true, force: true });
    else {
      out(`logs, configs and history kept in ${dir}\n`);
      if (historyConfigs.length > 0) {
        // the configs name ${WANCTL_ROUTER_PASSWORD} (the emulator's, gone now): any value loads them
        const cmd = `WANCTL_ROUTER_PASSWORD=unused node packages/history/dist/cli.js`;
        const cfgs = historyConfigs.map((f) => `--config ${f}`).join(' ');
        out(`  history: ${cmd} ${cfgs} --since 1h\n           ${cmd} serve ${cfgs}\n`);
      }
    }
  }
}

class DemoError extends Error {
  constructor(message, proc) {
    super(message);
    this.name = 'DemoError';
    this.proc = proc;
  }
}

function fmtExit(e) {
  if (!e) return 'running';
  if (e.error) return e.error;
  return e.code !== null ? `exit code ${e.code}` : `signal ${e.signal}`;
}

/** A share as "75.2 %" ('–' when not a number). */
export const fmtPct = (v) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : '–');
/** Milliseconds as "1.5 ms" ('–' when not a number). */
export const fmtMs = (v) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : '–');
/** Seconds per state ({GREEN: 44, RED: 12}) as "GREEN 44 s (79 %), RED 12 s (21 %)", in `order` first. */
export function fmtStates(obj, order) {
  const total = Object.values(obj).reduce((a, b) => a + b, 0) || 1;
  const keys = [...order.filter((k) => k in obj), ...Object.keys(obj).filter((k) => !order.includes(k))];
  return keys.map((k) => `${k} ${obj[k]} s (${((100 * obj[k]) / total).toFixed(0)} %)`).join(', ') || '–';
}

function printSummary(s, out) {
  const pct = fmtPct;
  const ms = fmtMs;
  const states = fmtStates;
  const sd = s.shapedMbps;
  const lines = [
    '',
    `summary (${s.simSeconds.toFixed(0)} s${s.stoppedEarly ? ', stopped early' : ''}, profile ${s.profile}, seed ${s.seed}, law ${s.law}):`,
    `  time in state   download: ${states(s.stateSeconds.down, ZONES_DL)}`,
    `                  upload:   ${states(s.stateSeconds.up, ZONES_UL)}`,
  ];
  if (s.steering) {
    lines.push(`                  steering: ${states(s.stateSeconds.steering, [])}`);
    const st = s.steering;
    const tr = s.steeringTransitions
      .map((t) => `${t.t.toFixed(1)} s ${t.enabled ? 'ENABLED' : 'disabled'}`)
      .join(', ');
    lines.push(
      `  steering        (${MODE_LABEL[s.steeringMode] ?? s.steeringMode}) rule changes: ${tr || 'none'}; ` +
        `steered ${Number.isFinite(st.steeredSeconds) ? st.steeredSeconds.toFixed(1) : '–'} s; final ${st.state}`,
    );
    for (const t of s.steeringTransitions) {
      if (t.reason) lines.push(`                  ${t.t.toFixed(1)} s: ${t.reason}`);
    }
    const c = st.collapse;
    if (c) {
      lines.push(
        `  collapse        ${c.fromS.toFixed(0)}-${c.toS.toFixed(0)} s: steering on ${
          c.enabledAfterOnsetS === null ? 'never' : `${c.enabledAfterOnsetS.toFixed(1)} s after the onset`
        }, off ${
          c.disabledAfterRecoveryS === null
            ? 'not yet'
            : `${c.disabledAfterRecoveryS.toFixed(1)} s after the recovery`
        } (${c.enablesDuringCollapse} enable${c.enablesDuringCollapse === 1 ? '' : 's'} in it)`,
      );
    }
    const la = st.latencySensitiveAddedMs;
    if (la) {
      const line = (x) => `p50 ${ms(x.p50)}, p95 ${ms(x.p95)}, p99 ${ms(x.p99)}, max ${ms(x.max)}`;
      lines.push(
        `  latency-sensitive added RTT (vs the primary's empty path; alternate WAN ${st.alternate ? `${st.alternate.baseRttMs} ms base` : 'none'}):`,
        `                  with steering:   ${line(la.withSteering)}`,
        `                  primary only:    ${line(la.primaryOnly)}`,
      );
      if (la.collapse) {
        lines.push(
          `    in the collapse with steering: ${line(la.collapse.withSteering)}`,
          `    in the collapse primary only:  ${line(la.collapse.primaryOnly)}`,
        );
      }
    }
  }
  lines.push(
    `  added latency   under load (path RTT - base, every 50 ms): p50 ${ms(s.addedLatencyMs.p50)}, p95 ${ms(
      s.addedLatencyMs.p95,
    )}, p99 ${ms(s.addedLatencyMs.p99)}, max ${ms(s.addedLatencyMs.max)}`,
    `  utilisation     delivered / capacity under load: download ${pct(s.utilisation.down)}, upload ${pct(
      s.utilisation.up,
    )}`,
    `  shaped rate     download ${fmtRange(sd.down)} Mbit/s (ceiling ${s.ceilingMbps.down}); upload ${fmtRange(
      sd.up,
    )} Mbit/s (ceiling ${s.ceilingMbps.up})`,
    `  router writes   wanctl-autorate: ${s.routerWrites.autorateWritesOk ?? '?'} rate writes ok, ${
      s.routerWrites.autorateWritesFailed ?? '?'
    } failed, via ${s.routerWrites.transport ?? '?'} (the router saw ${s.routerWrites.maxLimit} max-limit sets); mangle rule: ${
      s.routerWrites.mangle
    }`,
    `  router requests REST ${s.routerWrites.requests.rest}, SSH ${s.routerWrites.requests.ssh} (both daemons, reads included)`,
    `  daemons         ${Object.entries(s.exits)
      .map(([k, v]) => `${k} exit ${v}`)
      .join(', ')}`,
  );
  if (s.transportChanges.length) {
    lines.push(
      `  transport       ${s.transportChanges.map((c) => `${c.t.toFixed(0)} s -> ${c.to}`).join(', ')}`,
    );
  }
  if (s.simLagS > 0.05)
    lines.push(
      `  note            the simulation lagged wall time by ${s.simLagS.toFixed(2)} s (busy machine)`,
    );
  out(`${lines.join('\n')}\n`);
}

export function fmtRange(r) {
  const f = (v) => (Number.isFinite(v) ? v.toFixed(0) : '–');
  return `min ${f(r.min)} / max ${f(r.max)} (start ${f(r.first)}, end ${f(r.last)})`;
}
