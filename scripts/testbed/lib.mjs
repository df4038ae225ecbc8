/**
 * The real-kernel testbed's reusable parts, shared by scripts/testbed/testbed.mjs and the live
 * demo's linux backend (scripts/demo/linux.mjs). Root only; all traffic stays in namespaces.
 *
 *   client ──c0/s0── shaper ──s1/i0── isp ──i1/v0── server
 *   10.77.1.2   10.77.1.1  10.77.2.1  10.77.2.2  10.77.3.1  10.77.3.2
 *
 * isp is the line: a TBF at its capacity with a bloated buffer on both of its egresses (i0:
 * download, i1: upload). Namespace names start with the caller's tag (include the pid, so that
 * concurrent runs never collide); interface and address names are per namespace.
 *
 * Every child started with `start` and every namespace made by `topology` is removed by
 * `cleanup`, which `cleanupOnExit` runs on process exit (and, with `signals`, on SIGINT/SIGTERM).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '..', '..');
export const AUTORATE_CLI = join(REPO, 'apps', 'autorate', 'dist', 'cli.js');
/** The server's address (iperf3 servers, the RTT target of the ping and of the daemon's fping). */
export const SERVER_IP = '10.77.3.2';
/** wanctl-autorate's health port inside the shaper namespace (its own loopback). */
export const HEALTH_PORT = 9101;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- processes and cleanup
const children = new Set();
const namespaces = new Set();
const tmpDirs = new Set();

/** A temporary directory, removed by cleanup() unless `keep` is set later (see keepTmp). */
export function makeTmp(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tmpDirs.add(d);
  return d;
}
/** Keeps a directory made by makeTmp (cleanup() leaves it). */
export function keepTmp(d) {
  tmpDirs.delete(d);
}

export function sh(cmd, argv, { allowFail = false } = {}) {
  try {
    return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    if (allowFail) return '';
    throw new Error(`${cmd} ${argv.join(' ')}: ${(err.stderr || err.message).toString().trim()}`);
  }
}
export const nsx = (ns, cmd, ...argv) => sh('ip', ['netns', 'exec', ns, cmd, ...argv]);

/** As nsx, without blocking the event loop; resolves '' on failure or after timeoutMs. */
export function nsxAsync(ns, cmd, argv, timeoutMs = 2000) {
  return new Promise((r) => {
    execFile(
      'ip',
      ['netns', 'exec', ns, cmd, ...argv],
      { encoding: 'utf8', timeout: timeoutMs },
      (err, out) => r(err ? '' : out),
    );
  });
}

/**
 * Starts `cmd argv` in namespace `ns`. The child carries `errText` (its stderr, first 4000
 * characters) and `exited` (resolves {code, sig}). `detached`: own process group, so a
 * terminal's Ctrl-C reaches only this process, which then stops the children in order.
 */
export function start(ns, cmd, argv, { detached = false } = {}) {
  const c = spawn('ip', ['netns', 'exec', ns, cmd, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], detached });
  /** @type {Promise<{code: number | null, sig: NodeJS.Signals | null}>} */
  const exited = new Promise((r) => c.on('exit', (code, sig) => r({ code, sig })));
  const p = Object.assign(c, { errText: '', exited });
  c.stderr.on('data', (d) => {
    if (p.errText.length < 4000) p.errText += d;
  });
  children.add(p);
  c.on('exit', () => children.delete(p));
  return p;
}

export async function stop(c, signal = 'SIGTERM', graceMs = 3000) {
  if (c.exitCode !== null || c.signalCode !== null) return c.exited;
  c.kill(signal);
  const t = setTimeout(() => c.kill('SIGKILL'), graceMs);
  const r = await c.exited;
  clearTimeout(t);
  return r;
}

/** Stops every child still running (SIGKILL after graceMs). */
export async function stopAll(graceMs = 500) {
  for (const c of children) await stop(c, 'SIGKILL', graceMs);
}

/** Kills every child and everything left in our namespaces, deletes them and the temp dirs. */
export function cleanup() {
  for (const c of children) c.kill('SIGKILL');
  for (const ns of namespaces) {
    // nothing may outlive its namespace
    const pids = sh('ip', ['netns', 'pids', ns], { allowFail: true }).split(/\s+/).filter(Boolean);
    for (const p of pids) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {}
    }
    sh('ip', ['netns', 'del', ns], { allowFail: true });
  }
  namespaces.clear();
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
  tmpDirs.clear();
}

/**
 * Runs cleanup() once, on process exit; with `signals`, also on SIGINT/SIGTERM (then exits 130).
 * `log` reports the signal.
 */
export function cleanupOnExit({ signals = true, log = (_m) => {} } = {}) {
  let cleaned = false;
  const cleanOnce = () => {
    if (!cleaned) {
      cleaned = true;
      cleanup();
    }
  };
  process.on('exit', cleanOnce);
  if (signals) {
    for (const sig of ['SIGINT', 'SIGTERM']) {
      process.on(sig, () => {
        log(`${sig}: cleaning up`);
        cleanOnce();
        process.exit(130);
      });
    }
  }
}

/** Calls fn for every complete line of a stream. */
export function lines(stream, fn) {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (d) => {
    buf += d;
    let i = buf.indexOf('\n');
    while (i !== -1) {
      fn(buf.slice(0, i));
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
    }
  });
}

/** Nearest-rank percentile of a sorted array; NaN if empty. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// ---------------------------------------------------------------- topology
/** The line on `dev`: token bucket at `bps`, buffer of `bufferMs` at that rate (bufferbloat). */
export function tbfLine(ns, dev, bps, verb, bufferMs) {
  const burst = Math.max(3028, Math.ceil(bps / 8 / 1000));
  const limit = Math.ceil((bps / 8) * (bufferMs / 1000)) + burst;
  nsx(
    ns,
    'tc',
    'qdisc',
    verb,
    'dev',
    dev,
    'root',
    'handle',
    '1:',
    'tbf',
    'rate',
    `${Math.round(bps)}bit`,
    'burst',
    String(burst),
    'limit',
    String(limit),
  );
}

/** Bytes the line's TBF on `dev` in namespace `ns` has sent so far (frames as the TBF counts them). */
export function lineBytes(ns, dev) {
  try {
    const q = JSON.parse(nsx(ns, 'tc', '-s', '-j', 'qdisc', 'show', 'dev', dev, 'root'));
    const b = Number(q?.[0]?.bytes);
    return Number.isFinite(b) ? b : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * Builds the four namespaces `${tag}c|s|i|v` and the line (download `dlBps` on i0, upload
 * `ulBps` on i1, `bufferMs` of buffer). Returns their names {c, s, i, v}.
 */
export function topology(tag, { dlBps, ulBps, bufferMs }) {
  const n = { c: `${tag}c`, s: `${tag}s`, i: `${tag}i`, v: `${tag}v` };
  for (const ns of Object.values(n)) {
    sh('ip', ['netns', 'add', ns]);
    namespaces.add(ns);
    nsx(ns, 'ip', 'link', 'set', 'lo', 'up');
  }
  const pair = (a, an, b, bn) => {
    sh('ip', ['-n', a, 'link', 'add', 'name', an, 'type', 'veth', 'peer', 'name', bn, 'netns', b]);
  };
  pair(n.c, 'c0', n.s, 's0');
  pair(n.s, 's1', n.i, 'i0');
  pair(n.i, 'i1', n.v, 'v0');
  const addr = (ns, dev, a) => {
    nsx(ns, 'ip', 'addr', 'add', a, 'dev', dev);
    nsx(ns, 'ip', 'link', 'set', dev, 'up');
    // GSO/TSO would hand the shapers 64 KB super-packets, which a token bucket cannot pace
    sh('ip', ['netns', 'exec', ns, 'ethtool', '-K', dev, 'tso', 'off', 'gso', 'off', 'gro', 'off'], {
      allowFail: true,
    });
  };
  addr(n.c, 'c0', '10.77.1.2/24');
  addr(n.s, 's0', '10.77.1.1/24');
  addr(n.s, 's1', '10.77.2.1/24');
  addr(n.i, 'i0', '10.77.2.2/24');
  addr(n.i, 'i1', '10.77.3.1/24');
  addr(n.v, 'v0', `${SERVER_IP}/24`);
  nsx(n.c, 'ip', 'route', 'add', 'default', 'via', '10.77.1.1');
  nsx(n.s, 'ip', 'route', 'add', 'default', 'via', '10.77.2.2');
  nsx(n.i, 'ip', 'route', 'add', '10.77.1.0/24', 'via', '10.77.2.1');
  nsx(n.v, 'ip', 'route', 'add', 'default', 'via', '10.77.3.1');
  for (const ns of [n.s, n.i]) nsx(ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
  tbfLine(n.i, 'i0', dlBps, 'replace', bufferMs); // download: server → client
  tbfLine(n.i, 'i1', ulBps, 'replace', bufferMs); // upload: client → server
  return n;
}

export function teardown(n) {
  for (const ns of Object.values(n)) {
    sh('ip', ['netns', 'del', ns], { allowFail: true });
    namespaces.delete(ns);
  }
}

// ---------------------------------------------------------------- wanctl-autorate
/**
 * Writes wanctl-autorate's config for the shaper namespace: linux-cake with tbf on s0
 * (download) and s1 (upload), probing the server; floors 20 % and ceilings 95 % of `line`'s
 * dlBps/ulBps; `tune` = {targetMs, warnMs, hardRedMs, tbfLatencyMs}. Returns the file.
 */
export function autorateConfig(dir, law, { line, tune, wanName = 'testbed' }) {
  const mbps = (b) => b / 1e6;
  // adaptive: the floor stays a hard bound here (the default; D16's cuts under it cut this line
  // to 17 % in CI)
  const ceiling = tune.ceilingShare ?? 0.95;
  const lawLine = law === 'v1.3' ? '' : `  control_law: ${law}\n  cut_below_floor: false\n`;
  const text = `wan_name: ${wanName}
router:
  transport: linux-cake
cake_params:
  download_interface: s0
  upload_interface: s1
  download_qdisc: tbf
  upload_qdisc: tbf
  tbf_latency_ms: ${tune.tbfLatencyMs}
queues:
  download: WAN-Download
  upload: WAN-Upload
continuous_monitoring:
  enabled: true
${lawLine}  baseline_rtt_initial: 1
  ping_hosts: ["${SERVER_IP}"]
  download:
    floor_mbps: ${mbps(line.dlBps) * 0.2}
    ceiling_mbps: ${mbps(line.dlBps) * ceiling}
    step_up_mbps: ${mbps(line.dlBps) * 0.02}
    factor_down: 0.85
  upload:
    floor_mbps: ${mbps(line.ulBps) * 0.2}
    ceiling_mbps: ${mbps(line.ulBps) * ceiling}
    step_up_mbps: ${mbps(line.ulBps) * 0.02}
    factor_down: 0.85
  thresholds:
    target_bloat_ms: ${tune.targetMs}
    warn_bloat_ms: ${tune.warnMs}
    hard_red_bloat_ms: ${tune.hardRedMs}
    baseline_time_constant_sec: 50
    load_time_constant_sec: 0.1
  fallback_checks:
    enabled: false
logging:
  main_log: ${dir}/autorate.log
  debug_log: ${dir}/autorate_debug.log
lock_file: ${dir}/autorate.lock
lock_timeout: 60
history:
  file: ${dir}/autorate_history.db
state_file: ${dir}/autorate_state.json
health_check:
  enabled: true
  host: 127.0.0.1
  port: ${HEALTH_PORT}
`;
  const file = join(dir, `autorate-${law}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** null when the config loads, else the reason (e.g. the control_law key unknown). */
export function configProblem(file) {
  try {
    execFileSync(process.execPath, [AUTORATE_CLI, 'run', '--validate-config', '--config', file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return null;
  } catch (err) {
    return `${err.stdout ?? ''}${err.stderr ?? ''}`.trim().split('\n').slice(0, 3).join(' / ');
  }
}

/**
 * Starts wanctl-autorate with `cfg` in namespace `ns` and resolves once its health endpoint
 * answers (qdiscs set up, probe running); throws if it exits or is not up within 15 s.
 * The child carries `out` (its stdout, first 20000 characters). `record`: a file for the daemon's
 * `--record` (its cycle inputs, for `wanctl-autorate replay`).
 */
export async function startAutorate(ns, cfg, { detached = false, record = null } = {}) {
  const rec = record ? ['--record', record] : [];
  const daemon = Object.assign(
    start(ns, process.execPath, [AUTORATE_CLI, 'run', '--config', cfg, ...rec], { detached }),
    { out: '' },
  );
  daemon.stdout.on('data', (d) => {
    if (daemon.out.length < 20000) daemon.out += d;
  });
  const t0 = Date.now();
  for (;;) {
    if (daemon.exitCode !== null)
      throw new Error(`wanctl-autorate exited at start: ${daemon.errText}${daemon.out}`);
    const ok = sh(
      'ip',
      ['netns', 'exec', ns, 'bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${HEALTH_PORT} && echo up`],
      { allowFail: true },
    );
    if (ok.includes('up')) return daemon;
    if (Date.now() - t0 > 15000)
      throw new Error(`wanctl-autorate did not come up within 15 s: ${daemon.errText}${daemon.out}`);
    await sleep(200);
  }
}

// ---------------------------------------------------------------- measurement
/**
 * RTT: a separate ping from namespace `ns` to the server every 50 ms. ping's stdout is
 * block-buffered into the pipe, so each reply carries ping's own time stamp (-D, wall clock
 * ms), not its arrival time here. Returns {rtts: [{t, ms}], stop()}.
 */
export function startPing(ns, { detached = false } = {}) {
  const ping = start(ns, 'ping', ['-D', '-n', '-i', '0.05', '-W', '2', SERVER_IP], { detached });
  const pingClosed = new Promise((r) => ping.stdout.on('close', r));
  const rtts = [];
  lines(ping.stdout, (l) => {
    const m = /^\[([\d.]+)\].* time=([\d.]+) ms/.exec(l);
    if (m) rtts.push({ t: Number(m[1]) * 1000, ms: Number(m[2]) });
  });
  return {
    rtts,
    async stop() {
      await stop(ping, 'SIGINT');
      await pingClosed;
    },
  };
}

/** Resolves when an iperf3 server says it listens, or after `timeoutMs` (the client then tells). */
function listening(server, timeoutMs) {
  return new Promise((resolve) => {
    let text = '';
    const done = () => {
      clearTimeout(timer);
      server.stdout.off('data', onData);
      resolve();
    };
    const onData = (d) => {
      text = (text + d).slice(-200);
      if (/Server listening/.test(text)) done();
    };
    const timer = setTimeout(done, timeoutMs);
    server.stdout.on('data', onData);
    server.once('exit', done);
  });
}

/**
 * Load: iperf3 CUBIC, `flows` each way for `durationS`, both directions at once (servers in
 * n.v, clients in n.c). Throughput is read where the data arrives, per second as it comes (a
 * sender counts bytes queued in its socket, and under heavy loss iperf3's closing exchange can
 * take longer than the test): download on the client (-R), upload on the server. Resolves once
 * the clients run: {dlIv, ulIv (per-second intervals {start, end, bps} in seconds of iperf3's own
 * clock, which starts once its connections are up, and `at`: the wall-clock ms it arrived),
 * clients: [dl, ul], procs}.
 */
export async function startLoad(n, { flows, durationS, detached = false }) {
  const flags = ['-i', '1', '--forceflush', '-f', 'k'];
  const srvDl = start(n.v, 'iperf3', ['-s', '-1', '-p', '5201', ...flags], { detached });
  const srvUl = start(n.v, 'iperf3', ['-s', '-1', '-p', '5202', ...flags], { detached });
  // a client started before its server listens fails at once and carries nothing (a loaded CI
  // machine can take longer than a fixed half second to start iperf3): wait for both, 10 s at most
  await Promise.all([listening(srvDl, 10000), listening(srvUl, 10000)]);
  const common = ['-c', SERVER_IP, '-C', 'cubic', '-P', String(flows), '-t', String(durationS)];
  const dl = start(n.c, 'iperf3', [...common, ...flags, '-p', '5201', '-R'], { detached });
  const ul = start(n.c, 'iperf3', [...common, ...flags, '-p', '5202'], { detached });
  const collect = (c) => {
    const iv = [];
    lines(c.stdout, (l) => {
      if (/sender|receiver/.test(l)) return;
      if (flows > 1 && !l.startsWith('[SUM]')) return;
      const m = /(\d+\.\d+)-(\d+\.\d+)\s+sec\s+[\d.]+ \w?Bytes\s+([\d.]+) Kbits\/sec/.exec(l);
      if (m) iv.push({ start: Number(m[1]), end: Number(m[2]), bps: Number(m[3]) * 1000, at: Date.now() });
    });
    return iv;
  };
  return { dlIv: collect(dl), ulIv: collect(srvUl), clients: [dl, ul], procs: [srvDl, srvUl, dl, ul] };
}

/**
 * Added RTT under load: the median of the replies up to `idleEnd` is the idle RTT; the replies
 * in (`from`, `to`] minus it give p50/p95/p99, and `peaks` the replies at or over the p99.
 * Times in wall-clock ms.
 */
export function addedRtt(rtts, { idleEnd, from, to }) {
  const idle = rtts.filter((r) => r.t <= idleEnd).map((r) => r.ms);
  idle.sort((x, y) => x - y);
  const idleRttMs = percentile(idle, 50);
  const window = rtts.filter((r) => r.t > from && r.t <= to);
  const loaded = window.map((r) => r.ms - idleRttMs);
  loaded.sort((x, y) => x - y);
  const p99 = percentile(loaded, 99);
  return {
    idleRttMs,
    samples: loaded.length,
    addedRttMs: { p50: percentile(loaded, 50), p95: percentile(loaded, 95), p99 },
    maxMs: loaded.length ? loaded[loaded.length - 1] : Number.NaN,
    // the worst 1 %, with when each came (wall-clock ms)
    peaks: window
      .filter((r) => r.ms - idleRttMs >= p99)
      .map((r) => ({ t: r.t, addedMs: Math.round((r.ms - idleRttMs) * 10) / 10 })),
  };
}

/**
 * Throughput as a share of the capacity the line offered: the intervals {start, end, bps}
 * (seconds from the load's start) that lie within [fromS, toS + 0.5], their bits over the
 * capacity `capBps(interval)` offered during each.
 */
export function shareOfCapacity(iv, capBps, { fromS, toS }) {
  let bits = 0;
  let cap = 0;
  for (const x of iv) {
    if (x.start < fromS || x.end > toS + 0.5) continue;
    bits += x.bps * (x.end - x.start);
    cap += capBps(x) * (x.end - x.start);
  }
  return cap > 0 ? bits / cap : Number.NaN;
}

// ---------------------------------------------------------------- preflight
/**
 * null when this machine can run the testbed (root, ip/tc/iperf3/ping/fping, the built
 * wanctl-autorate, network namespaces allowed), else the reason in a few words. `tag` names the
 * probe namespace (include the pid).
 */
export function preflight(tag) {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, tc)';
  for (const bin of ['ip', 'tc', 'iperf3', 'ping', 'fping']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} is not installed`;
    }
  }
  try {
    readFileSync(AUTORATE_CLI);
  } catch {
    return `${AUTORATE_CLI} is missing: build first (npx turbo run build --filter=@wanctl/autorate)`;
  }
  const probe = `${tag}p`;
  try {
    sh('ip', ['netns', 'add', probe]);
  } catch (err) {
    return `network namespaces are not allowed here (${err.message.split('\n')[0]})`;
  }
  try {
    // the line and the shaper are token bucket filters
    nsx(
      probe,
      'tc',
      'qdisc',
      'add',
      'dev',
      'lo',
      'root',
      'tbf',
      'rate',
      '1mbit',
      'burst',
      '3028',
      'limit',
      '9000',
    );
  } catch (err) {
    return `the tbf qdisc is not available (${err.message.split('\n')[0]})`;
  } finally {
    sh('ip', ['netns', 'del', probe], { allowFail: true });
  }
  return null;
}
