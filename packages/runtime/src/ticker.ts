/**
 * Drift-free periodic scheduling on a monotonic clock, with an injectable clock for tests, and
 * bounded online latency statistics.
 */

/** A clock: monotonic milliseconds and timers. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock: `performance.now()` and unref'd-free global timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Passed to each tick. */
export interface TickInfo {
  /** Index of the scheduled slot (0, 1, 2, ...; jumps when slots were skipped). */
  tick: number;
  /** Scheduled start (clock ms). */
  scheduledAt: number;
  /**
   * Actual start (clock ms). Node runs timers on the event loop's whole-millisecond clock, so a
   * run may start up to ~1.5 ms before `scheduledAt` on `performance.now()`.
   */
  startedAt: number;
  /** How late the run started: `max(0, startedAt - scheduledAt)` (a run started early is not late). */
  lateMs: number;
}

/** Counters of a {@link Ticker}. */
export interface TickerStats {
  /** Completed runs. */
  runs: number;
  /** Slots that passed while a run was still going (overlong cycles); never run late or twice. */
  skippedTicks: number;
  /** Runs that took longer than the interval. */
  overruns: number;
  /** Runs whose function threw or rejected. */
  errors: number;
}

/** Options of {@link createTicker}. */
export interface TickerOptions {
  clock?: Clock;
  /** Called when a run throws/rejects; the ticker continues. */
  onError?: (err: unknown) => void;
  /** Called after each run with its duration in ms (feed a {@link LatencyStats}). */
  onRunEnd?: (durationMs: number, info: TickInfo) => void;
}

/** A periodic scheduler. */
export interface Ticker {
  readonly stats: TickerStats;
  readonly running: boolean;
  /** Start: the first run happens at once, then every interval from that start. */
  start(): void;
  /** Stop scheduling; resolves when a run in progress has finished. */
  stop(): Promise<void>;
}

/**
 * Run `fn` every `intervalMs` on slot boundaries `t0 + k * intervalMs` (no drift: lateness of one
 * run does not shift the following ones). Never two runs at once: a run that overruns its slot
 * makes the ticker skip the slots that passed (counted in `stats.skippedTicks`) and continue at
 * the next boundary.
 */
export function createTicker(
  intervalMs: number,
  fn: (info: TickInfo) => void | Promise<void>,
  options: TickerOptions = {},
): Ticker {
  if (!(intervalMs > 0)) throw new RangeError(`ticker interval must be > 0 ms, got ${intervalMs}`);
  const clock = options.clock ?? systemClock;
  const stats: TickerStats = { runs: 0, skippedTicks: 0, overruns: 0, errors: 0 };
  let running = false;
  let t0 = 0;
  let nextTick = 0;
  let timer: unknown = null;
  let current: Promise<void> | null = null;

  const scheduleNext = () => {
    if (!running) return;
    const delay = t0 + nextTick * intervalMs - clock.now();
    timer = clock.setTimeout(run, Math.max(0, delay));
  };

  const run = () => {
    timer = null;
    if (!running) return;
    const tick = nextTick;
    const scheduledAt = t0 + tick * intervalMs;
    const startedAt = clock.now();
    // a timer that fired early is on time, never "negative late" (health once showed a cycle
    // duration of -0.052 ms: work + lateness with the timer ~1 ms early)
    const info: TickInfo = { tick, scheduledAt, startedAt, lateMs: Math.max(0, startedAt - scheduledAt) };
    const finish = () => {
      const end = clock.now();
      const dur = end - startedAt;
      stats.runs++;
      if (dur > intervalMs) stats.overruns++;
      options.onRunEnd?.(dur, info);
      // next slot strictly after `end`
      const due = Math.floor((end - t0) / intervalMs) + 1;
      const next = Math.max(tick + 1, due);
      stats.skippedTicks += next - (tick + 1);
      nextTick = next;
      current = null;
      scheduleNext();
    };
    const fail = (err: unknown) => {
      stats.errors++;
      options.onError?.(err);
    };
    let result: void | Promise<void>;
    try {
      result = fn(info);
    } catch (err) {
      fail(err);
      result = undefined;
    }
    if (result && typeof (result as Promise<void>).then === 'function') {
      current = (result as Promise<void>).then(undefined, fail).then(finish);
    } else {
      finish();
    }
  };

  return {
    stats,
    get running() {
      return running;
    },
    start() {
      if (running) return;
      running = true;
      t0 = clock.now();
      nextTick = 0;
      timer = clock.setTimeout(run, 0);
    },
    async stop() {
      running = false;
      if (timer !== null) {
        clock.clearTimeout(timer);
        timer = null;
      }
      if (current) await current;
    },
  };
}

/**
 * Online latency statistics over the last `capacity` samples (a ring buffer; no allocation per
 * sample). Percentiles are computed on demand (for health requests, not every cycle). A
 * duration is never negative: a sample below 0 (two clocks mixed, a clock's jitter) counts as 0,
 * a non-finite one is dropped; an empty window answers null.
 */
export class LatencyStats {
  private readonly ring: Float64Array;
  private readonly scratch: Float64Array;
  private next = 0;
  private filled = 0;
  /** Samples recorded since creation (not bounded). */
  total = 0;

  constructor(readonly capacity = 1200) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be >= 1');
    this.ring = new Float64Array(capacity);
    this.scratch = new Float64Array(capacity);
  }

  record(ms: number): void {
    if (!Number.isFinite(ms)) return;
    this.ring[this.next] = Math.max(0, ms);
    this.next = (this.next + 1) % this.capacity;
    if (this.filled < this.capacity) this.filled++;
    this.total++;
  }

  /** Number of samples in the window. */
  get count(): number {
    return this.filled;
  }

  /** Nearest-rank percentile (0-100) over the window, or null when empty. */
  percentile(p: number): number | null {
    if (this.filled === 0) return null;
    const view = this.scratch.subarray(0, this.filled);
    view.set(this.ring.subarray(0, this.filled));
    view.sort();
    const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.filled);
    return view[Math.max(0, rank - 1)] ?? null;
  }

  p50(): number | null {
    return this.percentile(50);
  }
  p99(): number | null {
    return this.percentile(99);
  }
  max(): number | null {
    return this.percentile(100);
  }

  /** `{count, p50, p99, max}` for a health document. */
  summary(): { count: number; p50: number | null; p99: number | null; max: number | null } {
    return { count: this.filled, p50: this.p50(), p99: this.p99(), max: this.max() };
  }

  reset(): void {
    this.next = 0;
    this.filled = 0;
  }
}
