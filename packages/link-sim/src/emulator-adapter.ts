/**
 * Adapter from a {@link LinkSim} to the RouterOS emulator's pluggable traffic model
 * (`TrafficModel` in @wanctl/routeros-emulator, src/traffic.ts). The emulator's types are
 * mirrored structurally here so that this package stays free of dependencies; a type test
 * checks that the mirror matches the emulator's own declarations.
 */
import { LinkSimConfigError } from './errors.js';
import type { LinkSim, QueueCounters } from './sim.js';
import type { Direction } from './trace.js';

/** What the emulator tells a traffic model about a queue (mirror of its `QueueInfo`). */
export interface EmulatorQueueInfo {
  readonly path: '/queue/tree' | '/queue/simple';
  readonly id: string;
  readonly name: string;
  /** bit/s; 0 = unlimited. */
  readonly maxLimit: number;
  readonly disabled: boolean;
  readonly direction?: 'upload' | 'download';
}

/** Counters in the emulator's terms (mirror of its `QueueCounters`; same fields as ours). */
export type EmulatorQueueCounters = QueueCounters;

/** Mirror of the emulator's `TrafficModel`. */
export interface EmulatorTrafficModel {
  counters(queue: EmulatorQueueInfo, nowMs: number): EmulatorQueueCounters;
  maxLimitChanged?(queue: EmulatorQueueInfo, previousBps: number, nowMs: number): void;
  countersReset?(queue: EmulatorQueueInfo, nowMs: number): void;
}

export interface LinkSimTrafficModelOptions {
  /** Name of the queue-tree entry that shapes the download direction. */
  downQueue: string;
  /** Name of the queue-tree entry that shapes the upload direction. */
  upQueue: string;
  /**
   * Name of a simple queue whose `download`/`upload` halves map to the two directions
   * (RouterOS simple queues carry both in one item). Optional.
   */
  simpleQueue?: string;
  /**
   * Who moves simulated time. `external` (default): something else advances the sim (a
   * {@link RealtimeLinkDriver}, a test). `emulator-clock`: every call advances the sim to the
   * emulator clock `nowMs` (the first call sets the origin; at most `maxAdvanceS` per call).
   */
  time?: 'external' | 'emulator-clock';
  /** Bound on one clock-driven advance, seconds. Default 5. */
  maxAdvanceS?: number;
  /** Model for every other queue. Default: all-zero counters. */
  fallback?: EmulatorTrafficModel;
}

export interface LinkSimTrafficModel extends EmulatorTrafficModel {
  readonly sim: LinkSim;
  /** Which direction a queue maps to, or null for queues the link does not know. */
  directionOf(queue: EmulatorQueueInfo): Direction | null;
  /** max-limit changes applied to the sim so far (per direction). */
  readonly applied: { down: number; up: number };
}

const ZERO: Readonly<QueueCounters> = Object.freeze({
  bytes: 0,
  packets: 0,
  dropped: 0,
  queuedBytes: 0,
  queuedPackets: 0,
  rate: 0,
  packetRate: 0,
});

/**
 * A traffic model for the emulator backed by the link simulation: the download and upload
 * queues report the sim's shaper counters (bytes, packets, dropped, queued-*, rate,
 * packet-rate), and a max-limit write sets the sim's shaper rate at once (0 or a disabled
 * queue = unshaped). The max-limit on every read is applied too, so the fixture's initial
 * value takes effect without a write. `reset-counters` needs nothing here: the emulator
 * re-bases cumulative counters itself.
 */
export function linkSimTrafficModel(sim: LinkSim, opts: LinkSimTrafficModelOptions): LinkSimTrafficModel {
  if (!opts.downQueue || !opts.upQueue) {
    throw new LinkSimConfigError('downQueue/upQueue', 'both queue names are required');
  }
  if (opts.downQueue === opts.upQueue) {
    throw new LinkSimConfigError('upQueue', `must differ from downQueue (${opts.downQueue})`);
  }
  const clockDriven = (opts.time ?? 'external') === 'emulator-clock';
  const maxAdvanceS = opts.maxAdvanceS ?? 5;
  let originMs = Number.NaN;
  const applied = { down: 0, up: 0 };

  const directionOf = (q: EmulatorQueueInfo): Direction | null => {
    if (q.path === '/queue/tree') {
      if (q.name === opts.downQueue) return 'down';
      if (q.name === opts.upQueue) return 'up';
      return null;
    }
    if (opts.simpleQueue !== undefined && q.name === opts.simpleQueue) {
      if (q.direction === 'download') return 'down';
      if (q.direction === 'upload') return 'up';
    }
    return null;
  };

  const sync = (q: EmulatorQueueInfo, dir: Direction): void => {
    const want = q.disabled || !(q.maxLimit > 0) ? Number.POSITIVE_INFINITY : q.maxLimit;
    if (sim.shaperRate(dir) !== want) {
      sim.setShaperRate(dir, want === Number.POSITIVE_INFINITY ? 0 : want);
      applied[dir]++;
    }
  };

  const advance = (nowMs: number): void => {
    if (!clockDriven || !Number.isFinite(nowMs)) return;
    if (Number.isNaN(originMs)) originMs = nowMs - sim.now * 1000;
    const target = (nowMs - originMs) / 1000;
    let dt = target - sim.now;
    if (dt <= 0) return;
    if (dt > maxAdvanceS) {
      originMs += (dt - maxAdvanceS) * 1000; // skip the excess: the sim lags the clock
      dt = maxAdvanceS;
    }
    sim.step(dt);
  };

  return {
    sim,
    applied,
    directionOf,
    counters(q, nowMs) {
      const dir = directionOf(q);
      if (dir === null) return opts.fallback ? opts.fallback.counters(q, nowMs) : { ...ZERO };
      advance(nowMs);
      sync(q, dir);
      return sim.counters(dir);
    },
    maxLimitChanged(q, previousBps, nowMs) {
      const dir = directionOf(q);
      if (dir === null) {
        opts.fallback?.maxLimitChanged?.(q, previousBps, nowMs);
        return;
      }
      advance(nowMs);
      sync(q, dir);
    },
    countersReset(q, nowMs) {
      if (directionOf(q) === null) opts.fallback?.countersReset?.(q, nowMs);
    },
  };
}
