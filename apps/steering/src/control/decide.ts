/**
 * Step 7 of a steering cycle: the decision. 7a confidence scoring (when configured; it sees the
 * previous cycle's assessment, as v1.3), else 7b the hysteresis state machine (v1.3
 * `_update_state_machine_unified`): N consecutive RED (or BAD) samples enable steering, M GREEN
 * (or OK) samples disable it. Both only propose a toggle; complete() applies its outcome.
 */
import { assessCongestionState } from './assessment.js';
import type { ConfidenceController } from './confidence.js';
import type { CounterOutcome, CycleDraft, PendingCycle, SteeringStateFile } from './controller.js';
import type { SteeringParams } from './params.js';
import { pyFixed } from './pyfmt.js';

/** The state names of the primary WAN. */
export interface StateNamePair {
  good: string;
  degraded: string;
}

/** Step 7a: the confidence controller's decision as a toggle, or null (no decision: 7b decides). */
export function confidenceStep(
  conf: ConfidenceController,
  st: SteeringStateFile,
  draft: CycleDraft,
  names: StateNamePair,
  nowSeconds: number,
  wan: { zone: string | null; weights: { red: number; softRed: number } } | null = null,
): PendingCycle | null {
  const ev = conf.evaluate(
    {
      cakeState: st.congestion_state,
      rttDeltaMs: draft.deltaMs as number,
      dropsPerSec: draft.cakeDropsDelta,
      queueDepthPct: draft.cakeQueuedPackets,
      cakeStateHistory: st.cake_state_history,
      dropsHistory: st.cake_drops_history,
      queueHistory: st.queue_depth_history,
      ...(wan ? { wanZone: wan.zone, wanWeights: wan.weights } : {}),
    },
    st.current_state,
    nowSeconds,
  );
  draft.confidence = ev;
  for (const msg of ev.events) {
    draft.events.push({
      level: msg.includes('ENGAGED') || msg.includes('WOULD_ENABLE') ? 'warning' : 'info',
      message: msg,
    });
  }
  if (ev.decision === null) return null;
  const enable = ev.decision === 'ENABLE_STEERING';
  return {
    action: enable ? 'enable' : 'disable',
    actionSource: 'confidence',
    reason:
      `confidence=${ev.score} ${enable ? `>= ${ev.effectiveSteerThreshold}` : `<= ${conf.params.recoveryThreshold}`} ` +
      `sustained ${enable ? conf.params.sustainDurationSec : conf.params.recoverySustainSec}s ` +
      `signals=[${ev.contributors.join(', ')}]`,
    fromState: st.current_state,
    toState: enable ? names.degraded : names.good,
  };
}

/** What the hysteresis proposes, and the counters to keep when the toggle succeeds or fails. */
export interface HysteresisOutcome {
  pending: PendingCycle;
  onSuccess: CounterOutcome;
  onFailure: CounterOutcome;
}

/**
 * Step 7b: assesses the cycle (CAKE-aware: GREEN/YELLOW/RED from the RTT signal, drops and
 * queue; legacy: delta against the bad/recovery thresholds), counts consecutive samples and
 * proposes the toggle once the count is reached. `signal` is the RTT signal of smoothStep, `sig`
 * its log text; `isGood`: the current state counts as GOOD (legacy names included).
 */
export function hysteresisStep(
  st: SteeringStateFile,
  p: SteeringParams,
  draft: CycleDraft,
  signal: number,
  sig: string,
  names: StateNamePair,
  isGood: boolean,
): HysteresisOutcome {
  const events = draft.events;
  const delta = draft.deltaMs as number;
  const wan = p.primaryWan.toUpperCase();
  let isDegraded: boolean;
  let isRecovered: boolean;
  let isWarning = false;
  if (p.cakeAware) {
    const a = assessCongestionState(signal, draft.cakeDropsDelta, draft.cakeQueuedPackets, p.thresholds);
    draft.assessment = a;
    st.congestion_state = a;
    isDegraded = a === 'RED';
    isRecovered = a === 'GREEN';
    isWarning = a === 'YELLOW';
  } else {
    isDegraded = delta > p.badThresholdMs;
    isRecovered = delta < p.recoveryThresholdMs;
  }
  const degradeThreshold = p.cakeAware ? p.thresholds.red_samples_required : p.badSamples;
  const recoverThreshold = p.cakeAware ? p.thresholds.green_samples_required : p.goodSamples;
  let degrade = p.cakeAware ? st.red_count : st.bad_count;
  let recover = st.good_count;
  let pending: PendingCycle = {
    action: null,
    actionSource: null,
    reason: null,
    fromState: draft.previousState,
    toState: null,
  };
  const label = draft.assessment ?? (isDegraded ? 'BAD' : isRecovered ? 'OK' : 'HOLD');
  if (isGood) {
    st.current_state = names.good;
    recover = 0;
    if (isDegraded) {
      degrade += 1;
      events.push({
        level: p.cakeAware ? 'info' : 'debug',
        message: `[${wan}_GOOD] [${label}] ${sig} | ${p.cakeAware ? 'red_count' : 'bad_count'}=${degrade}/${degradeThreshold}`,
      });
      if (degrade >= degradeThreshold) {
        const reason = p.cakeAware
          ? `${wan} DEGRADED detected - ${sig} (sustained ${degrade} samples)`
          : `${wan} DEGRADED detected (delta=${pyFixed(delta, 1)}ms sustained for ${degrade} samples)`;
        pending = {
          action: 'enable',
          actionSource: 'hysteresis',
          reason,
          fromState: names.good,
          toState: names.degraded,
        };
      }
    } else {
      degrade = 0;
      if (isWarning) {
        events.push({
          level: 'info',
          message: `[${wan}_GOOD] [${label}] ${sig} | early warning, no action`,
        });
      }
    }
    return { pending, onSuccess: { degrade: 0, recover }, onFailure: { degrade, recover } };
  }
  st.current_state = names.degraded;
  degrade = 0;
  if (isRecovered) {
    recover += 1;
    events.push({
      level: p.cakeAware ? 'info' : 'debug',
      message: `[${wan}_DEGRADED] [${label}] ${sig} | good_count=${recover}/${recoverThreshold}`,
    });
    if (recover >= recoverThreshold) {
      const reason = p.cakeAware
        ? `${wan} RECOVERED - ${sig} (sustained ${recover} samples)`
        : `${wan} RECOVERED (delta=${pyFixed(delta, 1)}ms sustained for ${recover} samples)`;
      pending = {
        action: 'disable',
        actionSource: 'hysteresis',
        reason,
        fromState: names.degraded,
        toState: names.good,
      };
    }
  } else {
    recover = 0;
    if (p.cakeAware) {
      events.push({ level: 'info', message: `[${wan}_DEGRADED] [${label}] ${sig} | still degraded` });
    }
  }
  return { pending, onSuccess: { degrade, recover: 0 }, onFailure: { degrade, recover } };
}
