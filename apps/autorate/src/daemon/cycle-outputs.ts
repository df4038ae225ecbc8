/**
 * What each cycle publishes besides logs and the state file: the Prometheus gauges and counters,
 * and the history store's per-cycle sample. Split out of wan-runner.ts; runs at 20 Hz, so nothing
 * here allocates (the history sample is one object, reused).
 */

import type { CycleSample, HistoryRecorder } from '@wanctl/history';
import { zoneValue } from '@wanctl/runtime';
import type { CycleResult } from '../control/index.js';
import type { WanMetrics } from './metrics.js';
import type { QueueReader } from './queue-reader.js';

/**
 * The cycle's metrics. `v13Throttled`: the v1.3 law held a change back for its write budget
 * (the adaptive law's budget is not counted here).
 */
export function publishCycleMetrics(
  m: WanMetrics,
  r: CycleResult,
  rates: { dlBps: number; ulBps: number },
  replies: number,
  v13Throttled: boolean,
): void {
  if (replies === 0) m.pingFailures.inc();
  if (v13Throttled) {
    m.throttled.inc();
    m.rateLimitEvents.inc();
  }
  m.replies.set(replies);
  if (r.dlZone !== null) {
    m.dlMbps.set(rates.dlBps / 1e6);
    m.ulMbps.set(rates.ulBps / 1e6);
    m.baseline.set(r.baselineRttMs);
    m.load.set(r.loadRttMs);
    m.delta.set(Math.max(0, r.loadRttMs - r.baselineRttMs));
    m.dlState.set(zoneValue(r.dlZone));
    m.ulState.set(zoneValue(r.ulZone));
    m.cycles.inc();
  }
}

/** The cycle's sample for the history store, one reused object (no allocation on the 20 Hz path). */
export class HistorySampler {
  private readonly hs: CycleSample = {
    shapedDlBps: 0,
    shapedUlBps: 0,
    achievedDlBps: Number.NaN,
    achievedUlBps: Number.NaN,
    rttMs: Number.NaN,
    baselineMs: Number.NaN,
    deltaMs: Number.NaN,
    zoneDl: 'GREEN',
    zoneUl: 'GREEN',
    overrun: false,
  };
  /** The ticker reports an overrun after the cycle: it is recorded with the next one. */
  private overrunPending = false;

  /** A cycle overran its interval (recorded with the next sample). */
  overrun(): void {
    this.overrunPending = true;
  }

  /** Hands the cycle to the history recorder (which copies the numbers into its one-second bucket). */
  record(
    h: HistoryRecorder,
    wallMs: number,
    r: CycleResult,
    rates: { dlBps: number; ulBps: number },
    rd: QueueReader | null,
  ): void {
    if (r.dlZone === null) return;
    const hs = this.hs;
    hs.shapedDlBps = rates.dlBps;
    hs.shapedUlBps = rates.ulBps;
    hs.achievedDlBps = rd?.dlAchievedBps ?? Number.NaN;
    hs.achievedUlBps = rd?.ulAchievedBps ?? Number.NaN;
    const measured = r.measuredRttMs !== null;
    hs.rttMs = measured ? r.loadRttMs : Number.NaN;
    hs.baselineMs = r.baselineRttMs;
    hs.deltaMs = r.deltaMs ?? Number.NaN;
    hs.zoneDl = r.dlZone;
    hs.zoneUl = r.ulZone ?? r.dlZone;
    hs.overrun = this.overrunPending;
    this.overrunPending = false;
    h.cycle(wallMs, hs);
  }
}
