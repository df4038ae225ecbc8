/**
 * The queue reader beside the control loop: each cycle `poll()` consumes the reading that arrived
 * since the previous cycle (if any) and, when no read is in flight and the last one started at
 * least `minIntervalMs` (200 ms) ago, starts the next one
 * (`getQueueStats([download, upload])` with a deadline). A cycle never waits for it: like a write
 * completion, a reading is consumed at the next cycle.
 *
 * From the byte counters and the answer times it derives each direction's achieved bit/s since
 * the previous reading (the adaptive law's `dl_achieved_bps` / `ul_achieved_bps`), and it keeps
 * the max-limit the router holds (reconciliation, docs/decisions.md#d15) and whether the router
 * answered (health). Allocation-light: one reused result object; the only allocations are the
 * client's own per read.
 */
import type { CallOptions } from '@wanctl/router-client';

/** One queue's counters as the reader uses them. */
export interface QueueStatsRecord {
  bytes: number;
  maxLimitBps: number | undefined;
  /** Bytes waiting in the shaper's own queue at the read (RouterOS `queued-bytes`, tc backlog). */
  queuedBytes?: number | undefined;
}

/** What the reader needs from the router client (RouterOS with failover, or linux-cake). */
export interface QueueStatsSource {
  getQueueStats(names: readonly string[], opts?: CallOptions): Promise<ReadonlyArray<QueueStatsRecord>>;
}

/**
 * Achieved rate of one byte counter. `update()` returns bit/s since the previous reading, or
 * null: on the first reading, when the counter went backwards (reset: the router rebooted or the
 * counters were reset; the reading becomes the new base), when no time passed, and when the rate
 * is beyond `maxBps` (a counter that jumped; the reading becomes the new base). A reading less
 * than `minWindowMs` after the base does not move it: the rate is measured over at least that
 * window (counters advance in bursts; a 50 ms window is noisy), and the last rate is repeated.
 */
export class AchievedRate {
  private lastBytes = Number.NaN;
  private lastMs = Number.NaN;
  /** Readings that gave no rate because the counter went backwards or jumped. */
  resets = 0;
  private lastRate: number | null = null;

  constructor(
    private readonly maxBps: number,
    private readonly minWindowMs = 0,
  ) {}

  update(bytes: number, atMs: number): number | null {
    if (!(Number.isFinite(bytes) && bytes >= 0 && Number.isFinite(atMs))) return null;
    const pb = this.lastBytes;
    const pt = this.lastMs;
    if (Number.isNaN(pb)) {
      this.lastBytes = bytes;
      this.lastMs = atMs;
      return null;
    }
    const dt = atMs - pt;
    if (dt <= 0) return null; // same or older answer time: keep the base
    if (bytes < pb) {
      this.lastBytes = bytes;
      this.lastMs = atMs;
      this.resets++;
      this.lastRate = null;
      return null;
    }
    if (dt < this.minWindowMs) return this.lastRate;
    this.lastBytes = bytes;
    this.lastMs = atMs;
    const bps = ((bytes - pb) * 8000) / dt;
    if (bps > this.maxBps) {
      this.resets++;
      this.lastRate = null;
      return null;
    }
    this.lastRate = bps;
    return bps;
  }

  /** Forget the base (the next reading is a first reading). */
  reset(): void {
    this.lastBytes = Number.NaN;
    this.lastMs = Number.NaN;
    this.lastRate = null;
  }
}

export interface QueueReaderOptions {
  source: QueueStatsSource;
  /** [download queue, upload queue]. */
  names: readonly [string, string];
  /** Deadline of one read, ms. */
  deadlineMs: number;
  /** Monotonic ms. */
  now: () => number;
  /** Achieved rates above this are treated as counter jumps (bit/s). Default 100 Gbit/s. */
  maxBps?: number;
  /** An achieved rate is offered to the law this long after its reading at most, ms. Default 1000. */
  holdMs?: number;
  /** Shortest window an achieved rate is measured over, ms. Default 200. */
  minWindowMs?: number;
  /**
   * Least time between the starts of two reads, ms. Default 200: a read costs far more CPU than
   * a cycle (an HTTP request and its JSON), and the achieved rate is measured over 200 ms anyway.
   */
  minIntervalMs?: number;
}

/** The reading consumed by the last `poll()` (reused object). */
export interface QueueReading {
  /** Monotonic ms when the read was started (the router's state is at least this new). */
  startedAt: number;
  /** Monotonic ms when the answer arrived. */
  answeredAt: number;
  dlMaxLimitBps: number | undefined;
  ulMaxLimitBps: number | undefined;
}

export class QueueReader {
  readonly dl: AchievedRate;
  readonly ul: AchievedRate;
  /** Latest achieved rates (null: none usable now). */
  dlAchievedBps: number | null = null;
  /**
   * Bytes queued in each shaper at the latest read (null: unknown or older than the hold): a
   * shaper that holds a queue is its direction's bottleneck, one that holds none is not.
   */
  dlQueuedBytes: number | null = null;
  ulQueuedBytes: number | null = null;
  ulAchievedBps: number | null = null;
  /** Newest successful reading (null before the first). */
  last: QueueReading | null = null;
  reads = 0;
  readsFailed = 0;
  consecutiveFailures = 0;
  lastError: string | null = null;
  lastLatencyMs: number | null = null;
  private readonly o: QueueReaderOptions;
  private readonly callOpts: CallOptions;
  private inFlight = false;
  private achievedAt = Number.NaN;
  // the arrived answer, not yet consumed by a cycle
  private arrived = false;
  private arrivedOk = false;
  private arrivedStarted = 0;
  private arrivedAt = 0;
  private arrivedDlBytes = 0;
  private arrivedUlBytes = 0;
  private arrivedDlMax: number | undefined;
  private arrivedUlMax: number | undefined;
  private arrivedDlQueued: number | undefined;
  private arrivedUlQueued: number | undefined;
  private arrivedError: string | null = null;
  private readonly reading: QueueReading = {
    startedAt: 0,
    answeredAt: 0,
    dlMaxLimitBps: undefined,
    ulMaxLimitBps: undefined,
  };
  private readonly onOk: (s: ReadonlyArray<QueueStatsRecord>) => void;
  private readonly onErr: (e: unknown) => void;
  private startedAt = Number.NEGATIVE_INFINITY;

  constructor(o: QueueReaderOptions) {
    this.o = o;
    this.dl = new AchievedRate(o.maxBps ?? 100e9, o.minWindowMs ?? 200);
    this.ul = new AchievedRate(o.maxBps ?? 100e9, o.minWindowMs ?? 200);
    this.callOpts = { deadlineMs: o.deadlineMs };
    // bound once: a read allocates nothing of ours beyond the client's promise
    this.onOk = (s) => {
      const d = s[0];
      const u = s[1];
      this.inFlight = false;
      this.arrived = true;
      this.arrivedAt = this.o.now();
      this.arrivedStarted = this.startedAt;
      if (d === undefined || u === undefined) {
        this.arrivedOk = false;
        this.arrivedError = 'queue stats answer without both queues';
        return;
      }
      this.arrivedOk = true;
      this.arrivedDlBytes = d.bytes;
      this.arrivedUlBytes = u.bytes;
      this.arrivedDlMax = d.maxLimitBps;
      this.arrivedUlMax = u.maxLimitBps;
      this.arrivedDlQueued = d.queuedBytes;
      this.arrivedUlQueued = u.queuedBytes;
      this.arrivedError = null;
    };
    this.onErr = (e) => {
      this.inFlight = false;
      this.arrived = true;
      this.arrivedOk = false;
      this.arrivedAt = this.o.now();
      this.arrivedStarted = this.startedAt;
      this.arrivedError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    };
  }

  get readInFlight(): boolean {
    return this.inFlight;
  }

  /**
   * Once per cycle: applies the answer that arrived since the previous call and starts the next
   * read if none is in flight. Returns 'ok' / 'failed' when an answer was consumed, else null.
   */
  poll(): 'ok' | 'failed' | null {
    const now = this.o.now();
    let outcome: 'ok' | 'failed' | null = null;
    if (this.arrived) {
      this.arrived = false;
      this.lastLatencyMs = this.arrivedAt - this.arrivedStarted;
      if (this.arrivedOk) {
        outcome = 'ok';
        this.reads++;
        this.consecutiveFailures = 0;
        const d = this.dl.update(this.arrivedDlBytes, this.arrivedAt);
        const u = this.ul.update(this.arrivedUlBytes, this.arrivedAt);
        this.dlAchievedBps = d;
        this.ulAchievedBps = u;
        this.dlQueuedBytes = queued(this.arrivedDlQueued);
        this.ulQueuedBytes = queued(this.arrivedUlQueued);
        this.achievedAt = d === null && u === null ? Number.NaN : this.arrivedAt;
        const r = this.reading;
        r.startedAt = this.arrivedStarted;
        r.answeredAt = this.arrivedAt;
        r.dlMaxLimitBps = this.arrivedDlMax;
        r.ulMaxLimitBps = this.arrivedUlMax;
        this.last = r;
      } else {
        outcome = 'failed';
        this.readsFailed++;
        this.consecutiveFailures++;
        this.lastError = this.arrivedError;
      }
    }
    // an old rate is no rate (a read that hangs for its deadline must not feed the law a stale load)
    if (!Number.isNaN(this.achievedAt) && now - this.achievedAt > (this.o.holdMs ?? 1000)) {
      this.dlAchievedBps = null;
      this.ulAchievedBps = null;
      this.dlQueuedBytes = null;
      this.ulQueuedBytes = null;
      this.achievedAt = Number.NaN;
    }
    if (!this.inFlight && now - this.startedAt >= (this.o.minIntervalMs ?? 200)) {
      this.inFlight = true;
      this.startedAt = now;
      let p: Promise<ReadonlyArray<QueueStatsRecord>>;
      try {
        p = this.o.source.getQueueStats(this.o.names, this.callOpts);
      } catch (e) {
        this.onErr(e);
        return outcome;
      }
      p.then(this.onOk, this.onErr);
    }
    return outcome;
  }

  /** Waits (bounded) until no read is in flight (shutdown). */
  async settle(timeoutMs: number): Promise<void> {
    const end = this.o.now() + timeoutMs;
    while (this.inFlight && this.o.now() < end) await new Promise((r) => setTimeout(r, 5));
  }
}

/** A queued-bytes reading the law can use, or null (absent, not a finite count >= 0). */
function queued(v: number | undefined): number | null {
  return v !== undefined && Number.isFinite(v) && v >= 0 ? v : null;
}
