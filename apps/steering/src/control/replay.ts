/**
 * Replay engine for `wanctl-steering replay` (pure: text or objects in, rows out).
 *
 * Input: one JSON object per line, the golden `steering_daemon` input format:
 *   {"autorate_baseline_rtt_ms": number|null, "rtt_attempts_ms": [number|null, ...],
 *    "cake": {"dropped", "queued_packets", "packets", "bytes"}|null, "router_ok": bool}
 * - autorate_baseline_rtt_ms: the value in the autorate state file; null = file absent.
 * - rtt_attempts_ms: what each ping attempt returned, in order (null = that attempt failed). Up to
 *   3 attempts are made (v1.3 measure_with_retry); the first success is used. When all fail the
 *   controller falls back to the last measured RTT.
 * - cake: cumulative counters of the primary download queue (`dropped` cumulative); null = the
 *   router command failed.
 * - router_ok: the result of any rule toggle made in that cycle.
 * Output rows use the golden field names. Cycle i runs at t = t0 + i*dt (default 1000.0 + i*0.05,
 * the golden virtual clock); confidence timers step by params.intervalSeconds (D9).
 */
import type { CakeSnapshot } from './cake.js';
import type { ConfidenceTimerState } from './confidence.js';
import { SteeringController, type SteeringCycleResult } from './controller.js';
import { ReplayInputError } from './errors.js';
import type { SteeringParams } from './params.js';

/** Ping attempts per cycle (v1.3 `_measure_current_rtt_with_retry`). */
export const RTT_MAX_ATTEMPTS = 3;
/** Names recorded in `router_calls` for a rule toggle. */
export const ROUTER_CALL_ENABLE = 'enable_steering';
export const ROUTER_CALL_DISABLE = 'disable_steering';

export interface ReplayInputLine {
  autorate_baseline_rtt_ms: number | null;
  rtt_attempts_ms: (number | null)[];
  cake: CakeSnapshot | null;
  router_ok: boolean;
}

export interface ReplayConfidenceFields {
  score: number;
  contributors: string[];
  degrade_timer: number | null;
  hold_down_timer: number | null;
  recovery_timer: number | null;
  flap_penalty_active: boolean;
}

export interface ReplayOutputLine {
  i: number;
  t: number;
  ok: boolean;
  baseline_rtt_ms: number | null;
  current_rtt_ms: number | null;
  delta_ms: number | null;
  rtt_delta_ewma_ms: number;
  queue_ewma_packets: number;
  cake_drops_delta: number;
  cake_queued_packets: number;
  congestion_state: string;
  current_state: string;
  state_changed: boolean;
  red_count: number;
  bad_count: number;
  good_count: number;
  router_calls: string[];
  cake_read_failures: number;
  cake_state_history: string[];
  history_rtt_len: number;
  /** Present only when confidence scoring is on: the timer state after the cycle. */
  confidence?: ReplayConfidenceFields;
}

export interface ReplayOptions {
  /** Virtual clock start, seconds (default 1000.0). */
  t0?: number;
  /** Virtual clock step per cycle, seconds (default 0.05, as the golden vectors). */
  dt?: number;
}

/** The first usable RTT among the first `maxAttempts` attempts, or null. */
export function pickRtt(attempts: readonly (number | null)[], maxAttempts = RTT_MAX_ATTEMPTS): number | null {
  const n = Math.min(attempts.length, maxAttempts);
  for (let k = 0; k < n; k++) {
    const v = attempts[k];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  }
  return null;
}

/** Validate one decoded input object. @throws ReplayInputError naming the line and the field. */
export function toReplayInput(obj: unknown, lineNo: number): ReplayInputLine {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new ReplayInputError(lineNo, 'expected a JSON object');
  }
  const o = obj as Record<string, unknown>;
  const b = o['autorate_baseline_rtt_ms'];
  if (b !== null && b !== undefined && typeof b !== 'number') {
    throw new ReplayInputError(
      lineNo,
      `autorate_baseline_rtt_ms must be a number or null, got ${JSON.stringify(b)}`,
    );
  }
  const a = o['rtt_attempts_ms'] ?? [];
  if (!Array.isArray(a) || !a.every((x) => x === null || typeof x === 'number')) {
    throw new ReplayInputError(lineNo, `rtt_attempts_ms must be a list of numbers (null = failed attempt)`);
  }
  const cake = o['cake'];
  if (cake !== null && cake !== undefined && (typeof cake !== 'object' || Array.isArray(cake))) {
    throw new ReplayInputError(lineNo, `cake must be an object or null, got ${JSON.stringify(cake)}`);
  }
  if (cake !== null && cake !== undefined) {
    const c = cake as Record<string, unknown>;
    for (const k of ['dropped', 'queued_packets', 'packets', 'bytes', 'queued_bytes'] as const) {
      const v = c[k];
      if (v === undefined && k === 'queued_bytes') continue;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
        throw new ReplayInputError(
          lineNo,
          `cake.${k} must be a number >= 0, got ${JSON.stringify(v) ?? 'nothing'}`,
        );
    }
  }
  const ok = o['router_ok'] ?? true;
  if (typeof ok !== 'boolean') throw new ReplayInputError(lineNo, `router_ok must be true or false`);
  return {
    autorate_baseline_rtt_ms: typeof b === 'number' ? b : null,
    rtt_attempts_ms: a as (number | null)[],
    cake: (cake ?? null) as CakeSnapshot | null,
    router_ok: ok,
  };
}

/** Parse JSONL text (blank lines skipped). @throws ReplayInputError with the 1-based line number. */
export function parseReplayInput(text: string): ReplayInputLine[] {
  const out: ReplayInputLine[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new ReplayInputError(n + 1, `not valid JSON (${(e as Error).message})`);
    }
    out.push(toReplayInput(obj, n + 1));
  }
  return out;
}

/** Stateful replay: feed input lines one at a time. */
export class SteeringReplay {
  readonly controller: SteeringController;
  private readonly t0: number;
  private readonly dt: number;
  private i = 0;

  constructor(params: SteeringParams, opts: ReplayOptions = {}) {
    this.controller = new SteeringController(params);
    this.t0 = opts.t0 ?? 1000.0;
    this.dt = opts.dt ?? 0.05;
  }

  step(input: ReplayInputLine): ReplayOutputLine {
    const i = this.i++;
    const t = this.t0 + i * this.dt;
    const r = this.controller.cycle(
      {
        autorateBaselineRttMs: input.autorate_baseline_rtt_ms,
        rttMs: pickRtt(input.rtt_attempts_ms),
        cake: input.cake,
        routerOk: input.router_ok,
      },
      t,
    );
    return toOutputLine(i, t, r, this.controller.confidenceTimers());
  }
}

function toOutputLine(
  i: number,
  t: number,
  r: SteeringCycleResult,
  timers: ConfidenceTimerState | null,
): ReplayOutputLine {
  const row: ReplayOutputLine = {
    i,
    t,
    ok: r.ok,
    baseline_rtt_ms: r.baselineRttMs,
    current_rtt_ms: r.currentRttMs,
    delta_ms: r.deltaMs,
    rtt_delta_ewma_ms: r.rttDeltaEwmaMs,
    queue_ewma_packets: r.queueEwmaPackets,
    cake_drops_delta: r.cakeDropsDelta,
    cake_queued_packets: r.cakeQueuedPackets,
    congestion_state: r.congestionState,
    current_state: r.currentState,
    state_changed: r.stateChanged,
    red_count: r.redCount,
    bad_count: r.badCount,
    good_count: r.goodCount,
    router_calls: r.action === null ? [] : [r.action === 'enable' ? ROUTER_CALL_ENABLE : ROUTER_CALL_DISABLE],
    cake_read_failures: r.cakeReadFailures,
    cake_state_history: r.cakeStateHistory,
    history_rtt_len: r.historyRttLen,
  };
  if (timers !== null) {
    // The controller's timer state after the cycle (also on a cycle that did not reach the scorer).
    row.confidence = {
      score: timers.lastScore,
      contributors: timers.lastContributors,
      degrade_timer: timers.degradeTimer,
      hold_down_timer: timers.holdDownTimer,
      recovery_timer: timers.recoveryTimer,
      flap_penalty_active: timers.flapPenaltyActive,
    };
  }
  return row;
}

/** Replay a whole sequence. */
export function replaySteering(
  params: SteeringParams,
  inputs: Iterable<ReplayInputLine>,
  opts: ReplayOptions = {},
): ReplayOutputLine[] {
  const rp = new SteeringReplay(params, opts);
  const out: ReplayOutputLine[] = [];
  for (const line of inputs) out.push(rp.step(line));
  return out;
}

/** JSONL in, JSONL out (one output line per input line, newline-terminated). */
export function replaySteeringJsonl(params: SteeringParams, text: string, opts: ReplayOptions = {}): string {
  const rows = replaySteering(params, parseReplayInput(text), opts);
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length > 0 ? '\n' : '');
}
