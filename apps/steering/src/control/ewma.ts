import { EwmaError } from './errors.js';
import { pyFloatRepr } from './pyfmt.js';

/** Bound on |RTT delta| fed to the RTT-delta EWMA, ms (v1.3 `ewma_update` default max_value). */
export const RTT_EWMA_MAX_MS = 1000.0;
/** Bound on |queue depth| fed to the queue EWMA, packets (v1.3 `update_ewma_smoothing`). */
export const QUEUE_EWMA_MAX_PACKETS = 10000.0;

/**
 * v1.3 `congestion_assessment.ewma_update`: `(1 - alpha) * current + alpha * newValue`.
 * Validation order: alpha in [0, 1], input finite, |input| <= maxValue. `current == 0.0`
 * (also -0.0) means "first sample": the input is returned unsmoothed.
 * @throws EwmaError with v1.3's message text.
 */
export function ewmaUpdate(
  current: number,
  newValue: number,
  alpha: number,
  maxValue = RTT_EWMA_MAX_MS,
): number {
  if (!(alpha >= 0.0 && alpha <= 1.0)) {
    throw new EwmaError('alpha_out_of_range', `EWMA alpha must be in [0, 1], got ${pyFloatRepr(alpha)}`);
  }
  if (!Number.isFinite(newValue)) {
    throw new EwmaError('input_not_finite', `EWMA input is not finite: ${pyFloatRepr(newValue)}`);
  }
  if (!(newValue >= -maxValue && newValue <= maxValue)) {
    throw new EwmaError(
      'input_out_of_bounds',
      `EWMA input ${pyFloatRepr(newValue)} exceeds bounds \u00b1${pyFloatRepr(maxValue)}`,
    );
  }
  if (current === 0.0) return newValue;
  const result = (1.0 - alpha) * current + alpha * newValue;
  if (!Number.isFinite(result)) {
    throw new EwmaError('result_not_finite', `EWMA result not finite: ${pyFloatRepr(result)}`);
  }
  return result;
}

export interface EwmaPair {
  /** Smoothed RTT delta, ms. */
  rttDeltaEwma: number;
  /** Smoothed queue depth, packets (computed and persisted; no decision reads it, as in v1.3). */
  queueEwma: number;
}

export interface EwmaSmoothingResult extends EwmaPair {
  /** D12: the RTT delta was outside ±1000 ms and was clamped before smoothing. */
  rttClamped: boolean;
  /** D12: the queue depth was outside ±10000 packets and was clamped before smoothing. */
  queueClamped: boolean;
  /** A non-finite input was ignored (the previous EWMA was kept). */
  rttIgnored: boolean;
  queueIgnored: boolean;
}

/**
 * v1.3 `SteeringDaemon.update_ewma_smoothing`: two `ewmaUpdate` chains (RTT delta bound ±1000 ms,
 * queue bound ±10000 packets). D12: an out-of-range measurement is clamped to the bound and
 * flagged instead of raising (v1.3 crashed the daemon); a non-finite one is ignored and flagged.
 * Alphas must already be valid (checked when the params are validated).
 */
export function updateEwmaSmoothing(
  prev: EwmaPair,
  deltaMs: number,
  queuedPackets: number,
  rttAlpha: number,
  queueAlpha: number,
): EwmaSmoothingResult {
  let rttClamped = false;
  let queueClamped = false;
  let rttIgnored = false;
  let queueIgnored = false;
  let rtt = prev.rttDeltaEwma;
  if (Number.isFinite(deltaMs)) {
    let x = deltaMs;
    if (x > RTT_EWMA_MAX_MS) {
      x = RTT_EWMA_MAX_MS;
      rttClamped = true;
    } else if (x < -RTT_EWMA_MAX_MS) {
      x = -RTT_EWMA_MAX_MS;
      rttClamped = true;
    }
    rtt = ewmaUpdate(prev.rttDeltaEwma, x, rttAlpha, RTT_EWMA_MAX_MS);
  } else {
    rttIgnored = true;
  }
  let queue = prev.queueEwma;
  if (Number.isFinite(queuedPackets)) {
    let q = queuedPackets;
    if (q > QUEUE_EWMA_MAX_PACKETS) {
      q = QUEUE_EWMA_MAX_PACKETS;
      queueClamped = true;
    } else if (q < -QUEUE_EWMA_MAX_PACKETS) {
      q = -QUEUE_EWMA_MAX_PACKETS;
      queueClamped = true;
    }
    queue = ewmaUpdate(prev.queueEwma, q, queueAlpha, QUEUE_EWMA_MAX_PACKETS);
  } else {
    queueIgnored = true;
  }
  return { rttDeltaEwma: rtt, queueEwma: queue, rttClamped, queueClamped, rttIgnored, queueIgnored };
}

/** v1.3 `SteeringDaemon.calculate_delta`: `max(0, current - baseline)`, 0 when there is no baseline. */
export function calculateDelta(currentRttMs: number, baselineRttMs: number | null): number {
  if (baselineRttMs === null) return 0.0;
  const delta = currentRttMs - baselineRttMs;
  // Not Math.max: Python's max(0.0, nan) is 0.0, Math.max(0, NaN) is NaN.
  // biome-ignore lint/complexity/useMathMinMax: NaN must give 0, as v1.3
  return delta > 0.0 ? delta : 0.0;
}
