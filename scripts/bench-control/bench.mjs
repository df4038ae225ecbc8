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
import {
  AdaptiveController,
  adaptiveParamsFromControl,
  controlParamsFromConfig,
  lowestDownloadFloorBps,
  lowestUploadFloorBps,
  WanController,
} from '@wanctl/autorate';
import { parseAutorateConfig } from '@wanctl/config';
import {
  cableEveningTrace,
  cakeAutorateController,
  constantLoad,
  constantTrace,
  dslTrace,
  loadSchedule,
  lteTrace,
  noAutorateController,
  onOffLoad,
  oracleController,
  Prng,
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
export const TRACE_NAMES = [
  'constant',
  'steps',
  'cable-evening',
  'lte',
  'dsl',
  // Links like the ones of issue 12's closed-loop figures (capacity at the configured ceiling).
  'cable-full',
  'dsl-full',
  'step-500',
  'lte-walk',
  // Traces that stress a law.
  'upload-only',
  'bidirectional',
  'idle-burst',
  'web',
  'jitter',
  'dead-reflector',
  'far-reflector',
];

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

/** A steady cable link behind the cable example (ceiling 940/38). */
function steadyCable(downMbps = 800) {
  return {
    trace: constantTrace({ name: 'constant', downBps: mbps(downMbps), upBps: mbps(30) }),
    baseRttMs: 18,
    down: { bufferMs: 250 },
    up: { bufferMs: 600 },
    config: deriveAutorateConfig('cable.yaml'),
    configSource: 'examples/cable.yaml',
  };
}

/** Web-like load: bursts of 0.3-3 s with 1-6 down / 0-2 up flows, pauses of 0.5-5 s (seeded). */
function webLoad(seed, durationS) {
  const rng = new Prng(seed + 7);
  const phases = [];
  let t = 0;
  while (t < durationS) {
    const on = 0.3 + rng.next() * 2.7;
    const off = 0.5 + rng.next() * 4.5;
    phases.push({
      durationS: on,
      downFlows: 1 + Math.floor(rng.next() * 6),
      upFlows: Math.floor(rng.next() * 3),
    });
    phases.push({ durationS: off, downFlows: 0, upFlows: 0 });
    t += on + off;
  }
  return loadSchedule(phases);
}

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
    // The cable example on a cable evening whose nominal capacity is the ceiling (940/38).
    'cable-full': () => ({
      trace: cableEveningTrace({ downBps: mbps(940), upBps: mbps(38), durationS, seed }),
      linkText: '940/38 Mbit/s nominal (= the ceiling), prime time at 55 % with dips',
      baseRttMs: 18,
      down: { bufferMs: 250 },
      up: { bufferMs: 600 },
      config: deriveAutorateConfig('cable.yaml'),
      configSource: 'examples/cable.yaml',
    }),
    // The DSL example on a steady line at its ceiling (95/18).
    'dsl-full': () => ({
      trace: dslTrace({ downBps: mbps(95), upBps: mbps(18), durationS, seed }),
      linkText: '95/18 Mbit/s steady (= the ceiling)',
      baseRttMs: 25,
      down: { bufferMs: 300 },
      up: { bufferMs: 800 },
      config: deriveAutorateConfig('dsl.yaml'),
      configSource: 'examples/dsl.yaml',
    }),
    // One drop 500 -> 250 Mbit/s down (30 -> 15 up) and back, behind the cable example.
    'step-500': () => ({
      trace: stepsTrace({
        name: 'step-500',
        durationS,
        steps: [
          { atS: 0, downBps: mbps(500), upBps: mbps(30) },
          { atS: 0.4 * durationS, downBps: mbps(250), upBps: mbps(15) },
          { atS: 0.7 * durationS, downBps: mbps(500), upBps: mbps(30) },
        ],
      }),
      linkText: '500/30 -> 250/15 -> 500/30 Mbit/s',
      baseRttMs: 20,
      down: { bufferMs: 250 },
      up: { bufferMs: 600 },
      config: deriveAutorateConfig('cable.yaml'),
      configSource: 'examples/cable.yaml',
    }),
    // LTE random walk between about 10-80 down and 3-20 up.
    'lte-walk': () => ({
      trace: lteTrace({
        downBps: mbps(35),
        upBps: mbps(9),
        durationS,
        seed: seed + 100,
        volatility: 0.5,
        coherenceS: 5,
        minFraction: 0.3,
        maxFraction: 2.3,
        fadesPerMinute: 1,
      }),
      linkText: 'random walk, about 10-80 / 3-20 Mbit/s',
      baseRttMs: 40,
      down: { bufferMs: 400 },
      up: { bufferMs: 800 },
      config: deriveAutorateConfig('cable.yaml', SCALED_CONFIGS.lte),
      configSource: 'examples/cable.yaml scaled to 120/30 (floors 20/12/8/5 down, 2 up)',
      configShort: 'cable example scaled to 120/30',
    }),
    // Upload saturated, download idle: the download must not be cut for the upload's queue.
    'upload-only': () => ({
      ...steadyCable(),
      load: onOffLoad({ onS: 40, offS: 10, downFlows: 0, upFlows: 4 }),
      linkText: '800/30 Mbit/s constant; load: 4 upload flows only, 40 s on / 10 s off',
    }),
    // Both directions saturated all the time on the DSL example at its ceiling.
    bidirectional: () => ({
      trace: dslTrace({ downBps: mbps(95), upBps: mbps(18), durationS, seed }),
      linkText: '95/18 Mbit/s steady; load: 8 down + 8 up flows, never idle',
      baseRttMs: 25,
      down: { bufferMs: 300 },
      up: { bufferMs: 800 },
      load: constantLoad(8, 8),
      config: deriveAutorateConfig('dsl.yaml'),
      configSource: 'examples/dsl.yaml',
    }),
    // Long idle, then a short burst, on a link at 600/30 (under the cable ceiling).
    'idle-burst': () => ({
      ...steadyCable(600),
      load: loadSchedule(
        [
          { durationS: 15, downFlows: 0, upFlows: 0 },
          { durationS: 5, downFlows: 6, upFlows: 2 },
        ],
        { repeat: true },
      ),
      linkText: '600/30 Mbit/s constant; load: 15 s idle, 5 s burst of 6 down + 2 up flows',
    }),
    // Web-like: short bursts of a few flows with pauses (seeded).
    web: () => ({
      ...steadyCable(),
      load: webLoad(seed, durationS),
      linkText:
        '800/30 Mbit/s constant; load: bursts of 0.3-3 s with 1-6 down / 0-2 up flows, pauses 0.5-5 s',
    }),
    // The probe RTT carries up to 8 ms of jitter that is not queueing.
    jitter: () => ({
      ...steadyCable(),
      probeJitterMs: 8,
      linkText: '800/30 Mbit/s constant; probe RTTs with 0-8 ms uniform jitter',
    }),
    // Three reflectors; the second stops answering at 30 % of the run.
    'dead-reflector': () => ({
      ...steadyCable(),
      reflectors: { count: 3, offsetsMs: [0, 4, 9], silentFromS: [null, 0.3 * durationS, null] },
      linkText: '800/30 Mbit/s constant; 3 reflectors, the 2nd stops answering at 30 %',
    }),
    // Three reflectors; one is 60 ms further away, another's own path gets 80 ms longer at 40 %.
    'far-reflector': () => ({
      ...steadyCable(),
      reflectors: { count: 3, offsetsMs: [0, 60, 5], shifts: [{ slot: 0, atS: 0.4 * durationS, addMs: 80 }] },
      linkText:
        '800/30 Mbit/s constant; 3 reflectors: one 60 ms further away, one whose own RTT rises 80 ms at 40 %',
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
      ...(s.load ? { load: s.load } : {}),
      ...(s.reflectors ? { reflectors: s.reflectors } : {}),
      ...(s.probeJitterMs !== undefined ? { probeJitterMs: s.probeJitterMs } : {}),
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
    name: 'v1.3',
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
 * wanctl's adaptive law in closed loop: probe RTTs (per reflector when the scenario has several)
 * and the shaper's achieved rates -> AdaptiveController.cycle -> what its RouterOS write policy
 * lets through (2 writes/s sustained, bursts of 4), applied at once.
 */
export function adaptiveController(params, name = 'adaptive', useQueued = process.env.BENCH_QUEUED !== '0') {
  let ctl = null;
  const out = { downBps: 0, upBps: 0 };
  const input = {
    rtt_ms: 0,
    rtts_ms: null,
    dl_achieved_bps: 0,
    ul_achieved_bps: 0,
    dl_queued_bytes: null,
    ul_queued_bytes: null,
    router_ok: true,
  };
  return {
    name,
    start() {
      ctl = new AdaptiveController(params);
    },
    onCycle(tS, rttMs, achieved, rtts) {
      input.rtt_ms = rttMs;
      input.rtts_ms = rtts ?? null;
      input.dl_achieved_bps = achieved.downBps;
      input.ul_achieved_bps = achieved.upBps;
      if (useQueued) {
        input.dl_queued_bytes = achieved.queuedDownBytes;
        input.ul_queued_bytes = achieved.queuedUpBytes;
      }
      const r = ctl.cycle(input, tS);
      if (!r.write) return null;
      out.downBps = r.write.dlBps;
      out.upBps = r.write.ulBps;
      return out;
    },
  };
}

/**
 * The cake-autorate-style reference on a wanctl config: min = the lowest floor, max = the
 * ceiling, base = the green floor (download) and the middle of floor..ceiling (upload, whose
 * config has one floor).
 */
export function cakeReferenceFor(cfg) {
  const d = cfg.download;
  const u = cfg.upload;
  const dMin = lowestDownloadFloorBps(d);
  const uMin = lowestUploadFloorBps(u);
  return cakeAutorateController({
    name: 'cake-autorate-ref',
    down: { minBps: dMin, baseBps: Math.max(d.floorGreenBps, dMin), maxBps: d.ceilingBps },
    up: { minBps: uMin, baseBps: Math.round((uMin + u.ceilingBps) / 2), maxBps: u.ceilingBps },
  });
}

/**
 * The controllers, as factories of the scenario. `writeBudget` ({maxWrites, windowSec})
 * replaces the configs' write budget for wanctl (default: each config's, i.e. 10 per 60 s).
 */
export function controllerFactories({ writeBudget = null, adaptiveOverrides = {} } = {}) {
  const params = (sc) => {
    const p = controlParamsFromConfig(sc.autorateConfig);
    if (!writeBudget) return p;
    return { ...p, writeBudget: { maxWrites: writeBudget.maxWrites, windowSeconds: writeBudget.windowSec } };
  };
  return [
    () => noAutorateController(),
    (sc) => wanctlController(params(sc)),
    (sc) =>
      adaptiveController(
        adaptiveParamsFromControl(controlParamsFromConfig(sc.autorateConfig), adaptiveOverrides),
      ),
    (sc) => cakeReferenceFor(sc.autorateConfig),
    () => oracleController({ fraction: 0.95 }),
  ];
}

/**
 * Runs the benchmark: every controller on every trace. Returns the results, the markdown table
 * and the JSON report text, plus the SVG text per trace, and the wall time.
 * @param {{ durationS?: number, seed?: number, traces?: string[],
 *   writeBudget?: { maxWrites: number, windowSec: number } | null,
 *   adaptiveOverrides?: Record<string, unknown>,
 *   onResult?: (result: any) => void }} [options] `onResult` is called after each run;
 *   `adaptiveOverrides` replaces parameters of the adaptive law (the `--adaptive` option).
 */
export function runBench({
  durationS = 300,
  seed = 1,
  traces = TRACE_NAMES,
  writeBudget = null,
  adaptiveOverrides = {},
  onResult,
} = {}) {
  const t0 = performance.now();
  const scenarios = benchScenarios({ durationS, seed, traces });
  const results = runBenchmarkSuite({
    scenarios,
    controllers: controllerFactories({ writeBudget, adaptiveOverrides }),
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
