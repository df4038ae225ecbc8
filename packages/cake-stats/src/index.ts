/**
 * @wanctl/cake-stats: CAKE queue counters read through a RouterClient (REST JSON or SSH
 * console text, both to the same typed snapshot), and deltas between snapshots (docs/decisions.md#d8):
 * the first read only sets the reference; a counter that goes backwards is a reset (increase 0,
 * the new reference), logged, never a negative delta (the rule: delta.ts); per-second rates use
 * the snapshots' times.
 */
import {
  type CallOptions,
  jsonToMap,
  parsePrint,
  printRecordToMap,
  type QueueStats,
  queueStatsFromMap,
  type RouterClient,
  type RouterLogger,
  silentLogger,
} from '@wanctl/router-client';
import { counterDeltas } from './delta.js';

export {
  CAKE_COUNTERS,
  type CakeCounter,
  type CakeCounters,
  type CounterDeltas,
  counterDeltas,
} from './delta.js';

/** Queue names wanctl accepts (v1.3 `validate_identifier`: letters, digits, `_ . -`, at most 64). */
export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Base of this package's own errors (router failures stay router-client's `RouterError`s).
 * `code` is stable (`WANCTL_CAKE_*`, table in the README).
 */
export class CakeStatsError extends Error {
  readonly code: string = 'WANCTL_CAKE_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A queue name wanctl does not accept; raised before anything is sent. */
export class InvalidQueueNameError extends CakeStatsError {
  override readonly code: string = 'WANCTL_CAKE_INVALID_QUEUE_NAME';
  constructor(readonly queue: string) {
    super(`invalid queue name ${JSON.stringify(queue)}: use 1-64 letters, digits, "_", "." or "-"`);
  }
}

/** A raw answer given to snapshotFromRest / snapshotFromCli has no usable record for the queue. */
export class CakeAnswerError extends CakeStatsError {
  override readonly code: string = 'WANCTL_CAKE_BAD_ANSWER';
}

export function assertQueueName(name: string): void {
  if (!QUEUE_NAME_PATTERN.test(name)) throw new InvalidQueueNameError(name);
}

/** One queue's counters at one moment. */
export interface CakeSnapshot {
  queue: string;
  /** When it was read, ms on the reader's clock (monotonic by default). */
  at: number;
  bytes: number;
  packets: number;
  dropped: number;
  queuedPackets: number;
  queuedBytes: number;
  /** Rate as RouterOS reports it, bit/s. */
  rateBps: number;
  packetRate: number;
}

/** What changed between two snapshots of one queue. */
export interface CakeDelta {
  queue: string;
  /** ms between the two snapshots. */
  intervalMs: number;
  /** Counter increases (never negative). */
  bytes: number;
  packets: number;
  dropped: number;
  /** Instantaneous values of the newer snapshot. */
  queuedPackets: number;
  queuedBytes: number;
  rateBps: number;
  /** Per-second rates over the interval (0 when the interval is 0). */
  bytesPerSec: number;
  packetsPerSec: number;
  dropsPerSec: number;
  /** True when a counter went backwards (reboot, reset-counters, queue recreated). */
  reset: boolean;
}

export interface CakeRead {
  snapshot: CakeSnapshot;
  /** null on the first read of a queue: it only sets the reference (D8). */
  delta: CakeDelta | null;
}

export function snapshotFromStats(s: QueueStats, at: number): CakeSnapshot {
  return {
    queue: s.name,
    at,
    bytes: s.bytes,
    packets: s.packets,
    dropped: s.dropped,
    queuedPackets: s.queuedPackets,
    queuedBytes: s.queuedBytes,
    rateBps: s.rateBps,
    packetRate: s.packetRate,
  };
}

function pick(records: Array<Record<string, string>>, queue: string | undefined): Record<string, string> {
  const rec =
    queue === undefined
      ? records[0]
      : (records.find((r) => r['name'] === queue) ??
        (records.length === 1 && records[0]!['name'] === undefined ? records[0] : undefined));
  if (!rec)
    throw new CakeAnswerError(
      queue === undefined ? 'no queue record in the answer' : `queue "${queue}" not in the answer`,
    );
  return rec;
}

/** Snapshot from a REST answer (`GET /rest/queue/tree?name=...`: an array or one object, values strings). */
export function snapshotFromRest(body: unknown, at: number, queue?: string): CakeSnapshot {
  let v: unknown = body;
  if (typeof body === 'string') {
    try {
      v = JSON.parse(body);
    } catch (err) {
      throw new CakeAnswerError(`REST answer is not JSON: ${body.slice(0, 60)}`, { cause: err });
    }
  }
  const list = (Array.isArray(v) ? v : [v]).map(jsonToMap);
  const rec = pick(list, queue);
  if (rec['name'] === undefined && queue !== undefined) rec['name'] = queue;
  return snapshotFromStats(queueStatsFromMap(rec, 'rest'), at);
}

/** Snapshot from console text (`/queue/tree/print stats detail where name=...`), wrapped lines included. */
export function snapshotFromCli(text: string, at: number, queue?: string): CakeSnapshot {
  const out = parsePrint(text);
  const rec = pick(
    out.records.map((r) => printRecordToMap(r, out.legend)),
    queue,
  );
  if (rec['name'] === undefined && queue !== undefined) rec['name'] = queue;
  return snapshotFromStats(queueStatsFromMap(rec, 'ssh'), at);
}

/**
 * Delta from `prev` to `cur` by the D8 rule ({@link counterDeltas}): a counter below its
 * previous value is a reset, its increase 0 (the new value is the next reference).
 */
export function computeDelta(prev: CakeSnapshot, cur: CakeSnapshot): CakeDelta {
  const { resets, ...inc } = counterDeltas(prev, cur);
  const reset = resets.length > 0;
  const intervalMs = Math.max(0, cur.at - prev.at);
  const perSec = (n: number) => (intervalMs > 0 ? (n * 1000) / intervalMs : 0);
  return {
    queue: cur.queue,
    intervalMs,
    ...inc,
    queuedPackets: cur.queuedPackets,
    queuedBytes: cur.queuedBytes,
    rateBps: cur.rateBps,
    bytesPerSec: perSec(inc.bytes),
    packetsPerSec: perSec(inc.packets),
    dropsPerSec: perSec(inc.dropped),
    reset,
  };
}

/** Keeps the reference snapshot per queue and turns new snapshots into deltas. */
export class CakeDeltaTracker {
  private readonly last = new Map<string, CakeSnapshot>();
  constructor(private readonly logger: RouterLogger = silentLogger) {}

  /** null on a queue's first snapshot (reference only). */
  update(s: CakeSnapshot): CakeDelta | null {
    const prev = this.last.get(s.queue);
    this.last.set(s.queue, s);
    if (!prev) return null;
    const d = computeDelta(prev, s);
    if (d.reset) {
      this.logger.warn(
        `CAKE counters of queue "${s.queue}" went backwards (bytes ${prev.bytes}->${s.bytes}, packets ${prev.packets}->${s.packets}, dropped ${prev.dropped}->${s.dropped}): router reboot or counter reset; counting from zero`,
        { queue: s.queue },
      );
    }
    return d;
  }

  /** Forget the reference of one queue (or all): the next read only sets it again. */
  forget(queue?: string): void {
    if (queue === undefined) this.last.clear();
    else this.last.delete(queue);
  }

  reference(queue: string): CakeSnapshot | undefined {
    return this.last.get(queue);
  }
}

export interface CakeStatsReaderOptions {
  /** Clock for snapshot times, ms (default: monotonic `performance.now()`). */
  now?: () => number;
  logger?: RouterLogger;
}

/** Reads CAKE counters of named queues through any RouterClient (REST, SSH or failover). */
export class CakeStatsReader {
  private readonly client: RouterClient;
  private readonly now: () => number;
  readonly tracker: CakeDeltaTracker;

  constructor(client: RouterClient, opts: CakeStatsReaderOptions = {}) {
    this.client = client;
    this.now = opts.now ?? (() => performance.now());
    this.tracker = new CakeDeltaTracker(opts.logger ?? silentLogger);
  }

  /**
   * Read the named queues in one router call. Throws InvalidQueueNameError before sending
   * anything for a bad name, and the router client's typed errors otherwise.
   */
  async read(queues: readonly string[], opts?: CallOptions): Promise<CakeRead[]> {
    for (const q of queues) assertQueueName(q);
    const stats = await this.client.getQueueStats(queues, opts);
    const at = this.now();
    return stats.map((s) => {
      const snapshot = snapshotFromStats(s, at);
      return { snapshot, delta: this.tracker.update(snapshot) };
    });
  }

  /**
   * Read the named queues' counters in one router call without computing deltas (a caller that
   * keeps its own reference, like the steering control law, which applies the same
   * {@link counterDeltas} rule). Throws like {@link read}.
   */
  async readSnapshots(queues: readonly string[], opts?: CallOptions): Promise<CakeSnapshot[]> {
    for (const q of queues) assertQueueName(q);
    const stats = await this.client.getQueueStats(queues, opts);
    const at = this.now();
    return stats.map((s) => snapshotFromStats(s, at));
  }

  async readOne(queue: string, opts?: CallOptions): Promise<CakeRead> {
    const [r] = await this.read([queue], opts);
    return r!;
  }
}
