#!/usr/bin/env node
/**
 * Cost of one rate change and one statistics read on the kernel shaper: a `tc` fork per call
 * versus the long-lived `tc -batch` child (LinuxCakeClient). Root only: runs in a network
 * namespace it creates (a veth pair with a tbf root qdisc) and removes.
 *
 *   node packages/linux-cake/bench/rate-change-bench.mjs [--n 500]
 *
 * Wall time per call (p50/p99/mean) and CPU time per call (the caller plus its tc children,
 * from /proc). The batch write includes the read-back that LinuxCakeClient does on every write.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LinuxCakeClient } from '../dist/index.js';

const args = process.argv.slice(2);
const N = Number(args[args.indexOf('--n') + 1] || 500) || 500;
const inner = args.includes('--inner');

if (!inner) {
  if (process.getuid?.() !== 0) {
    console.log('SKIP: needs root (network namespace, tc)');
    process.exit(0);
  }
  const ns = `wtb${process.pid}b`;
  const ip = (...a) => execFileSync('ip', a, { stdio: 'inherit' });
  try {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'add', 'name', 'bva', 'type', 'veth', 'peer', 'name', 'bvb');
    ip('-n', ns, 'link', 'set', 'bva', 'up');
    ip('-n', ns, 'link', 'set', 'bvb', 'up');
    execFileSync(
      'ip',
      ['netns', 'exec', ns, process.execPath, new URL(import.meta.url).pathname, '--inner', '--n', String(N)],
      {
        stdio: 'inherit',
      },
    );
  } finally {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
  process.exit(0);
}

const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const stat = (pid) => {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s
    .slice(s.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
};
/** utime+stime of this process and of its waited-for children, ms. */
const selfCpuMs = () => {
  const f = stat('self');
  return ((f[11] + f[12] + f[13] + f[14]) / TICK) * 1000;
};

const fork = (argv) =>
  new Promise((resolve, reject) => {
    execFile('tc', argv, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });

function summary(name, samples, cpuMs) {
  const s = [...samples].sort((a, b) => a - b);
  const p = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  console.log(
    `${name.padEnd(44)} p50 ${p(0.5).toFixed(3)} ms  p99 ${p(0.99).toFixed(3)} ms  mean ${mean.toFixed(3)} ms  CPU ${(cpuMs / s.length).toFixed(3)} ms/call`,
  );
}

const params = {
  downloadInterface: 'bva',
  uploadInterface: 'bvb',
  downloadQdisc: 'tbf',
  uploadQdisc: 'tbf',
  tbfLatencyMs: 5,
};
const client = new LinuxCakeClient({ queues: { download: 'DL', upload: 'UL' }, params });
await client.start({ mode: 'replace', rates: { download: 50e6, upload: 10e6 } });
const rate = (i) => 40e6 + (i % 100) * 10_000;
const tbfArgs = (i) => [
  'qdisc',
  'change',
  'dev',
  'bva',
  'root',
  'handle',
  '1:',
  'tbf',
  'rate',
  `${rate(i)}bit`,
  'burst',
  '5000',
  'latency',
  '5ms',
];

console.log(`${N} calls each, tbf on a veth in a namespace; node ${process.version}`);
// warm-up
for (let i = 0; i < 20; i++) {
  await fork(tbfArgs(i));
  await client.setQueueLimits([{ name: 'DL', maxLimitBps: rate(i) }]);
}
{
  const t = [];
  const c0 = selfCpuMs();
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await fork(tbfArgs(i));
    t.push(performance.now() - t0);
  }
  summary('rate change, tc fork per write', t, selfCpuMs() - c0);
}
// the batch child's own CPU counts too
const batchPid = () => {
  const kids = execFileSync('pgrep', ['-P', String(process.pid)], { encoding: 'utf8' })
    .trim()
    .split('\n');
  return Number(kids[0]);
};
const childCpuMs = (pid) => {
  const f = stat(pid);
  return ((f[11] + f[12]) / TICK) * 1000;
};
{
  const pid = batchPid();
  const t = [];
  const c0 = selfCpuMs() + childCpuMs(pid);
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await client.setQueueLimits([{ name: 'DL', maxLimitBps: rate(i) }]);
    t.push(performance.now() - t0);
  }
  summary('rate change + read-back, tc -batch child', t, selfCpuMs() + childCpuMs(pid) - c0);
  const t2 = [];
  const c1 = selfCpuMs() + childCpuMs(pid);
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await client.setQueueLimits([
      { name: 'DL', maxLimitBps: rate(i) },
      { name: 'UL', maxLimitBps: rate(i) / 4 },
    ]);
    t2.push(performance.now() - t0);
  }
  summary('both directions + read-back, tc -batch', t2, selfCpuMs() + childCpuMs(pid) - c1);
  const t3 = [];
  const c2 = selfCpuMs() + childCpuMs(pid);
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await client.getQueueStats(['DL', 'UL']);
    t3.push(performance.now() - t0);
  }
  summary('stats of both directions, tc -batch', t3, selfCpuMs() + childCpuMs(pid) - c2);
}
{
  const t = [];
  const c0 = selfCpuMs();
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    JSON.parse(await fork(['-s', '-j', 'qdisc', 'show', 'dev', 'bva']));
    JSON.parse(await fork(['-s', '-j', 'qdisc', 'show', 'dev', 'bvb']));
    t.push(performance.now() - t0);
  }
  summary('stats of both directions, two tc forks', t, selfCpuMs() - c0);
}
await client.close();
