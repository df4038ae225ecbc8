import { StateThresholdsError } from './errors.js';

export type CongestionState = 'GREEN' | 'YELLOW' | 'RED';

/** v1.3 `StateThresholds` (congestion_assessment.py). Field names as in v1.3's dataclass. */
export interface StateThresholds {
  /** ms; takes part in validation only (never in the rules), as in v1.3. */
  readonly green_rtt: number;
  readonly yellow_rtt: number;
  readonly red_rtt: number;
  readonly min_drops_red: number;
  readonly min_queue_yellow: number;
  readonly min_queue_red: number;
  readonly red_samples_required: number;
  readonly green_samples_required: number;
}

export const DEFAULT_STATE_THRESHOLDS: StateThresholds = Object.freeze({
  green_rtt: 5.0,
  yellow_rtt: 15.0,
  red_rtt: 15.0,
  min_drops_red: 1,
  min_queue_yellow: 10,
  min_queue_red: 50,
  red_samples_required: 2,
  green_samples_required: 15,
});

const CONFIG_KEY: Record<keyof StateThresholds, string> = {
  green_rtt: 'thresholds.green_rtt_ms',
  yellow_rtt: 'thresholds.yellow_rtt_ms',
  red_rtt: 'thresholds.red_rtt_ms',
  min_drops_red: 'thresholds.min_drops_red',
  min_queue_yellow: 'thresholds.min_queue_yellow',
  min_queue_red: 'thresholds.min_queue_red',
  red_samples_required: 'thresholds.red_samples_required',
  green_samples_required: 'thresholds.green_samples_required',
};

/**
 * Build StateThresholds from overrides on v1.3's defaults and run v1.3's cross-field checks, in
 * v1.3's order. Unlike v1.3 (assert, skipped under python -O) the checks always run.
 * @throws StateThresholdsError whose message is v1.3's assertion text plus the config keys to fix.
 */
export function makeStateThresholds(overrides: Partial<StateThresholds> = {}): StateThresholds {
  const t: StateThresholds = { ...DEFAULT_STATE_THRESHOLDS, ...overrides };
  for (const k of Object.keys(CONFIG_KEY) as (keyof StateThresholds)[]) {
    if (typeof t[k] !== 'number' || !Number.isFinite(t[k])) {
      throw new StateThresholdsError([CONFIG_KEY[k]], `${k} must be a finite number (${CONFIG_KEY[k]})`);
    }
  }
  const fail = (keys: (keyof StateThresholds)[], text: string): never => {
    const cfg = keys.map((k) => CONFIG_KEY[k]);
    throw new StateThresholdsError(cfg, `${text} (check ${cfg.join(', ')})`);
  };
  if (!(t.green_rtt < t.yellow_rtt)) fail(['green_rtt', 'yellow_rtt'], 'green_rtt must be < yellow_rtt');
  if (!(t.yellow_rtt <= t.red_rtt)) fail(['yellow_rtt', 'red_rtt'], 'yellow_rtt must be <= red_rtt');
  if (!(t.min_drops_red > 0)) fail(['min_drops_red'], 'min_drops_red must be positive');
  if (!(t.red_samples_required >= 1)) fail(['red_samples_required'], 'red_samples_required must be >= 1');
  if (!(t.green_samples_required >= 1)) {
    fail(['green_samples_required'], 'green_samples_required must be >= 1');
  }
  return Object.freeze(t);
}

/**
 * v1.3 `assess_congestion_state`, rules in order:
 * RED    rtt_ewma > red_rtt AND drops >= min_drops_red AND queue >= min_queue_red
 * YELLOW rtt_ewma > yellow_rtt OR queue >= min_queue_yellow
 * GREEN  otherwise.
 * `queuedPackets` is the instantaneous depth (not the EWMA), `drops` the per-cycle delta.
 */
export function assessCongestionState(
  rttDeltaEwmaMs: number,
  drops: number,
  queuedPackets: number,
  t: StateThresholds,
): CongestionState {
  if (rttDeltaEwmaMs > t.red_rtt && drops >= t.min_drops_red && queuedPackets >= t.min_queue_red)
    return 'RED';
  if (rttDeltaEwmaMs > t.yellow_rtt || queuedPackets >= t.min_queue_yellow) return 'YELLOW';
  return 'GREEN';
}
