/**
 * The CAKE counter delta rule (docs/decisions.md#d8), owned here for every wanctl consumer (the CAKE stats
 * reader below, and the steering control law through the `@wanctl/cake-stats/delta` subpath,
 * which imports nothing else): a counter's increase since the reference; a counter that went
 * backwards (router reboot, reset-counters, queue recreated) is a reset, its increase is 0 and
 * the new value becomes the reference; never a negative delta. The first read of a queue only
 * sets the reference (the caller keeps it). Pure: no clock, no I/O.
 */

/** The cumulative counters of a CAKE queue. */
export const CAKE_COUNTERS = ['dropped', 'packets', 'bytes'] as const;
export type CakeCounter = (typeof CAKE_COUNTERS)[number];

/** The cumulative counters of one reading. */
export type CakeCounters = Readonly<Record<CakeCounter, number>>;

/** Increases of the cumulative counters between two readings. */
export interface CounterDeltas {
  bytes: number;
  packets: number;
  dropped: number;
  /** Counters that went backwards: a reset, increase 0 (empty when none did). */
  resets: CakeCounter[];
}

/**
 * The increases from `prev` to `cur` by the D8 rule: never negative; a counter below its
 * previous value is a reset (listed in `resets`, increase 0).
 */
export function counterDeltas(prev: CakeCounters, cur: CakeCounters): CounterDeltas {
  const out: CounterDeltas = { bytes: 0, packets: 0, dropped: 0, resets: [] };
  for (const k of CAKE_COUNTERS) {
    const d = cur[k] - prev[k];
    if (d < 0) out.resets.push(k);
    else out[k] = d;
  }
  return out;
}
