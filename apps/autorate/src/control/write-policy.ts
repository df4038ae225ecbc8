/**
 * The router write policy of the adaptive law: which decided rate goes to the router, and when.
 * Pure (time is an argument), allocation-free per call.
 *
 * - change-only: nothing is written while the router holds the decided rates;
 * - deadband: a change smaller than `deadbandFraction` of the router's rate in both directions
 *   waits until it has persisted `deadbandHoldS` (then it is written: no decision is lost);
 * - budget (RouterOS): a token bucket of `burst` writes refilled at `writesPerSecond`; every write
 *   costs one token, so over any run the average stays at or below `writesPerSecond` plus the
 *   initial burst. An increase leaves `reserveForDecrease` tokens in the bucket, so a decrease
 *   (the write that protects latency) always goes first;
 * - one write in flight at a time; a failed write leaves the router's rates as they were and the
 *   latest decision is offered again on the next call: writes are never lost, the latest decided
 *   rate reaches the router as soon as the budget and the router allow.
 *
 * `unlimited` (the Linux `tc` shaper) writes every change at once: no budget, no deadband.
 */
import { ControlParamsError } from './params.js';
import type { WriteRequest } from './wan-controller.js';

export interface WritePolicyParams {
  /** `budgeted` (RouterOS) or `unlimited` (linux-cake). */
  mode: 'budgeted' | 'unlimited';
  /** Sustained writes per second (budgeted). Default 2. */
  writesPerSecond: number;
  /** Bucket size: most writes in a burst (budgeted). Default 4. */
  burst: number;
  /** Tokens an increase must leave for a following decrease (budgeted). Default 1. */
  reserveForDecrease: number;
  /** Relative change under which a write waits (budgeted). Default 0.01. */
  deadbandFraction: number;
  /** A change inside the deadband is written after this long, s (budgeted). Default 1. */
  deadbandHoldS: number;
}

export const WRITE_POLICY_DEFAULTS: Readonly<WritePolicyParams> = Object.freeze({
  mode: 'budgeted',
  writesPerSecond: 2,
  burst: 4,
  reserveForDecrease: 1,
  deadbandFraction: 0.01,
  deadbandHoldS: 1,
});

/** Checks a write policy; throws ControlParamsError with the offending path. */
export function validateWritePolicy(p: WritePolicyParams, path = 'writePolicy'): WritePolicyParams {
  if (p.mode !== 'budgeted' && p.mode !== 'unlimited') {
    throw new ControlParamsError(`${path}.mode`, "'budgeted' or 'unlimited'", p.mode);
  }
  if (!(Number.isFinite(p.writesPerSecond) && p.writesPerSecond > 0)) {
    throw new ControlParamsError(`${path}.writesPerSecond`, 'a number > 0', p.writesPerSecond);
  }
  if (!(Number.isFinite(p.burst) && p.burst >= 1)) {
    throw new ControlParamsError(`${path}.burst`, 'a number >= 1', p.burst);
  }
  if (
    !(Number.isFinite(p.reserveForDecrease) && p.reserveForDecrease >= 0 && p.reserveForDecrease < p.burst)
  ) {
    throw new ControlParamsError(
      `${path}.reserveForDecrease`,
      `a number in [0, burst (${p.burst}))`,
      p.reserveForDecrease,
    );
  }
  if (!(Number.isFinite(p.deadbandFraction) && p.deadbandFraction >= 0 && p.deadbandFraction < 0.5)) {
    throw new ControlParamsError(`${path}.deadbandFraction`, 'a number in [0, 0.5)', p.deadbandFraction);
  }
  if (!(Number.isFinite(p.deadbandHoldS) && p.deadbandHoldS >= 0)) {
    throw new ControlParamsError(`${path}.deadbandHoldS`, 'a number >= 0', p.deadbandHoldS);
  }
  return p;
}

export class WritePolicy {
  readonly params: Readonly<WritePolicyParams>;
  /** What the router holds, as far as we know (null before the first successful write). */
  routerDlBps: number | null = null;
  routerUlBps: number | null = null;
  /** Writes issued (successful or not). */
  writes = 0;
  private tokens: number;
  private lastRefillS = Number.NaN;
  private inFlight = false;
  private readonly request: WriteRequest = { dlBps: 0, ulBps: 0 };
  /** Since when the decision has differed from the router by less than the deadband. */
  private smallSinceS = Number.NaN;

  constructor(params: Partial<WritePolicyParams> = {}) {
    this.params = validateWritePolicy({ ...WRITE_POLICY_DEFAULTS, ...params });
    this.tokens = this.params.burst;
  }

  get writeInFlight(): boolean {
    return this.inFlight;
  }

  /** Tokens in the bucket now (budgeted). */
  tokensAt(nowS: number): number {
    this.refill(nowS);
    return this.tokens;
  }

  private refill(nowS: number): void {
    if (Number.isNaN(this.lastRefillS)) {
      this.lastRefillS = nowS;
      return;
    }
    const dt = nowS - this.lastRefillS;
    if (dt > 0) {
      this.tokens = Math.min(this.params.burst, this.tokens + dt * this.params.writesPerSecond);
      this.lastRefillS = nowS;
    }
  }

  /**
   * Offers the latest decided rates. Returns the write to perform now (a reused object: copy
   * it if you keep it) or null. The caller reports the outcome with {@link completed}.
   */
  offer(dlBps: number, ulBps: number, nowS: number): WriteRequest | null {
    this.refill(nowS);
    if (this.inFlight) return null;
    const rd = this.routerDlBps;
    const ru = this.routerUlBps;
    if (rd === dlBps && ru === ulBps) {
      this.smallSinceS = Number.NaN;
      return null;
    }
    const p = this.params;
    if (p.mode === 'budgeted') {
      const unknown = rd === null || ru === null;
      const decrease = unknown || dlBps < rd || ulBps < ru;
      if (!unknown) {
        const small =
          Math.abs(dlBps - rd) <= p.deadbandFraction * rd && Math.abs(ulBps - ru) <= p.deadbandFraction * ru;
        if (small) {
          if (Number.isNaN(this.smallSinceS)) this.smallSinceS = nowS;
          if (nowS - this.smallSinceS < p.deadbandHoldS) return null;
        } else {
          this.smallSinceS = Number.NaN;
        }
      }
      const need = decrease ? 1 : 1 + p.reserveForDecrease;
      if (this.tokens < need - 1e-9) return null;
      this.tokens -= 1;
    }
    this.smallSinceS = Number.NaN;
    this.inFlight = true;
    this.writes++;
    this.request.dlBps = dlBps;
    this.request.ulBps = ulBps;
    return this.request;
  }

  /** Outcome of the write last returned by {@link offer}. Returns false if none was in flight. */
  completed(ok: boolean): boolean {
    if (!this.inFlight) return false;
    this.inFlight = false;
    if (ok) {
      this.routerDlBps = this.request.dlBps;
      this.routerUlBps = this.request.ulBps;
    }
    return true;
  }

  /** Forget what the router holds (after a reconnect or a read-back mismatch): the next offer writes. */
  invalidate(): void {
    this.routerDlBps = null;
    this.routerUlBps = null;
  }
}
