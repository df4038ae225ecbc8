import type { CapacityTrace } from '../trace.js';

/** Rates for both directions, bits per second. */
export interface Rates {
  downBps: number;
  upBps: number;
}

/** What the shapers passed during the last cycle, and what each holds in its own queue now. */
export interface Achieved extends Rates {
  /** Bytes in the download / upload shaper's own queue (RouterOS `queued-bytes`, tc backlog). */
  queuedDownBytes: number;
  queuedUpBytes: number;
}

/** What a controller learns once, before the first cycle. */
export interface BenchStartContext {
  /** Configured ceilings: the shaper starts there (as wanctl does). */
  readonly ceilingDownBps: number;
  readonly ceilingUpBps: number;
  /** Base RTT of the simulated path, ms (a real controller must learn it; given for reference). */
  readonly baseRttMs: number;
  /** Controller cycle, seconds (0.05 = 20 Hz). */
  readonly cycleS: number;
  /** The true capacity. Only reference controllers (the oracle) may look at it. */
  readonly trace: CapacityTrace;
}

/**
 * A rate controller under test. `onCycle` is called every cycle of simulated time with the
 * RTT a probe measured and the rate the shaper passed during the last cycle, and returns
 * the new shaper rates, or null to leave them. With several reflectors (the run's `reflectors`
 * option) `rtts` holds one RTT per reflector (null: no answer this cycle); it is reused. A returned value equal to the current rates
 * is not a router write. `achieved` is reused between calls: copy it if you keep it.
 */
export interface BenchController {
  readonly name: string;
  start?(ctx: BenchStartContext): void;
  onCycle(
    tS: number,
    rttMs: number,
    achieved: Readonly<Achieved>,
    rtts?: readonly (number | null)[],
  ): Rates | null;
}

/** Reference: no autorate. The shaper stays at the configured ceiling; never writes. */
export function noAutorateController(): BenchController {
  return {
    name: 'no-autorate',
    onCycle: () => null,
  };
}

/**
 * Reference: an oracle that knows the true capacity and sets the shaper to `fraction` of it
 * (default 0.95) at every cycle. Writes whenever the capacity changes.
 */
export function oracleController(opts: { fraction?: number } = {}): BenchController {
  const fraction = opts.fraction ?? 0.95;
  let trace: CapacityTrace | null = null;
  const out: Rates = { downBps: 0, upBps: 0 };
  return {
    name: 'oracle',
    start(ctx) {
      trace = ctx.trace;
    },
    onCycle(tS) {
      if (!trace) return null;
      out.downBps = Math.round(fraction * trace.at(tS, 'down'));
      out.upBps = Math.round(fraction * trace.at(tS, 'up'));
      return out;
    },
  };
}
