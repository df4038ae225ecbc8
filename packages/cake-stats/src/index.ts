/**
 * @wanctl/cake-stats: CAKE queue counters read through a RouterClient (REST JSON or SSH
 * console text, both to the same typed snapshot), and deltas between snapshots (docs/decisions.md#d8):
 * the first read only sets the reference; a counter that goes backwards is a reset, counted
 * from zero and logged, never a negative delta; per-second rates use the snapshots' times.
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

/** Queue names wanctl accepts (v1.3 `validate_identifier`: letters, digits, `_ . -`, at most 64). */
export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export class InvalidQueueNameError extends RangeError {
  constructor(readonly queue: string) {
    super(`invalid queue name ${JSON.stringify(queue)}: use 1-64 letters, digits, "_", "." or "-"`);
    this.name = 'InvalidQueueNameError';
  }
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
    throw new RangeError(
      queue === undefined ? 'no queue record in the answer' : `queue "${queue}" not in the answer`,
    );
  return rec;
}

/** Snapshot from a REST answer (`GET /rest/queue/tree?name=...`: an array or one object, values strings). */
export function snapshotFromRest(body: unknown, at: number, queue?: string): CakeSnapshot {
  const v = typeof body === 'string' ? JSON.parse(body) : body;
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

const COUNTERS = ['bytes', 'packets', 'dropped'] as const;

/**
 * Delta from `prev` to `cur`. A counter below its previous value is a reset: the increase is
 * counted from zero (the current value).
 */
export function computeDelta(prev: CakeSnapshot, cur: CakeSnapshot): CakeDelta {
  let reset = false;
  const inc = { bytes: 0, packets: 0, dropped: 0 };
  for (const f of COUNTERS) {
    if (cur[f] < prev[f]) {
      reset = true;
      inc[f] = cur[f];
    } else inc[f] = cur[f] - prev[f];
  }
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

  async readOne(queue: string, opts?: CallOptions): Promise<CakeRead> {
    const [r] = await this.read([queue], opts);
    return r!;
  }
}
