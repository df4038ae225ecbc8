/**
 * Traffic models: where queue counters (bytes, packets, dropped, queued-*, rate, packet-rate) come
 * from. The state asks the model for a queue's counters whenever an item is read, and tells it when
 * `max-limit` changes or counters are reset, so a link model can drive counters from max-limit over
 * time. Counter resets are applied by the state (it subtracts a baseline), so models only ever count
 * up from their own start.
 */

/** What the state tells a model about one queue (one direction for simple queues). */
export interface QueueInfo {
  readonly path: '/queue/tree' | '/queue/simple';
  readonly id: string;
  readonly name: string;
  /** Current max-limit in bit/s (0 = unlimited). For simple queues: this direction's limit. */
  readonly maxLimit: number;
  readonly disabled: boolean;
  /** Simple queues only: which half of `up/down`. */
  readonly direction?: 'upload' | 'download';
}

/** Counters of one queue (direction) as the router reports them. All non-negative integers. */
export interface QueueCounters {
  bytes: number;
  packets: number;
  dropped: number;
  queuedBytes: number;
  queuedPackets: number;
  /** bit/s */
  rate: number;
  /** packets/s */
  packetRate: number;
}

export interface TrafficModel {
  /** Counters of `queue` at time `nowMs` (the emulator clock, ms). Called on every read. */
  counters(queue: QueueInfo, nowMs: number): QueueCounters;
  /** Called after a write changed the queue's max-limit (`queue.maxLimit` is the new value). */
  maxLimitChanged?(queue: QueueInfo, previousBps: number, nowMs: number): void;
  /** Called after `reset-counters` on the queue (the state already re-bases the cumulative counters). */
  countersReset?(queue: QueueInfo, nowMs: number): void;
}

export const ZERO_COUNTERS: Readonly<QueueCounters> = Object.freeze({
  bytes: 0,
  packets: 0,
  dropped: 0,
  queuedBytes: 0,
  queuedPackets: 0,
  rate: 0,
  packetRate: 0,
});

function key(name: string, direction?: 'upload' | 'download'): string {
  return direction ? `${name}\u0000${direction}` : name;
}

/**
 * The default model: fixed counters per queue name, all zero until a test sets them.
 * `set('WAN-Download-1', { dropped: 17, queuedPackets: 3 })` merges into the current values.
 */
export class StaticTrafficModel implements TrafficModel {
  private readonly values = new Map<string, QueueCounters>();

  counters(queue: QueueInfo): QueueCounters {
    return this.values.get(key(queue.name, queue.direction)) ?? this.values.get(queue.name) ?? ZERO_COUNTERS;
  }

  /** Sets (merges) counters of a queue by name; for simple queues optionally one direction. */
  set(name: string, counters: Partial<QueueCounters>, direction?: 'upload' | 'download'): void {
    const k = key(name, direction);
    const cur = this.values.get(k) ?? { ...ZERO_COUNTERS };
    for (const [f, v] of Object.entries(counters)) {
      if (v === undefined) continue;
      if (!Number.isFinite(v) || v < 0)
        throw new RangeError(`counter ${f} must be a non-negative number, got ${v}`);
      (cur as unknown as Record<string, number>)[f] = Math.floor(v);
    }
    this.values.set(k, cur);
  }

  /** Adds to the cumulative counters (bytes, packets, dropped) of a queue. */
  add(name: string, delta: Partial<Pick<QueueCounters, 'bytes' | 'packets' | 'dropped'>>): void {
    const cur = this.values.get(name) ?? { ...ZERO_COUNTERS };
    this.set(name, {
      bytes: cur.bytes + (delta.bytes ?? 0),
      packets: cur.packets + (delta.packets ?? 0),
      dropped: cur.dropped + (delta.dropped ?? 0),
    });
  }

  clear(): void {
    this.values.clear();
  }
}

export interface LoadTrafficOptions {
  /** Fraction of max-limit the queue carries (0..1). Default 0.9. */
  utilisation?: number;
  /** Rate used while max-limit is 0 (unlimited), bit/s. Default 1e9. */
  unlimitedBps?: number;
  /** Average packet size in bytes. Default 1000. */
  packetBytes?: number;
  /** Fraction of packets dropped (field reports say CAKE leaves show 0). Default 0. */
  dropFraction?: number;
  /** Packets standing in the queue. Default 0. */
  queuedPackets?: number;
}

interface LoadState {
  lastMs: number;
  rate: number;
  bytes: number;
  packets: number;
  dropped: number;
}

/**
 * A simple link model: each queue carries `utilisation × max-limit`; cumulative counters grow with
 * time at that rate, piecewise across max-limit changes. Deterministic given the emulator clock.
 */
export class LoadTrafficModel implements TrafficModel {
  private readonly opts: Required<LoadTrafficOptions>;
  private readonly queues = new Map<string, LoadState>();

  constructor(opts: LoadTrafficOptions = {}) {
    this.opts = {
      utilisation: opts.utilisation ?? 0.9,
      unlimitedBps: opts.unlimitedBps ?? 1e9,
      packetBytes: opts.packetBytes ?? 1000,
      dropFraction: opts.dropFraction ?? 0,
      queuedPackets: opts.queuedPackets ?? 0,
    };
  }

  private rateFor(q: QueueInfo): number {
    if (q.disabled) return 0;
    return Math.floor((q.maxLimit > 0 ? q.maxLimit : this.opts.unlimitedBps) * this.opts.utilisation);
  }

  private advance(q: QueueInfo, nowMs: number): LoadState {
    const k = `${q.id}\u0000${q.direction ?? ''}`;
    let s = this.queues.get(k);
    if (!s) {
      s = { lastMs: nowMs, rate: this.rateFor(q), bytes: 0, packets: 0, dropped: 0 };
      this.queues.set(k, s);
      return s;
    }
    const dt = Math.max(0, nowMs - s.lastMs) / 1000;
    const bytes = (s.rate / 8) * dt;
    const packets = bytes / this.opts.packetBytes;
    s.bytes += bytes;
    s.packets += packets;
    s.dropped += packets * this.opts.dropFraction;
    s.lastMs = Math.max(s.lastMs, nowMs);
    return s;
  }

  counters(q: QueueInfo, nowMs: number): QueueCounters {
    const s = this.advance(q, nowMs);
    s.rate = this.rateFor(q);
    const qp = this.opts.queuedPackets;
    return {
      bytes: Math.floor(s.bytes),
      packets: Math.floor(s.packets),
      dropped: Math.floor(s.dropped),
      queuedPackets: qp,
      queuedBytes: qp * this.opts.packetBytes,
      rate: s.rate,
      packetRate: Math.floor(s.rate / 8 / this.opts.packetBytes),
    };
  }

  maxLimitChanged(q: QueueInfo, _previousBps: number, nowMs: number): void {
    const s = this.advance(q, nowMs);
    s.rate = this.rateFor(q);
  }
}
