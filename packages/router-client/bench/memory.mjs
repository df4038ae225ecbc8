#!/usr/bin/env node
// Resident memory of a fresh Node process that loads @wanctl/router-client and, in the
// realistic cases, makes one set-limits call against a local emulator (child process).
// Each scenario runs in its own `node --expose-gc` child; RSS is read after two full GCs.
// It also reports whether got (seen through its CommonJS dependency http2-wrapper) and ssh2
// were loaded. Run after `npx tsc -b` (here and in ../routeros-emulator):
//   node bench/memory.mjs [--runs 3]
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const runsIdx = process.argv.indexOf('--runs');
const RUNS = runsIdx > 0 ? Number(process.argv[runsIdx + 1]) : 3;
const here = dirname(fileURLToPath(import.meta.url));
const entry = pathToFileURL(join(here, '..', 'dist', 'index.js')).href;
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

const report = `
const { createRequire } = await import('node:module');
const req = createRequire(import.meta.url);
const loaded = (n) => Object.keys(req.cache).some((k) => k.includes('/node_modules/' + n + '/'));
globalThis.gc(); globalThis.gc();
await new Promise((r) => setTimeout(r, 50));
globalThis.gc();
const m = process.memoryUsage();
console.log(JSON.stringify({ rss: m.rss, heap: m.heapUsed, got: loaded('http2-wrapper'), ssh2: loaded('ssh2') }));
`;

const limits = `[
  { name: 'WAN-Download-1', maxLimitBps: 400000000, queueType: 'cake-down-wan1' },
  { name: 'WAN-Upload-1', maxLimitBps: 30000000, queueType: 'cake-up-wan1' },
]`;

const tls = await startEmulator(['--tls']);
try {
  const host = '127.0.0.1';
  const restPort = tls.info.rest.port;
  const sshPort = tls.info.ssh.port;
  const hk = tls.info.ssh.hostKeyFingerprint;
  const { presentedCertFingerprint } = await import(entry);
  const fp = await presentedCertFingerprint(host, restPort);
  const rest = `{ host: '${host}', port: ${restPort}, user: 'admin', password: 'admin', certFingerprint: '${fp}' }`;
  const ssh = `{ host: '${host}', port: ${sshPort}, user: 'admin', password: 'admin', hostKeyFingerprint: '${hk}' }`;
  const scenarios = [
    ['bare node (no import)', ''],
    ['import @wanctl/router-client', `await import('${entry}');`],
    [
      'REST https client, 1 set-limits',
      `const rc = await import('${entry}'); const c = new rc.RestRouterClient(${rest});
       await c.setQueueLimits(${limits});`,
    ],
    [
      'SSH client, 1 set-limits',
      `const rc = await import('${entry}'); const c = new rc.SshRouterClient(${ssh});
       await c.setQueueLimits(${limits});`,
    ],
    [
      'failover rest+ssh, 1 set-limits',
      `const rc = await import('${entry}');
       const c = rc.getRouterClientWithFailover({ host: '${host}', transport: 'rest',
         rest: ${rest}, ssh: ${ssh} });
       await c.setQueueLimits(${limits});`,
    ],
  ];
  console.log(`RSS after GC, median of ${RUNS} fresh processes (node ${process.version})`);
  console.log('scenario                            RSS MB  heap MB  got  ssh2');
  for (const [name, code] of scenarios) {
    const rs = [];
    for (let i = 0; i < RUNS; i++) {
      const out = execFileSync(
        process.execPath,
        ['--expose-gc', '--input-type=module', '-e', `${code}\n${report}\nprocess.exit(0);`],
        { encoding: 'utf8' },
      );
      rs.push(JSON.parse(out.trim().split('\n').pop()));
    }
    rs.sort((a, b) => a.rss - b.rss);
    const r = rs[Math.floor(rs.length / 2)];
    const mb = (x) => (x / 1048576).toFixed(1).padStart(6);
    console.log(
      `${name.padEnd(34)} ${mb(r.rss)}  ${mb(r.heap)}  ${r.got ? 'yes' : 'no '}  ${r.ssh2 ? 'yes' : 'no'}`,
    );
  }
} finally {
  tls.child.kill('SIGTERM');
}
