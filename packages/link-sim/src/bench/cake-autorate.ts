/**
 * A cake-autorate-style reference controller for the benchmark, written here from the documented
 * behaviour and defaults of lynxthecat/cake-autorate (read at commit 94238be, 2026-08-19, script
 * header 3.3.0-PRERELEASE; `defaults.sh` and the main loop of `cake-autorate.sh`). No code of that
 * project (GPL-2.0) is used; this is our re-expression of its algorithm:
 *
 * - one reply per cycle, round robin over the reflectors (fping `--interval 50`: 20 replies/s);
 *   RTT pinger: one-way delay = RTT / 2 in both directions;
 * - per-reflector baseline EWMA, alpha 0.001 upwards and 0.9 downwards
 *   (`alpha_baseline_increase`, `alpha_baseline_decrease`); delta = OWD − baseline;
 * - detection window of the last 6 samples shared across reflectors
 *   (`bufferbloat_detection_window=6`), bufferbloat when 3 are delayed
 *   (`bufferbloat_detection_thr=3`); a sample is delayed above `dl/ul_owd_delta_delay_thr_ms=30`;
 *   up/down adjust thresholds 10/60 ms (`avg_owd_delta_max_adjust_up_thr_ms`,
 *   `avg_owd_delta_max_adjust_down_thr_ms`); every threshold gets the serialisation time of one
 *   1538-byte packet at the current rate added;
 * - achieved rate sampled every 200 ms (`monitor_achieved_rates_interval_ms`); load = achieved /
 *   shaper rate, high above 0.75 (`high_load_thr`); low and idle (under
 *   `connection_active_thr_kbps=2000`) are treated alike (both decay), so only "high" is computed;
 * - bufferbloat outside the 300 ms `bufferbloat_refractory_period_ms`: rate × (0.99 … 0.75) by the
 *   window's mean delta (`shaper_rate_min/max_adjust_down_bufferbloat`), both directions (an RTT
 *   cannot say which);
 * - high load, a fresh achieved-rate sample, no bufferbloat: rate × (1.0 … 1.04), tapering as the
 *   mean delta nears the threshold (`shaper_rate_min/max_adjust_up_load_high`);
 * - low or idle load: 1 % towards the base rate once per 1000 ms (`decay_refractory_period_ms`,
 *   `shaper_rate_adjust_down/up_load_low`);
 * - clamp to [min, max]; write (to `tc`, no budget) only when a rate changed.
 * Left out: sleep/stall states, reflector rotation, OWD pingers.
 */
import type { BenchController, Rates } from './controller.js';

export interface CakeAutorateRates {
  minBps: number;
  baseBps: number;
  maxBps: number;
}

export interface CakeAutorateOptions {
  down: CakeAutorateRates;
  up: CakeAutorateRates;
  name?: string;
}

const WINDOW = 6;
const DETECT_THR = 3;
const DELAY_THR_MS = 30;
const ADJUST_UP_THR_MS = 10;
const ADJUST_DOWN_THR_MS = 60;
const WIRE_PACKET_BITS = 1538 * 8;
const ALPHA_UP = 0.001;
const ALPHA_DOWN = 0.9;
const ACHIEVED_INTERVAL_S = 0.2;
const HIGH_LOAD = 0.75;
const BB_REFRACTORY_S = 0.3;
const DECAY_REFRACTORY_S = 1;
const DOWN_MIN = 0.99;
const DOWN_MAX = 0.75;
const UP_MAX = 0.04;
const LOW_LOAD_STEP = 0.01;
const MAX_REFLECTORS = 32;

class Dir {
  rate: number;
  lastBbS = Number.NEGATIVE_INFINITY;
  lastDecayS = Number.NEGATIVE_INFINITY;
  achieved = 0;
  fresh = false;
  constructor(readonly r: CakeAutorateRates) {
    this.rate = r.maxBps;
  }
}

/** The cake-autorate-style reference (see the module comment). Starts at the max rates. */
export function cakeAutorateController(opts: CakeAutorateOptions): BenchController {
  const name = opts.name ?? 'cake-autorate-ref';
  let dl = new Dir(opts.down);
  let ul = new Dir(opts.up);
  const baseline = new Float64Array(MAX_REFLECTORS).fill(Number.NaN);
  const ringDelta = new Float64Array(WINDOW);
  let ringPos = 0;
  let rr = 0;
  let accD = 0;
  let accU = 0;
  let accS = 0;
  let cycleS = 0.05;
  const out: Rates = { downBps: 0, upBps: 0 };

  function adjust(d: Dir, t: number, bb: boolean, avg: number): void {
    const comp = WIRE_PACKET_BITS / (d.rate / 1000);
    const thr = DELAY_THR_MS + comp;
    const up = ADJUST_UP_THR_MS + comp;
    const dn = ADJUST_DOWN_THR_MS + comp;
    const load = d.achieved / d.rate;
    if (bb) {
      if (t - d.lastBbS >= BB_REFRACTORY_S) {
        const f = Math.min(1, Math.max(0, (avg - thr) / (dn - thr)));
        d.rate *= DOWN_MIN - f * (DOWN_MIN - DOWN_MAX);
        d.lastBbS = t;
        d.lastDecayS = t;
      }
    } else if (load > HIGH_LOAD) {
      if (d.fresh && t - d.lastBbS >= BB_REFRACTORY_S) {
        const g = Math.min(1, Math.max(0, (thr - avg) / (thr - up)));
        d.rate *= 1 + g * UP_MAX;
        d.fresh = false;
      }
    } else if (t - d.lastDecayS >= DECAY_REFRACTORY_S) {
      if (d.rate > d.r.baseBps) d.rate = Math.max(d.r.baseBps, d.rate * (1 - LOW_LOAD_STEP));
      else if (d.rate < d.r.baseBps) d.rate = Math.min(d.r.baseBps, d.rate * (1 + LOW_LOAD_STEP));
      d.lastDecayS = t;
    }
    d.rate = Math.round(Math.min(d.r.maxBps, Math.max(d.r.minBps, d.rate)));
  }

  return {
    name,
    start(ctx) {
      cycleS = ctx.cycleS;
      dl = new Dir(opts.down);
      ul = new Dir(opts.up);
      baseline.fill(Number.NaN);
      ringDelta.fill(0);
      ringPos = 0;
      rr = 0;
      accD = 0;
      accU = 0;
      accS = 0;
    },
    onCycle(t, rttMs, achieved, rtts) {
      // Achieved rates: a fresh sample every 200 ms (mean over the interval).
      accD += achieved.downBps;
      accU += achieved.upBps;
      accS++;
      if (accS * cycleS >= ACHIEVED_INTERVAL_S - 1e-9) {
        dl.achieved = accD / accS;
        ul.achieved = accU / accS;
        dl.fresh = true;
        ul.fresh = true;
        accD = 0;
        accU = 0;
        accS = 0;
      }
      // One reply this cycle: round robin over the answering reflectors.
      let slot = 0;
      let sample: number | null = rttMs;
      if (rtts && rtts.length > 0) {
        sample = null;
        for (let k = 0; k < rtts.length && sample === null; k++) {
          slot = (rr + k) % rtts.length;
          sample = rtts[slot] ?? null;
        }
        rr = (slot + 1) % rtts.length;
      }
      if (sample !== null && slot < MAX_REFLECTORS) {
        const owd = sample / 2;
        const b0 = baseline[slot]!;
        const b = Number.isNaN(b0) ? owd : b0 + (owd >= b0 ? ALPHA_UP : ALPHA_DOWN) * (owd - b0);
        baseline[slot] = b;
        ringDelta[ringPos] = owd - b;
        ringPos = (ringPos + 1) % WINDOW;
        let sum = 0;
        let delayedD = 0;
        let delayedU = 0;
        const thrD = DELAY_THR_MS + WIRE_PACKET_BITS / (dl.rate / 1000);
        const thrU = DELAY_THR_MS + WIRE_PACKET_BITS / (ul.rate / 1000);
        for (let i = 0; i < WINDOW; i++) {
          const v = ringDelta[i]!;
          sum += v;
          if (v > thrD) delayedD++;
          if (v > thrU) delayedU++;
        }
        const avg = sum / WINDOW;
        adjust(dl, t, delayedD >= DETECT_THR, avg);
        adjust(ul, t, delayedU >= DETECT_THR, avg);
      }
      out.downBps = dl.rate;
      out.upBps = ul.rate;
      return out;
    },
  };
}
