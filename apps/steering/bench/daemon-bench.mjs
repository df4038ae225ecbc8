#!/usr/bin/env node
// The real daemon process against the emulator (REST) and a UDP echo responder: RSS and CPU over 20 s.
// The CAKE queue is the emulator's own WAN-Download-1, so every cycle reads real counters.
// Usage (build first): node bench/daemon-bench.mjs [interval_seconds=2]. Prints, never asserts.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '@wanctl/routeros-emulator';
import { startUdpEchoResponder } from '@wanctl/rtt-probe';

const dir = mkdtempSync(join(tmpdir(), 'rss-'));
const emu = await startEmulator({ sshPort: false });
const echo = await startUdpEchoResponder({ port: 0, delayMs: 5 });
writeFileSync(join(dir, 'wan1_state.json'), JSON.stringify({ ewma: { baseline_rtt: 20, load_rtt: 20 } }));
writeFileSync(
  join(dir, 's.yaml'),
  `wan_name: steering
topology: { primary_wan: wan1, primary_wan_config: x, alternate_wan: wan2 }
router: { transport: rest, host: 127.0.0.1, user: admin, password: admin, port: ${emu.rest.port}, scheme: http }
mangle_rule: { comment: "ADAPTIVE: Steer latency-sensitive to WAN2" }
cake_queues: { primary_download: WAN-Download-1 }
cake_state_sources: { primary: ${dir}/wan1_state.json }
measurement: { interval_seconds: ${process.argv[2] ?? 2}, ping_host: 127.0.0.1, ping_count: 1 }
thresholds: {}
state: { file: ${dir}/st.json, history_size: 600 }
logging: { main_log: ${dir}/s.log, debug_log: ${dir}/d.log }
lock_file: ${dir}/s.lock
lock_timeout: 300
health_check: { enabled: false }
`,
);
const child = spawn(
  process.execPath,
  [
    new URL('../dist/cli.js', import.meta.url).pathname,
    'run',
    '--config',
    join(dir, 's.yaml'),
    '--udp-reflector',
    echo.address,
  ],
  { stdio: ['ignore', 'ignore', 'ignore'] },
);
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024;
const cpu = () => {
  const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
// voluntary context switches: how often the process sleeps and is woken (timers, sockets)
const wakeups = () =>
  Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]);
await new Promise((r) => setTimeout(r, 5000));
const c0 = cpu();
const w0 = wakeups();
const t0 = Date.now();
for (let i = 0; i < 4; i++) {
  await new Promise((r) => setTimeout(r, 5000));
  console.log(`t=${(Date.now() - t0) / 1000}s RSS ${rss().toFixed(1)} MB`);
}
console.log(
  `${((wakeups() - w0) / ((Date.now() - t0) / 1000)).toFixed(1)} wake-ups/s (voluntary context switches)`,
);
console.log(
  `CPU ${((100 * (cpu() - c0)) / ((Date.now() - t0) / 1000)).toFixed(2)} % of one core at interval ${process.argv[2] ?? 2} s`,
);
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));
await echo.close();
await emu.stop();
rmSync(dir, { recursive: true, force: true });
