/**
 * EWMA and baseline primitives, with v1.3's exact arithmetic order so that the same inputs give
 * bit-identical doubles: `(1 - a) * old + a * new`.
 */

/** One EWMA step: `(1 - alpha) * current + alpha * sample`. */
export function ewmaStep(current: number, sample: number, alpha: number): number {
  return (1 - alpha) * current + alpha * sample;
}

/** Inclusive baseline sanity check (v1.3 `BaselineValidator`); null in, null out. */
export function isBaselineInBounds(baselineMs: number | null, minMs: number, maxMs: number): boolean | null {
  if (baselineMs === null) return null;
  return baselineMs >= minMs && baselineMs <= maxMs;
}

/** `current - baseline`, 0 when the baseline is unknown (not clamped; v1.3 `calculate_rtt_delta`). */
export function rttDelta(currentMs: number, baselineMs: number | null): number {
  if (baselineMs === null) return 0.0;
  return currentMs - baselineMs;
}

/**
 * Idle-only baseline EWMA without bounds (v1.3 `BaselineRTTManager.update_baseline_ewma`):
 * when `load - baseline < threshold` the baseline takes one EWMA step towards the raw sample.
 */
export function idleBaselineStep(
  baselineMs: number,
  measuredMs: number,
  loadMs: number,
  alphaBaseline: number,
  thresholdMs: number,
): number {
  if (loadMs - baselineMs < thresholdMs) return ewmaStep(baselineMs, measuredMs, alphaBaseline);
  return baselineMs;
}

/** Mutable EWMA pair of one WAN; updated in place (no allocation per cycle). */
export interface EwmaState {
  loadRttMs: number;
  baselineRttMs: number;
}

/**
 * What {@link updateEwmas} did to the baseline this cycle: `frozen` (load above baseline by at
 * least the idle threshold), `updated`, or `rejected` (candidate outside the bounds; v1.3 logs a
 * WARNING and keeps the old baseline).
 */
export type BaselineOutcome = 'frozen' | 'updated' | 'rejected';

/**
 * v1.3 `WANController.update_ewma` + `_update_baseline_if_idle`: the load EWMA always moves; the
 * baseline moves only while idle (`newLoad - oldBaseline < threshold`, strict) and only to a
 * candidate inside the inclusive bounds. The candidate uses the raw sample, not the load.
 */
export function updateEwmas(
  s: EwmaState,
  measuredMs: number,
  alphaLoad: number,
  alphaBaseline: number,
  idleThresholdMs: number,
  minMs: number,
  maxMs: number,
): BaselineOutcome {
  s.loadRttMs = ewmaStep(s.loadRttMs, measuredMs, alphaLoad);
  const deltaIdle = s.loadRttMs - s.baselineRttMs;
  if (!(deltaIdle < idleThresholdMs)) return 'frozen';
  const candidate = ewmaStep(s.baselineRttMs, measuredMs, alphaBaseline);
  if (candidate >= minMs && candidate <= maxMs) {
    s.baselineRttMs = candidate;
    return 'updated';
  }
  return 'rejected';
}
