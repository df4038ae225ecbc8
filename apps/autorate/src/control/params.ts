/**
 * Parameters of the autorate control law, in normalised units:
 * rates in bits per second, times in milliseconds (RTT) or seconds (windows), alphas as
 * plain EWMA weights. The daemon maps the YAML config onto this; the law never reads YAML.
 */
import { ControlError } from './errors.js';

/** Download direction: 4-state machine with one floor per state. */
export interface DownloadParams {
  ceilingBps: number;
  stepUpBps: number;
  /** RED multiplier; decay is `trunc(rate * factorDown)`. */
  factorDown: number;
  /** YELLOW multiplier (v1.3 default 0.96). */
  factorDownYellow: number;
  /** GREEN cycles before each step-up (v1.3 default 5). */
  greenRequired: number;
  /** SOFT_RED samples before the SOFT_RED zone is reported (v1.3 hard-codes 1). */
  softRedRequired: number;
  floorGreenBps: number;
  floorYellowBps: number;
  floorSoftRedBps: number;
  floorRedBps: number;
}

/** Upload direction: 3-state machine. */
export interface UploadParams {
  ceilingBps: number;
  stepUpBps: number;
  factorDown: number;
  /** YELLOW multiplier (v1.3 default 0.94). */
  factorDownYellow: number;
  greenRequired: number;
  floorRedBps: number;
  /** docs/decisions.md#d5: honoured when given (v1.3 ignored it). Omit for the legacy single floor. */
  floorGreenBps?: number | undefined;
  /** docs/decisions.md#d5: honoured when given (v1.3 ignored it). Omit for the legacy single floor. */
  floorYellowBps?: number | undefined;
}

export interface ThresholdParams {
  targetBloatMs: number;
  warnBloatMs: number;
  hardRedBloatMs: number;
  alphaBaseline: number;
  alphaLoad: number;
  /** Baseline only moves while `load - baseline < this` (strict). v1.3 default 3.0. */
  baselineUpdateThresholdMs: number;
  /** A load-EWMA jump greater than this (strict) is a spike. v1.3 default 15.0. */
  accelThresholdMs: number;
  /** docs/decisions.md#d4: this many consecutive spikes force RED (default 3). */
  accelConfirmCycles: number;
  /** Inclusive bounds for a baseline candidate (v1.3 defaults 10 / 60). */
  baselineRttMinMs: number;
  baselineRttMaxMs: number;
}

export type FallbackMode = 'graceful_degradation' | 'freeze' | 'use_last_rtt';

export interface FallbackParams {
  enabled: boolean;
  checkGateway: boolean;
  checkTcp: boolean;
  /**
   * One of the three v1.3 modes. Any other string is kept (v1.3 checked it lazily) and makes
   * every gateway-only fallback cycle fail, as in v1.3.
   */
  mode: FallbackMode | (string & {});
  /** graceful_degradation: fallback cycles tolerated (v1.3 default 3). */
  maxCycles: number;
}

export interface WriteBudgetParams {
  /** Router writes allowed per window (v1.3: 10). */
  maxWrites: number;
  /** Sliding window length in seconds (v1.3: 60). */
  windowSeconds: number;
}

export interface ControlParams {
  /** Cycle interval in seconds (default 0.05); used by replay for a default `t`. */
  intervalSeconds: number;
  /** Initial baseline and load EWMA when nothing is restored. */
  baselineRttInitialMs: number;
  download: DownloadParams;
  upload: UploadParams;
  thresholds: ThresholdParams;
  fallback: FallbackParams;
  writeBudget: WriteBudgetParams;
  /**
   * docs/decisions.md#d12: an RTT sample more than this above the baseline is clamped to
   * `baseline + maxRttDeltaMs` and flagged. Default 1000 ms.
   */
  maxRttDeltaMs: number;
}

/** Constants v1.3 hard-codes or defaults (its `autorate_continuous.py` constants). */
/** The lowest of the download's configured floors (v1.3 has one per zone), bit/s. */
export function lowestDownloadFloorBps(d: DownloadParams): number {
  return Math.min(d.floorRedBps, d.floorSoftRedBps, d.floorYellowBps, d.floorGreenBps);
}

/** The lowest of the upload's configured floors (yellow and green are optional), bit/s. */
export function lowestUploadFloorBps(u: UploadParams): number {
  return Math.min(u.floorRedBps, u.floorYellowBps ?? u.floorRedBps, u.floorGreenBps ?? u.floorRedBps);
}

export const CONTROL_DEFAULTS = {
  intervalSeconds: 0.05,
  baselineUpdateThresholdMs: 3.0,
  hardRedBloatMs: 80,
  baselineRttMinMs: 10.0,
  baselineRttMaxMs: 60.0,
  accelThresholdMs: 15.0,
  accelConfirmCycles: 3,
  softRedRequired: 1,
  greenRequired: 5,
  downloadFactorDownYellow: 0.96,
  uploadFactorDownYellow: 0.94,
  fallbackMode: 'graceful_degradation' as FallbackMode,
  maxFallbackCycles: 3,
  maxWrites: 10,
  windowSeconds: 60,
  maxRttDeltaMs: 1000,
} as const;

/** A parameter set the control law cannot work with. `path` names the offending field. */
export class ControlParamsError extends ControlError {
  override readonly name = 'ControlParamsError';
  readonly code = 'WANCTL_CONFIG_CONTROL_PARAMS';
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: unknown,
  ) {
    super(`control params: ${path}: expected ${expected}, got ${String(actual)}`);
  }
}

function finite(path: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ControlParamsError(path, 'a finite number', v);
  return v;
}
function positive(path: string, v: unknown): number {
  const n = finite(path, v);
  if (!(n > 0)) throw new ControlParamsError(path, 'a number > 0', v);
  return n;
}
function nonNegative(path: string, v: unknown): number {
  const n = finite(path, v);
  if (n < 0) throw new ControlParamsError(path, 'a number >= 0', v);
  return n;
}
function unitInterval(path: string, v: unknown): number {
  const n = finite(path, v);
  if (!(n > 0 && n <= 1)) throw new ControlParamsError(path, 'a number in (0, 1]', v);
  return n;
}
function positiveInt(path: string, v: unknown): number {
  const n = finite(path, v);
  if (!Number.isInteger(n) || n < 1) throw new ControlParamsError(path, 'an integer >= 1', v);
  return n;
}
function ordered(pathLo: string, lo: number, pathHi: string, hi: number, strict: boolean): void {
  if (strict ? !(lo < hi) : !(lo <= hi)) {
    throw new ControlParamsError(pathLo, `${strict ? '<' : '<='} ${pathHi} (${hi})`, lo);
  }
}

/**
 * Checks every field and every cross-field rule the law relies on (constraints are
 * enforced on every path that builds params, not only in the config loader: after v1.3 a tuner
 * set a target below the deadband and recovery became impossible).
 * Throws {@link ControlParamsError}; returns the same object on success.
 */
export function validateControlParams(p: ControlParams): ControlParams {
  positive('intervalSeconds', p.intervalSeconds);
  positive('baselineRttInitialMs', p.baselineRttInitialMs);
  const d = p.download;
  positive('download.ceilingBps', d.ceilingBps);
  nonNegative('download.stepUpBps', d.stepUpBps);
  unitInterval('download.factorDown', d.factorDown);
  unitInterval('download.factorDownYellow', d.factorDownYellow);
  positiveInt('download.greenRequired', d.greenRequired);
  positiveInt('download.softRedRequired', d.softRedRequired);
  nonNegative('download.floorRedBps', d.floorRedBps);
  nonNegative('download.floorSoftRedBps', d.floorSoftRedBps);
  nonNegative('download.floorYellowBps', d.floorYellowBps);
  nonNegative('download.floorGreenBps', d.floorGreenBps);
  ordered('download.floorRedBps', d.floorRedBps, 'download.floorSoftRedBps', d.floorSoftRedBps, false);
  ordered('download.floorSoftRedBps', d.floorSoftRedBps, 'download.floorYellowBps', d.floorYellowBps, false);
  ordered('download.floorYellowBps', d.floorYellowBps, 'download.floorGreenBps', d.floorGreenBps, false);
  ordered('download.floorGreenBps', d.floorGreenBps, 'download.ceilingBps', d.ceilingBps, false);
  const u = p.upload;
  positive('upload.ceilingBps', u.ceilingBps);
  nonNegative('upload.stepUpBps', u.stepUpBps);
  unitInterval('upload.factorDown', u.factorDown);
  unitInterval('upload.factorDownYellow', u.factorDownYellow);
  positiveInt('upload.greenRequired', u.greenRequired);
  nonNegative('upload.floorRedBps', u.floorRedBps);
  const uy = u.floorYellowBps ?? u.floorRedBps;
  const ug = u.floorGreenBps ?? uy;
  if (u.floorYellowBps !== undefined) nonNegative('upload.floorYellowBps', u.floorYellowBps);
  if (u.floorGreenBps !== undefined) nonNegative('upload.floorGreenBps', u.floorGreenBps);
  ordered('upload.floorRedBps', u.floorRedBps, 'upload.floorYellowBps', uy, false);
  ordered('upload.floorYellowBps', uy, 'upload.floorGreenBps', ug, false);
  ordered('upload.floorGreenBps', ug, 'upload.ceilingBps', u.ceilingBps, false);
  const t = p.thresholds;
  positive('thresholds.targetBloatMs', t.targetBloatMs);
  finite('thresholds.warnBloatMs', t.warnBloatMs);
  finite('thresholds.hardRedBloatMs', t.hardRedBloatMs);
  ordered('thresholds.targetBloatMs', t.targetBloatMs, 'thresholds.warnBloatMs', t.warnBloatMs, true);
  ordered('thresholds.warnBloatMs', t.warnBloatMs, 'thresholds.hardRedBloatMs', t.hardRedBloatMs, true);
  unitInterval('thresholds.alphaBaseline', t.alphaBaseline);
  unitInterval('thresholds.alphaLoad', t.alphaLoad);
  finite('thresholds.baselineUpdateThresholdMs', t.baselineUpdateThresholdMs);
  positive('thresholds.accelThresholdMs', t.accelThresholdMs);
  positiveInt('thresholds.accelConfirmCycles', t.accelConfirmCycles);
  finite('thresholds.baselineRttMinMs', t.baselineRttMinMs);
  finite('thresholds.baselineRttMaxMs', t.baselineRttMaxMs);
  ordered(
    'thresholds.baselineRttMinMs',
    t.baselineRttMinMs,
    'thresholds.baselineRttMaxMs',
    t.baselineRttMaxMs,
    false,
  );
  if (typeof p.fallback.mode !== 'string')
    throw new ControlParamsError('fallback.mode', 'a string', p.fallback.mode);
  if (!Number.isInteger(p.fallback.maxCycles) || p.fallback.maxCycles < 0) {
    throw new ControlParamsError('fallback.maxCycles', 'an integer >= 0', p.fallback.maxCycles);
  }
  positiveInt('writeBudget.maxWrites', p.writeBudget.maxWrites);
  positive('writeBudget.windowSeconds', p.writeBudget.windowSeconds);
  positive('maxRttDeltaMs', p.maxRttDeltaMs);
  return p;
}
