/**
 * Steps 4-6 of a steering cycle: the RTT delta over the baseline, the two EWMAs (CAKE-aware mode;
 * D12: out-of-range inputs clamped and logged), and the bounded RTT/delta histories.
 */
import type { CycleDraft, SteeringStateFile } from './controller.js';
import { calculateDelta, updateEwmaSmoothing } from './ewma.js';
import type { SteeringParams } from './params.js';
import { pyFixed } from './pyfmt.js';

/** Appends `v`, dropping the oldest entries beyond `cap`. */
export function pushBounded<T>(arr: T[], v: T, cap: number): void {
  arr.push(v);
  while (arr.length > cap) arr.shift();
}

/**
 * Steps 4/5: `draft.deltaMs`, and in CAKE-aware mode the RTT-delta and queue EWMAs. Returns the
 * RTT signal the decision uses: the RTT-delta EWMA (CAKE-aware), else the raw delta.
 */
export function smoothStep(st: SteeringStateFile, rtt: number, p: SteeringParams, draft: CycleDraft): number {
  const delta = calculateDelta(rtt, st.baseline_rtt);
  draft.deltaMs = delta;
  if (!p.cakeAware) return delta;
  const queued = draft.cakeQueuedPackets;
  const e = updateEwmaSmoothing(
    { rttDeltaEwma: st.rtt_delta_ewma, queueEwma: st.queue_ewma },
    delta,
    queued,
    p.rttEwmaAlpha,
    p.queueEwmaAlpha,
  );
  st.rtt_delta_ewma = e.rttDeltaEwma;
  st.queue_ewma = e.queueEwma;
  draft.clamped = { rttDelta: e.rttClamped, queue: e.queueClamped };
  if (e.rttClamped) {
    draft.events.push({
      level: 'warning',
      message: `RTT delta ${pyFixed(delta, 1)}ms out of range: clamped to 1000ms`,
    });
  }
  if (e.queueClamped) {
    draft.events.push({
      level: 'warning',
      message: `Queue depth ${queued} out of range: clamped to 10000 packets`,
    });
  }
  return e.rttDeltaEwma;
}

/** Step 6: the RTT and delta histories (always recorded, always bounded); the cycle has its signals. */
export function historyStep(st: SteeringStateFile, rtt: number, p: SteeringParams, draft: CycleDraft): void {
  pushBounded(st.history_rtt, rtt, p.historySize);
  pushBounded(st.history_delta, draft.deltaMs as number, p.historySize);
  draft.ok = true;
}
