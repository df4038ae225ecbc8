/**
 * A WAN's log lines about its cycles: sample warnings, zone transitions (rate-limited against
 * flapping), failed cycles, the --debug decision line and the periodic INFO summary. Split out of
 * wan-runner.ts; on the 20 Hz path it allocates only when it logs.
 */

import type { Logger, LogThrottle } from '@wanctl/runtime';
import type { CycleResult } from '../control/index.js';
import { mbps, r2, r3 } from './round.js';
import type { HeldRates, RouterSync } from './router-sync.js';
import type { WanRunnerOptions } from './runner-options.js';
import type { WanRunner } from './wan-runner.js';

export class CycleLog {
  private readonly log: Logger;
  /** Shared with RouterSync: the summary counts every line it suppressed. */
  private readonly throttle: LogThrottle;
  private prevDlZone: string | null = null;
  private prevUlZone: string | null = null;
  /** The last two zone transitions (log text), newest first: a flap repeats one of them. */
  private readonly recentZoneLines: [string | null, string | null] = [null, null];
  private lastSummaryAt: number;

  constructor(log: Logger, throttle: LogThrottle, nowMs: number) {
    this.log = log;
    this.throttle = throttle;
    this.lastSummaryAt = nowMs;
  }

  /**
   * The cycle's lines, in this order: a clamped or invalid sample, ICMP back, a zone transition,
   * a failed cycle. `rates` are the law's rates after the cycle.
   */
  cycle(r: CycleResult, rates: { dlBps: number; ulBps: number }, consecutiveFailures: number): void {
    if (r.clamped) {
      const n = this.throttle.allow('clamped');
      if (n !== false)
        this.log.warn('RTT sample out of range; clamped (D12)', {
          clamped_to_ms: r.measuredRttMs,
          ...(n > 0 ? { suppressed: n } : {}),
        });
    }
    if (r.invalidSamples > 0) {
      const n = this.throttle.allow('invalid');
      if (n !== false) this.log.warn('invalid RTT sample dropped', { ...(n > 0 ? { suppressed: n } : {}) });
    }
    if (r.icmpRecovered) this.log.info('ICMP replies are back; fallback ended');

    if (r.dlZone !== null && (r.dlZone !== this.prevDlZone || r.ulZone !== this.prevUlZone)) {
      if (this.prevDlZone !== null) {
        const text = `zone ${this.prevDlZone}/${this.prevUlZone} -> ${r.dlZone}/${r.ulZone}`;
        const n = this.zoneLineAllowed(text);
        if (n !== false)
          this.log.info(text, {
            rtt_ms: r.measuredRttMs === null ? null : r2(r.measuredRttMs),
            load_ms: r2(r.loadRttMs),
            baseline_ms: r2(r.baselineRttMs),
            dl_mbps: mbps(rates.dlBps),
            ul_mbps: mbps(rates.ulBps),
            ...(n > 0 ? { suppressed: n } : {}),
          });
      }
      this.prevDlZone = r.dlZone;
      this.prevUlZone = r.ulZone;
    }
    if (!r.ok) {
      const n = this.throttle.allow(`fail:${r.failure}`);
      if (n !== false)
        this.log.warn(`cycle failed: ${r.failure}`, {
          consecutive: consecutiveFailures,
          ...(n > 0 ? { suppressed: n } : {}),
        });
    }
  }

  /** The per-cycle debug line (v1.3's INFO decision line, only with --debug). */
  debug(r: CycleResult, rates: { dlBps: number; ulBps: number }): void {
    if (this.log.isDebugEnabled() && r.dlZone !== null) {
      this.log.debug(
        `[${r.dlZone}/${r.ulZone}] RTT=${(r.measuredRttMs ?? 0).toFixed(1)}ms, load_ewma=${r.loadRttMs.toFixed(1)}ms, baseline=${r.baselineRttMs.toFixed(1)}ms, delta=${(r.deltaMs ?? 0).toFixed(1)}ms | DL=${(rates.dlBps / 1e6).toFixed(0)}M, UL=${(rates.ulBps / 1e6).toFixed(0)}M`,
      );
    }
  }

  /**
   * Whether a zone transition is logged (the number of its repeats left out since its last line),
   * or false. A transition is never held back by other lines or other transitions (a shared
   * budget once let a GREEN/YELLOW flap hide a RED episode): it is logged unless it repeats one of
   * the two transitions just before it (a zone flapping between two states), and such repeats are
   * limited per transition (5 a minute), the next line telling how many were left out.
   */
  private zoneLineAllowed(text: string): number | false {
    const repeat = text === this.recentZoneLines[0] || text === this.recentZoneLines[1];
    this.recentZoneLines[1] = this.recentZoneLines[0];
    this.recentZoneLines[0] = text;
    const key = `zone:${text}`;
    if (repeat) return this.throttle.allow(key);
    const n = this.throttle.pending(key);
    this.throttle.reset(key);
    this.throttle.allow(key);
    return n;
  }

  /** Whether the periodic summary is due at `now` (monotonic ms). */
  summaryDue(now: number, intervalMs: number): boolean {
    return now - this.lastSummaryAt >= intervalMs;
  }

  /** The periodic INFO summary. */
  summary(
    now: number,
    w: WanRunner,
    o: WanRunnerOptions,
    sync: RouterSync,
    rates: { dlBps: number; ulBps: number },
    ra: HeldRates,
  ): void {
    this.lastSummaryAt = now;
    const rd = o.reader ?? null;
    this.log.info('summary', {
      cycles: w.cycles,
      failed: w.failedCycles,
      zone: `${w.lastZones.dl}/${w.lastZones.ul}`,
      dl_mbps: mbps(rates.dlBps),
      ul_mbps: mbps(rates.ulBps),
      router_dl_mbps: mbps(ra.dlBps),
      router_ul_mbps: mbps(ra.ulBps),
      writes_ok: sync.writesOk,
      writes_failed: sync.writesFailed,
      throttled: w.throttledCycles,
      ...(rd
        ? {
            dl_achieved_mbps: mbps(rd.dlAchievedBps),
            ul_achieved_mbps: mbps(rd.ulAchievedBps),
          }
        : {}),
      ...(sync.corrections > 0 ? { corrections: sync.corrections } : {}),
      cycle_p50_ms: r3(w.work.p50()),
      cycle_p99_ms: r3(w.work.p99()),
      transport: o.router.activeTransport,
      ...(this.throttle.totalPending() > 0 ? { suppressed_lines: this.throttle.totalPending() } : {}),
    });
  }
}
