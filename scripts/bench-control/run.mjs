#!/usr/bin/env node
/**
 * node scripts/bench-control/run.mjs [--out DIR] [--duration S] [--seed N] [--traces a,b,...]
 *
 * Runs wanctl's control law, no autorate and the oracle on each trace in simulated time and
 * writes DIR/results.md, DIR/results.json and DIR/<trace>.svg (default DIR: bench-results/control
 * under the current directory). Prints the table. Exit 0, or 2 on bad arguments.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseCli } from '../lib-cli.mjs';

const USAGE = `usage: node scripts/bench-control/run.mjs [--out DIR] [--duration S] [--seed N] [--traces LIST]
  --out DIR        where results.md, results.json and <trace>.svg go (default: bench-results/control)
  --duration S     simulated seconds per trace (default 300)
  --seed N         seed of traces, flows and probe noise (default 1)
  --traces LIST    comma-separated subset of the traces (default all; see README.md "Benchmark")
  --write-budget N/S
                   wanctl's router write budget: N writes per S seconds (default: each config's, 10/60)
  --adaptive JSON  overrides of the adaptive law's parameters, e.g. '{"cutFactor":0.92}'
                   (fields of AdaptiveParams; see apps/autorate/src/control/README.md)
  --quiet          print only the table`;

const { args, fail } = parseCli('bench-control', USAGE, {
  out: { type: 'string' },
  duration: { type: 'string' },
  seed: { type: 'string' },
  traces: { type: 'string' },
  'write-budget': { type: 'string' },
  adaptive: { type: 'string' },
  quiet: { type: 'boolean' },
});
const durationS = args.duration === undefined ? 300 : Number(args.duration);
if (!(Number.isFinite(durationS) && durationS >= 5 && durationS <= 3600))
  fail(`--duration must be a number of seconds from 5 to 3600 (got "${args.duration}")`);
const seed = args.seed === undefined ? 1 : Number(args.seed);
if (!Number.isInteger(seed)) fail(`--seed must be an integer (got "${args.seed}")`);

let writeBudget = null;
if (args['write-budget'] !== undefined) {
  const m = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(args['write-budget']);
  if (!m || Number(m[1]) < 1)
    fail(`--write-budget must look like 10/60 (writes/seconds), got "${args['write-budget']}"`);
  writeBudget = { maxWrites: Number(m[1]), windowSec: Number(m[2]) };
}

/** @type {Record<string, unknown>} */
let adaptiveOverrides = {};
if (args.adaptive !== undefined) {
  try {
    adaptiveOverrides = JSON.parse(args.adaptive);
  } catch (e) {
    fail(`--adaptive must be a JSON object (${e.message})`);
  }
  if (typeof adaptiveOverrides !== 'object' || adaptiveOverrides === null || Array.isArray(adaptiveOverrides))
    fail('--adaptive must be a JSON object');
}

// Imported after the argument check so that --help and bad arguments need no build.
const { runBench, TRACE_NAMES } = await import('./bench.mjs');
const traces = args.traces === undefined ? TRACE_NAMES : args.traces.split(',').map((s) => s.trim());
for (const t of traces)
  if (!TRACE_NAMES.includes(t)) fail(`unknown trace "${t}" (expected ${TRACE_NAMES.join(', ')})`);
const out = resolve(args.out ?? 'bench-results/control');

const log = args.quiet ? () => {} : (s) => process.stderr.write(`${s}\n`);
log(`bench-control: ${traces.length} trace(s) x 5 controllers, ${durationS} s simulated each, seed ${seed}`);
const { table, json, svgs, wallS, results, legend } = runBench({
  durationS,
  seed,
  traces,
  writeBudget,
  adaptiveOverrides,
  onResult: (r) =>
    log(
      `  ${r.scenario.padEnd(13)} ${r.controller.padEnd(11)} ${(r.wallMs / 1000).toFixed(1).padStart(5)} s wall (${r.simSecondsPerWallSecond.toFixed(0)}x real time)`,
    ),
});
mkdirSync(out, { recursive: true });
const budgetText = writeBudget
  ? `; wanctl write budget ${writeBudget.maxWrites} per ${writeBudget.windowSec} s`
  : '';
const footer = `${results.length} runs of ${durationS} s simulated in ${wallS.toFixed(1)} s wall (seed ${seed}${budgetText}).`;
const about =
  'Controllers: v1.3 = the v1.3 control law (WanController) in closed loop, write budget 10/60 s; adaptive = ' +
  'control_law: adaptive (AdaptiveController) with its RouterOS write policy (2 writes/s, bursts of 4); ' +
  'cake-autorate-ref = a cake-autorate-style reference (lynxthecat/cake-autorate 94238be defaults, our code; ' +
  'packages/link-sim/src/bench/cake-autorate.ts), writes every change; no-autorate = shaper at ' +
  'the configured ceiling; oracle = shaper at 95 % of the true capacity. Load (unless the trace says otherwise): ' +
  '4 down + 4 up flows, 40 s on, 10 s idle. Added latency = RTT - base RTT while loaded; utilisation = delivered / capacity while loaded; ' +
  `recovery = time after a capacity drop (>= 30 %) until added latency is under ${results[0]?.latencyTargetMs} ms for 0.5 s.`;
writeFileSync(join(out, 'results.md'), `${table}\n\n${footer}\n\n${about}\n\nTraces:\n${legend}\n`);
writeFileSync(join(out, 'results.json'), `${json}\n`);
for (const s of svgs) writeFileSync(join(out, `${s.name}.svg`), s.svg);
process.stdout.write(`${table}\n\n${footer}\n`);
log(`files: ${join(out, 'results.md')}, results.json, ${svgs.map((s) => `${s.name}.svg`).join(', ')}`);
