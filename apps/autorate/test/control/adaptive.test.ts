/**
 * Properties of the adaptive law and its write policy, over seeded random inputs.
 */
import { describe, expect, it } from 'vitest';
import {
  AdaptiveController,
  type AdaptiveInput,
  type AdaptiveParams,
  type AdaptiveResult,
  adaptiveParamsFromControl,
  ControlParamsError,
  MIN_RATE_FRACTION,
  WritePolicy,
} from '../../src/control/index.js';
import { M, v13Params } from './fixtures.js';

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function params(over: Partial<AdaptiveParams> = {}): AdaptiveParams {
  return { ...adaptiveParamsFromControl(v13Params()), ...over };
}

/** The default (config `cut_below_floor: false`): the floor is a hard bound. */
function paramsHardFloor(): AdaptiveParams {
  return adaptiveParamsFromControl(v13Params());
}

/** Config `cut_below_floor: true` (D16): a cut to a delivered rate may go under the floor. */
function paramsUnderFloor(): AdaptiveParams {
  return adaptiveParamsFromControl(v13Params(), { minRateFraction: MIN_RATE_FRACTION });
}

const DT = 0.05;

/**
 * Three seconds of a full line in both directions, then the line falls: the delay jumps far over
 * the threshold (severe) while the delivered rates still count most of the faster line (counters
 * read every 200 ms). Returns the cycle of the first download cut and the next cycle index.
 */
function lineFalls(c: AdaptiveController): { r: AdaptiveResult; k: number; dl0: number; ul0: number } {
  const dl0 = c.rates.dlBps;
  const ul0 = c.rates.ulBps;
  for (let k = 0; k < 60; k++)
    c.cycle({ rtt_ms: 20, dl_achieved_bps: 0.98 * dl0, ul_achieved_bps: 0.98 * ul0 }, k * DT);
  let r = c.cycle({ rtt_ms: 20 + 80, dl_achieved_bps: 0.9 * dl0, ul_achieved_bps: 0.9 * ul0 }, 60 * DT);
  let k = 61;
  while (r.dl.action !== 'cut' && k < 66)
    r = c.cycle({ rtt_ms: 20 + 90, dl_achieved_bps: 0.9 * dl0, ul_achieved_bps: 0.9 * ul0 }, k++ * DT);
  return { r, k, dl0, ul0 };
}

describe('adaptiveParamsFromControl', () => {
  it('takes floor (lowest configured), ceiling, base (green floor) and threshold from the v1.3 parameters', () => {
    const p = adaptiveParamsFromControl(v13Params());
    // minBps: the floor itself by default; 1 % of the ceiling with cut_below_floor: true (D16)
    expect(p.download).toEqual({ floorBps: 200 * M, minBps: 200 * M, ceilingBps: 940 * M, baseBps: 550 * M });
    expect(p.upload).toEqual({ floorBps: 8 * M, minBps: 8 * M, ceilingBps: 38 * M, baseBps: 8 * M });
    expect(adaptiveParamsFromControl(v13Params(), { minRateFraction: null })).toEqual(p);
    const u = paramsUnderFloor();
    expect(u.download.minBps).toBe(9.4 * M);
    expect(u.upload.minBps).toBe(0.38 * M);
    expect(p.thresholdMs).toBe(v13Params().thresholds.targetBloatMs);
    expect(p.writePolicy.writesPerSecond).toBe(2);
  });

  it('rejects inconsistent parameters with the field named', () => {
    expect(() => new AdaptiveController(params({ detectCount: 5, detectWindow: 4 }))).toThrow(
      ControlParamsError,
    );
    try {
      new AdaptiveController(params({ cutFactorSevere: 0.95, cutFactor: 0.9 }));
      expect.unreachable();
    } catch (e) {
      expect((e as ControlParamsError).path).toBe('cutFactorSevere');
    }
  });
});

describe('adaptive law properties (seeded random inputs)', () => {
  /** A random walk over RTTs, per-reflector answers and achieved rates, some absent. */
  function randomRun(
    seed: number,
    cycles: number,
    visit: (inp: AdaptiveInput, t: number, c: AdaptiveController) => void,
    p: AdaptiveParams = params(),
  ) {
    const rnd = prng(seed);
    const c = new AdaptiveController(p);
    let delay = 0;
    const rtts: (number | null)[] = [20, 30, 25];
    for (let k = 0; k < cycles; k++) {
      const t = k * DT;
      delay = Math.max(0, delay + (rnd() - 0.5) * 10 + (rnd() < 0.02 ? 80 : 0) - (rnd() < 0.05 ? delay : 0));
      for (let i = 0; i < 3; i++) rtts[i] = rnd() < 0.1 ? null : 20 + i * 5 + delay + rnd() * 2;
      const inp: AdaptiveInput = {
        rtts_ms: rtts,
        dl_achieved_bps: rnd() < 0.05 ? null : rnd() * 1000 * M,
        ul_achieved_bps: rnd() < 0.05 ? undefined : rnd() * 40 * M,
        router_ok: rnd() > 0.05,
      };
      visit(inp, t, c);
    }
  }

  it('cut_below_floor: false: never leaves [floor, ceiling]', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      randomRun(
        seed,
        4000,
        (inp, t, c) => {
          const r = c.cycle(inp, t);
          expect(r.dl.rateBps).toBeGreaterThanOrEqual(200 * M);
          expect(r.dl.rateBps).toBeLessThanOrEqual(940 * M);
          expect(r.ul.rateBps).toBeGreaterThanOrEqual(8 * M);
          expect(r.ul.rateBps).toBeLessThanOrEqual(38 * M);
          if (r.write) {
            expect(r.write.dlBps).toBeGreaterThanOrEqual(200 * M);
            expect(r.write.ulBps).toBeGreaterThanOrEqual(8 * M);
            expect(r.write.dlBps).toBeLessThanOrEqual(940 * M);
            expect(r.write.ulBps).toBeLessThanOrEqual(38 * M);
          }
        },
        paramsHardFloor(),
      );
    }
  });

  it('cut_below_floor: true (D16): under the configured floor only by a cut to a delivered rate, never under min', () => {
    let below = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const prev = { dl: 940 * M, ul: 38 * M };
      const floor = { dl: 200 * M, ul: 8 * M };
      const min = { dl: 9.4 * M, ul: 0.38 * M };
      const ceil = { dl: 940 * M, ul: 38 * M };
      randomRun(
        seed,
        4000,
        (inp, t, c) => {
          const r = c.cycle(inp, t);
          for (const d of ['dl', 'ul'] as const) {
            const rate = r[d].rateBps;
            expect(rate).toBeGreaterThanOrEqual(min[d]);
            expect(rate).toBeLessThanOrEqual(ceil[d]);
            if (rate < floor[d] && rate < prev[d]) {
              below++;
              const ach = d === 'dl' ? inp.dl_achieved_bps : inp.ul_achieved_bps;
              expect(r[d].action, `${d} at ${t}`).toBe('cut');
              expect(typeof ach, `${d} at ${t}: a cut under the floor needs a delivered rate`).toBe('number');
            }
            prev[d] = rate;
          }
          if (r.write) {
            expect(r.write.dlBps).toBeGreaterThanOrEqual(min.dl);
            expect(r.write.ulBps).toBeLessThanOrEqual(ceil.ul);
          }
        },
        paramsUnderFloor(),
      );
    }
    expect(below).toBeGreaterThan(0); // exercised
  });

  it('a raise keeps a loaded direction within 15 % of what it delivers', () => {
    const c = new AdaptiveController(params());
    // The link carries 300 Mbit/s: a cut teaches it, then a long time without bloat.
    let r = c.cycle({ rtt_ms: 20, dl_achieved_bps: 300 * M, ul_achieved_bps: 0 }, 0);
    for (let k = 1; k < 6; k++)
      r = c.cycle({ rtt_ms: 60, dl_achieved_bps: 300 * M, ul_achieved_bps: 0 }, k * DT);
    expect(r.dl.rateBps).toBeLessThan(300 * M);
    let max = 0;
    for (let k = 6; k < 20 * 60; k++) {
      // It delivers its whole rate up to the link's 300 Mbit/s, never more.
      const ach = Math.min(r.dl.rateBps, 300 * M);
      r = c.cycle({ rtt_ms: 20, dl_achieved_bps: ach, ul_achieved_bps: 0 }, k * DT);
      max = Math.max(max, r.dl.rateBps);
    }
    expect(max).toBeGreaterThan(300 * M);
    expect(max).toBeLessThanOrEqual(1.15 * 300 * M + 1);
  });

  it('after a cut, climbs back to most of what the link carried before at the fastest probe rate, not within the refractory time', () => {
    const p = params();
    const c = new AdaptiveController(p);
    let r = c.cycle({ rtt_ms: 20, dl_achieved_bps: 600 * M, ul_achieved_bps: 0 }, 0);
    for (let k = 1; k < 200; k++)
      r = c.cycle(
        { rtt_ms: 20, dl_achieved_bps: Math.min(r.dl.rateBps, 600 * M), ul_achieved_bps: 0 },
        k * DT,
      );
    // A short fade: the link carries 300 for 0.3 s, the queue grows, the law cuts.
    let cutAt = -1;
    for (let k = 200; k < 206; k++) {
      r = c.cycle({ rtt_ms: 70, dl_achieved_bps: 300 * M, ul_achieved_bps: 0 }, k * DT);
      if (r.dl.action === 'cut' && cutAt < 0) cutAt = k * DT;
    }
    expect(cutAt).toBeGreaterThan(0);
    const low = r.dl.rateBps;
    expect(low).toBeLessThan(300 * M);
    // The link is back at 600: no bloat, it delivers its whole rate.
    let back = -1;
    for (let k = 206; k < 206 + 20 * 10; k++) {
      const t = k * DT;
      const before = r.dl.rateBps;
      r = c.cycle({ rtt_ms: 20, dl_achieved_bps: Math.min(before, 600 * M), ul_achieved_bps: 0 }, t);
      if (r.dl.rateBps > before) expect(t - cutAt).toBeGreaterThanOrEqual(p.refractoryS - 1e-9);
      if (back < 0 && r.dl.rateBps >= 0.85 * 600 * M) back = t - cutAt;
    }
    // 150 -> 510 Mbit/s: about 4.8 s; without the memory of the pre-cut rate (recallS ~ 0) about 7 s.
    expect(back).toBeGreaterThan(0);
    expect(back).toBeLessThan(5.5);
  });

  it('never raises a direction within the refractory time after its cut', () => {
    const refr = params().refractoryS;
    for (const seed of [11, 12, 13]) {
      const lastCut = { dl: Number.NEGATIVE_INFINITY, ul: Number.NEGATIVE_INFINITY };
      let cuts = 0;
      randomRun(seed, 4000, (inp, t, c) => {
        const r = c.cycle(inp, t);
        for (const d of ['dl', 'ul'] as const) {
          if (r[d].action === 'cut') {
            cuts++;
            lastCut[d] = t;
          } else if (r[d].action === 'raise') {
            expect(t - lastCut[d], `${d} raised at ${t}`).toBeGreaterThanOrEqual(refr - 1e-9);
          }
        }
      });
      expect(cuts).toBeGreaterThan(0); // the property was exercised
    }
  });

  it('never cuts an idle direction for the other direction’s delay', () => {
    for (const seed of [21, 22, 23]) {
      const rnd = prng(seed);
      const c = new AdaptiveController(params());
      let dlCuts = 0;
      for (let k = 0; k < 3000; k++) {
        const bloat = rnd() < 0.4;
        const r = c.cycle(
          {
            rtt_ms: 20 + (bloat ? 30 + rnd() * 100 : rnd()),
            dl_achieved_bps: c.rates.dlBps * (0.5 + rnd() * 0.5),
            ul_achieved_bps: rnd() * 0.05 * M, // idle: well under its floor and rate
            router_ok: true,
          },
          k * DT,
        );
        expect(r.ul.load).toBe('idle');
        expect(r.ul.action).not.toBe('cut');
        if (r.dl.action === 'cut') dlCuts++;
      }
      expect(dlCuts).toBeGreaterThan(0);
    }
  });

  it('flows still ramping up in both directions: the one nearer to filling its rate is cut, the other only if the delay stays', () => {
    const c = new AdaptiveController(params());
    const dl0 = c.rates.dlBps;
    const ul0 = c.rates.ulBps;
    // both directions ramping: the download delivers a quarter of its rate, the upload 60 %
    // (the upload's line is the one that filled); the delay rises
    let r = c.cycle({ rtt_ms: 20, dl_achieved_bps: 0.25 * dl0, ul_achieved_bps: 0.6 * ul0 }, 0);
    for (let k = 1; k < 4; k++)
      r = c.cycle({ rtt_ms: 20 + 15 * k, dl_achieved_bps: 0.25 * dl0, ul_achieved_bps: 0.6 * ul0 }, k * DT);
    expect(r.dl.load).toBe('low');
    expect(r.ul.load).toBe('low');
    expect(r.ul.action).toBe('cut');
    expect(r.dl.rateBps).toBe(dl0);
    // the cut drains the delay: the download is never cut
    let dlCut = false;
    for (let k = 4; k < 40; k++) {
      r = c.cycle(
        { rtt_ms: 21, dl_achieved_bps: 0.25 * dl0, ul_achieved_bps: Math.min(0.6 * ul0, r.ul.rateBps) },
        k * DT,
      );
      dlCut ||= r.dl.action === 'cut';
    }
    expect(dlCut).toBe(false);
    // the same onset where the delay does not fall after the upload's cut: the download is cut too
    const c2 = new AdaptiveController(params());
    let cut2 = false;
    for (let k = 0; k < 30; k++) {
      const r2 = c2.cycle(
        { rtt_ms: 20 + Math.min(60, 15 * k), dl_achieved_bps: 0.25 * dl0, ul_achieved_bps: 0.6 * ul0 },
        k * DT,
      );
      cut2 ||= r2.dl.action === 'cut';
    }
    expect(cut2).toBe(true);
    // not at the start of a load: both lines fall at once under load (both now fill their
    // rates poorly), and both are cut at once
    const c3 = new AdaptiveController(params());
    for (let k = 0; k < 60; k++)
      c3.cycle({ rtt_ms: 20, dl_achieved_bps: 0.98 * dl0, ul_achieved_bps: 0.98 * ul0 }, k * DT);
    let both = false;
    for (let k = 60; k < 66; k++) {
      const r3 = c3.cycle({ rtt_ms: 60, dl_achieved_bps: 0.4 * dl0, ul_achieved_bps: 0.5 * ul0 }, k * DT);
      both ||= r3.dl.action === 'cut' && r3.ul.action === 'cut';
    }
    expect(both).toBe(true);
  });

  it('a line that falls under both loaded directions: both cut at once and deep, and the climb back aims at the new line', () => {
    const c = new AdaptiveController(params());
    const fall = lineFalls(c);
    let { r, k } = fall;
    const { dl0, ul0 } = fall;
    // both in the same cycle (no turn-taking on a fallen line), each to at most 0.6 × delivered
    expect(r.dl.action).toBe('cut');
    expect(r.ul.action).toBe('cut');
    expect(r.dl.rateBps).toBeLessThanOrEqual(0.6 * 0.9 * dl0 + 1);
    expect(r.ul.rateBps).toBeLessThanOrEqual(Math.max(0.6 * 0.9 * ul0, 8 * M) + 1);
    // the line carries half from now on, the delay drains: no climb back towards the old line
    let maxDl = 0;
    for (let j = k; j < k + 200; j++) {
      const dlNow = c.rates.dlBps;
      r = c.cycle(
        { rtt_ms: 20, dl_achieved_bps: Math.min(dlNow, 0.5 * dl0), ul_achieved_bps: 0.5 * ul0 },
        j * DT,
      );
      if (j > k + 40) maxDl = Math.max(maxDl, r.dl.rateBps);
    }
    expect(maxDl).toBeLessThan(0.75 * dl0);
  });

  it('after the line fell, the estimate is the cut rate and both directions probe at once', () => {
    const c = new AdaptiveController(params());
    const fall = lineFalls(c);
    let { r, k } = fall;
    const { dl0, ul0 } = fall;
    expect(r.dl.action).toBe('cut');
    expect(r.ul.action).toBe('cut');
    const cut = { dl: r.dl.rateBps, ul: r.ul.rateBps };
    // a read that still counted the old line is no estimate, nor ground to climb back to
    expect(r.dl.capacityBps).toBeLessThanOrEqual(cut.dl + 1);
    expect(r.ul.capacityBps).toBeLessThanOrEqual(cut.ul + 1);
    // where the new line is only probing finds: both climb within 2 s, not one after the other
    for (let j = 0; j < 40; j++, k++) {
      const rates = c.rates;
      r = c.cycle(
        {
          rtt_ms: 20,
          dl_achieved_bps: Math.min(rates.dlBps, 0.7 * dl0),
          ul_achieved_bps: Math.min(rates.ulBps, 0.7 * ul0),
        },
        k * DT,
      );
    }
    expect(r.dl.rateBps).toBeGreaterThan(1.15 * cut.dl);
    expect(r.ul.rateBps).toBeGreaterThan(1.15 * cut.ul);
  });

  it('both loaded: the direction whose shaper holds no queue is cut, not the one whose shaper holds one', () => {
    // with both loaded the direction probing above its estimate would be blamed; the shapers'
    // queues say otherwise: the download's shaper holds a queue (it is the download's
    // bottleneck), the upload's holds none (its traffic queues in the line)
    const run = (queued: boolean) => {
      const c = new AdaptiveController(params());
      const dl0 = c.rates.dlBps;
      const ul0 = c.rates.ulBps;
      const inp = (rtt: number): AdaptiveInput => ({
        rtt_ms: rtt,
        dl_achieved_bps: 0.98 * c.rates.dlBps,
        ul_achieved_bps: 0.98 * c.rates.ulBps,
        ...(queued ? { dl_queued_bytes: 20_000, ul_queued_bytes: 0 } : {}),
      });
      let k = 0;
      for (; k < 60; k++) c.cycle(inp(20), k * DT);
      // moderate bloat (not severe) until a cut, which drains it; once in each direction's turn
      const cuts = { dl: 0, ul: 0 };
      for (let ep = 0; ep < 3; ep++) {
        for (let j = 0; j < 10; j++, k++) {
          const r = c.cycle(inp(20 + 25), k * DT);
          if (r.dl.action === 'cut') cuts.dl++;
          if (r.ul.action === 'cut') cuts.ul++;
          if (r.dl.action === 'cut' || r.ul.action === 'cut') break;
        }
        for (let j = 0; j < 90; j++, k++) c.cycle(inp(20), k * DT);
      }
      expect(c.rates.dlBps).toBeLessThanOrEqual(dl0);
      expect(c.rates.ulBps).toBeLessThanOrEqual(ul0);
      return cuts;
    };
    const withQueues = run(true);
    expect(withQueues.dl).toBe(0);
    expect(withQueues.ul).toBeGreaterThan(0);
    // without the shapers' queues the turn decides, and the download is blamed in its turn
    expect(run(false).dl).toBeGreaterThan(0);
  });

  it('the line falls right after a probe’s cut: the refractory time does not hold back the cut of both', () => {
    // both loaded; a moderate bloat (a probe's overshoot) cuts the direction probing, the delay
    // drains; then, within that cut's refractory time, a new, severe delay (the testbed's step:
    // it came 0.3 s after such a cut, and nothing was cut for 0.2 s while the delay rose 19 -> 45 ms)
    const run = (fallMs: number) => {
      const c = new AdaptiveController(params());
      const inp = (rtt: number): AdaptiveInput => ({
        rtt_ms: rtt,
        dl_achieved_bps: 0.98 * c.rates.dlBps,
        ul_achieved_bps: 0.98 * c.rates.ulBps,
      });
      let k = 0;
      for (; k < 60; k++) c.cycle(inp(20), k * DT);
      let first: AdaptiveResult | null = null;
      for (let j = 0; j < 10 && first === null; j++, k++) {
        const r = c.cycle(inp(20 + 25), k * DT);
        if (r.dl.action === 'cut' || r.ul.action === 'cut') first = r;
      }
      expect(first).not.toBeNull();
      const cutAt = (k - 1) * DT;
      // (one direction only: the other was at its estimate, not probing)
      expect(first?.dl.action === 'cut' && first?.ul.action === 'cut').toBe(false);
      for (let j = 0; j < 4; j++, k++) c.cycle(inp(20), k * DT); // drained
      const rates = c.rates;
      let both: number | null = null;
      for (; k * DT < cutAt + params().refractoryS - 1e-9; k++) {
        const r = c.cycle(inp(20 + fallMs), k * DT);
        if (both === null && r.dl.action === 'cut' && r.ul.action === 'cut') both = k * DT - cutAt;
      }
      return { both, rates, after: c.rates };
    };
    const fell = run(90);
    expect(fell.both).not.toBeNull(); // within the refractory time
    expect(fell.after.dlBps).toBeLessThan(0.7 * fell.rates.dlBps);
    expect(fell.after.ulBps).toBeLessThan(0.7 * fell.rates.ulBps);
    // a moderate delay in that time is still the refractory's: nothing is cut
    const moderate = run(25);
    expect(moderate.both).toBeNull();
    expect(moderate.after.dlBps).toBeGreaterThanOrEqual(moderate.rates.dlBps);
    expect(moderate.after.ulBps).toBeGreaterThanOrEqual(moderate.rates.ulBps);
  });

  it('a delay that keeps falling after a cut is draining: no escalation to the other direction', () => {
    const c = new AdaptiveController(params());
    const dl0 = c.rates.dlBps;
    const ul0 = c.rates.ulBps;
    // the download is loaded, the upload carries some traffic but does not fill its rate
    for (let k = 0; k < 60; k++)
      c.cycle({ rtt_ms: 20, dl_achieved_bps: 0.98 * dl0, ul_achieved_bps: 0.4 * ul0 }, k * DT);
    // moderate bloat: the download (loaded) is cut
    let k = 60;
    let r = c.cycle({ rtt_ms: 20 + 30, dl_achieved_bps: 0.98 * dl0, ul_achieved_bps: 0.4 * ul0 }, k++ * DT);
    while (r.dl.action !== 'cut' && k < 70)
      r = c.cycle({ rtt_ms: 20 + 30, dl_achieved_bps: 0.98 * dl0, ul_achieved_bps: 0.4 * ul0 }, k++ * DT);
    expect(r.dl.action).toBe('cut');
    // the delay then falls by 1 ms a cycle, still over 0.7 × its level at the cut for a while
    let ulCut = false;
    for (let j = 0; j < 12; j++) {
      r = c.cycle(
        { rtt_ms: 20 + 30 - j, dl_achieved_bps: c.rates.dlBps, ul_achieved_bps: 0.4 * ul0 },
        k++ * DT,
      );
      ulCut ||= r.ul.action === 'cut';
    }
    expect(ulCut).toBe(false);
  });

  it('counter noise above the rate never raises the capacity estimate over the rate', () => {
    const c = new AdaptiveController(params());
    // a loaded download, then a drop to 500 Mbit/s: cut under the ceiling
    for (let k = 0; k < 20; k++)
      c.cycle({ rtt_ms: 20, dl_achieved_bps: 900 * M, ul_achieved_bps: 0 }, k * DT);
    let k = 20;
    while (c.rates.dlBps > 600 * M && k < 30)
      c.cycle({ rtt_ms: 60, dl_achieved_bps: 500 * M, ul_achieved_bps: 0 }, k++ * DT);
    expect(c.rates.dlBps).toBeLessThan(600 * M);
    // no bloat from now on; the shaper is read at up to 8 % over its rate (counters advance in bursts)
    // (the estimate the cut set, what was delivered, may stand above the rate it cut to)
    let maxRate = c.rates.dlBps;
    let bound = 0;
    for (let j = 0; j < 100; j++, k++) {
      const dl = c.rates.dlBps * (j % 2 === 0 ? 1.08 : 0.97);
      const r = c.cycle({ rtt_ms: 20, dl_achieved_bps: dl, ul_achieved_bps: 0 }, k * DT);
      if (j === 0) bound = r.dl.capacityBps;
      maxRate = Math.max(maxRate, r.dl.rateBps);
      expect(r.dl.capacityBps).toBeLessThanOrEqual(Math.max(bound, maxRate) + 1);
    }
  });

  it('cuts a loaded direction to what the link delivered, not a fraction of its rate', () => {
    const c = new AdaptiveController(params());
    let r = c.cycle({ rtt_ms: 20, dl_achieved_bps: 900 * M, ul_achieved_bps: 0 }, 0);
    for (let k = 1; k < 40; k++)
      r = c.cycle({ rtt_ms: 20, dl_achieved_bps: 920 * M, ul_achieved_bps: 0 }, k * DT);
    // The link falls to 400 Mbit/s: the shaper delivers 400 and the queue grows.
    let ulCut = false;
    for (let k = 40; k < 44; k++) {
      r = c.cycle({ rtt_ms: 45, dl_achieved_bps: 400 * M, ul_achieved_bps: 0 }, k * DT);
      ulCut ||= r.ul.action === 'cut';
    }
    expect(r.dl.action === 'cut' || r.dl.action === 'hold').toBe(true);
    expect(r.dl.rateBps).toBeLessThanOrEqual(400 * M * 0.9);
    expect(r.dl.rateBps).toBeGreaterThan(400 * M * 0.6);
    expect(r.dl.capacityBps).toBeLessThanOrEqual(400 * M);
    expect(ulCut).toBe(false);
  });

  it('still acts without achieved rates: cuts on bloat by a fraction of the rate, raises when clear', () => {
    const c = new AdaptiveController(params());
    let r = c.cycle({ rtt_ms: 20 }, 0);
    for (let k = 1; k < 6; k++) r = c.cycle({ rtt_ms: 60 }, k * DT);
    expect(r.dl.rateBps).toBeLessThan(940 * M);
    expect(r.ul.rateBps).toBeLessThan(38 * M);
    const after = r.dl.rateBps;
    for (let k = 6; k < 200; k++) r = c.cycle({ rtt_ms: 20 }, k * DT);
    expect(r.dl.rateBps).toBeGreaterThan(after);
  });

  it('an idle direction decays towards its base rate: max(green floor, 0.9 × capacity estimate)', () => {
    const c = new AdaptiveController(params());
    let r = c.cycle({ rtt_ms: 20, dl_achieved_bps: 0, ul_achieved_bps: 0 }, 0);
    let decays = 0;
    for (let k = 1; k < 20 * 60; k++) {
      r = c.cycle({ rtt_ms: 20, dl_achieved_bps: 0, ul_achieved_bps: 0 }, k * DT);
      if (r.dl.action === 'decay') decays++;
    }
    expect(decays).toBeGreaterThan(100);
    expect(r.dl.rateBps).toBe(Math.round(0.9 * 940 * M));
    // After a cut taught it the link carries 300 Mbit/s, the base is the green floor (550).
    for (let k = 0; k < 4; k++)
      c.cycle({ rtt_ms: 60, dl_achieved_bps: 300 * M, ul_achieved_bps: 0 }, 60 + k * DT);
    // (the cut went to what the link delivered, under the 200 Mbit/s floor: 1 %/s back up takes a while)
    for (let k = 0; k < 20 * 200; k++)
      r = c.cycle({ rtt_ms: 20, dl_achieved_bps: 0, ul_achieved_bps: 0 }, 61 + k * DT);
    expect(r.dl.rateBps).toBe(550 * M);
  });
});

describe('reflectors', () => {
  /** Loaded, no bloat, 3 reflectors; `mutate` changes reflector answers. Returns the cuts seen. */
  function run(mutate: (rtts: (number | null)[], t: number) => void): {
    cuts: number;
    bad: number;
    c: AdaptiveController;
  } {
    const c = new AdaptiveController(params());
    const rnd = prng(7);
    const rtts: (number | null)[] = [0, 0, 0];
    let cuts = 0;
    let bad = 0;
    for (let k = 0; k < 20 * 60; k++) {
      const t = k * DT;
      rtts[0] = 20 + rnd();
      rtts[1] = 24 + rnd();
      rtts[2] = 31 + rnd();
      mutate(rtts, t);
      const r = c.cycle(
        { rtts_ms: rtts, dl_achieved_bps: c.rates.dlBps * 0.97, ul_achieved_bps: c.rates.ulBps * 0.97 },
        t,
      );
      if (r.dl.action === 'cut' || r.ul.action === 'cut') cuts++;
      bad |= r.badReflectors;
    }
    return { cuts, bad, c };
  }

  it('a reflector that stops answering does not move the rate and is reported for replacement', () => {
    const { cuts, bad, c } = run((rtts, t) => {
      if (t >= 10) rtts[1] = null;
    });
    expect(cuts).toBe(0);
    expect(bad).toBe(0b010);
    expect(c.cycle({ rtts_ms: [20, null, 31] }, 60).badReflectors).toBe(0b010);
    expect(c.rates).toEqual({ dlBps: 940 * M, ulBps: 38 * M });
  });

  it('a reflector with its own high RTT, or whose own path gets 80 ms longer, does not move the rate', () => {
    const far = run((rtts) => {
      rtts[2] = (rtts[2] as number) + 150;
    });
    expect(far.cuts).toBe(0);
    const shifted = run((rtts, t) => {
      if (t >= 20) rtts[0] = (rtts[0] as number) + 80;
    });
    expect(shifted.cuts).toBe(0);
    expect(shifted.bad).toBe(0b001);
  });

  it('replaceReflector: the slot starts afresh, its silence counts from the swap, its baseline is the new one', () => {
    const c = new AdaptiveController(params());
    let r = c.cycle({ rtts_ms: [20, 30, 25] }, 0);
    for (let k = 1; k < 100; k++) r = c.cycle({ rtts_ms: [20, k < 10 ? 30 : null, 25] }, k * DT);
    r = c.cycle({ rtts_ms: [20, null, 25] }, 5);
    expect(r.badReflectors).toBe(0b010);
    expect(r.silentReflectors).toBe(0b010);
    expect(c.reflectorSilenceS(1, 5)).toBeCloseTo(5 - 9 * DT, 6);
    c.replaceReflector(1, 5);
    // not answering yet: not bad until reflectorSilentS (2 s) after the swap
    for (let k = 1; k < 39; k++) {
      r = c.cycle({ rtts_ms: [20, null, 25] }, 5 + k * DT);
      expect(r.badReflectors, `at +${k * DT} s`).toBe(0);
    }
    r = c.cycle({ rtts_ms: [20, null, 25] }, 7.01);
    expect(r).toMatchObject({ badReflectors: 0b010, silentReflectors: 0b010 });
    // a reflector with a far longer path: its own baseline, so no delay and not an outlier
    c.replaceReflector(1, 7.01);
    for (let k = 1; k < 20 * 8; k++) r = c.cycle({ rtts_ms: [20, 140, 25] }, 7.01 + k * DT);
    expect(r.badReflectors).toBe(0);
    expect(r.delayMs).toBeLessThan(1);
    expect(c.reflectorOffsetMs(1)).toBeLessThan(1);
  });

  it('silentReflectors: every slot silent is reported as such (the daemon calls that an outage)', () => {
    const c = new AdaptiveController(params());
    let r = c.cycle({ rtts_ms: [20, 30, 25] }, 0);
    for (let k = 1; k < 80; k++) r = c.cycle({ rtts_ms: k < 20 ? [20, 30, 25] : [null, null, null] }, k * DT);
    expect(r).toMatchObject({ badReflectors: 0b111, silentReflectors: 0b111 });
  });

  it('an outlier is bad but not silent, with its offset from the others', () => {
    const c = new AdaptiveController(params());
    let r = c.cycle({ rtts_ms: [20, 24, 31] }, 0);
    // slot 0's path gets 80 ms longer at 10 s: off the others for reflectorOutlierS (5 s) by 15 s
    for (let k = 1; k <= 20 * 16; k++) r = c.cycle({ rtts_ms: [k * DT < 10 ? 20 : 100, 24, 31] }, k * DT);
    expect(r).toMatchObject({ badReflectors: 0b001, silentReflectors: 0 });
    expect(c.reflectorOffsetMs(0)).toBeGreaterThan(30);
  });

  it('resetReflector clears a replaced slot', () => {
    const c = new AdaptiveController(params());
    for (let k = 0; k < 100; k++) c.cycle({ rtts_ms: [20, k < 10 ? 30 : null, 25] }, k * DT);
    expect(c.cycle({ rtts_ms: [20, null, 25] }, 5).badReflectors).toBe(0b010);
    c.resetReflector(1);
    expect(c.cycle({ rtts_ms: [20, 90, 25] }, 5.05).badReflectors).toBe(0);
  });
});

describe('write policy', () => {
  it('keeps within the budget over every window, and the latest decision always reaches the router', () => {
    for (const seed of [31, 32, 33, 34]) {
      const rnd = prng(seed);
      const wp = new WritePolicy({ writesPerSecond: 2, burst: 4 });
      const times: number[] = [];
      let dl = 500 * M;
      let ul = 20 * M;
      const N = 20 * 120;
      for (let k = 0; k < N + 20 * 5; k++) {
        const t = k * DT;
        if (k < N) {
          dl = Math.max(1, dl * (1 + (rnd() - 0.5) * 0.1));
          ul = Math.max(1, ul * (1 + (rnd() - 0.5) * 0.1));
        }
        const w = wp.offer(Math.round(dl), Math.round(ul), t);
        if (w) {
          times.push(t);
          wp.completed(rnd() > 0.1); // some writes fail: they are retried
        }
      }
      // Sustained: at most burst + rate × window in any window.
      for (let i = 0; i < times.length; i++) {
        let j = i;
        while (j < times.length && times[j]! - times[i]! <= 10) j++;
        expect(j - i).toBeLessThanOrEqual(4 + 2 * 10);
      }
      const total = (N + 100) * DT;
      expect(times.length / total).toBeLessThanOrEqual(2 + 4 / total + 1e-9);
      // After the decisions stop changing, the router holds the last one.
      expect(wp.routerDlBps).toBe(Math.round(dl));
      expect(wp.routerUlBps).toBe(Math.round(ul));
    }
  });

  it('lets a decrease through before an increase and a small change only after the hold', () => {
    const wp = new WritePolicy({ writesPerSecond: 2, burst: 2, reserveForDecrease: 1, deadbandHoldS: 1 });
    expect(wp.offer(100, 10, 0)).not.toBeNull(); // first write: router unknown
    wp.completed(true);
    // One token left: an increase must leave one for a decrease, so it waits...
    expect(wp.offer(120, 10, 0.01)).toBeNull();
    // ...but a decrease goes at once.
    expect(wp.offer(90, 10, 0.02)).toEqual({ dlBps: 90, ulBps: 10 });
    wp.completed(true);
    // Small change (< 1 %): not before the hold time, then written.
    expect(wp.offer(90.5, 10, 2)).toBeNull();
    expect(wp.offer(90.5, 10, 2.5)).toBeNull();
    expect(wp.offer(90.5, 10, 3.01)).toEqual({ dlBps: 90.5, ulBps: 10 });
  });

  it('unlimited (linux-cake) writes every change at once', () => {
    const wp = new WritePolicy({ mode: 'unlimited' });
    for (let k = 0; k < 100; k++) {
      expect(wp.offer(100 + k, 10, k * 0.001)).not.toBeNull();
      wp.completed(true);
    }
    expect(wp.writes).toBe(100);
  });

  it('one write in flight at a time; a failed write leaves the router rates unchanged', () => {
    const wp = new WritePolicy();
    expect(wp.offer(100, 10, 0)).not.toBeNull();
    expect(wp.offer(90, 10, 0.05)).toBeNull();
    expect(wp.completed(false)).toBe(true);
    expect(wp.routerDlBps).toBeNull();
    expect(wp.completed(true)).toBe(false);
    expect(wp.offer(90, 10, 0.1)).toEqual({ dlBps: 90, ulBps: 10 });
  });
});
