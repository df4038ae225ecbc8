/**
 * The pure steering controller: one cycle of v1.3 `SteeringDaemon.run_cycle` without I/O.
 *
 * The daemon shell reads the autorate state file, pings, reads the CAKE counters and toggles the
 * mangle rule; this class gets those measurements and the time as inputs and returns what to do.
 * A cycle is two calls because the router toggle sits in the middle of v1.3's state machine (its
 * outcome decides whether the counters reset or the transition is retried next cycle):
 *
 *   const p = ctl.begin(measurements, now);          // decide
 *   const ok = p.action ? await toggle(p.action) : null;
 *   const r = ctl.complete(ok);                       // apply the outcome
 *
 * `cycle(input, now)` does both with `input.routerOk` as the toggle outcome (replay, tests).
 *
 * Deliberate differences from v1.3: D8 (CAKE deltas, see cake.ts), D9 and the applied flap penalty
 * (see confidence.ts), D12 (EWMA inputs clamped and flagged, never a crash), and the histories are
 * always bounded by `historySize` and always recorded (v1.3 quirk: with a fresh state file the RTT
 * history stayed empty, so the ping fallback never worked, and the CAKE histories grew unbounded).
 */
import type { CongestionState } from './assessment.js';
import { CakeDeltaTracker, type CakeSnapshot } from './cake.js';
import { ConfidenceController, type ConfidenceEvaluation, type ConfidenceTimerState } from './confidence.js';
import { confidenceStep, hysteresisStep } from './decide.js';
import { ControllerUsageError } from './errors.js';
import { baselineStep, cakeStep, rttStep } from './measure.js';
import { type SteeringParams, stateNames } from './params.js';
import { pyFixed } from './pyfmt.js';
import { historyStep, pushBounded, smoothStep } from './smooth.js';
import { type AutorateCongestion, type WanEvaluation, WanStateGate } from './wan-state.js';

/** Length of the CAKE assessment history fed to the confidence scorer (v1.3). */
export const CAKE_STATE_HISTORY_LEN = 10;
/** v1.3 state names that also count as GOOD whatever the primary WAN is called. */
export const LEGACY_GOOD_NAMES: readonly string[] = ['SPECTRUM_GOOD', 'WAN1_GOOD', 'WAN2_GOOD'];

export interface CycleMeasurements {
  /** `ewma.baseline_rtt` from the primary WAN's autorate state file; null = file missing or unreadable. */
  autorateBaselineRttMs: number | null;
  /** The RTT after the shell's retries (median of the ping samples); null = every attempt failed. */
  rttMs: number | null;
  /** Cumulative counters of the primary download queue; null = the read failed. Ignored in legacy mode. */
  cake: CakeSnapshot | null;
  /** Wall-clock ISO time, recorded in the transitions list (optional; the law itself needs no clock). */
  timestamp?: string | null;
  /**
   * docs/decisions.md#d14: the `congestion` report of the autorate state file (age computed by the
   * shell). Omitted or null: the file has none, and the v1.3 decisions apply unchanged.
   */
  autorateCongestion?: AutorateCongestion | null;
}

export interface CycleInput extends CycleMeasurements {
  /** Outcome of a rule toggle attempted this cycle (cycle() only). Default true. */
  routerOk?: boolean;
}

export type RuleAction = 'enable' | 'disable';
/** Which mechanism proposed a toggle: v1.3's hysteresis or confidence scoring, or the D14 WAN input. */
export type ActionSource = 'hysteresis' | 'confidence' | 'wan';

export interface CycleEvent {
  level: 'debug' | 'info' | 'warning' | 'error';
  message: string;
}

export interface TransitionRecord {
  timestamp: string | null;
  from: string;
  to: string;
  bad_count: number;
  good_count: number;
}

/** The persisted state, v1.3's state-file fields and names. */
export interface SteeringStateFile {
  current_state: string;
  bad_count: number;
  good_count: number;
  baseline_rtt: number | null;
  history_rtt: number[];
  history_delta: number[];
  transitions: TransitionRecord[];
  last_transition_time: string | null;
  rtt_delta_ewma: number;
  queue_ewma: number;
  cake_drops_history: number[];
  queue_depth_history: number[];
  cake_state_history: string[];
  red_count: number;
  congestion_state: string;
  cake_read_failures: number;
}

/** What begin() decided; the shell performs `action` (if any) and then calls complete(). */
export interface PendingCycle {
  /** Rule toggle to perform now, or null. */
  readonly action: RuleAction | null;
  /** Which mechanism asked for it. */
  readonly actionSource: ActionSource | null;
  /** Why, in words (for the log line). */
  readonly reason: string | null;
  readonly fromState: string;
  readonly toState: string | null;
}

export interface SteeringCycleResult {
  /** false when the cycle could not run (no baseline ever, or no RTT and no fallback). */
  ok: boolean;
  failure: 'no_baseline' | 'no_rtt' | null;
  /** Baseline in use after this cycle (v1.3 state.baseline_rtt). */
  baselineRttMs: number | null;
  /** fresh: taken from the input; cached: input unusable, previous value used; none: cycle failed. */
  baselineSource: 'fresh' | 'cached' | 'none';
  /** Why the input baseline was not used, if it was not. */
  baselineRejected: 'missing' | 'out_of_bounds' | 'not_a_number' | null;
  currentRttMs: number | null;
  rttSource: 'measured' | 'fallback' | null;
  deltaMs: number | null;
  /** Persisted EWMAs after this cycle (unchanged in legacy mode and on a failed cycle). */
  rttDeltaEwmaMs: number;
  queueEwmaPackets: number;
  /** Drops this cycle (D8: never negative; 0 on the first read); 0 when not read. */
  cakeDropsDelta: number;
  cakeQueuedPackets: number;
  /** true read ok, false read failed, null not attempted (legacy mode or cycle failed earlier). */
  cakeReadOk: boolean | null;
  cakeReadFailures: number;
  cakeFirstRead: boolean;
  cakeCounterResets: string[];
  /** This cycle's assessment, null when none ran (legacy, confidence decision, failure). */
  assessment: CongestionState | null;
  /** v1.3 state.congestion_state after the cycle. */
  congestionState: string;
  previousState: string;
  currentState: string;
  stateChanged: boolean;
  /** The desired mangle rule state: enabled while DEGRADED. */
  steeringEnabled: boolean;
  action: RuleAction | null;
  actionSource: ActionSource | null;
  routerOk: boolean | null;
  reason: string | null;
  /** "State transition: ..." line when the state changed, or "Failed to ..." when a toggle failed. */
  transitionLogLine: string | null;
  redCount: number;
  badCount: number;
  goodCount: number;
  confidence: ConfidenceEvaluation | null;
  /** D14: what the autorate congestion report said and its timers (null when the cycle failed early). */
  wan: WanEvaluation | null;
  /** Why the state is what it is now: the signals and thresholds that hold it there (health, logs). */
  stateReason: string;
  /** D12 flags: a measurement was clamped before smoothing. */
  clamped: { rttDelta: boolean; queue: boolean };
  /** v1.3's per-cycle INFO line. */
  summary: string | null;
  events: CycleEvent[];
  historyRttLen: number;
  cakeStateHistory: string[];
}

export interface RestoreReport {
  /** Fields that were missing, of the wrong type or invalid, and what was used instead. */
  warnings: string[];
}

/** The result being built by begin() (complete() adds the outcome of the toggle and the state). */
export type CycleDraft = Omit<
  SteeringCycleResult,
  | 'stateChanged'
  | 'routerOk'
  | 'transitionLogLine'
  | 'currentState'
  | 'steeringEnabled'
  | 'redCount'
  | 'badCount'
  | 'goodCount'
  | 'congestionState'
  | 'historyRttLen'
  | 'cakeStateHistory'
  | 'rttDeltaEwmaMs'
  | 'queueEwmaPackets'
  | 'cakeReadFailures'
  | 'stateReason'
>;

/** Counter values to persist when the toggle succeeds / fails (hysteresis path). */
export interface CounterOutcome {
  degrade: number;
  recover: number;
}

interface Stash {
  pending: PendingCycle;
  partial: CycleDraft;
  countersOnSuccess: CounterOutcome | null;
  countersOnFailure: CounterOutcome | null;
  /** Counter values from before this cycle (recorded in the transition). */
  prevBad: number;
  prevGood: number;
  timestamp: string | null;
  nowSeconds: number;
}

function defaultState(good: string): SteeringStateFile {
  return {
    current_state: good,
    bad_count: 0,
    good_count: 0,
    baseline_rtt: null,
    history_rtt: [],
    history_delta: [],
    transitions: [],
    last_transition_time: null,
    rtt_delta_ewma: 0.0,
    queue_ewma: 0.0,
    cake_drops_history: [],
    queue_depth_history: [],
    cake_state_history: [],
    red_count: 0,
    congestion_state: 'GREEN',
    cake_read_failures: 0,
  };
}

export class SteeringController {
  readonly params: SteeringParams;
  readonly stateGood: string;
  readonly stateDegraded: string;
  private st: SteeringStateFile;
  private readonly cakeTracker = new CakeDeltaTracker();
  private readonly conf: ConfidenceController | null;
  private readonly wanGate: WanStateGate;
  private stash: Stash | null = null;
  /** The reason of the transition into the current state (null after a restore or adoption). */
  private stateEnteredBecause: string | null = null;

  constructor(params: SteeringParams) {
    this.params = params;
    const names = stateNames(params.primaryWan);
    this.stateGood = names.good;
    this.stateDegraded = names.degraded;
    this.st = defaultState(this.stateGood);
    this.conf = params.confidence
      ? new ConfidenceController(
          params.confidence,
          params.intervalSeconds,
          this.stateGood,
          this.stateDegraded,
        )
      : null;
    this.wanGate = new WanStateGate(params.wanState);
  }

  /** Current state name (`<WAN>_GOOD` or `<WAN>_DEGRADED`, or a not-yet-normalised restored name). */
  get currentState(): string {
    return this.st.current_state;
  }

  /** Whether the rule should be enabled (the state is not GOOD). */
  get steeringEnabled(): boolean {
    return !this.isGood(this.st.current_state);
  }

  /** Confidence timers (null when confidence scoring is off). */
  confidenceTimers(): ConfidenceTimerState | null {
    return this.conf ? this.conf.timers() : null;
  }

  private isGood(s: string): boolean {
    return s === this.stateGood || LEGACY_GOOD_NAMES.includes(s);
  }

  /**
   * Start-up reconciliation (v1.3 never looked): make the state agree with the rule's real state on
   * the router. Resets counters and confidence timers when the state changes. Returns whether it did.
   */
  adoptRuleState(ruleEnabled: boolean): boolean {
    const want = ruleEnabled ? this.stateDegraded : this.stateGood;
    if (this.st.current_state === want) return false;
    this.st.current_state = want;
    this.st.red_count = 0;
    this.st.bad_count = 0;
    this.st.good_count = 0;
    this.conf?.reset();
    this.wanGate.reset();
    this.stateEnteredBecause = 'adopted from the rule on the router';
    return true;
  }

  /**
   * Decide this cycle. Must be followed by complete() before the next begin(). The steps are
   * v1.3's, in its order: 1 baseline, 2 CAKE counters, 3 RTT (measure.ts); 4/5 delta and EWMAs,
   * 6 history (smooth.ts); 7a confidence scoring, else 7b hysteresis (decide.ts).
   */
  begin(m: CycleMeasurements, nowSeconds: number): PendingCycle {
    if (this.stash !== null) throw new ControllerUsageError('begin() called again before complete()');
    const p = this.params;
    const st = this.st;
    const previousState = st.current_state;
    const draft: CycleDraft = {
      ok: false,
      failure: null,
      baselineRttMs: st.baseline_rtt,
      baselineSource: 'none',
      baselineRejected: null,
      currentRttMs: null,
      rttSource: null,
      deltaMs: null,
      cakeDropsDelta: 0,
      cakeQueuedPackets: 0,
      cakeReadOk: null,
      cakeFirstRead: false,
      cakeCounterResets: [],
      assessment: null,
      previousState,
      action: null,
      actionSource: null,
      reason: null,
      confidence: null,
      wan: null,
      clamped: { rttDelta: false, queue: false },
      summary: null,
      events: [],
    };
    const stash: Stash = {
      pending: {
        action: null,
        actionSource: null,
        reason: null,
        fromState: previousState,
        toState: null,
      },
      partial: draft,
      countersOnSuccess: null,
      countersOnFailure: null,
      prevBad: st.bad_count,
      prevGood: st.good_count,
      timestamp: m.timestamp ?? null,
      nowSeconds,
    };
    // (the stash is set only when begin() returns: a throw leaves the controller ready)
    // 1. Baseline from the autorate state file (bounds inclusive).
    if (!baselineStep(st, m.autorateBaselineRttMs, p, draft)) {
      draft.failure = 'no_baseline';
      this.stash = stash;
      return stash.pending;
    }
    // 2. CAKE counters (CAKE-aware mode only): draft.cakeDropsDelta / cakeQueuedPackets.
    if (p.cakeAware) cakeStep(st, m.cake, p, this.cakeTracker, draft);
    // 3. RTT, falling back to the last measured RTT.
    const rtt = rttStep(st, m.rttMs, draft);
    if (rtt === null) {
      draft.failure = 'no_rtt';
      this.stash = stash;
      return stash.pending;
    }
    // 4./5. Delta and EWMAs; 6. history (always recorded, always bounded).
    const signal = smoothStep(st, rtt, p, draft);
    historyStep(st, rtt, p, draft);
    const delta = draft.deltaMs as number;
    const wanUp = p.primaryWan.toUpperCase();
    const suffix = st.current_state.split('_').pop() ?? st.current_state;
    const sig = `rtt=${pyFixed(delta, 1)}ms ewma=${pyFixed(signal, 1)}ms drops=${draft.cakeDropsDelta} q=${draft.cakeQueuedPackets}`;
    draft.summary = p.cakeAware
      ? `[${wanUp}_${suffix}] ${sig} | congestion=${st.congestion_state}`
      : `[${wanUp}_${suffix}] RTT=${pyFixed(rtt, 1)}ms, baseline=${pyFixed(st.baseline_rtt as number, 1)}ms, ` +
        `delta=${pyFixed(delta, 1)}ms | bad_count=${st.bad_count}/${p.badSamples}, good_count=${st.good_count}/${p.goodSamples}`;

    // D14: the autorate congestion report (its own timers; proposes only when present).
    const steered = !this.isGood(st.current_state);
    const wan = this.wanGate.evaluate(m.autorateCongestion, steered, delta, nowSeconds);
    draft.wan = wan;
    const wanPresent = wan.status === 'fresh' || wan.status === 'stale';
    // 7a. Confidence scoring (sees the previous cycle's assessment, as v1.3).
    const names = { good: this.stateGood, degraded: this.stateDegraded };
    const wanZone =
      wan.status === 'fresh'
        ? { zone: wan.zone, weights: { red: p.wanState.redWeight, softRed: p.wanState.softRedWeight } }
        : null;
    const byConfidence = this.conf ? confidenceStep(this.conf, st, draft, names, nowSeconds, wanZone) : null;
    if (byConfidence !== null) {
      stash.pending = byConfidence;
    } else {
      // 7b. Hysteresis (v1.3 _update_state_machine_unified).
      const h = hysteresisStep(st, p, draft, signal, sig, names, this.isGood(st.current_state));
      stash.pending = h.pending;
      stash.countersOnSuccess = h.onSuccess;
      stash.countersOnFailure = h.onFailure;
    }
    if (wanPresent) this.applyWan(stash, wan, steered, names);
    draft.action = stash.pending.action;
    draft.actionSource = stash.pending.actionSource;
    draft.reason = stash.pending.reason;
    this.stash = stash;
    return stash.pending;
  }

  /**
   * D14 on top of v1.3's proposal: enable on confirmed congestion the shaper cannot fix; no
   * disable during the hold-down after an enable, nor while a fresh report shows that congestion;
   * disable once the line has recovered.
   */
  private applyWan(
    stash: Stash,
    wan: WanEvaluation,
    steered: boolean,
    names: { good: string; degraded: string },
  ): void {
    const pend = stash.pending;
    const ev = stash.partial.events;
    const wanName = this.params.primaryWan.toUpperCase();
    if (!steered && pend.action === null && wan.enable !== null) {
      stash.pending = {
        action: 'enable',
        actionSource: 'wan',
        reason: `${wanName} DEGRADED (D14): ${wan.enable}`,
        fromState: names.good,
        toState: names.degraded,
      };
      // v1.3's counters as the hysteresis left them; reset once the toggle succeeded
      const keep = stash.countersOnFailure;
      stash.countersOnSuccess = keep ? { degrade: 0, recover: 0 } : null;
    } else if (steered && pend.action === 'disable' && (wan.holdDownLeftSec !== null || wan.congestedNow)) {
      ev.push({
        level: 'info',
        message: `[${wanName}_DEGRADED] recovery held by ${
          wan.holdDownLeftSec !== null
            ? `the D14 hold-down (${pyFixed(wan.holdDownLeftSec, 1)}s left)`
            : 'the autorate report (RED at its floor with a high RTT delta)'
        }: ${pend.reason ?? ''}`,
      });
      stash.pending = {
        action: null,
        actionSource: null,
        reason: null,
        fromState: pend.fromState,
        toState: null,
      };
      // the hysteresis keeps its recover count, so it fires once the hold-down is over
      stash.countersOnSuccess = stash.countersOnFailure;
    } else if (steered && pend.action === null && wan.disable !== null) {
      stash.pending = {
        action: 'disable',
        actionSource: 'wan',
        reason: `${wanName} RECOVERED (D14): ${wan.disable}`,
        fromState: names.degraded,
        toState: names.good,
      };
      const keep = stash.countersOnFailure;
      stash.countersOnSuccess = keep ? { degrade: 0, recover: 0 } : null;
    }
  }

  /** Why the state is what it is now (signals and thresholds), after a cycle. */
  private describeState(r: Omit<SteeringCycleResult, 'stateReason'>): string {
    const p = this.params;
    const t = p.thresholds;
    const wan = r.wan;
    const parts: string[] = [];
    if (!r.ok) parts.push(`cycle failed (${r.failure}); state unchanged`);
    if (r.steeringEnabled) {
      parts.push(`steered because: ${this.stateEnteredBecause ?? 'state restored as DEGRADED'}`);
      const rec: string[] = [];
      if (wan && (wan.status === 'fresh' || wan.status === 'stale')) {
        if (wan.holdDownLeftSec !== null) rec.push(`hold-down ${pyFixed(wan.holdDownLeftSec, 1)}s left`);
        rec.push(
          wan.clearForSec !== null
            ? `RTT clear for ${pyFixed(wan.clearForSec, 1)}s of ${p.wanState.recoverySec}s`
            : `waiting for rtt delta < ${p.wanState.recoveryRttMs}ms${wan.status === 'fresh' ? ' and no RED direction' : ''} (now ${r.deltaMs === null ? '?' : pyFixed(r.deltaMs, 1)}ms)`,
        );
      }
      rec.push(
        p.cakeAware
          ? `v1.3: GREEN ${r.goodCount}/${t.green_samples_required} (rtt_ewma <= ${t.yellow_rtt}ms, queue < ${t.min_queue_yellow})`
          : `v1.3: delta < ${p.recoveryThresholdMs}ms ${r.goodCount}/${p.goodSamples}`,
      );
      parts.push(`recovery: ${rec.join('; ')}`);
    } else {
      parts.push(
        p.cakeAware
          ? `not steered: CAKE RED needs rtt_ewma > ${t.red_rtt}ms (now ${pyFixed(r.rttDeltaEwmaMs, 1)}), drops >= ${t.min_drops_red} (now ${r.cakeDropsDelta}), queue >= ${t.min_queue_red} (now ${r.cakeQueuedPackets}) for ${t.red_samples_required} cycles (red_count ${r.redCount})`
          : `not steered: delta > ${p.badThresholdMs}ms (now ${r.deltaMs === null ? '?' : pyFixed(r.deltaMs, 1)}) for ${p.badSamples} cycles (bad_count ${r.badCount})`,
      );
      if (r.confidence)
        parts.push(
          `confidence ${r.confidence.score} (steer at ${r.confidence.effectiveSteerThreshold}) [${r.confidence.contributors.join(', ')}]`,
        );
      if (wan?.congestedForSec != null)
        parts.push(`D14 congestion for ${pyFixed(wan.congestedForSec, 1)}s of ${p.wanState.confirmSec}s`);
    }
    if (wan) parts.push(wan.summary);
    return parts.join('; ');
  }

  /**
   * Apply the outcome of the toggle begin() asked for (`routerOk`; ignored when there was no
   * action) and finish the cycle. A failed toggle leaves the state unchanged and keeps the counter,
   * so the next qualifying cycle retries (v1.3).
   */
  complete(routerOk: boolean | null): SteeringCycleResult {
    const s = this.stash;
    if (s === null) throw new ControllerUsageError('complete() called without begin()');
    this.stash = null;
    const p = this.params;
    const st = this.st;
    const pend = s.pending;
    let stateChanged = false;
    let transitionLogLine: string | null = null;
    let ok: boolean | null = null;
    if (pend.action !== null && pend.toState !== null) {
      ok = routerOk === true;
      if (ok) {
        const rec: TransitionRecord = {
          timestamp: s.timestamp,
          from: pend.fromState,
          to: pend.toState,
          bad_count: s.prevBad,
          good_count: s.prevGood,
        };
        pushBounded(st.transitions, rec, p.historySize);
        st.last_transition_time = s.timestamp;
        st.current_state = pend.toState;
        stateChanged = true;
        this.stateEnteredBecause = pend.reason;
        const w = s.partial.wan;
        this.wanGate.transitioned(
          !this.isGood(pend.toState),
          s.nowSeconds,
          w !== null && (w.status === 'fresh' || w.status === 'stale'),
        );
        transitionLogLine = `State transition: ${pend.fromState} -> ${pend.toState} (${pend.reason ?? ''})`;
      } else {
        transitionLogLine =
          `Failed to ${pend.action} steering, staying in ${pend.fromState} (${pend.reason ?? ''}); ` +
          'will retry while the condition holds';
        s.partial.events.push({ level: 'error', message: transitionLogLine });
      }
    }
    const counters = ok ? s.countersOnSuccess : s.countersOnFailure;
    if (counters !== null) {
      if (p.cakeAware) st.red_count = counters.degrade;
      else st.bad_count = counters.degrade;
      st.good_count = counters.recover;
    }
    if (s.partial.ok && p.cakeAware)
      pushBounded(st.cake_state_history, st.congestion_state, CAKE_STATE_HISTORY_LEN);
    if (stateChanged && transitionLogLine)
      s.partial.events.push({ level: 'info', message: transitionLogLine });
    const result: Omit<SteeringCycleResult, 'stateReason'> = {
      ...s.partial,
      routerOk: ok,
      stateChanged,
      transitionLogLine,
      currentState: st.current_state,
      steeringEnabled: !this.isGood(st.current_state),
      congestionState: st.congestion_state,
      rttDeltaEwmaMs: st.rtt_delta_ewma,
      queueEwmaPackets: st.queue_ewma,
      cakeReadFailures: st.cake_read_failures,
      redCount: st.red_count,
      badCount: st.bad_count,
      goodCount: st.good_count,
      historyRttLen: st.history_rtt.length,
      cakeStateHistory: st.cake_state_history.slice(),
    };
    return { ...result, stateReason: this.describeState(result) };
  }

  /** begin() + complete() with `input.routerOk` (default true) as the toggle outcome. */
  cycle(input: CycleInput, nowSeconds: number): SteeringCycleResult {
    const pend = this.begin(input, nowSeconds);
    return this.complete(pend.action === null ? null : (input.routerOk ?? true));
  }

  /** The state to persist (v1.3 field names; a deep copy, JSON-ready). */
  snapshot(): SteeringStateFile {
    const st = this.st;
    return {
      ...st,
      history_rtt: st.history_rtt.slice(),
      history_delta: st.history_delta.slice(),
      transitions: st.transitions.map((t) => ({ ...t })),
      cake_drops_history: st.cake_drops_history.slice(),
      queue_depth_history: st.queue_depth_history.slice(),
      cake_state_history: st.cake_state_history.slice(),
    };
  }

  /**
   * Load a persisted state (parsed JSON of any shape). Like v1.3, each field that is missing or of
   * the wrong type falls back to its default and unknown keys are dropped; unlike v1.3, histories
   * are always bounded and `last_transition_time` survives. `baseline_rtt` is not restored (as v1.3:
   * the baseline comes from the autorate state file). CAKE reference and confidence timers are not
   * persisted. Never throws.
   */
  restore(raw: unknown): RestoreReport {
    if (this.stash !== null) throw new ControllerUsageError('restore() during a cycle');
    const warnings: string[] = [];
    const d = defaultState(this.stateGood);
    const cap = this.params.historySize;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      warnings.push('state is not a JSON object: using defaults');
      this.st = d;
      return { warnings };
    }
    const o = raw as Record<string, unknown>;
    const numField = (k: keyof SteeringStateFile, opts: { int?: boolean; min?: number } = {}): number => {
      const v = o[k];
      const def = d[k] as number;
      if (v === undefined) return def;
      if (
        typeof v !== 'number' ||
        !Number.isFinite(v) ||
        (opts.int && !Number.isInteger(v)) ||
        (opts.min !== undefined && v < opts.min)
      ) {
        warnings.push(`${k}: invalid value ${JSON.stringify(v)}, using ${def}`);
        return def;
      }
      return v;
    };
    const numArray = (k: keyof SteeringStateFile): number[] => {
      const v = o[k];
      if (v === undefined) return [];
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        warnings.push(`${k}: not a list of numbers, using []`);
        return [];
      }
      return (v as number[]).slice(-cap);
    };
    const st: SteeringStateFile = { ...d };
    const cs = o['current_state'];
    if (typeof cs === 'string' && cs.length > 0) st.current_state = cs;
    else if (cs !== undefined)
      warnings.push(`current_state: invalid value ${JSON.stringify(cs)}, using ${d.current_state}`);
    st.bad_count = numField('bad_count', { int: true, min: 0 });
    st.good_count = numField('good_count', { int: true, min: 0 });
    st.red_count = numField('red_count', { int: true, min: 0 });
    st.cake_read_failures = numField('cake_read_failures', { int: true, min: 0 });
    st.rtt_delta_ewma = numField('rtt_delta_ewma');
    st.queue_ewma = numField('queue_ewma');
    st.history_rtt = numArray('history_rtt');
    st.history_delta = numArray('history_delta');
    st.cake_drops_history = numArray('cake_drops_history');
    st.queue_depth_history = numArray('queue_depth_history');
    const csh = o['cake_state_history'];
    if (Array.isArray(csh) && csh.every((x) => typeof x === 'string')) {
      st.cake_state_history = (csh as string[]).slice(-CAKE_STATE_HISTORY_LEN);
    } else if (csh !== undefined) warnings.push('cake_state_history: not a list of strings, using []');
    const cong = o['congestion_state'];
    if (cong === 'GREEN' || cong === 'YELLOW' || cong === 'RED') st.congestion_state = cong;
    else if (cong !== undefined)
      warnings.push(`congestion_state: invalid value ${JSON.stringify(cong)}, using GREEN`);
    const ltt = o['last_transition_time'];
    if (typeof ltt === 'string') st.last_transition_time = ltt;
    const tr = o['transitions'];
    if (Array.isArray(tr)) {
      st.transitions = tr
        .filter((x): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x))
        .filter((x) => typeof x['from'] === 'string' && typeof x['to'] === 'string')
        .map((x) => ({
          timestamp: typeof x['timestamp'] === 'string' ? x['timestamp'] : null,
          from: x['from'] as string,
          to: x['to'] as string,
          bad_count: typeof x['bad_count'] === 'number' ? x['bad_count'] : 0,
          good_count: typeof x['good_count'] === 'number' ? x['good_count'] : 0,
        }))
        .slice(-cap);
    } else if (tr !== undefined) warnings.push('transitions: not a list, using []');
    this.st = st;
    this.cakeTracker.reset();
    this.conf?.reset();
    this.wanGate.reset();
    this.stateEnteredBecause = null;
    return { warnings };
  }
}
