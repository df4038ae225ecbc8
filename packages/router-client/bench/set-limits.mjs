#!/usr/bin/env node
// Set-limits round trip (both queues, one batched call) against a local emulator running in a
// child process: p50/p99 for REST (HTTPS with keep-alive, and plain HTTP) and SSH (persistent
// connection), beside the project's budgets (REST p50 < 3 ms, SSH p50 < 5 ms), and the client
// process's CPU time per call (user + system; steadier than wall-clock figures on a busy machine).
// `--op queue-stats` measures getQueueStats of both queues instead (one REST GET with .proplist;
// one SSH exec of `print detail` + `print stats detail`).
// Run after `npx tsc -b` (here and in ../routeros-emulator):
//   node bench/set-limits.mjs [--n 1000] [--warmup 100] [--op set-limits|queue-stats]
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { presentedCertFingerprint, RestRouterClient, SshRouterClient } from '../dist/index.js';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('n', 1000);
const WARMUP = arg('warmup', 100);
const opIdx = process.argv.indexOf('--op');
const OP = opIdx > 0 ? process.argv[opIdx + 1] : 'set-limits';
if (OP !== 'set-limits' && OP !== 'queue-stats') throw new Error(`--op set-limits|queue-stats, got ${OP}`);

const require = createRequire(import.meta.url);
const emuCli = join(dirname(require.resolve('@wanctl/routeros-emulator/package.json')), 'dist/cli.js');

function startEmulator(args) {
  const child = spawn(process.execPath, [emuCli, '--json', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', (line) => resolve({ child, info: JSON.parse(line) }));
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(client) {
  const limits = (i) => [
    { name: 'WAN-Download-1', maxLimitBps: 400_000_000 + (i % 50) * 1_000_000, queueType: 'cake-down-wan1' },
    { name: 'WAN-Upload-1', maxLimitBps: 30_000_000 + (i % 50) * 100_000, queueType: 'cake-up-wan1' },
  ];
  const names = ['WAN-Download-1', 'WAN-Upload-1'];
  const call = OP === 'set-limits' ? (i) => client.setQueueLimits(limits(i)) : () => client.getQueueStats(names);
  for (let i = 0; i < WARMUP; i++) await call(i);
  const samples = new Float64Array(N);
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await call(i);
    samples[i] = performance.now() - t0;
  }
  const cpu = process.cpuUsage(cpu0);
  const sorted = Array.from(samples).sort((a, b) => a - b);
  return {
    p50: pct(sorted, 50),
    p99: pct(sorted, 99),
    mean: sorted.reduce((a, b) => a + b, 0) / N,
    cpu: (cpu.user + cpu.system) / 1000 / N,
  };
}

const tls = await startEmulator(['--tls']);
const plain = await startEmulator(['--no-ssh']);
const rows = [];
try {
  const host = '127.0.0.1';
  const fp = await presentedCertFingerprint(host, tls.info.rest.port);
  const cases = [
    [
      'REST https keep-alive',
      3,
      new RestRouterClient({
        host,
        port: tls.info.rest.port,
        user: 'admin',
        password: 'admin',
        certFingerprint: fp,
      }),
    ],
    [
      'REST http keep-alive',
      3,
      new RestRouterClient({
        host,
        port: plain.info.rest.port,
        https: false,
        user: 'admin',
        password: 'admin',
      }),
    ],
    [
      'SSH persistent',
      5,
      new SshRouterClient({
        host,
        port: tls.info.ssh.port,
        user: 'admin',
        password: 'admin',
        hostKeyFingerprint: tls.info.ssh.hostKeyFingerprint,
      }),
    ],
  ];
  for (const [name, budget, client] of cases) {
    const r = await measure(client);
    await client.close();
    rows.push({ name, budget, ...r });
  }
} finally {
  tls.child.kill('SIGTERM');
  plain.child.kill('SIGTERM');
}

const f = (x) => x.toFixed(2).padStart(7);
console.log(
  `${OP === 'set-limits' ? 'set-limits' : 'getQueueStats'} round trip (2 queues, one call), n=${N} after ${WARMUP} warm-up, emulator in a child process`,
);
console.log(
  `machine: ${cpus().length} CPUs, load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} (figures inflate under load)`,
);
console.log('transport                 p50 ms  p99 ms  mean ms  client CPU ms/call  budget (p50)');
for (const r of rows) {
  const ok = r.p50 < r.budget ? 'OK' : 'OVER';
  console.log(
    `${r.name.padEnd(24)} ${f(r.p50)} ${f(r.p99)} ${f(r.mean)}  ${f(r.cpu)}            < ${r.budget} ms ${ok}`,
  );
}
