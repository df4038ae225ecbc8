/**
 * Control-quality benchmark: wanctl's control law against two reference points (no autorate,
 * oracle at 95 % of the true capacity) on simulated links, in simulated time.
 *
 * wanctl's controller is the real pure control law (`WanController` from @wanctl/autorate), with
 * its parameters built from a YAML config through the same path the daemon uses
 * (`parseAutorateConfig` -> `controlParamsFromConfig`). Each trace has its config: the shipped
 * examples where one fits the link (cable, DSL), otherwise a config derived from
 * examples/cable.yaml with rates scaled to the link (LTE, steps). The configured ceiling is also
 * where the no-autorate reference sits, and it is above the link's capacity at least part of the
 * time, so bufferbloat shows without control.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlParamsFromConfig, WanController } from '@wanctl/autorate';
import { parseAutorateConfig } from '@wanctl/config';
import {
  cableEveningTrace,
  constantTrace,
  dslTrace,
  lteTrace,
  noAutorateController,
  oracleController,
  renderBenchmarkSvg,
  runBenchmarkSuite,
  stepsTrace,
  toJsonReport,
  toMarkdownTable,
} from '@wanctl/link-sim';
import yaml from 'js-yaml';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EXAMPLES_DIR = join(REPO_ROOT, 'examples');

/** Every trace the benchmark knows, in table order. */
export const TRACE_NAMES = ['constant', 'steps', 'cable-evening', 'lte', 'dsl'];

/**
 * Reads an example config as a plain object (the YAML document, before validation).
 * @param {string} name
 * @returns {Record<string, any>}
 */
export function readExample(name) {
  return yaml.load(readFileSync(join(EXAMPLES_DIR, name), 'utf8'));
}

/**
 * Applies overrides to the `continuous_monitoring` section (and `wan_name`) of an example document.
 * Returns the modified document (a plain object, not yet validated).
 */
export function deriveAutorateDoc(exampleName, overrides = {}) {
  const doc = readExample(exampleName);
  const cm = doc.continuous_monitoring;
  for (const key of ['download', 'upload', 'thresholds']) {
    if (overrides[key]) cm[key] = { ...cm[key], ...overrides[key] };
  }
  if (overrides.baseline_rtt_initial !== undefined) cm.baseline_rtt_initial = overrides.baseline_rtt_initial;
  if (overrides.wan_name) doc.wan_name = overrides.wan_name;
  return doc;
}

/**
 * deriveAutorateDoc, validated with @wanctl/config. Returns `{ doc, text, config }` (the document,
 * its YAML text and the loaded config).
 */
export function deriveAutorateConfig(exampleName, overrides = {}) {
  const doc = deriveAutorateDoc(exampleName, overrides);
  const text = yaml.dump(doc, { lineWidth: 120 });
  const config = parseAutorateConfig(text, {
    file: `${exampleName} (derived)`,
    env: { WANCTL_ROUTER_PASSWORD: 'unused-in-the-benchmark' },
  });
  return { doc, text, config };
}

/** Config overrides of the LTE and steps links (rates of the cable example scaled to the link). */
export const SCALED_CONFIGS = {
  lte: {
    wan_name: 'lte',
    baseline_rtt_initial: 40,
    download: {
      floor_green_mbps: 20,
      floor_yellow_mbps: 12,
      floor_soft_red_mbps: 8,
      floor_red_mbps: 5,
      ceiling_mbps: 120,
      step_up_mbps: 2,
    },
    upload: { floor_mbps: 2, ceiling_mbps: 30, step_up_mbps: 0.5 },
  },
  steps: {
    wan_name: 'steps',
    baseline_rtt_initial: 20,
    download: {
      floor_green_mbps: 30,
      floor_yellow_mbps: 20,
      floor_soft_red_mbps: 15,
      floor_red_mbps: 10,
      ceiling_mbps: 100,
      step_up_mbps: 2,
    },
    upload: { floor_mbps: 2, ceiling_mbps: 20, step_up_mbps: 0.5 },
  },
};

const mbps = (v) => v * 1e6;

/**
 * The benchmark scenarios: a trace, the link around it and the wanctl config for it.
 * `durationS` is the simulated length of each trace (default 300 s).
 */
export function benchScenarios({ durationS = 300, seed = 1, traces = TRACE_NAMES } = {}) {
  const q = durationS / 5;
  const all = {
    // A steady 800/30 link behind the cable example (ceiling 940/38): without control the
    // shaper passes more than the link carries and the modem buffer fills.
    constant: () => ({
      trace: constantTrace({ name: 'constant', downBps: mbps(800), upBps: mbps(30) }),
      linkText: '800/30 Mbit/s constant',
      baseRttMs: 18,
      down: { bufferMs: 250 },
      up: { bufferMs: 600 },
      config: deriveAutorateConfig('cable.yaml'),
      configSource: 'examples/cable.yaml',
    }),
    // Abrupt drops 100 -> 40 -> 100 -> 20 -> 100 Mbit/s down (20 -> 10 -> 20 -> 5 -> 20 up).
    steps: () => ({
      linkText: '100 -> 40 -> 100 -> 20 -> 100 Mbit/s down (20 -> 10 -> 20 -> 5 -> 20 up)',
      trace: stepsTrace({
        name: 'steps',
        durationS,
        steps: [
          { atS: 0, downBps: mbps(100), upBps: mbps(20) },
          { atS: q, downBps: mbps(40), upBps: mbps(10) },
          { atS: 2 * q, downBps: mbps(100), upBps: mbps(20) },
          { atS: 3 * q, downBps: mbps(20), upBps: mbps(5) },
          { atS: 4 * q, downBps: mbps(100), upBps: mbps(20) },
        ],
      }),
      baseRttMs: 20,
      down: { bufferMs: 300 },
      up: { bufferMs: 500 },
      config: deriveAutorateConfig('cable.yaml', SCALED_CONFIGS.steps),
      configSource: 'examples/cable.yaml scaled to 100/20 (floors 30/20/15/10 down, 2 up)',
      configShort: 'cable example scaled to 100/20',
    }),
    // The cable example on a cable evening: 900/35 nominal, prime-time contention to 55 % with dips.
    'cable-evening': () => ({
      trace: cableEveningTrace({ downBps: mbps(900), upBps: mbps(35), durationS, seed }),
      linkText: '900/35 Mbit/s nominal, prime time at 55 % with dips',
      baseRttMs: 18,
      down: { bufferMs: 250 },
      up: { bufferMs: 600 },
      config: deriveAutorateConfig('cable.yaml'),
      configSource: 'examples/cable.yaml',
    }),
    // LTE: 60/15 mean with fast fading and deep fades; ceiling 120/30.
    lte: () => ({
      trace: lteTrace({ downBps: mbps(60), upBps: mbps(15), durationS, seed }),
      linkText: '60/15 Mbit/s mean, fast fading and deep fades',
      baseRttMs: 40,
      down: { bufferMs: 400 },
      up: { bufferMs: 800 },
      config: deriveAutorateConfig('cable.yaml', SCALED_CONFIGS.lte),
      configSource: 'examples/cable.yaml scaled to 120/30 (floors 20/12/8/5 down, 2 up)',
      configShort: 'cable example scaled to 120/30',
    }),
    // The DSL example (ceiling 95/18) on a steady 50/10 VDSL2 line.
    dsl: () => ({
      trace: dslTrace({ downBps: mbps(50), upBps: mbps(10), durationS, seed }),
      linkText: '50/10 Mbit/s steady',
      baseRttMs: 25,
      down: { bufferMs: 300 },
      up: { bufferMs: 800 },
      config: deriveAutorateConfig('dsl.yaml'),
      configSource: 'examples/dsl.yaml',
    }),
  };
  return traces.map((name) => {
    const make = all[name];
    if (!make) throw new Error(`unknown trace "${name}" (expected one of ${TRACE_NAMES.join(', ')})`);
    const s = make();
    const cfg = s.config.config;
    return {
      name,
      trace: s.trace,
      durationS,
      baseRttMs: s.baseRttMs,
      ceilingDownBps: cfg.download.ceilingBps,
      ceilingUpBps: cfg.upload.ceilingBps,
      down: s.down,
      up: s.up,
      autorateConfig: cfg,
      configSource: s.configSource,
      configShort: s.configShort ?? s.configSource,
      linkText: s.linkText,
    };
  });
}

/**
 * wanctl's controller in closed loop: probe RTT -> WanController.cycle -> max-limit. Writes are
 * synchronous and succeed (`router_ok: true`); the write budget (D3) still applies.
 */
export function wanctlController(params) {
  let ctl = null;
  const out = { downBps: 0, upBps: 0 };
  const input = { rtt_ms: 0, router_ok: true };
  return {
    name: 'wanctl',
    start() {
      ctl = new WanController(params);
    },
    onCycle(tS, rttMs) {
      input.rtt_ms = rttMs;
      const r = ctl.cycle(input, tS);
      if (!r.write) return null;
      out.downBps = r.write.dlBps;
      out.upBps = r.write.ulBps;
      return out;
    },
  };
}

/**
 * The three controllers, as factories of the scenario. `writeBudget` ({maxWrites, windowSec})
 * replaces the configs' write budget for wanctl (default: each config's, i.e. 10 per 60 s).
 */
export function controllerFactories({ writeBudget = null } = {}) {
  const params = (sc) => {
    const p = controlParamsFromConfig(sc.autorateConfig);
    if (!writeBudget) return p;
    return { ...p, writeBudget: { maxWrites: writeBudget.maxWrites, windowSeconds: writeBudget.windowSec } };
  };
  return [
    () => noAutorateController(),
    (sc) => wanctlController(params(sc)),
    () => oracleController({ fraction: 0.95 }),
  ];
}

/**
 * Runs the benchmark: every controller on every trace. Returns the results, the markdown table
 * and the JSON report text, plus the SVG text per trace, and the wall time.
 * @param {{ durationS?: number, seed?: number, traces?: string[],
 *   writeBudget?: { maxWrites: number, windowSec: number } | null,
 *   onResult?: (result: any) => void }} [options] `onResult` is called after each run.
 */
export function runBench({
  durationS = 300,
  seed = 1,
  traces = TRACE_NAMES,
  writeBudget = null,
  onResult,
} = {}) {
  const t0 = performance.now();
  const scenarios = benchScenarios({ durationS, seed, traces });
  const results = runBenchmarkSuite({
    scenarios,
    controllers: controllerFactories({ writeBudget }),
    seed,
    ...(onResult ? { onResult } : {}),
  });
  const wallS = (performance.now() - t0) / 1000;
  const table = toMarkdownTable(results);
  const json = toJsonReport(results, {
    generatedBy: 'scripts/bench-control/run.mjs',
    durationS,
    seed,
    writeBudget: writeBudget ?? 'from each config',
    wallSeconds: Math.round(wallS * 10) / 10,
    scenarios: scenarios.map((s) => ({
      name: s.name,
      config: s.configSource,
      baseRttMs: s.baseRttMs,
      ceilingDownBps: s.ceilingDownBps,
      ceilingUpBps: s.ceilingUpBps,
      bufferMs: { down: s.down?.bufferMs ?? null, up: s.up?.bufferMs ?? null },
    })),
  });
  const svgs = scenarios.map((s) => ({
    name: s.name,
    svg: renderBenchmarkSvg(
      results.filter((r) => r.scenario === s.name),
      { title: `${s.name}: rate, capacity, added latency (${s.configShort})` },
    ),
  }));
  const legend = scenarios
    .map(
      (s) =>
        `- ${s.name}: ${s.linkText}; base RTT ${s.baseRttMs} ms; ISP buffer ${s.down?.bufferMs}/${s.up?.bufferMs} ms; ` +
        `config ${s.configSource}, ceiling ${s.ceilingDownBps / 1e6}/${s.ceilingUpBps / 1e6} Mbit/s`,
    )
    .join('\n');
  return { scenarios, results, table, json, svgs, wallS, legend };
}
