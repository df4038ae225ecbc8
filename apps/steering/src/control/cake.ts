/**
 * CAKE counter deltas over snapshots (v1.3 `CakeStatsReader._calculate_stats_delta`, with D8).
 *
 * D8: the first snapshot only sets the reference (its cumulative counters are not "new" drops;
 * v1.3 reported them as the first delta), and a counter that goes backwards (router reboot,
 * reset-counters, queue recreated) is a reset: that counter's delta is 0 and the new value becomes
 * the reference (v1.3 reported a negative delta). The rule is @wanctl/cake-stats' (one owner for
 * every consumer); this module keeps the reference of the replay-format snapshots.
 */
import { type CakeCounter, counterDeltas } from '@wanctl/cake-stats/delta';

/** Cumulative counters of one CAKE queue as read from the router. */
export interface CakeSnapshot {
  /** Cumulative packets dropped. */
  dropped: number;
  /** Instantaneous queue depth, packets. */
  queued_packets: number;
  /** Cumulative packets sent. */
  packets: number;
  /** Cumulative bytes sent. */
  bytes: number;
  /** Instantaneous queued bytes (optional). */
  queued_bytes?: number;
}

export interface CakeDelta {
  /** Drops since the previous snapshot (never negative). */
  dropped: number;
  packets: number;
  bytes: number;
  /** Instantaneous depth from the current snapshot. */
  queued_packets: number;
  queued_bytes: number;
  /** True when this snapshot only set the reference (first read): deltas are 0. */
  firstRead: boolean;
  /** Counters that went backwards and were treated as a reset. */
  resets: CakeCounter[];
}

/** Returns a reason text when the snapshot is unusable (missing or non-numeric, negative or non-finite fields). */
export function checkCakeSnapshot(s: unknown): string | null {
  if (s === null || typeof s !== 'object') return 'CAKE snapshot is not an object';
  const o = s as Record<string, unknown>;
  for (const k of ['dropped', 'queued_packets', 'packets', 'bytes'] as const) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      return `CAKE snapshot field "${k}" must be a finite number >= 0 (got ${JSON.stringify(v)})`;
    }
  }
  if (o['queued_bytes'] !== undefined) {
    const v = o['queued_bytes'];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      return `CAKE snapshot field "queued_bytes" must be a finite number >= 0 (got ${JSON.stringify(v)})`;
    }
  }
  return null;
}

/** Tracks the reference snapshot of one queue. Not persisted (a restart starts a new reference). */
export class CakeDeltaTracker {
  private ref: CakeSnapshot | null = null;

  /** The reference the next delta is computed against (null before the first read). */
  reference(): Readonly<CakeSnapshot> | null {
    return this.ref;
  }

  /** Forget the reference: the next snapshot sets it again. */
  reset(): void {
    this.ref = null;
  }

  /** Delta of `current` against the reference, which then becomes `current`. */
  update(current: CakeSnapshot): CakeDelta {
    const prev = this.ref;
    this.ref = {
      dropped: current.dropped,
      queued_packets: current.queued_packets,
      packets: current.packets,
      bytes: current.bytes,
      queued_bytes: current.queued_bytes ?? 0,
    };
    const queued_bytes = current.queued_bytes ?? 0;
    if (prev === null) {
      return {
        dropped: 0,
        packets: 0,
        bytes: 0,
        queued_packets: current.queued_packets,
        queued_bytes,
        firstRead: true,
        resets: [],
      };
    }
    const { dropped, packets, bytes, resets } = counterDeltas(prev, current);
    return {
      dropped,
      packets,
      bytes,
      queued_packets: current.queued_packets,
      queued_bytes,
      firstRead: false,
      resets,
    };
  }
}
