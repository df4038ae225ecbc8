/**
 * Parameters of the steering control law, with v1.3's defaults and checks. This is deliberately
 * independent of @wanctl/config: the config package maps a validated YAML file onto this shape
 * (or `steeringParamsFromV13Config` does it from the raw v1.3 key layout).
 */
import { DEFAULT_STATE_THRESHOLDS, makeStateThresholds, type StateThresholds } from './assessment.js';
import { type ConfidenceParams, DEFAULT_CONFIDENCE_PARAMS } from './confidence.js';
import { SteeringParamsError } from './errors.js';
import { DEFAULT_WAN_STATE_PARAMS, type WanStateParams } from './wan-state.js';

export interface SteeringParams {
  /** topology.primary_wan; gives the state names `<UPPER>_GOOD` / `<UPPER>_DEGRADED`. */
  readonly primaryWan: string;
  /** mode.cake_aware (default true). false = legacy RTT-only mode. */
  readonly cakeAware: boolean;
  /** measurement.interval_seconds: the cycle period; confidence timers step by it (D9). */
  readonly intervalSeconds: number;
  /** state.history_size: bound of every persisted history and of the transitions list. */
  readonly historySize: number;
  /** CAKE-aware thresholds and hysteresis sample counts (validated in CAKE-aware mode, as v1.3). */
  readonly thresholds: StateThresholds;
  /** thresholds.rtt_ewma_alpha (0.3) / thresholds.queue_ewma_alpha (0.4). */
  readonly rttEwmaAlpha: number;
  readonly queueEwmaAlpha: number;
  /** Legacy mode: degraded when delta > badThresholdMs (25) for badSamples (8) cycles. */
  readonly badThresholdMs: number;
  readonly badSamples: number;
  /** Legacy mode: recovered when delta < recoveryThresholdMs (12) for goodSamples (15) cycles. */
  readonly recoveryThresholdMs: number;
  readonly goodSamples: number;
  /** thresholds.baseline_rtt_bounds.min/max (10 / 60 ms, inclusive). */
  readonly baselineRttMinMs: number;
  readonly baselineRttMaxMs: number;
  /** Confidence scoring; null unless mode.use_confidence_scoring is true. */
  readonly confidence: Readonly<ConfidenceParams> | null;
  /** docs/decisions.md#d14: the autorate congestion report as an input (section `wan_state`). */
  readonly wanState: Readonly<WanStateParams>;
}

export interface SteeringParamsInput {
  primaryWan: string;
  intervalSeconds: number;
  historySize: number;
  cakeAware?: boolean;
  thresholds?: Partial<StateThresholds>;
  rttEwmaAlpha?: number;
  queueEwmaAlpha?: number;
  badThresholdMs?: number;
  badSamples?: number;
  recoveryThresholdMs?: number;
  goodSamples?: number;
  baselineRttMinMs?: number;
  baselineRttMaxMs?: number;
  /** Omit or null to disable confidence scoring; partial fields take v1.3 defaults (dryRun true). */
  confidence?: Partial<ConfidenceParams> | null;
  /** D14 input; partial fields take the defaults (enabled). */
  wanState?: Partial<WanStateParams> | null;
}

function num(key: string, v: unknown, opts: { min?: number; max?: number; int?: boolean } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new SteeringParamsError(key, `expected a finite number, got ${JSON.stringify(v)}`);
  }
  if (opts.int && !Number.isInteger(v)) throw new SteeringParamsError(key, `expected an integer, got ${v}`);
  if (opts.min !== undefined && v < opts.min) {
    throw new SteeringParamsError(key, `must be >= ${opts.min}, got ${v}`);
  }
  if (opts.max !== undefined && v > opts.max) {
    throw new SteeringParamsError(key, `must be <= ${opts.max}, got ${v}`);
  }
  return v;
}

function bool(key: string, v: unknown): boolean {
  if (typeof v !== 'boolean')
    throw new SteeringParamsError(key, `expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Fill v1.3 defaults and check every value.
 * @throws SteeringParamsError naming the v1.3 config key; StateThresholdsError for threshold ordering.
 */
export function resolveSteeringParams(input: SteeringParamsInput): SteeringParams {
  if (typeof input.primaryWan !== 'string' || !/^[A-Za-z0-9_-]+$/.test(input.primaryWan)) {
    throw new SteeringParamsError(
      'topology.primary_wan',
      `expected a name of letters, digits, '_' or '-', got ${JSON.stringify(input.primaryWan)}`,
    );
  }
  const cakeAware = input.cakeAware === undefined ? true : bool('mode.cake_aware', input.cakeAware);
  const intervalSeconds = num('measurement.interval_seconds', input.intervalSeconds, { min: 0.01, max: 60 });
  const historySize = num('state.history_size', input.historySize, { min: 1, max: 3000, int: true });
  const t = { ...DEFAULT_STATE_THRESHOLDS, ...(input.thresholds ?? {}) };
  const thresholds = cakeAware ? makeStateThresholds(t) : Object.freeze(t);
  const rttEwmaAlpha = num('thresholds.rtt_ewma_alpha', input.rttEwmaAlpha ?? 0.3, { min: 0, max: 1 });
  const queueEwmaAlpha = num('thresholds.queue_ewma_alpha', input.queueEwmaAlpha ?? 0.4, { min: 0, max: 1 });
  const badThresholdMs = num('thresholds.bad_threshold_ms', input.badThresholdMs ?? 25);
  const recoveryThresholdMs = num('thresholds.recovery_threshold_ms', input.recoveryThresholdMs ?? 12);
  const badSamples = num('thresholds.bad_samples', input.badSamples ?? 8, { min: 1, int: true });
  const goodSamples = num('thresholds.good_samples', input.goodSamples ?? 15, { min: 1, int: true });
  const baselineRttMinMs = num('thresholds.baseline_rtt_bounds.min', input.baselineRttMinMs ?? 10.0, {
    min: 0,
  });
  const baselineRttMaxMs = num('thresholds.baseline_rtt_bounds.max', input.baselineRttMaxMs ?? 60.0, {
    min: baselineRttMinMs,
  });
  let confidence: Readonly<ConfidenceParams> | null = null;
  if (input.confidence) {
    const c = { ...DEFAULT_CONFIDENCE_PARAMS, ...input.confidence };
    num('confidence.steer_threshold', c.steerThreshold, { min: 0, max: 100 });
    num('confidence.recovery_threshold', c.recoveryThreshold, { min: 0, max: 100 });
    if (!(c.recoveryThreshold < c.steerThreshold)) {
      throw new SteeringParamsError(
        'confidence.recovery_threshold',
        `(${c.recoveryThreshold}) must be less than confidence.steer_threshold (${c.steerThreshold})`,
      );
    }
    num('confidence.sustain_duration_sec', c.sustainDurationSec, { min: 0 });
    num('confidence.recovery_sustain_sec', c.recoverySustainSec, { min: 0 });
    num('confidence.hold_down_duration_sec', c.holdDownDurationSec, { min: 0 });
    bool('confidence.flap_detection_enabled', c.flapDetectionEnabled);
    num('confidence.flap_window_minutes', c.flapWindowMinutes, { min: 0 });
    num('confidence.max_toggles', c.maxToggles, { min: 0, int: true });
    num('confidence.penalty_duration_sec', c.penaltyDurationSec, { min: 0 });
    num('confidence.penalty_threshold_add', c.penaltyThresholdAdd, { min: 0 });
    bool('confidence.dry_run', c.dryRun);
    confidence = Object.freeze(c);
  }
  const w = { ...DEFAULT_WAN_STATE_PARAMS, ...(input.wanState ?? {}) };
  bool('wan_state.enabled', w.enabled);
  num('wan_state.rtt_delta_ms', w.rttDeltaMs, { min: 0 });
  num('wan_state.confirm_sec', w.confirmSec, { min: 0, max: 60 });
  num('wan_state.hold_down_sec', w.holdDownSec, { min: 0, max: 3600 });
  num('wan_state.recovery_rtt_ms', w.recoveryRttMs, { min: 0 });
  num('wan_state.recovery_sec', w.recoverySec, { min: 0, max: 3600 });
  num('wan_state.stale_sec', w.staleSec, { min: 0.5, max: 600 });
  num('wan_state.red_weight', w.redWeight, { min: 0, max: 100 });
  num('wan_state.soft_red_weight', w.softRedWeight, { min: 0, max: 100 });
  if (confidence && w.redWeight >= confidence.steerThreshold) {
    throw new SteeringParamsError(
      'wan_state.red_weight',
      `(${w.redWeight}) must be less than confidence.steer_threshold (${confidence.steerThreshold}): the WAN zone never steers on its own`,
    );
  }
  const wanState = Object.freeze(w);
  return Object.freeze({
    primaryWan: input.primaryWan,
    cakeAware,
    intervalSeconds,
    historySize,
    thresholds,
    rttEwmaAlpha,
    queueEwmaAlpha,
    badThresholdMs,
    badSamples,
    recoveryThresholdMs,
    goodSamples,
    baselineRttMinMs,
    baselineRttMaxMs,
    confidence,
    wanState,
  });
}

function sub(obj: unknown, key: string): Record<string, unknown> {
  if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
    const v = (obj as Record<string, unknown>)[key];
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  }
  return {};
}

function pick<T>(o: Record<string, unknown>, key: string): T | undefined {
  const v = o[key];
  return v === null || v === undefined ? undefined : (v as T);
}

/**
 * Map a parsed v1.3 steering YAML document (snake_case keys, e.g. `thresholds.red_rtt_ms`,
 * `mode.use_confidence_scoring`, `confidence.dry_run`) onto validated params. Only the keys the
 * control law uses are read; an explicit null counts as missing, as in v1.3.
 */
export function steeringParamsFromV13Config(doc: unknown): SteeringParams {
  const topology = sub(doc, 'topology');
  const mode = sub(doc, 'mode');
  const measurement = sub(doc, 'measurement');
  const th = sub(doc, 'thresholds');
  const bounds = sub(th, 'baseline_rtt_bounds');
  const state = sub(doc, 'state');
  const useConfidence = pick<boolean>(mode, 'use_confidence_scoring') ?? false;
  const c = sub(doc, 'confidence');
  const ws = sub(doc, 'wan_state');
  const thresholds: Partial<StateThresholds> = {};
  const map: [keyof StateThresholds, string][] = [
    ['green_rtt', 'green_rtt_ms'],
    ['yellow_rtt', 'yellow_rtt_ms'],
    ['red_rtt', 'red_rtt_ms'],
    ['min_drops_red', 'min_drops_red'],
    ['min_queue_yellow', 'min_queue_yellow'],
    ['min_queue_red', 'min_queue_red'],
    ['red_samples_required', 'red_samples_required'],
    ['green_samples_required', 'green_samples_required'],
  ];
  for (const [field, key] of map) {
    const v = pick<number>(th, key);
    if (v !== undefined) (thresholds as Record<string, number>)[field] = v;
  }
  const confidence: Partial<ConfidenceParams> | null = useConfidence
    ? stripUndefined({
        steerThreshold: pick<number>(c, 'steer_threshold'),
        recoveryThreshold: pick<number>(c, 'recovery_threshold'),
        sustainDurationSec: pick<number>(c, 'sustain_duration_sec'),
        recoverySustainSec: pick<number>(c, 'recovery_sustain_sec'),
        holdDownDurationSec: pick<number>(c, 'hold_down_duration_sec'),
        flapDetectionEnabled: pick<boolean>(c, 'flap_detection_enabled'),
        flapWindowMinutes: pick<number>(c, 'flap_window_minutes'),
        maxToggles: pick<number>(c, 'max_toggles'),
        penaltyDurationSec: pick<number>(c, 'penalty_duration_sec'),
        penaltyThresholdAdd: pick<number>(c, 'penalty_threshold_add'),
        dryRun: pick<boolean>(c, 'dry_run'),
      })
    : null;
  return resolveSteeringParams(
    stripUndefined({
      primaryWan: pick<string>(topology, 'primary_wan') as string,
      intervalSeconds: pick<number>(measurement, 'interval_seconds') as number,
      historySize: pick<number>(state, 'history_size') as number,
      cakeAware: pick<boolean>(mode, 'cake_aware'),
      thresholds,
      rttEwmaAlpha: pick<number>(th, 'rtt_ewma_alpha'),
      queueEwmaAlpha: pick<number>(th, 'queue_ewma_alpha'),
      badThresholdMs: pick<number>(th, 'bad_threshold_ms'),
      badSamples: pick<number>(th, 'bad_samples'),
      recoveryThresholdMs: pick<number>(th, 'recovery_threshold_ms'),
      goodSamples: pick<number>(th, 'good_samples'),
      baselineRttMinMs: pick<number>(bounds, 'min'),
      baselineRttMaxMs: pick<number>(bounds, 'max'),
      confidence,
      wanState: stripUndefined({
        enabled: pick<boolean>(ws, 'enabled'),
        rttDeltaMs: pick<number>(ws, 'rtt_delta_ms'),
        confirmSec: pick<number>(ws, 'confirm_sec'),
        holdDownSec: pick<number>(ws, 'hold_down_sec'),
        recoveryRttMs: pick<number>(ws, 'recovery_rtt_ms'),
        recoverySec: pick<number>(ws, 'recovery_sec'),
        staleSec: pick<number>(ws, 'stale_sec'),
        redWeight: pick<number>(ws, 'red_weight'),
        softRedWeight: pick<number>(ws, 'soft_red_weight'),
      }),
    }) as SteeringParamsInput,
  );
}

function stripUndefined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** State names derived from topology.primary_wan, as v1.3. */
export function stateNames(primaryWan: string): { good: string; degraded: string } {
  const up = primaryWan.toUpperCase();
  return { good: `${up}_GOOD`, degraded: `${up}_DEGRADED` };
}
