#!/usr/bin/env node
// Benchmark of the real wanctl-autorate daemon process against the RouterOS emulator (REST),
// RTT from the UDP probe against three local echo responders, 20 Hz cycles, for 1 and for 8 WANs.
// Build first:   (cd apps/autorate && npx tsc -b)
// Run:           node apps/autorate/bench/daemon-bench.mjs [seconds=30] [wans=1,8]
//                BENCH_PROBE=fping for the fping probe against 127.0.0.1-3 (default: UDP echo probe)
//                BENCH_LAW=adaptive|v1.3 for continuous_monitoring.control_law (default v1.3). Either
//                way the daemon reads the queues beside the loop each cycle (D15), so the figures
//                include the queue reader.
//                BENCH_HISTORY=1 records history (one SQLite file per WAN in the temp dir; default off).
// Prints per-cycle CPU time (median, p99; getrusage around each cycle's synchronous work, from
// /health) and its wall time, cycle
// duration p99 (from its scheduled slot to its end), process CPU % of one core (from /proc) and
// resident memory, beside the project's budgets (< 2 % of one core at 20 Hz, RSS < 80 MB).
// The daemon runs as `node $BENCH_NODE_FLAGS dist/cli.js`
// (default `--max-semi-space-size=1`, as the systemd unit should set; `BENCH_NODE_FLAGS=` for none). The link alternates idle and congested phases so
// that the daemon also writes to the router.
import { execSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(here, '..', 'dist', 'cli.js');
if (!existsSync(CLI)) {
  console.error(`missing ${CLI}: build first with (cd apps/autorate && npx tsc -b)`);
  process.exit(2);
}
const { buildFixture, startEmulator } = await import('@wanctl/routeros-emulator');
const { startUdpEchoResponder } = await import('@wanctl/rtt-probe');

const SECONDS = Number(process.argv[2] ?? 30);
const WAN_COUNTS = (process.argv[3] ?? '1,8').split(',').map(Number);
const PASSWORD = 'bench-pw-5521';
const CLK_TCK = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;
const PROBE = process.env.BENCH_PROBE === 'fping' ? 'fping' : 'udp';
const LAW = process.env.BENCH_LAW === 'adaptive' ? 'adaptive' : 'v1.3';
// BENCH_HISTORY=1: each WAN records history (@wanctl/history) into the bench's temp dir
const HISTORY = process.env.BENCH_HISTORY === '1';
// BENCH_WARMUP=<s>: seconds the daemon runs before the measured window (default 3). At 20 Hz V8
// takes a minute or more to optimise the cycle's code; the compiler threads' work and the code
// still in its baseline tier are billed to a window that starts earlier.
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 3);
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=1').split(' ').filter(Boolean);
const BUDGET = { medianMs: 0.2, p99Ms: 2, cpuPctPerWan: 2, rssMb: 80 };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
function procStat(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK; // utime + stime, seconds
}
function childrenCpu(pid) {
  let total = 0;
  try {
    const kids = execSync(`pgrep -P ${pid} || true`).toString().split('\n').filter(Boolean);
    for (const k of kids) total += procStat(Number(k));
  } catch {}
  return total;
}
// Wake-ups: each time the event loop blocks in epoll_wait and is woken, its thread makes one
// voluntary context switch; the main thread's count is the number of event-loop wake-ups
// (robust to load: a busy machine adds involuntary switches, not voluntary ones). `all` adds
// libuv's worker threads (fs, dns) and V8's (GC, compiler).
function ctxSwitches(pid) {
  const read = (f) => {
    try {
      const m = /voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(f, 'utf8'));
      return m ? Number(m[1]) : 0;
    } catch {
      return 0;
    }
  };
  let all = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) all += read(`/proc/${pid}/task/${t}/status`);
  return { main: read(`/proc/${pid}/task/${pid}/status`), all };
}
// CPU seconds of the main thread (the event loop) and of the other threads (V8's GC and
// compiler workers, libuv's fs/dns pool; Node 20 names them all "node"), user and system apart.
function threadCpu(pid) {
  const out = { main: { user: 0, sys: 0 }, other: { user: 0, sys: 0 } };
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const st = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      const k = t === String(pid) ? out.main : out.other;
      k.user += Number(f[11]) / CLK_TCK;
      k.sys += Number(f[12]) / CLK_TCK;
    } catch {}
  }
  return out;
}
function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}
async function health(port) {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return { status: res.status, body: await res.json() };
}

function config(dir, i, emu, healthPort) {
  const wan = `bench${i}`;
  return {
    wan,
    text: `
wan_name: "${wan}"
router:
  transport: rest
  host: 127.0.0.1
  user: wanctl
  password: "\${BENCH_ROUTER_PASSWORD}"
  port: ${emu.rest.port}
  scheme: http
  call_deadline_ms: 2000
queues:
  download: "WAN-Download-${i}"
  upload: "WAN-Upload-${i}"
continuous_monitoring:
  enabled: true
  control_law: ${LAW}
  baseline_rtt_initial: 20
  cycle_interval_ms: 50
  download:
    floor_green_mbps: 550
    floor_yellow_mbps: 350
    floor_soft_red_mbps: 275
    floor_red_mbps: 200
    ceiling_mbps: 940
    step_up_mbps: 10
    factor_down: 0.85
  upload:
    floor_mbps: 8
    ceiling_mbps: 38
    step_up_mbps: 1
    factor_down: 0.9
  thresholds:
    target_bloat_ms: 12
    warn_bloat_ms: 45
    hard_red_bloat_ms: 80
    baseline_time_constant_sec: 50
    load_time_constant_sec: 0.1
  ping_hosts: ${PROBE === 'fping' ? '["127.0.0.1", "127.0.0.2", "127.0.0.3"]' : '["192.0.2.1", "192.0.2.2", "192.0.2.3"]'}
  use_median_of_three: true
  fallback_checks:
    enabled: false
logging:
  main_log: "${dir}/${wan}.log"
  debug_log: "${dir}/${wan}_debug.log"
lock_file: "${dir}/${wan}.lock"
lock_timeout: 300
history:
  enabled: ${HISTORY}
  file: "${dir}/${wan}_history.db"
health_check:
  enabled: ${i === 0}
  port: ${healthPort}
`,
  };
}

async function benchOnce(nWans) {
  const dir = await mkdtemp(path.join(tmpdir(), 'autorate-bench-'));
  const menus = {};
  for (let i = 0; i < nWans; i++) {
    const f = buildFixture({
      wan: `bench${i}`,
      downloadQueue: `WAN-Download-${i}`,
      uploadQueue: `WAN-Upload-${i}`,
    });
    for (const [k, v] of Object.entries(f.menus)) {
      if (k === '/ip/firewall/mangle' && menus[k]) continue;
      menus[k] = [...(menus[k] ?? []), ...v];
    }
  }
  const emu = await startEmulator({
    users: [{ name: 'wanctl', password: PASSWORD, group: 'full' }],
    seed: { identity: 'bench', menus },
  });
  // three reflectors; idle 20 ms +- jitter, a congested phase (+60 ms) 1.5 s out of every 6 s
  let congested = false;
  const delay = () => 20 + Math.random() * 2 + (congested ? 60 : 0);
  const echos = await Promise.all([0, 1, 2].map(() => startUdpEchoResponder({ port: 0, delayFn: delay })));
  const phase = setInterval(() => {
    congested = !congested;
    setTimeout(() => {
      congested = false;
    }, 1500);
  }, 6000);
  const healthPort = await freePort();
  const files = [];
  for (let i = 0; i < nWans; i++) {
    const c = config(dir, i, emu, healthPort);
    const f = path.join(dir, `${c.wan}.yaml`);
    await writeFile(f, c.text);
    files.push(f);
  }
  const args = [...NODE_FLAGS, CLI, 'run', ...files.flatMap((f) => ['--config', f])];
  if (PROBE === 'udp') args.push('--udp-reflector', echos.map((e) => e.address).join(','));
  const child = spawn(process.execPath, args, {
    env: { ...process.env, BENCH_ROUTER_PASSWORD: PASSWORD, WANCTL_LOG_FORMAT: 'json' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d.toString()).slice(-20000);
  });
  const exited = new Promise((r) => child.on('exit', (code) => r(code)));
  try {
    const t0 = Date.now();
    for (;;) {
      try {
        if ((await health(healthPort)).body.wans?.length === nWans) break;
      } catch {}
      if (child.exitCode !== null || Date.now() - t0 > 30000)
        throw new Error(`daemon did not come up:\n${stderr}`);
      await sleep(100);
    }
    await sleep(WARMUP_S * 1000); // warm-up (JIT, first writes)
    const cpu0 = procStat(child.pid);
    const kids0 = childrenCpu(child.pid);
    const cs0 = ctxSwitches(child.pid);
    const th0 = threadCpu(child.pid);
    const w0 = performance.now();
    let rssMax = 0;
    const end = w0 + SECONDS * 1000;
    while (performance.now() < end) {
      await sleep(1000);
      rssMax = Math.max(rssMax, rssMb(child.pid));
    }
    const cpu1 = procStat(child.pid);
    const kids1 = childrenCpu(child.pid);
    const cs1 = ctxSwitches(child.pid);
    const th1 = threadCpu(child.pid);
    const wall = (performance.now() - w0) / 1000;
    const h = (await health(healthPort)).body;
    const cpuPct = ((cpu1 - cpu0) / wall) * 100;
    const writes = h.wans.reduce((a, w) => a + w.router.writes_ok, 0);
    const cycles = h.wans.reduce((a, w) => a + w.cycles, 0);
    return {
      nWans,
      wall,
      cycles,
      writes,
      cpuP50: h.cycle.cpu_ms.p50,
      cpuP99: h.cycle.cpu_ms.p99,
      workP50: h.cycle.work_ms.p50,
      workP99: h.cycle.work_ms.p99,
      durP99: h.cycle.duration_ms.p99,
      overruns: h.cycle.overruns,
      cpuPct,
      kidsPct: ((kids1 - kids0) / wall) * 100,
      wakeups: (cs1.main - cs0.main) / wall,
      threads: Object.keys(th1)
        .map((k) => {
          const pct = (x) => (((th1[k][x] - (th0[k]?.[x] ?? 0)) / wall) * 100).toFixed(2);
          return `${k} ${pct('user')} user + ${pct('sys')} sys`;
        })
        .join(', '),
      wakeupsAll: (cs1.all - cs0.all) / wall,
      rssMax,
      status: h.status,
    };
  } finally {
    child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) console.error(`daemon exit code ${code}\n${stderr.slice(-3000)}`);
    clearInterval(phase);
    await Promise.all(echos.map((e) => e.close()));
    await emu.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const f3 = (x) => x.toFixed(3);
console.log(
  `wanctl-autorate daemon benchmark: ${SECONDS} s per run, 20 Hz cycles, ${PROBE} probe x3 reflectors, emulator REST`,
);
console.log(
  `node ${process.version} ${NODE_FLAGS.join(' ')}, ${execSync('nproc').toString().trim()} CPUs (BENCH_NODE_FLAGS sets the daemon's node flags)`,
);
for (const n of WAN_COUNTS) {
  const r = await benchOnce(n);
  const ok = (v, b) => (v < b ? 'ok' : 'OVER');
  console.log(
    `\n${n} WAN(s): ${r.cycles} cycles, ${r.writes} router writes, ${r.overruns} overruns, health ${r.status}`,
  );
  console.log(
    `  cycle CPU time median  ${f3(r.cpuP50)} ms   (budget < ${BUDGET.medianMs} ms)  ${ok(r.cpuP50, BUDGET.medianMs)}`,
  );
  console.log(
    `  cycle CPU time p99     ${f3(r.cpuP99)} ms   (budget < ${BUDGET.p99Ms} ms)  ${ok(r.cpuP99, BUDGET.p99Ms)}`,
  );
  console.log(
    `  cycle wall time        median ${f3(r.workP50)} ms, p99 ${f3(r.workP99)} ms (includes time descheduled)`,
  );
  console.log(`  cycle duration p99     ${f3(r.durP99)} ms   (slot to end: lateness + work)`);
  const perWan = r.cpuPct / n;
  console.log(
    `  process CPU            ${r.cpuPct.toFixed(2)} % of one core = ${perWan.toFixed(2)} % per WAN (budget < ${BUDGET.cpuPctPerWan} % per WAN)  ${ok(perWan, BUDGET.cpuPctPerWan)}`,
  );
  console.log(
    `  event-loop wake-ups    ${r.wakeups.toFixed(1)} /s (main thread voluntary context switches; all threads ${r.wakeupsAll.toFixed(1)} /s)`,
  );
  console.log(`  CPU by thread (%)      ${r.threads}`);
  if (PROBE === 'fping')
    console.log(
      `  fping children CPU     ${r.kidsPct.toFixed(2)} % of one core (ICMP probing, outside node)`,
    );
  console.log(
    `  resident memory (max)  ${r.rssMax.toFixed(1)} MB   (budget < ${BUDGET.rssMb} MB)  ${ok(r.rssMax, BUDGET.rssMb)}`,
  );
}
