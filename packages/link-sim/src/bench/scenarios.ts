import type { LoadSchedule } from '../load.js';
import type { DirectionOptions, FlowOptions } from '../sim.js';
import { type CapacityTrace, cableEveningTrace, dslTrace, lteTrace, stepsTrace } from '../trace.js';
import { type BenchController, noAutorateController, oracleController } from './controller.js';
import {
  type ControlBenchmarkOptions,
  type ControlBenchmarkResult,
  type ReflectorSetup,
  runControlBenchmark,
} from './run.js';

/** A trace plus the link around it: what one row group of the benchmark table is about. */
export interface BenchScenario {
  name: string;
  trace: CapacityTrace;
  durationS: number;
  baseRttMs: number;
  /** Configured ceilings (the no-autorate reference stays here). */
  ceilingDownBps: number;
  ceilingUpBps: number;
  down?: Omit<DirectionOptions, 'trace' | 'shaperRateBps'>;
  up?: Omit<DirectionOptions, 'trace' | 'shaperRateBps'>;
  flows?: FlowOptions;
  load?: LoadSchedule;
  /** Per-reflector RTTs for the controllers (see ControlBenchmarkOptions.reflectors). */
  reflectors?: ReflectorSetup;
  /** Probe jitter, ms (default: the run's, 0.5). */
  probeJitterMs?: number;
}

/**
 * The standard benchmark scenarios: a cable evening (900/35 Mbit/s), an LTE link (60/15 mean),
 * a steady VDSL2 line (50/10) and a step trace with abrupt capacity drops (100/20). Each lasts
 * `durationS` (default 300 s) of simulated time; traces are seeded by `seed`.
 */
export function standardScenarios(opts: { durationS?: number; seed?: number } = {}): BenchScenario[] {
  const durationS = opts.durationS ?? 300;
  const seed = opts.seed ?? 1;
  const q = durationS / 5;
  return [
    {
      name: 'cable-evening',
      trace: cableEveningTrace({ downBps: 900e6, upBps: 35e6, durationS, seed }),
      durationS,
      baseRttMs: 18,
      ceilingDownBps: 940e6,
      ceilingUpBps: 38e6,
      down: { bufferMs: 250 },
      up: { bufferMs: 600 },
    },
    {
      name: 'lte',
      trace: lteTrace({ downBps: 60e6, upBps: 15e6, durationS, seed }),
      durationS,
      baseRttMs: 40,
      ceilingDownBps: 120e6,
      ceilingUpBps: 30e6,
      down: { bufferMs: 400 },
      up: { bufferMs: 800 },
    },
    {
      name: 'dsl',
      trace: dslTrace({ downBps: 50e6, upBps: 10e6, durationS, seed }),
      durationS,
      baseRttMs: 25,
      ceilingDownBps: 51e6,
      ceilingUpBps: 10.2e6,
      down: { bufferMs: 300 },
      up: { bufferMs: 800 },
    },
    {
      name: 'steps',
      trace: stepsTrace({
        name: 'steps',
        durationS,
        steps: [
          { atS: 0, downBps: 100e6, upBps: 20e6 },
          { atS: q, downBps: 40e6, upBps: 10e6 },
          { atS: 2 * q, downBps: 100e6, upBps: 20e6 },
          { atS: 3 * q, downBps: 20e6, upBps: 5e6 },
          { atS: 4 * q, downBps: 100e6, upBps: 20e6 },
        ],
      }),
      durationS,
      baseRttMs: 20,
      ceilingDownBps: 100e6,
      ceilingUpBps: 20e6,
      down: { bufferMs: 300 },
      up: { bufferMs: 500 },
    },
  ];
}

/** The two reference controllers (no autorate, oracle at 95 %), as factories. */
export const referenceControllerFactories: ReadonlyArray<() => BenchController> = [
  () => noAutorateController(),
  () => oracleController({ fraction: 0.95 }),
];

export interface BenchSuiteOptions {
  scenarios: readonly BenchScenario[];
  /** One factory per controller; called once per scenario for a fresh instance. */
  controllers: ReadonlyArray<(scenario: BenchScenario) => BenchController>;
  seed?: number;
  dtS?: number;
  cycleS?: number;
  recordSeries?: boolean;
  /** Extra options for every run (latency target, drop detection, probe jitter). */
  extra?: Partial<
    Pick<
      ControlBenchmarkOptions,
      'latencyTargetMs' | 'dropFraction' | 'dropWindowS' | 'recoveryHoldS' | 'probeJitterMs'
    >
  >;
  /** Called after each run (progress output). */
  onResult?: (r: ControlBenchmarkResult) => void;
}

/** Runs every controller on every scenario; results in scenario-major order. */
export function runBenchmarkSuite(opts: BenchSuiteOptions): ControlBenchmarkResult[] {
  const out: ControlBenchmarkResult[] = [];
  for (const sc of opts.scenarios) {
    for (const make of opts.controllers) {
      const r = runControlBenchmark({
        ...opts.extra,
        name: sc.name,
        trace: sc.trace,
        durationS: sc.durationS,
        baseRttMs: sc.baseRttMs,
        ceilingDownBps: sc.ceilingDownBps,
        ceilingUpBps: sc.ceilingUpBps,
        controller: make(sc),
        seed: opts.seed ?? 1,
        ...(sc.down ? { down: sc.down } : {}),
        ...(sc.up ? { up: sc.up } : {}),
        ...(sc.flows ? { flows: sc.flows } : {}),
        ...(sc.load ? { load: sc.load } : {}),
        ...(sc.reflectors ? { reflectors: sc.reflectors } : {}),
        ...(sc.probeJitterMs !== undefined ? { probeJitterMs: sc.probeJitterMs } : {}),
        ...(opts.dtS !== undefined ? { dtS: opts.dtS } : {}),
        ...(opts.cycleS !== undefined ? { cycleS: opts.cycleS } : {}),
        ...(opts.recordSeries !== undefined ? { recordSeries: opts.recordSeries } : {}),
      });
      out.push(r);
      opts.onResult?.(r);
    }
  }
  return out;
}
