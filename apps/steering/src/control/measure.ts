/**
 * Steps 1-3 of a steering cycle (v1.3 `run_cycle` order): the baseline from the autorate state
 * file, the CAKE counters of the primary download queue, the RTT. Each step updates the
 * persisted state and the cycle's draft result, and logs through `draft.events`.
 */
import { type CakeDeltaTracker, type CakeSnapshot, checkCakeSnapshot } from './cake.js';
import type { CycleDraft, SteeringStateFile } from './controller.js';
import type { SteeringParams } from './params.js';
import { pyFixed } from './pyfmt.js';
import { pushBounded } from './smooth.js';

/** Change in baseline (ms) above which the baseline update is logged at INFO (v1.3 constant). */
export const BASELINE_CHANGE_THRESHOLD_MS = 5.0;

/**
 * Step 1: takes the autorate baseline when it is a number within the bounds (inclusive), else
 * keeps the previous one. Returns false when there is no baseline at all (the cycle fails).
 */
export function baselineStep(
  st: SteeringStateFile,
  b: number | null | undefined,
  p: SteeringParams,
  draft: CycleDraft,
): boolean {
  const events = draft.events;
  let fresh: number | null = null;
  if (b === null || b === undefined) {
    draft.baselineRejected = 'missing';
  } else if (typeof b !== 'number' || !Number.isFinite(b)) {
    draft.baselineRejected = 'not_a_number';
    events.push({ level: 'error', message: `Failed to load baseline RTT: not a number (${String(b)})` });
  } else if (b >= p.baselineRttMinMs && b <= p.baselineRttMaxMs) {
    fresh = b;
  } else {
    draft.baselineRejected = 'out_of_bounds';
    events.push({
      level: 'warning',
      message:
        `Baseline RTT out of bounds [${pyFixed(p.baselineRttMinMs, 1)}-${pyFixed(p.baselineRttMaxMs, 1)}ms]: ` +
        `${pyFixed(b, 2)}ms, ignoring (possible autorate compromise)`,
    });
  }
  if (fresh !== null) {
    const old = st.baseline_rtt;
    st.baseline_rtt = fresh;
    draft.baselineSource = 'fresh';
    if (old === null) {
      events.push({ level: 'info', message: `Initialized baseline RTT: ${pyFixed(fresh, 2)}ms` });
    } else if (Math.abs(fresh - old) > BASELINE_CHANGE_THRESHOLD_MS) {
      events.push({
        level: 'info',
        message: `Baseline RTT updated: ${pyFixed(old, 2)}ms -> ${pyFixed(fresh, 2)}ms`,
      });
    }
  } else if (st.baseline_rtt === null) {
    events.push({ level: 'error', message: 'No baseline RTT available, cannot make steering decisions' });
    return false;
  } else {
    draft.baselineSource = 'cached';
  }
  draft.baselineRttMs = st.baseline_rtt;
  return true;
}

/**
 * Step 2 (CAKE-aware mode): this cycle's drops and queue depth (`draft.cakeDropsDelta`,
 * `draft.cakeQueuedPackets`; 0 when the read failed) by the D8 delta rule, the drop and depth
 * histories, and the count of consecutive failed reads.
 */
export function cakeStep(
  st: SteeringStateFile,
  cake: CakeSnapshot | null | undefined,
  p: SteeringParams,
  tracker: CakeDeltaTracker,
  draft: CycleDraft,
): void {
  const events = draft.events;
  const problem = cake === null || cake === undefined ? 'read failed' : checkCakeSnapshot(cake);
  if (problem === null && cake) {
    const d = tracker.update(cake);
    draft.cakeDropsDelta = d.dropped;
    draft.cakeQueuedPackets = d.queued_packets;
    draft.cakeReadOk = true;
    draft.cakeFirstRead = d.firstRead;
    draft.cakeCounterResets = d.resets;
    if (d.resets.length > 0) {
      events.push({
        level: 'warning',
        message: `CAKE counters went backwards (${d.resets.join(', ')}): treated as a counter reset, not as drops`,
      });
    }
    st.cake_read_failures = 0;
    pushBounded(st.cake_drops_history, d.dropped, p.historySize);
    pushBounded(st.queue_depth_history, d.queued_packets, p.historySize);
  } else {
    draft.cakeReadOk = false;
    st.cake_read_failures += 1;
    if (st.cake_read_failures === 1) {
      events.push({
        level: 'warning',
        message: `CAKE stats read failed (${problem}), using RTT-only decisions (failure 1)`,
      });
    } else if (st.cake_read_failures === 3) {
      events.push({
        level: 'error',
        message: 'CAKE stats unavailable after 3 attempts, entering degraded mode (RTT-only decisions)',
      });
    }
  }
}

/**
 * Step 3: the measured RTT, else the last one in the history (v1.3's fallback). Returns null when
 * there is neither (the cycle is skipped).
 */
export function rttStep(
  st: SteeringStateFile,
  r: number | null | undefined,
  draft: CycleDraft,
): number | null {
  let rtt: number;
  if (typeof r === 'number' && Number.isFinite(r) && r >= 0) {
    rtt = r;
    draft.rttSource = 'measured';
  } else if (st.history_rtt.length > 0) {
    rtt = st.history_rtt[st.history_rtt.length - 1] as number;
    draft.rttSource = 'fallback';
    draft.events.push({ level: 'warning', message: `Using last known RTT from state: ${pyFixed(rtt, 1)}ms` });
  } else {
    draft.events.push({
      level: 'warning',
      message: 'Ping failed after retries and no fallback available, skipping cycle',
    });
    return null;
  }
  draft.currentRttMs = rtt;
  return rtt;
}
