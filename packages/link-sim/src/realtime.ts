import { LinkSimConfigError } from './errors.js';
import type { LinkSim } from './sim.js';

export interface RealtimeLinkDriverOptions {
  /** How often to advance the simulation, ms. Default 5. */
  intervalMs?: number;
  /**
   * Largest advance per timer tick, seconds. After a stall (GC, a busy machine) the simulation
   * advances at most this much and then lags wall time; it never replays a burst. Default 0.1.
   */
  maxStepS?: number;
  /** Monotonic clock in ms. Default `performance.now`. */
  clock?: () => number;
  /** Keep the process alive while running. Default false (the timer is unref'd). */
  keepAlive?: boolean;
  /** Called after each advance (e.g. to feed a display). */
  onAdvance?: (sim: LinkSim) => void;
  /**
   * Called when `onAdvance` throws; the driver stops. Without it the error is kept in
   * `lastError` (the timer never throws into the event loop).
   */
  onError?: (err: unknown) => void;
}

/** Advances a {@link LinkSim} by wall-clock time, for live demos. */
export class RealtimeLinkDriver {
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  private readonly intervalMs: number;
  private readonly maxStepS: number;
  private readonly clock: () => number;
  /** Simulated seconds skipped because of the step bound (how far the sim lags wall time). */
  lagS = 0;
  /** The error that stopped the driver, if any. */
  lastError: unknown = undefined;

  constructor(
    readonly sim: LinkSim,
    private readonly opts: RealtimeLinkDriverOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 5;
    this.maxStepS = opts.maxStepS ?? 0.1;
    if (!(this.intervalMs >= 1)) throw new LinkSimConfigError('intervalMs', 'expected >= 1');
    if (!(this.maxStepS > 0)) throw new LinkSimConfigError('maxStepS', 'expected > 0');
    this.clock = opts.clock ?? (() => performance.now());
  }

  get running(): boolean {
    return this.timer !== null;
  }

  start(): void {
    if (this.timer) return;
    this.last = this.clock();
    this.timer = setInterval(() => this.advance(), this.intervalMs);
    if (!this.opts.keepAlive) this.timer.unref();
  }

  /** Advances by the wall time elapsed since the last call (bounded). Called by the timer. */
  advance(): void {
    const nowMs = this.clock();
    let dtS = (nowMs - this.last) / 1000;
    this.last = nowMs;
    if (!(dtS > 0)) return;
    if (dtS > this.maxStepS) {
      this.lagS += dtS - this.maxStepS;
      dtS = this.maxStepS;
    }
    this.sim.step(dtS);
    if (this.opts.onAdvance) {
      try {
        this.opts.onAdvance(this.sim);
      } catch (err) {
        this.stop();
        this.lastError = err;
        this.opts.onError?.(err);
      }
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
