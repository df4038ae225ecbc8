#!/usr/bin/env node
// Benchmark of the RTT probes.
// Build first:  (cd packages/rtt-probe && npx tsc -b)
// Run:          node packages/rtt-probe/bench/probe-bench.mjs [seconds=5] [--period 100,50] [--fping-only]
// Prints: parseFpingLine cost; latest() cost; CPU of an idle 20 Hz timer (the floor every
// daemon pays); CPU and event-loop wake-ups of this process, and CPU of the fping child, while
// probing 3 loopback reflectors every <period> ms each with a 20 Hz cycle calling latest() (fping
// with batch reads, then with one event per line); the same for the UDP probe against local echo
// responders (unless --fping-only).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.join(here, '..', 'dist', 'index.js');
if (!existsSync(entry)) {
  console.error(`missing ${entry}: build first with (cd packages/rtt-probe && npx tsc -b)`);
  process.exit(2);
}
const rp = await import(entry);
const argv = process.argv.slice(2);
const flag = (name) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? (argv[i + 1] ?? '') : undefined;
};
const seconds = Number(argv[0] && !argv[0].startsWith('--') ? argv[0] : 5);
const periods = (flag('period') ?? '50')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const fpingOnly = argv.includes('--fping-only');
const CLK = 100; // USER_HZ

function perCall(label, n, fn) {
  for (let i = 0; i < 1000; i++) fn(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  console.log(`${label.padEnd(40)} ${(Number(process.hrtime.bigint() - t0) / n / 1000).toFixed(3)} µs/call`);
}
// Event-loop wake-ups: the main thread's voluntary context switches (each time it blocks in
// epoll_wait and is woken). A busy machine adds involuntary switches, not voluntary ones.
function wakeups() {
  const m = /\nvoluntary_ctxt_switches:\s+(\d+)/.exec(
    readFileSync(`/proc/${process.pid}/task/${process.pid}/status`, 'utf8'),
  );
  return m ? Number(m[1]) : Number.NaN;
}
function childCpuMs(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) / CLK) * 1000;
  } catch {
    return Number.NaN;
  }
}

perCall('parseFpingLine (reply line)', 500_000, () =>
  rp.parseFpingLine('[1795747335.40513] 127.0.0.1 : [1234], 64 bytes, 0.072 ms (0.072 avg, 0% loss)'),
);

// stdout line handling, one reply line per chunk as fping writes them: node:readline (what the
// probe used before) vs the probe's LineSplitter, each followed by parseFpingLine.
async function linesPerSec(label, attach) {
  const N = 200_000;
  const line = '127.0.0.1 : [1234], 64 bytes, 0.072 ms (0.072 avg, 0% loss)\n';
  const run = async (n) => {
    const input = new PassThrough({ encoding: 'utf8' });
    let seen = 0;
    const done = new Promise((resolve) => {
      attach(input, (l) => {
        if (rp.parseFpingLine(l) !== null && ++seen === n) resolve();
      });
    });
    for (let i = 0; i < n; i++) input.write(line);
    await done;
    input.end();
  };
  await run(20_000);
  const c0 = process.cpuUsage();
  await run(N);
  const c = process.cpuUsage(c0);
  console.log(`${label.padEnd(40)} ${((c.user + c.system) / N).toFixed(3)} µs CPU/line`);
}
const { LineSplitter } = await import(path.join(here, '..', 'dist', 'lines.js')).catch(() => ({}));
await linesPerSec('readline + parseFpingLine', (input, onLine) =>
  createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY }).on('line', onLine),
);
if (LineSplitter) {
  await linesPerSec('LineSplitter + parseFpingLine', (input, onLine) => {
    const s = new LineSplitter(onLine);
    input.on('data', (chunk) => s.push(chunk));
  });
}

async function measure(label, probe, getChildPid) {
  await probe?.start();
  await new Promise((r) => setTimeout(r, 300));
  probe?.latest();
  const cpu0 = process.cpuUsage();
  const pid = getChildPid?.();
  const c0 = pid ? childCpuMs(pid) : 0;
  const w0 = performance.now();
  const v0 = wakeups();
  let samples = 0;
  let rounds = 0;
  let latestNs = 0n;
  const timer = setInterval(() => {
    const t = process.hrtime.bigint();
    const r = probe?.latest();
    latestNs += process.hrtime.bigint() - t;
    samples += r?.samples.length ?? 0;
    rounds++;
  }, 50);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  clearInterval(timer);
  const wall = performance.now() - w0;
  const cpu = process.cpuUsage(cpu0);
  const wakes = ((wakeups() - v0) / wall) * 1000;
  const c1 = pid ? childCpuMs(pid) : 0;
  await probe?.stop();
  const own = (((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(2);
  const child = pid ? `, fping child ${(((c1 - c0) / wall) * 100).toFixed(2)} %` : '';
  console.log(
    `${label}: ${rounds} cycles, ${(samples / rounds).toFixed(2)} samples/cycle, latest() ${(Number(latestNs) / rounds / 1000).toFixed(2)} µs; ` +
      `CPU node ${own} %${child} of one core; ${wakes.toFixed(1)} wake-ups/s`,
  );
}

await measure('idle 20 Hz timer, no probe', null);
if (rp.findExecutable('fping')) {
  for (const periodMs of periods) {
    for (const batchReads of [true, false]) {
      const p = new rp.FpingProbe({
        reflectors: ['127.0.0.1', '127.0.0.2', '::1'],
        periodMs,
        timeoutMs: 1000,
        batchReads,
      });
      await measure(
        `fping 3 reflectors @${periodMs} ms, ${batchReads ? 'batch reads' : 'event per line'}`,
        p,
        () => p['child']?.pid,
      );
    }
  }
} else {
  console.log('fping not installed (apt-get install fping): fping figures skipped');
}
if (fpingOnly) process.exit(0);
const rs = await Promise.all([0, 1, 2].map(() => rp.startUdpEchoResponder({ port: 0 })));
const up = new rp.UdpEchoProbe({ reflectors: rs.map((r) => r.address), periodMs: 50 });
await measure('udp 3 reflectors @50 ms (responders in-process)', up);
await Promise.all(rs.map((r) => r.close()));
