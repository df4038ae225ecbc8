#!/usr/bin/env node
/**
 * node scripts/bench-control/write-budget-oracle.mjs [--fraction F] [--lag S] [--writes-per-second N]
 *   [--seeds 1,2,...] [--traces lte,lte-walk] [--duration S]
 *
 * What a controller that knows the true capacity gets through the adaptive law's RouterOS write
 * policy: every cycle it decides `fraction` × the capacity of `lag` seconds ago, and only what the
 * write policy (2 writes/s, bursts of 4, a decrease first) lets through reaches the shaper. A
 * bound for any law behind that policy: the benchmark's `oracle` row writes every cycle (20/s).
 * Prints the mean over the seeds per trace (p99 added ms, download and upload utilisation).
 * Exit 0, or 2 on bad arguments.
 */
import { parseCli } from '../lib-cli.mjs';

const USAGE = `usage: node scripts/bench-control/write-budget-oracle.mjs [options]
  --fraction F            share of the true capacity decided every cycle (default 0.8)
  --lag S                 the capacity known is S seconds old (default 0; a law learns from delay later)
  --writes-per-second N   the write policy's sustained rate (default 2, the RouterOS default)
  --seeds LIST            comma-separated seeds (default 1,2,3,4,5)
  --traces LIST           benchmark traces (default lte,lte-walk)
  --duration S            simulated seconds per trace (default 300)`;

const { args, fail } = parseCli('write-budget-oracle', USAGE, {
  fraction: { type: 'string' },
  lag: { type: 'string' },
  'writes-per-second': { type: 'string' },
  seeds: { type: 'string' },
  traces: { type: 'string' },
  duration: { type: 'string' },
});
const fraction = Number(args.fraction ?? 0.8);
if (!(fraction > 0 && fraction <= 2)) fail(`--fraction must be in (0, 2] (got "${args.fraction}")`);
const lagS = Number(args.lag ?? 0);
if (!(lagS >= 0 && lagS <= 10)) fail(`--lag must be 0..10 s (got "${args.lag}")`);
const wps = Number(args['writes-per-second'] ?? 2);
if (!(wps > 0)) fail(`--writes-per-second must be > 0 (got "${args['writes-per-second']}")`);
const seeds = (args.seeds ?? '1,2,3,4,5').split(',').map(Number);
if (!seeds.every(Number.isInteger)) fail(`--seeds must be integers (got "${args.seeds}")`);
const durationS = Number(args.duration ?? 300);
if (!(durationS >= 5 && durationS <= 3600)) fail(`--duration must be 5..3600 s (got "${args.duration}")`);

// Imported after the argument check so that --help and bad arguments need no build.
const { benchScenarios, TRACE_NAMES } = await import('./bench.mjs');
const { WritePolicy } = await import('@wanctl/autorate');
const { runBenchmarkSuite } = await import('@wanctl/link-sim');
const traces = (args.traces ?? 'lte,lte-walk').split(',').map((s) => s.trim());
for (const t of traces)
  if (!TRACE_NAMES.includes(t)) fail(`unknown trace "${t}" (expected ${TRACE_NAMES.join(', ')})`);

/** The capacity-knowing controller behind the write policy. */
function budgetOracle() {
  let trace = null;
  let policy = null;
  const out = { downBps: 0, upBps: 0 };
  return {
    name: 'write-budget-oracle',
    start(ctx) {
      trace = ctx.trace;
      policy = new WritePolicy({ writesPerSecond: wps });
    },
    onCycle(tS) {
      const t = Math.max(0, tS - lagS);
      const w = policy.offer(
        Math.round(fraction * trace.at(t, 'down')),
        Math.round(fraction * trace.at(t, 'up')),
        tS,
      );
      if (w === null) return null;
      policy.completed(true);
      out.downBps = w.dlBps;
      out.upBps = w.ulBps;
      return out;
    },
  };
}

/** @type {Record<string, number[][]>} */
const per = {};
for (const seed of seeds) {
  const scenarios = benchScenarios({ durationS, seed, traces });
  const results = runBenchmarkSuite({ scenarios, controllers: [budgetOracle], seed, recordSeries: false });
  for (const r of results) {
    per[r.scenario] ??= [];
    per[r.scenario].push([r.addedLatencyMs.p99, r.utilisation.down, r.utilisation.up]);
  }
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
process.stdout.write(
  `capacity x ${fraction}, ${lagS} s old, ${wps} writes/s; mean of seeds ${seeds.join(',')}:\n` +
    '| trace | p99 ms | util down | util up |\n|---|--:|--:|--:|\n',
);
for (const [name, rows] of Object.entries(per)) {
  const p99 = mean(rows.map((r) => r[0]));
  const dn = mean(rows.map((r) => r[1]));
  const up = mean(rows.map((r) => r[2]));
  process.stdout.write(
    `| ${name} | ${p99.toFixed(1)} | ${(100 * dn).toFixed(1)} % | ${(100 * up).toFixed(1)} % |\n`,
  );
}
