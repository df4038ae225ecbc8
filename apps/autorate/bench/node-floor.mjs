#!/usr/bin/env node
// Reference point for the daemon benchmark: the CPU a bare Node process spends on what the daemon
// cannot avoid at 20 Hz with the UDP probe (a 50 ms timer and 3 UDP echo round trips per cycle),
// with no control law, no router, no logging.
// Run:   node apps/autorate/bench/node-floor.mjs [seconds=15]
import { execSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';

const CLK_TCK = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;
if (process.argv[2] === 'child') {
  const s = dgram.createSocket('udp4');
  s.on('message', () => {});
  const b = Buffer.alloc(16);
  const port = Number(process.argv[3]);
  setInterval(() => {
    for (let i = 0; i < 3; i++) s.send(b, port, '127.0.0.1');
  }, 50);
} else {
  const seconds = Number(process.argv[2] ?? 15);
  const srv = dgram.createSocket('udp4');
  srv.on('message', (m, r) => setTimeout(() => srv.send(m, r.port, r.address), 20));
  await new Promise((r) => srv.bind(0, '127.0.0.1', r));
  const c = spawn(
    process.execPath,
    [new URL(import.meta.url).pathname, 'child', String(srv.address().port)],
    {
      stdio: 'inherit',
    },
  );
  const cpu = () => {
    const f = readFileSync(`/proc/${c.pid}/stat`, 'utf8');
    const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(x[11]) + Number(x[12])) / CLK_TCK;
  };
  await new Promise((r) => setTimeout(r, 3000));
  const a = cpu();
  const t = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const pct = ((cpu() - a) / ((performance.now() - t) / 1000)) * 100;
  console.log(
    `bare node ${process.version}, 20 Hz timer + 3 UDP round trips per 50 ms: ${pct.toFixed(2)} % of one core`,
  );
  c.kill();
  srv.close();
}
