#!/usr/bin/env node
// Micro-benchmark of one autorate control cycle (the pure law, no I/O).
// Build first:   (cd apps/autorate && npx tsc -b)
// Run:           node apps/autorate/bench/cycle-bench.mjs [cycles]   (add --expose-gc for heap figures)
// Prints per-cycle time median / p99 / max against the project's budget (median < 0.2 ms, p99 < 2 ms).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.join(here, '..', 'dist', 'control', 'index.js');
if (!existsSync(entry)) {
  console.error(`missing ${entry}: build first with (cd apps/autorate && npx tsc -b)`);
  process.exit(2);
}
const { WanController } = await import(entry);

// The parameters of the shipped cable example, through the daemon's own config -> params mapping.
const { loadAutorateConfig } = await import('@wanctl/config');
const { controlParamsFromConfig } = await import(path.join(here, '..', 'dist', 'config-params.js'));
const params = controlParamsFromConfig(
  loadAutorateConfig(path.join(here, '..', '..', '..', 'examples', 'cable.yaml'), {
    env: { WANCTL_ROUTER_PASSWORD: 'bench-only' },
  }),
);

// A mixed trace (prebuilt, so building inputs is not measured): idle jitter with median-of-three,
// congestion ramps, lone spikes, ICMP outages with gateway/TCP fallback, the odd failed write.
const TRACE = 4096;
const inputs = [];
let seed = 42;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
for (let i = 0; i < TRACE; i++) {
  const phase = i % 1024;
  let base = 24;
  if (phase >= 300 && phase < 500) base = 24 + (phase - 300) * 0.6; // congestion ramp
  if (phase >= 500 && phase < 540) base = 140;
  const j = () => base + rnd() * 3;
  if (phase >= 700 && phase < 706) {
    inputs.push({
      rtts_ms: [],
      gateway_ok: true,
      tcp_rtts_ms: phase % 2 ? [null, null] : [25, 31],
      router_ok: true,
    });
  } else if (rnd() < 0.01) {
    inputs.push({ rtts_ms: [j() + 40, j()], router_ok: true });
  } else {
    inputs.push({ rtts_ms: [j(), j(), j()], router_ok: rnd() > 0.002 });
  }
}

const n = Number(process.argv[2] ?? 200_000);
const warm = 20_000;
const ctl = new WanController(params);
const times = new Float64Array(n);
let writes = 0;
const hr = process.hrtime.bigint;
for (let i = 0; i < warm; i++) ctl.cycle(inputs[i % TRACE], i * 0.05);
globalThis.gc?.();
const heap0 = process.memoryUsage().heapUsed;
const cpu0 = process.cpuUsage();
for (let i = 0; i < n; i++) {
  const input = inputs[i % TRACE];
  const t = (warm + i) * 0.05;
  const a = hr();
  const r = ctl.cycle(input, t);
  const b = hr();
  times[i] = Number(b - a) / 1e6; // ms
  if (r.write !== null) writes++;
}
const cpu = process.cpuUsage(cpu0);
globalThis.gc?.();
const heap1 = process.memoryUsage().heapUsed;
times.sort();
const q = (p) => times[Math.min(n - 1, Math.floor(p * n))];
const fmt = (ms) => `${(ms * 1000).toFixed(2)} µs`;
const med = q(0.5);
const p99 = q(0.99);
console.log(`autorate control cycle, ${n} cycles after ${warm} warm-up (node ${process.version})`);
console.log(`  median ${fmt(med)}   budget < 200 µs   ${med < 0.2 ? 'OK' : 'OVER'}`);
console.log(`  p99    ${fmt(p99)}   budget < 2000 µs  ${p99 < 2 ? 'OK' : 'OVER'}`);
console.log(`  p99.9  ${fmt(q(0.999))}   max ${fmt(times[n - 1])}`);
console.log(`  CPU per cycle (user+sys, incl. timer) ${fmt((cpu.user + cpu.system) / 1000 / n)}`);
console.log(`  at 20 Hz: ${(((cpu.user + cpu.system) / 1e6 / n) * 20 * 100).toFixed(4)} % of one core`);
console.log(`  router writes issued: ${writes}`);
if (globalThis.gc)
  console.log(`  heap after - before (after GC): ${((heap1 - heap0) / 1024).toFixed(1)} KiB`);
else console.log('  (run with node --expose-gc for the heap figure)');
