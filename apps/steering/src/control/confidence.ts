/**
 * Confidence scoring ("Phase 2B", v1.3 steering/steering_confidence.py), rebuilt as pure logic.
 *
 * Differences from v1.3, on purpose:
 * - D9: timers step by the configured cycle interval (v1.3 always stepped by 0.05 s, so with a 2 s
 *   cycle its "2 s" sustain took 82 s). With interval 0.05 the arithmetic is v1.3's exactly
 *   (repeated `-= interval`).
 * - The flap penalty is applied: while it is engaged the steer threshold is raised by
 *   `penaltyThresholdAdd` (v1.3 computed the raised threshold and threw it away).
 * Time for the flap detector is the `nowSeconds` passed in (a monotonic clock); there is no clock here.
 */
import { pyFixed } from './pyfmt.js';

export type CakeStateName = 'GREEN' | 'YELLOW' | 'SOFT_RED' | 'RED' | string;

export interface ConfidenceSignals {
  /** The CAKE assessment fed to the scorer. */
  cakeState: CakeStateName;
  rttDeltaMs: number;
  /** v1.3 passes drops per cycle here (named per second). */
  dropsPerSec: number;
  /** v1.3 passes queued packets here (named percent). */
  queueDepthPct: number;
  /** Previous assessments, oldest first, not including the current one. */
  cakeStateHistory: readonly string[];
  /** Drop deltas, oldest first, including the current one. */
  dropsHistory: readonly number[];
  /** Queue depths, oldest first, including the current one. */
  queueHistory: readonly number[];
  /**
   * docs/decisions.md#d14: the primary WAN's zone from a fresh autorate report (the worse
   * direction); omitted or null = no report (v1.3 scoring).
   */
  wanZone?: string | null;
  /** Points of a RED / SOFT_RED WAN zone (default {@link WAN_ZONE_WEIGHTS}). */
  wanWeights?: { red: number; softRed: number };
}

/** D14 default points of the WAN zone (wanctl's later WAN_RED / SOFT_RED weights). */
export const WAN_ZONE_WEIGHTS: Readonly<{ red: number; softRed: number }> = Object.freeze({
  red: 25,
  softRed: 12,
});

/** RTT evidence the WAN zone needs before it counts: the scorer's "high" RTT level (ms). */
export const WAN_ZONE_RTT_EVIDENCE_MS = 80.0;

export interface ConfidenceScore {
  /** 0..100. */
  score: number;
  /** v1.3's exact contributor strings, e.g. "RED", "rtt_delta=130.0ms(severe)", "queue_high(80%)". */
  contributors: string[];
}

/** v1.3 `compute_confidence`: recomputed from scratch every cycle, no memory. */
export function computeConfidence(s: ConfidenceSignals): ConfidenceScore {
  let score = 0;
  const contributors: string[] = [];
  if (s.cakeState === 'RED') {
    score += 50;
    contributors.push('RED');
  } else if (s.cakeState === 'SOFT_RED') {
    const h = s.cakeStateHistory;
    if (
      h.length >= 3 &&
      h[h.length - 1] === 'SOFT_RED' &&
      h[h.length - 2] === 'SOFT_RED' &&
      h[h.length - 3] === 'SOFT_RED'
    ) {
      score += 25;
      contributors.push('SOFT_RED_sustained');
    }
  } else if (s.cakeState === 'YELLOW') {
    score += 10;
    contributors.push('YELLOW');
  }
  if (s.rttDeltaMs > 120.0) {
    score += 25;
    contributors.push(`rtt_delta=${pyFixed(s.rttDeltaMs, 1)}ms(severe)`);
  } else if (s.rttDeltaMs > 80.0) {
    score += 15;
    contributors.push(`rtt_delta=${pyFixed(s.rttDeltaMs, 1)}ms(high)`);
  }
  // D14: the WAN zone adds weight, only with RTT evidence (it never steers on its own).
  if (s.wanZone === 'RED' || s.wanZone === 'SOFT_RED') {
    const w = s.wanWeights ?? WAN_ZONE_WEIGHTS;
    if (s.rttDeltaMs > WAN_ZONE_RTT_EVIDENCE_MS) {
      score += s.wanZone === 'RED' ? w.red : w.softRed;
      contributors.push(`WAN_${s.wanZone}`);
    }
  }
  const d = s.dropsHistory;
  if (d.length >= 3) {
    const newest = d[d.length - 1]!;
    const oldest = d[d.length - 3]!;
    if (newest > oldest && newest > 0) {
      score += 10;
      contributors.push(`drops_increasing(${pyFixed(newest, 1)}/s)`);
    }
  }
  const q = s.queueHistory;
  if (q.length >= 2 && q[q.length - 1]! > 50.0 && q[q.length - 2]! > 50.0) {
    score += 10;
    contributors.push(`queue_high(${pyFixed(s.queueDepthPct, 0)}%)`);
  }
  score = Math.max(0, Math.min(100, score));
  return { score, contributors };
}

/** Confidence controller parameters (v1.3 `confidence.*` keys, in seconds / points). */
export interface ConfidenceParams {
  steerThreshold: number;
  recoveryThreshold: number;
  sustainDurationSec: number;
  recoverySustainSec: number;
  holdDownDurationSec: number;
  flapDetectionEnabled: boolean;
  flapWindowMinutes: number;
  maxToggles: number;
  penaltyDurationSec: number;
  penaltyThresholdAdd: number;
  /** Decisions are logged, not returned; timers still run (v1.3 default: true). */
  dryRun: boolean;
}

export const DEFAULT_CONFIDENCE_PARAMS: Readonly<ConfidenceParams> = Object.freeze({
  steerThreshold: 55,
  recoveryThreshold: 20,
  sustainDurationSec: 2.0,
  recoverySustainSec: 3.0,
  holdDownDurationSec: 30.0,
  flapDetectionEnabled: true,
  flapWindowMinutes: 5,
  maxToggles: 4,
  penaltyDurationSec: 60.0,
  penaltyThresholdAdd: 15,
  dryRun: true,
});

export type ConfidenceDecision = 'ENABLE_STEERING' | 'DISABLE_STEERING';

/** Timer and flap state, as v1.3's TimerState (seconds remaining; null = not running). */
export interface ConfidenceTimerState {
  /** Score and contributors of the last evaluation (0 / [] before the first). */
  lastScore: number;
  lastContributors: string[];
  degradeTimer: number | null;
  holdDownTimer: number | null;
  recoveryTimer: number | null;
  /** Toggle events with their time (bounded to 20, as v1.3's deque). */
  flapWindow: { event: 'ENABLE' | 'DISABLE'; t: number }[];
  flapPenaltyActive: boolean;
  flapPenaltyExpiry: number | null;
}

export interface ConfidenceEvaluation {
  score: number;
  contributors: string[];
  /** The decision as v1.3 would return it (null in dry-run even when a decision was reached). */
  decision: ConfidenceDecision | null;
  /** The decision reached this cycle, also in dry-run (what would have been done). */
  wouldDecide: ConfidenceDecision | null;
  /** Steer threshold used this cycle (base, plus the flap penalty while it is engaged). */
  effectiveSteerThreshold: number;
  degradeTimer: number | null;
  holdDownTimer: number | null;
  recoveryTimer: number | null;
  flapWindowLen: number;
  flapPenaltyActive: boolean;
  flapPenaltyExpiry: number | null;
  /** Log-worthy happenings this cycle, e.g. "[FLAP-BRAKE] ENGAGED ...", "recovery_timer_reset reason=[...]". */
  events: string[];
}

const FLAP_WINDOW_MAXLEN = 20;

function isGoodName(state: string, good: string): boolean {
  return state === good || state.endsWith('_GOOD');
}
function isDegradedName(state: string, degraded: string): boolean {
  return state === degraded || state.endsWith('_DEGRADED');
}

/** v1.3 `Phase2BController` with D9 timers and an applied flap penalty. */
export class ConfidenceController {
  readonly params: Readonly<ConfidenceParams>;
  readonly cycleIntervalSec: number;
  private readonly stateGood: string;
  private readonly stateDegraded: string;
  private ts: ConfidenceTimerState = {
    lastScore: 0,
    lastContributors: [],
    degradeTimer: null,
    holdDownTimer: null,
    recoveryTimer: null,
    flapWindow: [],
    flapPenaltyActive: false,
    flapPenaltyExpiry: null,
  };

  constructor(params: ConfidenceParams, cycleIntervalSec: number, stateGood: string, stateDegraded: string) {
    this.params = Object.freeze({ ...params });
    this.cycleIntervalSec = cycleIntervalSec;
    this.stateGood = stateGood;
    this.stateDegraded = stateDegraded;
  }

  /** A copy of the timer state (for health output and tests). */
  timers(): ConfidenceTimerState {
    return {
      ...this.ts,
      lastContributors: this.ts.lastContributors.slice(),
      flapWindow: this.ts.flapWindow.map((e) => ({ ...e })),
    };
  }

  /** Forget all timers and flap history (e.g. after the daemon adopted the router's real rule state). */
  reset(): void {
    this.ts = {
      lastScore: 0,
      lastContributors: [],
      degradeTimer: null,
      holdDownTimer: null,
      recoveryTimer: null,
      flapWindow: [],
      flapPenaltyActive: false,
      flapPenaltyExpiry: null,
    };
  }

  /**
   * One evaluation (v1.3 `evaluate`): score, flap check, then the GOOD branch (degrade timer) or
   * the DEGRADED branch (hold-down, then recovery timer). `currentState` is the daemon's state name.
   */
  evaluate(signals: ConfidenceSignals, currentState: string, nowSeconds: number): ConfidenceEvaluation {
    const p = this.params;
    const ts = this.ts;
    const events: string[] = [];
    const { score, contributors } = computeConfidence(signals);
    ts.lastScore = score;
    ts.lastContributors = contributors;
    const threshold = this.checkFlapping(nowSeconds, events);
    let wouldDecide: ConfidenceDecision | null = null;

    if (isGoodName(currentState, this.stateGood)) {
      if (score >= threshold) {
        if (ts.degradeTimer === null) {
          ts.degradeTimer = p.sustainDurationSec;
        } else {
          ts.degradeTimer -= this.cycleIntervalSec;
          if (ts.degradeTimer <= 0) {
            ts.degradeTimer = null;
            wouldDecide = 'ENABLE_STEERING';
          }
        }
      } else if (ts.degradeTimer !== null) {
        events.push(`[PHASE2B] confidence=${score} degrade_timer_reset reason=below_threshold(${threshold})`);
        ts.degradeTimer = null;
      }
      if (wouldDecide !== null) {
        ts.holdDownTimer = p.holdDownDurationSec;
        this.recordToggle('ENABLE', nowSeconds);
      }
    } else if (isDegradedName(currentState, this.stateDegraded)) {
      if (ts.holdDownTimer !== null) {
        ts.holdDownTimer -= this.cycleIntervalSec;
        if (ts.holdDownTimer <= 0) {
          ts.holdDownTimer = null;
          events.push('[PHASE2B] hold_down_expired resume_evaluation');
        }
      }
      if (ts.holdDownTimer === null) {
        const eligible =
          score <= p.recoveryThreshold &&
          signals.cakeState === 'GREEN' &&
          signals.rttDeltaMs < 10.0 &&
          signals.dropsPerSec < 0.001;
        if (eligible) {
          if (ts.recoveryTimer === null) {
            ts.recoveryTimer = p.recoverySustainSec;
          } else {
            ts.recoveryTimer -= this.cycleIntervalSec;
            if (ts.recoveryTimer <= 0) {
              ts.recoveryTimer = null;
              wouldDecide = 'DISABLE_STEERING';
            }
          }
        } else if (ts.recoveryTimer !== null) {
          const reason: string[] = [];
          if (score > p.recoveryThreshold) reason.push(`confidence=${score}`);
          if (signals.cakeState !== 'GREEN') reason.push(`state=${signals.cakeState}`);
          if (signals.rttDeltaMs >= 10.0) reason.push(`rtt_delta=${pyFixed(signals.rttDeltaMs, 1)}ms`);
          if (signals.dropsPerSec >= 0.001) reason.push(`drops=${pyFixed(signals.dropsPerSec, 3)}`);
          events.push(`[PHASE2B] recovery_timer_reset reason=[${reason.join(', ')}]`);
          ts.recoveryTimer = null;
        }
        if (wouldDecide !== null) this.recordToggle('DISABLE', nowSeconds);
      }
    }

    if (wouldDecide !== null) {
      const sustained = wouldDecide === 'ENABLE_STEERING' ? p.sustainDurationSec : p.recoverySustainSec;
      const verb = wouldDecide === 'ENABLE_STEERING' ? 'ENABLE' : 'DISABLE';
      events.push(
        `${p.dryRun ? '[PHASE2B][DRY-RUN] WOULD_' : '[PHASE2B] '}${verb}_STEERING confidence=${score} ` +
          `sustained=${sustained}s signals=[${contributors.join(', ')}]`,
      );
    }
    return {
      score,
      contributors,
      decision: p.dryRun ? null : wouldDecide,
      wouldDecide,
      effectiveSteerThreshold: threshold,
      degradeTimer: ts.degradeTimer,
      holdDownTimer: ts.holdDownTimer,
      recoveryTimer: ts.recoveryTimer,
      flapWindowLen: ts.flapWindow.length,
      flapPenaltyActive: ts.flapPenaltyActive,
      flapPenaltyExpiry: ts.flapPenaltyExpiry,
      events,
    };
  }

  /** v1.3 `FlapDetector.record_toggle`: append, then prune entries at or before now - window. */
  private recordToggle(event: 'ENABLE' | 'DISABLE', now: number): void {
    const p = this.params;
    if (!p.flapDetectionEnabled) return;
    const w = this.ts.flapWindow;
    w.push({ event, t: now });
    if (w.length > FLAP_WINDOW_MAXLEN) w.shift();
    const cutoff = now - p.flapWindowMinutes * 60;
    while (w.length > 0 && w[0]!.t <= cutoff) w.shift();
  }

  /**
   * v1.3 `FlapDetector.check_flapping`, whose result is now used: returns the effective steer
   * threshold. Engages when more than `maxToggles` toggles are in the window; expires after
   * `penaltyDurationSec` (the window is pruned only when a toggle is recorded, as in v1.3).
   */
  private checkFlapping(now: number, events: string[]): number {
    const p = this.params;
    const ts = this.ts;
    const base = p.steerThreshold;
    if (!p.flapDetectionEnabled) return base;
    if (ts.flapPenaltyActive && ts.flapPenaltyExpiry !== null) {
      if (now < ts.flapPenaltyExpiry) return base + p.penaltyThresholdAdd;
      events.push(
        `[FLAP-BRAKE] DISENGAGED: penalty_expired, threshold=${base + p.penaltyThresholdAdd}->${base} (restored)`,
      );
      ts.flapPenaltyActive = false;
      ts.flapPenaltyExpiry = null;
      return base;
    }
    const toggles = ts.flapWindow.length;
    if (toggles > p.maxToggles) {
      events.push(
        `[FLAP-BRAKE] ENGAGED: flap_detected, toggles=${toggles}, window=${Math.floor(p.flapWindowMinutes)}min, ` +
          `threshold=${base}->${base + p.penaltyThresholdAdd}, duration=${p.penaltyDurationSec}s`,
      );
      ts.flapPenaltyActive = true;
      ts.flapPenaltyExpiry = now + p.penaltyDurationSec;
      return base + p.penaltyThresholdAdd;
    }
    return base;
  }
}
