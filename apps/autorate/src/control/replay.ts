/**
 * Replay: runs the control law on recorded per-cycle inputs (one JSON object per line) and yields
 * one output object per input line. Pure: no files, no clock. The CLI wraps it.
 *
 * Input line: `{"rtt_ms": number|null}` or `{"rtts_ms": [number|null, ...]}` (one entry per
 * reflector slot), optional `gateway_ok`, `tcp_rtts_ms` ([number|null, ...]), `router_ok`
 * (default true), `t` (seconds, default i * intervalSeconds), `dl_achieved_bps` and
 * `ul_achieved_bps` (what each shaper delivered since the previous line, bit/s; null or absent =
 * unknown). Unknown fields are ignored. A write is taken as applied at once with the line's
 * `router_ok`; `router_write` is what reaches the router after the law's write policy.
 *
 * The law is `v1.3` (default; ignores the achieved rates) or `adaptive`.
 */
import {
  AdaptiveController,
  type AdaptiveParams,
  adaptiveParamsFromControl,
  MIN_RATE_FRACTION,
} from './adaptive.js';
import { ControlError } from './errors.js';
import type { ControlParams } from './params.js';
import type { Zone } from './queue.js';
import { type CycleInput, WanController } from './wan-controller.js';
import type { WritePolicyParams } from './write-policy.js';

/** The two control laws (`continuous_monitoring.control_law`). */
export type ControlLawName = 'v1.3' | 'adaptive';

export interface ReplayOptions {
  /** Default `v1.3`. */
  law?: ControlLawName | undefined;
  /** Adaptive parameters; default: {@link adaptiveParamsFromControl} of the control params. */
  adaptive?: AdaptiveParams | undefined;
  /** The adaptive law's write policy when `adaptive` is not given (config `write_policy`); default {@link WRITE_POLICY_DEFAULTS}. */
  writePolicy?: Partial<WritePolicyParams> | undefined;
  /** Config `cut_below_floor` when `adaptive` is not given (default false, docs/decisions.md#d16). */
  cutBelowFloor?: boolean | undefined;
}

/** A parsed replay input line. */
export type ReplayInput = CycleInput & {
  t?: number;
  dl_achieved_bps?: number | null;
  ul_achieved_bps?: number | null;
  dl_queued_bytes?: number | null;
  ul_queued_bytes?: number | null;
};

export interface ReplayOutputLine {
  i: number;
  t: number;
  ok: boolean;
  measured_rtt_ms: number | null;
  load_rtt_ms: number;
  baseline_rtt_ms: number;
  dl_zone: Zone | null;
  dl_rate_bps: number | null;
  ul_zone: Zone | null;
  ul_rate_bps: number | null;
  router_write: [number, number] | null;
  /** Adaptive law only: the law, the median delay over the reflectors' baselines (ms), bloat seen, per-direction action and load. */
  law?: ControlLawName;
  delay_ms?: number | null;
  bloat?: boolean;
  dl_action?: string;
  ul_action?: string;
  dl_load?: string;
  ul_load?: string;
  bad_reflectors?: number;
}

/** A replay input line that cannot be used; `line` is 1-based. */
export class ReplayInputError extends ControlError {
  override readonly name = 'ReplayInputError';
  readonly code = 'WANCTL_REPLAY_INPUT_INVALID';
  constructor(
    readonly line: number,
    readonly detail: string,
  ) {
    super(`replay input line ${line}: ${detail}`);
  }
}

function isNumOrNull(v: unknown): boolean {
  return v === null || typeof v === 'number';
}

/** Parses and checks one input line (a JSON text or an already parsed value). */
export function parseReplayInput(raw: unknown, lineNo: number): ReplayInput {
  let v = raw;
  if (typeof raw === 'string') {
    try {
      v = JSON.parse(raw);
    } catch (e) {
      throw new ReplayInputError(lineNo, `not valid JSON (${(e as Error).message})`);
    }
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ReplayInputError(lineNo, 'expected a JSON object');
  }
  const o = v as Record<string, unknown>;
  const out: ReplayInput = {};
  if ('rtts_ms' in o) {
    const a = o['rtts_ms'];
    if (!Array.isArray(a) || !a.every(isNumOrNull)) {
      throw new ReplayInputError(lineNo, '"rtts_ms" must be an array of numbers');
    }
    out.rtts_ms = a as (number | null)[];
  } else if ('rtt_ms' in o) {
    const x = o['rtt_ms'];
    if (!isNumOrNull(x)) throw new ReplayInputError(lineNo, '"rtt_ms" must be a number or null');
    out.rtt_ms = x as number | null;
  } else {
    throw new ReplayInputError(lineNo, 'needs "rtt_ms" or "rtts_ms"');
  }
  if ('gateway_ok' in o && o['gateway_ok'] !== undefined) {
    if (typeof o['gateway_ok'] !== 'boolean')
      throw new ReplayInputError(lineNo, '"gateway_ok" must be a boolean');
    out.gateway_ok = o['gateway_ok'];
  }
  if ('tcp_rtts_ms' in o && o['tcp_rtts_ms'] !== undefined) {
    const a = o['tcp_rtts_ms'];
    if (!Array.isArray(a) || !a.every(isNumOrNull)) {
      throw new ReplayInputError(lineNo, '"tcp_rtts_ms" must be an array of numbers or nulls');
    }
    out.tcp_rtts_ms = a as (number | null)[];
  }
  if ('router_ok' in o && o['router_ok'] !== undefined) {
    if (typeof o['router_ok'] !== 'boolean')
      throw new ReplayInputError(lineNo, '"router_ok" must be a boolean');
    out.router_ok = o['router_ok'];
  }
  for (const k of ['dl_achieved_bps', 'ul_achieved_bps'] as const) {
    if (!(k in o) || o[k] === undefined || o[k] === null) continue;
    const x = o[k];
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
      throw new ReplayInputError(lineNo, `"${k}" must be a number >= 0 (bit/s) or null`);
    }
    out[k] = x;
  }
  for (const k of ['dl_queued_bytes', 'ul_queued_bytes'] as const) {
    if (!(k in o) || o[k] === undefined || o[k] === null) continue;
    const x = o[k];
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
      throw new ReplayInputError(lineNo, `"${k}" must be a number >= 0 (bytes) or null`);
    }
    out[k] = x;
  }
  if ('t' in o && o['t'] !== undefined) {
    const t = o['t'];
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0)
      throw new ReplayInputError(lineNo, '"t" must be a finite number of seconds >= 0');
    out.t = t;
  }
  return out;
}

/**
 * Incremental replay: feed lines one at a time (for a pipe driven in closed loop, where each
 * output must be written before the next input exists). Blank lines are skipped (return null).
 */
export class ReplaySession {
  private readonly v13: WanController | null;
  /** The adaptive controller (null when the law is v1.3). */
  readonly adaptive: AdaptiveController | null;
  readonly law: ControlLawName;
  private i = 0;
  private lineNo = 0;

  constructor(
    readonly params: ControlParams,
    opts: ReplayOptions = {},
  ) {
    this.law = opts.law ?? 'v1.3';
    if (this.law === 'adaptive') {
      this.v13 = null;
      this.adaptive = new AdaptiveController(
        opts.adaptive ??
          adaptiveParamsFromControl(params, {
            ...(opts.writePolicy ? { writePolicy: opts.writePolicy } : {}),
            ...(opts.cutBelowFloor === true ? { minRateFraction: MIN_RATE_FRACTION } : {}),
          }),
      );
    } else if (this.law === 'v1.3') {
      this.v13 = new WanController(params);
      this.adaptive = null;
    } else {
      throw new TypeError(`unknown control law "${String(this.law)}" (expected v1.3 or adaptive)`);
    }
  }

  /** The v1.3 controller. Throws TypeError when the session runs the adaptive law (see `adaptive`). */
  get controller(): WanController {
    if (this.v13 === null) throw new TypeError('this replay session runs the adaptive law; use .adaptive');
    return this.v13;
  }

  step(line: unknown): ReplayOutputLine | null {
    this.lineNo++;
    if (typeof line === 'string' && line.trim() === '') return null;
    const input = parseReplayInput(line, this.lineNo);
    const i = this.i++;
    const t = input.t ?? i * this.params.intervalSeconds;
    if (input.router_ok === undefined) input.router_ok = true;
    if (this.adaptive !== null) {
      const r = this.adaptive.cycle(input, t);
      return {
        i,
        t,
        ok: r.routerOk,
        measured_rtt_ms: r.rttMs,
        load_rtt_ms: r.rttMs ?? Number.NaN,
        baseline_rtt_ms: r.baselineMs ?? Number.NaN,
        dl_zone: r.bloat
          ? 'RED'
          : r.delayMs !== null && r.delayMs > this.adaptive.params.thresholdMs / 2
            ? 'YELLOW'
            : 'GREEN',
        dl_rate_bps: r.dl.rateBps,
        ul_zone: r.bloat ? 'RED' : 'GREEN',
        ul_rate_bps: r.ul.rateBps,
        router_write: r.write === null ? null : [r.write.dlBps, r.write.ulBps],
        law: 'adaptive',
        delay_ms: r.delayMs,
        bloat: r.bloat,
        dl_action: r.dl.action,
        ul_action: r.ul.action,
        dl_load: r.dl.load,
        ul_load: r.ul.load,
        bad_reflectors: r.badReflectors,
      };
    }
    const r = this.controller.cycle(input, t);
    return {
      i,
      t,
      ok: r.ok,
      measured_rtt_ms: r.measuredRttMs,
      load_rtt_ms: r.loadRttMs,
      baseline_rtt_ms: r.baselineRttMs,
      dl_zone: r.dlZone,
      dl_rate_bps: r.dlRateBps,
      ul_zone: r.ulZone,
      ul_rate_bps: r.ulRateBps,
      router_write: r.write === null ? null : [r.write.dlBps, r.write.ulBps],
    };
  }
}

/**
 * Replays `lines` (strings of JSON, or parsed objects; sync or async iterable) and yields one
 * output line per non-blank input line, as soon as that input has been read.
 * Throws {@link ReplayInputError} on a malformed line.
 */
export async function* replay(
  params: ControlParams,
  lines: AsyncIterable<unknown> | Iterable<unknown>,
  opts: ReplayOptions = {},
): AsyncGenerator<ReplayOutputLine> {
  const s = new ReplaySession(params, opts);
  for await (const line of lines) {
    const out = s.step(line);
    if (out !== null) yield out;
  }
}

/** Synchronous replay over an array or other iterable. */
export function replaySync(
  params: ControlParams,
  lines: Iterable<unknown>,
  opts: ReplayOptions = {},
): ReplayOutputLine[] {
  const s = new ReplaySession(params, opts);
  const out: ReplayOutputLine[] = [];
  for (const line of lines) {
    const o = s.step(line);
    if (o !== null) out.push(o);
  }
  return out;
}
