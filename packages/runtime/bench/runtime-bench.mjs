#!/usr/bin/env node
// Benchmark of the runtime pieces a 20 Hz cycle touches.
// Build first:  (cd packages/runtime && npx tsc -b)
// Run:          node packages/runtime/bench/runtime-bench.mjs [seconds=5]
// Prints: ticker lateness p50/p99 and process CPU % at 20 Hz; per-call cost of StateStore.update
// (unchanged value), LatencyStats.record, a filtered logger.debug, Watchdog.cycleSucceeded.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.join(here, '..', 'dist', 'index.js');
if (!existsSync(entry)) {
  console.error(`missing ${entry}: build first with (cd packages/runtime && npx tsc -b)`);
  process.exit(2);
}
const rt = await import(entry);
const seconds = Number(process.argv[2] ?? 5);

function perCall(label, n, fn) {
  for (let i = 0; i < 1000; i++) fn(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${label.padEnd(42)} ${(ns / 1000).toFixed(3)} µs/call`);
}

const dir = mkdtempSync(path.join(tmpdir(), 'runtime-bench-'));
try {
  const state0 = {
    download: { current_rate: 866304000, green_streak: 1 },
    ewma: { baseline_rtt: 24.0, load_rtt: 32.3 },
  };
  const store0 = new rt.StateStore({ path: path.join(dir, 't.json'), minIntervalMs: 1000 });
  const late = new rt.LatencyStats(100_000);
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  const ticker = rt.createTicker(50, (info) => {
    late.record(info.lateMs);
    store0.update(state0);
  });
  ticker.start();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await ticker.stop();
  const wall = performance.now() - w0;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `ticker 20 Hz for ${seconds}s: runs=${ticker.stats.runs} skipped=${ticker.stats.skippedTicks} ` +
      `lateness p50=${late.p50().toFixed(2)} ms p99=${late.p99().toFixed(2)} ms max=${late.max().toFixed(2)} ms`,
  );
  console.log(
    `process CPU while ticking (idle cycle body): ${(((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(2)} % of one core` +
      ` (budget for a whole daemon: < 2 %); RSS ${(process.memoryUsage().rss / 1e6).toFixed(1)} MB`,
  );
  const store = new rt.StateStore({ path: path.join(dir, 's.json'), minIntervalMs: 1000 });
  const state = {
    download: { current_rate: 866304000, green_streak: 1 },
    ewma: { baseline_rtt: 24.0, load_rtt: 32.3 },
  };
  store.update(state);
  await store.flush();
  perCall('StateStore.update (unchanged)', 200_000, () => store.update(state));
  const stats = new rt.LatencyStats(1200);
  perCall('LatencyStats.record', 1_000_000, (i) => stats.record(i % 7));
  perCall('LatencyStats.p99 (1200 samples)', 2_000, () => stats.p99());
  const log = rt.createLogger({ name: 'bench', level: 'info', sink: () => {} });
  perCall('logger.debug (filtered at info)', 1_000_000, () => log.debug('x', { a: 1 }));
  perCall('logger.info (formatted, text sink)', 50_000, () =>
    log.info('rate changed', { dl: 800, zone: 'GREEN' }),
  );
  const notify = rt.createSdNotify({ env: {} });
  const wd = new rt.Watchdog({ notify, intervalMs: 15000 });
  perCall('Watchdog.cycleSucceeded (no send due)', 1_000_000, () => wd.cycleSucceeded());
} finally {
  rmSync(dir, { recursive: true, force: true });
}
