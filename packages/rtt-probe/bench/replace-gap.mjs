#!/usr/bin/env node
// What replaceReflector() costs the reflectors that stay: with the real fping (restarted with the
// new list) and the UDP probe (new target only), 3 loopback reflectors probed every 50 ms, a
// 20 Hz caller; the third reflector is swapped N times (127.0.0.3 <-> 127.0.0.4). Prints per
// probe: how long replaceReflector() took to resolve, the longest gap between two samples of the
// first reflector seen by the caller around a swap, and the same gap with no swap (baseline).
// Build first:  (cd packages/rtt-probe && npx tsc -b)
// Run:          node packages/rtt-probe/bench/replace-gap.mjs [swaps=10]
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.join(here, '..', 'dist', 'index.js');
if (!existsSync(entry)) {
  console.error(`missing ${entry}: build first with (cd packages/rtt-probe && npx tsc -b)`);
  process.exit(2);
}
const rp = await import(entry);
const swaps = Number(process.argv[2] ?? 10);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const f1 = (x) => x.toFixed(1);

/** Runs a 20 Hz caller; returns the gaps (ms) between successive samples of `first`. */
function caller(probe, first) {
  let last = null;
  const gaps = [];
  const t = setInterval(() => {
    for (const s of probe.latest().samples) {
      if (s.reflector !== first) continue;
      if (last !== null) gaps.push(s.at - last);
      last = s.at;
    }
  }, 50);
  return {
    take() {
      const g = gaps.splice(0);
      return g;
    },
    stop: () => clearInterval(t),
  };
}

async function run(label, probe, names) {
  await probe.start();
  const c = caller(probe, names[0]);
  await sleep(1000);
  c.take();
  await sleep(2000);
  const base = c.take();
  const took = [];
  const around = [];
  for (let i = 0; i < swaps; i++) {
    const [from, to] = i % 2 === 0 ? [names[2], names[3]] : [names[3], names[2]];
    c.take();
    const t0 = performance.now();
    await probe.replaceReflector(from, to);
    took.push(performance.now() - t0);
    await sleep(500);
    around.push(Math.max(0, ...c.take()));
  }
  c.stop();
  await probe.stop();
  console.log(
    `${label}: replaceReflector() resolved in p50 ${f1(q(took, 0.5))} / max ${f1(Math.max(...took))} ms; ` +
      `longest gap of reflector 1 within 0.5 s of a swap: p50 ${f1(q(around, 0.5))} / max ${f1(Math.max(...around))} ms ` +
      `(no swap: p50 ${f1(q(base, 0.5))} / max ${f1(Math.max(...base))} ms between samples)`,
  );
}

if (rp.findExecutable('fping')) {
  await run(
    'fping',
    new rp.FpingProbe({ reflectors: ['127.0.0.1', '127.0.0.2', '127.0.0.3'], periodMs: 50, timeoutMs: 1000 }),
    ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'],
  );
} else console.log('fping: not installed, skipped');

const rs = [];
for (const host of ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'])
  rs.push(await rp.startUdpEchoResponder({ port: 0, host }));
await run(
  'udp',
  new rp.UdpEchoProbe({ reflectors: rs.slice(0, 3).map((r) => r.address), periodMs: 50, timeoutMs: 1000 }),
  rs.map((r) => r.address),
);
await Promise.all(rs.map((r) => r.close()));
