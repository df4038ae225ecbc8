/** Parameter sets for unit tests: v1.3's defaults for a cable-like WAN. */
import type { ControlParams, CycleInput, CycleResult, WanController } from '../../src/control/index.js';

export const M = 1_000_000;

export function v13Params(): ControlParams {
  return {
    intervalSeconds: 0.05,
    baselineRttInitialMs: 24.0,
    download: {
      ceilingBps: 940 * M,
      stepUpBps: 10 * M,
      factorDown: 0.85,
      factorDownYellow: 0.96,
      greenRequired: 5,
      softRedRequired: 1,
      floorGreenBps: 550 * M,
      floorYellowBps: 350 * M,
      floorSoftRedBps: 275 * M,
      floorRedBps: 200 * M,
    },
    upload: {
      ceilingBps: 38 * M,
      stepUpBps: 1 * M,
      factorDown: 0.9,
      factorDownYellow: 0.94,
      greenRequired: 5,
      floorRedBps: 8 * M,
    },
    thresholds: {
      targetBloatMs: 15,
      warnBloatMs: 45,
      hardRedBloatMs: 80,
      alphaBaseline: 0.001,
      alphaLoad: 0.5,
      baselineUpdateThresholdMs: 3.0,
      accelThresholdMs: 15.0,
      accelConfirmCycles: 3,
      baselineRttMinMs: 10.0,
      baselineRttMaxMs: 60.0,
    },
    fallback: {
      enabled: true,
      checkGateway: true,
      checkTcp: true,
      mode: 'graceful_degradation',
      maxCycles: 3,
    },
    writeBudget: { maxWrites: 10, windowSeconds: 60 },
    maxRttDeltaMs: 1000,
  };
}

/** A deep-ish copy with changes applied by `edit`. */
export function withParams(edit: (p: ControlParams) => void): ControlParams {
  const p = v13Params();
  edit(p);
  return p;
}

/** Snapshot of the fields a test usually asserts (the result object is reused by the controller). */
export function copy(r: CycleResult): CycleResult {
  return { ...r, write: r.write === null ? null : { ...r.write } };
}

/** Runs `n` cycles of the same input starting at `t0`, step `dt`; returns copies of all results. */
export function run(ctl: WanController, input: CycleInput, n: number, t0: number, dt = 0.05): CycleResult[] {
  const out: CycleResult[] = [];
  for (let i = 0; i < n; i++) out.push(copy(ctl.cycle(input, t0 + i * dt)));
  return out;
}
