/**
 * docs/decisions.md#d14: what the primary WAN's autorate knows, as a steering input.
 *
 * The autorate state file carries (besides v1.3's baseline) a `congestion` report: per direction
 * the zone, whether the rate sits at its lowest floor and the RTT delta, with the time it is from.
 * When the line collapses below the floors the queue builds in the ISP's buffer, where CAKE sees
 * neither drops nor backlog; autorate sees it as RED at the floor with a high RTT delta. This
 * module turns that report into a decision input, with its own timers (pure: time comes in):
 *
 * - congested: fresh report, a direction RED at its floor with delta >= `rttDeltaMs`, or (D16) a
 *   direction under its floor (the adaptive law cut it to what the link delivered, less than the
 *   floor: the line cannot carry the floor, whatever the RTT now), held for `confirmSec` -> enable
 *   (fast in);
 * - after an enable while the report is present, steering stays on for `holdDownSec`, then turns
 *   off once the RTT has been clear (own delta, and autorate's when fresh, < `recoveryRttMs`, no
 *   direction RED) for `recoverySec` (calm out; one enable per collapse); a single failing cycle
 *   (a spike on the loaded line) does not restart that timer, two in a row do, and the disable
 *   itself happens on a clear cycle;
 * - a report older than `staleSec` (or from the future) is unknown: it never enables, never keeps
 *   steering on, and recovery then follows the own RTT alone;
 * - a file without the report (an autorate before D14): nothing here acts, v1.3 decides.
 */
import { pyFixed } from './pyfmt.js';

/** One direction of the autorate congestion report. */
export interface DirectionCongestion {
  /** GREEN / YELLOW / SOFT_RED / RED; null = not known yet (autorate had no cycle). */
  zone: string | null;
  atFloor: boolean;
  /** Under the lowest floor (docs/decisions.md#d16); absent in reports before D16 (= false). */
  belowFloor?: boolean;
  rttDeltaMs: number;
  /** How long autorate has seen the direction RED without a break (s); null = not reported. */
  redForSec?: number | null;
}

/** The autorate congestion report as the shell read it. */
export interface AutorateCongestion {
  /** Seconds between the report's time and now (wall clock); null = no usable time (unknown). */
  ageSeconds: number | null;
  download: DirectionCongestion | null;
  upload: DirectionCongestion | null;
}

/** Parameters of the D14 input (config section `wan_state`). */
export interface WanStateParams {
  /** false: the report is ignored (v1.3 decisions only). */
  enabled: boolean;
  /** RTT delta (autorate's, ms) from which RED at the floor counts as congested. */
  rttDeltaMs: number;
  /** Seconds the congestion must hold before steering is enabled. */
  confirmSec: number;
  /** Minimum seconds steered after an enable (no disable before). */
  holdDownSec: number;
  /** RTT delta (ms) under which the line counts as recovered. */
  recoveryRttMs: number;
  /** Seconds the recovery must hold before steering is disabled. */
  recoverySec: number;
  /** A report older than this (s) is unknown. */
  staleSec: number;
  /** Confidence points of a RED / SOFT_RED WAN zone (only with RTT evidence). */
  redWeight: number;
  softRedWeight: number;
}

export const DEFAULT_WAN_STATE_PARAMS: Readonly<WanStateParams> = Object.freeze({
  enabled: true,
  rttDeltaMs: 80,
  confirmSec: 1,
  holdDownSec: 10,
  recoveryRttMs: 40,
  recoverySec: 8,
  staleSec: 5,
  redWeight: 25,
  softRedWeight: 12,
});

export type WanInputStatus = 'absent' | 'fresh' | 'stale' | 'disabled';

/** What the gate saw and decided this cycle (health, logs, tests). */
export interface WanEvaluation {
  status: WanInputStatus;
  ageSeconds: number | null;
  /** The worse zone of both directions (fresh reports only), else null. */
  zone: string | null;
  /** A direction is RED at its floor with delta >= rttDeltaMs, or under its floor (fresh reports only). */
  congestedNow: boolean;
  /** Which direction (the first that qualifies). */
  congestedDirection: 'download' | 'upload' | null;
  /** Autorate's RTT delta (the larger of both directions; fresh only). */
  autorateDeltaMs: number | null;
  /** Seconds the congestion has held (null when not congested). */
  congestedForSec: number | null;
  /** The line counts as recovered this cycle (meaningful while steered). */
  clearNow: boolean;
  clearForSec: number | null;
  /** Seconds of hold-down left (null when none is running). */
  holdDownLeftSec: number | null;
  /** Enable proposed by this input this cycle (with its reason). */
  enable: string | null;
  /** Disable proposed by this input this cycle (with its reason). */
  disable: string | null;
  /** In words: what the input says now (for the per-state reason). */
  summary: string;
}

/** Cycles in a row that may fail the recovery condition without restarting the recovery timer. */
export const RECOVERY_SPIKE_TOLERANCE = 1;

const ZONE_RANK: Record<string, number> = { GREEN: 0, YELLOW: 1, SOFT_RED: 2, RED: 3 };

function worseZone(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return (ZONE_RANK[b] ?? -1) > (ZONE_RANK[a] ?? -1) ? b : a;
}

/** The D14 timers: congestion confirmation, hold-down after an enable, recovery confirmation. */
export class WanStateGate {
  readonly params: Readonly<WanStateParams>;
  private congestedSince: number | null = null;
  private clearSince: number | null = null;
  private steeredAt: number | null = null;
  private notClearRun = 0;

  constructor(params: WanStateParams) {
    this.params = Object.freeze({ ...params });
  }

  /** Forget the timers (state adopted from the router, state restored). */
  reset(): void {
    this.congestedSince = null;
    this.clearSince = null;
    this.steeredAt = null;
    this.notClearRun = 0;
  }

  /** Status of a report under these params. */
  status(input: AutorateCongestion | null | undefined): WanInputStatus {
    if (!this.params.enabled) return 'disabled';
    if (input === null || input === undefined) return 'absent';
    const age = input.ageSeconds;
    if (age === null || !Number.isFinite(age) || age > this.params.staleSec || age < -this.params.staleSec)
      return 'stale';
    return 'fresh';
  }

  /**
   * One cycle. `steered`: the state is DEGRADED now; `ownDeltaMs`: the steering's own RTT delta
   * this cycle. Proposes at most one of enable / disable; the caller decides and reports the
   * outcome with {@link transitioned}.
   */
  evaluate(
    input: AutorateCongestion | null | undefined,
    steered: boolean,
    ownDeltaMs: number,
    nowSeconds: number,
  ): WanEvaluation {
    const p = this.params;
    const status = this.status(input);
    const fresh = status === 'fresh' && input ? input : null;
    let zone: string | null = null;
    let autorateDelta: number | null = null;
    let dir: 'download' | 'upload' | null = null;
    /** The congested direction qualifies by being under its floor only (D16), not by RED. */
    let dirBelow = false;
    let anyRed = false;
    if (fresh) {
      for (const d of ['download', 'upload'] as const) {
        const c = fresh[d];
        if (!c) continue;
        zone = worseZone(zone, c.zone);
        autorateDelta = autorateDelta === null ? c.rttDeltaMs : Math.max(autorateDelta, c.rttDeltaMs);
        if (c.zone === 'RED') anyRed = true;
        const red = c.zone === 'RED' && c.atFloor && c.rttDeltaMs >= p.rttDeltaMs;
        if (dir === null && (red || c.belowFloor === true)) {
          dir = d;
          dirBelow = !red;
        }
      }
    }
    const congestedNow = dir !== null;
    if (congestedNow) {
      if (this.congestedSince === null) this.congestedSince = nowSeconds;
    } else this.congestedSince = null;
    // autorate may already have seen it for a while (its RED run): that counts towards the confirmation
    const seen = this.congestedSince === null ? null : nowSeconds - this.congestedSince;
    const reportedFor = fresh && dir && !dirBelow ? (fresh[dir]?.redForSec ?? 0) : 0;
    const congestedFor = seen === null ? null : Math.max(seen, reportedFor);

    // recovered: own RTT clear, and (when the report is fresh) autorate's too with no RED direction
    const active = status === 'fresh' || status === 'stale';
    const clearNow =
      active &&
      !congestedNow &&
      ownDeltaMs < p.recoveryRttMs &&
      (status === 'stale' || (!anyRed && (autorateDelta ?? 0) < p.recoveryRttMs));
    // One bad cycle (a spike on a loaded line) does not restart the recovery; two in a row do.
    if (steered && clearNow) {
      if (this.clearSince === null) this.clearSince = nowSeconds;
      this.notClearRun = 0;
    } else if (steered && this.clearSince !== null && this.notClearRun < RECOVERY_SPIKE_TOLERANCE) {
      this.notClearRun++;
    } else {
      this.clearSince = null;
      this.notClearRun = 0;
    }
    const clearFor = this.clearSince === null ? null : nowSeconds - this.clearSince;
    const holdLeft =
      this.steeredAt === null ? null : Math.max(0, p.holdDownSec - (nowSeconds - this.steeredAt));
    const holdDownLeftSec = holdLeft !== null && holdLeft > 0 ? holdLeft : null;

    let enable: string | null = null;
    let disable: string | null = null;
    const d = fresh && dir ? fresh[dir] : null;
    if (!steered && d && congestedFor !== null && congestedFor >= p.confirmSec - 1e-9) {
      enable = dirBelow
        ? `${dir} under its floor for ${pyFixed(congestedFor, 1)}s (>= ${p.confirmSec}s): autorate cut it to ` +
          'what the link delivers, less than the floor (D16): the line cannot carry the floor'
        : `${dir} RED at its floor with autorate rtt delta ${pyFixed(d.rttDeltaMs, 1)}ms >= ${p.rttDeltaMs}ms ` +
          `for ${pyFixed(congestedFor, 1)}s (>= ${p.confirmSec}s): congestion the shaper cannot fix`;
    }
    if (
      steered &&
      clearNow &&
      clearFor !== null &&
      clearFor >= p.recoverySec - 1e-9 &&
      holdDownLeftSec === null
    ) {
      disable =
        `line recovered: own rtt delta ${pyFixed(ownDeltaMs, 1)}ms` +
        `${status === 'fresh' ? `, autorate ${pyFixed(autorateDelta ?? 0, 1)}ms, no direction RED` : ' (autorate report stale: own RTT only)'}` +
        ` < ${p.recoveryRttMs}ms for ${pyFixed(clearFor, 1)}s (>= ${p.recoverySec}s)`;
    }
    return {
      status,
      ageSeconds: input?.ageSeconds ?? null,
      zone,
      congestedNow,
      congestedDirection: dir,
      autorateDeltaMs: autorateDelta,
      congestedForSec: congestedFor,
      clearNow,
      clearForSec: clearFor,
      holdDownLeftSec,
      enable,
      disable,
      summary: this.describe(status, fresh, input?.ageSeconds ?? null),
    };
  }

  /** Tell the gate a transition happened (input present = the D14 timers apply). */
  transitioned(toSteered: boolean, nowSeconds: number, inputPresent: boolean): void {
    this.congestedSince = null;
    this.clearSince = null;
    this.notClearRun = 0;
    this.steeredAt = toSteered && inputPresent ? nowSeconds : null;
  }

  private describe(status: WanInputStatus, fresh: AutorateCongestion | null, age: number | null): string {
    const p = this.params;
    if (status === 'disabled') return 'autorate congestion report: ignored (wan_state.enabled false)';
    if (status === 'absent') return 'autorate congestion report: none in the state file (v1.3 decisions)';
    if (status === 'stale')
      return `autorate congestion report: unknown (${age === null ? 'no time' : `${pyFixed(age, 1)}s old`}, > ${p.staleSec}s)`;
    const dir = (n: string, c: DirectionCongestion | null) =>
      c
        ? `${n} ${c.zone ?? '?'}${c.belowFloor ? ' under floor' : c.atFloor ? ' at floor' : ''} delta ${pyFixed(c.rttDeltaMs, 1)}ms`
        : `${n} ?`;
    return (
      `autorate: ${dir('download', fresh?.download ?? null)}, ${dir('upload', fresh?.upload ?? null)} ` +
      `(congested = RED at floor with delta >= ${p.rttDeltaMs}ms, or under the floor, for ${p.confirmSec}s)`
    );
  }
}
