import { describe, expect, it } from 'vitest';
import { ControlParamsError, WanController } from '../../src/control/index.js';
import { copy, M, run, v13Params, withParams } from './fixtures.js';

/** Puts the controller at a given baseline/load/rate state through restore(). */
function at(
  p = v13Params(),
  s: { baseline?: number; load?: number; dl?: number; ul?: number; dlGreen?: number; ulGreen?: number } = {},
): WanController {
  const c = new WanController(p);
  c.restore({
    download: {
      green_streak: s.dlGreen ?? 0,
      soft_red_streak: 0,
      red_streak: 0,
      current_rate: s.dl ?? p.download.ceilingBps,
    },
    upload: {
      green_streak: s.ulGreen ?? 0,
      soft_red_streak: 0,
      red_streak: 0,
      current_rate: s.ul ?? p.upload.ceilingBps,
    },
    ewma: { baseline_rtt: s.baseline ?? 24, load_rtt: s.load ?? 24 },
    last_applied: { dl_rate: null, ul_rate: null },
  });
  return c;
}

describe('EWMAs and baseline (v1.3 §2.5, §11 #4-#8)', () => {
  it('#4 median-of-three feeds 25 -> load 24.5, baseline 24.001, then 24.75 / 24.001999', () => {
    const c = new WanController(withParams((p) => (p.thresholds.alphaLoad = 0.5)));
    let r = c.cycle({ rtts_ms: [24, 25, 30] }, 0);
    expect([r.measuredRttMs, r.loadRttMs]).toStrictEqual([25, 24.5]);
    expect(r.baselineRttMs).toBe((1 - 0.001) * 24 + 0.001 * 25); // prints as 24.001 in v1.3's logs
    expect(r.baselineRttMs).toBeCloseTo(24.001, 12);
    r = c.cycle({ rtts_ms: [24, 25, 30] }, 0.05);
    expect(r.loadRttMs).toBe(24.75);
    expect(r.baselineRttMs).toBeCloseTo(24.001999, 12);
  });

  it('#5 baseline frozen once load - baseline reaches the idle threshold', () => {
    const c = new WanController(v13Params());
    expect(c.cycle({ rtt_ms: 29 }, 0).baselineRttMs).toBe(24.005);
    const r = c.cycle({ rtt_ms: 29 }, 0.05);
    expect(r.loadRttMs).toBe(27.75);
    expect(r.baselineRttMs).toBe(24.005);
    expect(r.baselineOutcome).toBe('frozen');
  });

  it('#7 a baseline below the bounds is stuck (candidates rejected), as v1.3', () => {
    const c = new WanController(withParams((p) => (p.baselineRttInitialMs = 8)));
    expect(c.cycle({ rtt_ms: 8 }, 0).baselineOutcome).toBe('rejected'); // candidate 8 < min 10
    const r = c.cycle({ rtt_ms: 30 }, 0.05);
    expect(r.baselineRttMs).toBe(8);
    expect(r.loadRttMs).toBe(19);
    expect(r.baselineOutcome).toBe('frozen'); // load 19 is 11 ms above the baseline: not idle
  });

  it('#8 restored out-of-range values: baseline stays 500, rates lifted/clamped by the first cycle', () => {
    const c = new WanController(v13Params());
    c.restore({
      download: { current_rate: 100 },
      upload: { current_rate: 5_000_000_000 },
      ewma: { baseline_rtt: 500, load_rtt: 500 },
    });
    const r = c.cycle({ rtt_ms: 25 }, 0);
    expect(r.baselineRttMs).toBe(500);
    expect(r.loadRttMs).toBe(262.5);
    expect([r.dlZone, r.dlRateBps, r.ulRateBps]).toStrictEqual(['GREEN', 550 * M, 38 * M]);
  });
});

describe('download 4-state and upload 3-state (v1.3 §2.7-2.8, §11)', () => {
  it('#18 RED every cycle from 940 M reaches the 200 M floor at cycle 10 with truncated decay', () => {
    const c = at(v13Params(), { baseline: 24, load: 24 });
    const rates: number[] = [];
    for (let i = 0; i < 10; i++) {
      // keep load - baseline > 80 without spikes: restore the EWMAs each cycle
      c.restore({ ...c.snapshot(), ewma: { baseline_rtt: 24, load_rtt: 120 } });
      rates.push(c.cycle({ rtt_ms: 120 }, i * 0.05).dlRateBps as number);
    }
    expect(rates).toStrictEqual([
      799_000_000, 679_150_000, 577_277_500, 490_685_875, 417_082_993, 354_520_544, 301_342_462, 256_141_092,
      217_719_928, 200_000_000,
    ]);
  });

  it('#19 from the floor, GREEN lifts to floor_green at once, then +step after green_required', () => {
    const c = at(v13Params(), { dl: 200 * M });
    const rs = run(c, { rtt_ms: 24 }, 43, 0);
    expect(rs[0]?.dlRateBps).toBe(550 * M);
    expect(rs[3]?.dlRateBps).toBe(550 * M);
    expect(rs[4]?.dlRateBps).toBe(560 * M);
    expect(rs[42]?.dlRateBps).toBe(940 * M);
  });

  it('#25 a single spike does not force RED (v1.3 and ours: confirmation needed)', () => {
    const p = withParams((q) => (q.thresholds.accelThresholdMs = 12));
    const c = at(p, { baseline: 24, load: 24.75 });
    const r = c.cycle({ rtt_ms: 61 }, 0);
    expect(r.accelSpike).toBe(true);
    expect(r.forcedRed).toBe(false);
    expect([r.dlZone, r.dlRateBps, r.ulRateBps]).toStrictEqual(['YELLOW', 902_400_000, 35_720_000]);
  });

  it('docs/decisions.md#d4: accel_confirm_cycles consecutive spikes force RED; the count restarts after a calm cycle', () => {
    const c = at(v13Params(), { baseline: 24, load: 24 });
    const zones: (string | null)[] = [];
    const forced: boolean[] = [];
    let rtt = 24;
    for (let i = 0; i < 3; i++) {
      rtt += 40; // load jumps by 20 ms per cycle with alpha 0.5 -> spike each cycle
      const r = c.cycle({ rtt_ms: rtt }, i * 0.05);
      zones.push(r.dlZone);
      forced.push(r.forcedRed);
    }
    expect(forced).toStrictEqual([false, false, true]);
    expect(zones[2]).toBe('RED');
    const r = c.cycle({ rtt_ms: 109 }, 0.15); // load stays at 109: no jump
    expect(r.accelSpike).toBe(false);
    expect(r.forcedRed).toBe(false);
    expect(r.spikeStreak).toBe(0);
  });

  it('docs/decisions.md#d4: accel_confirm_cycles is a parameter', () => {
    const c = at(
      withParams((p) => (p.thresholds.accelConfirmCycles = 1)),
      {},
    );
    const r = c.cycle({ rtt_ms: 64 }, 0);
    expect([r.accelSpike, r.forcedRed, r.dlZone]).toStrictEqual([true, true, 'RED']);
    expect(r.dlRateBps).toBe(799_000_000);
  });

  it('#24 / docs/decisions.md#d5: upload floor_yellow is honoured when given (v1.3 gave 19.74 M)', () => {
    const legacy = at(
      withParams((p) => (p.upload.floorRedBps = 10 * M)),
      { ul: 21 * M, load: 44, baseline: 24 },
    );
    expect(legacy.cycle({ rtt_ms: 44 }, 0).ulRateBps).toBe(19_740_000);
    const d5 = at(
      withParams((p) => {
        p.upload.floorRedBps = 10 * M;
        p.upload.floorYellowBps = 20 * M;
        p.upload.floorGreenBps = 30 * M;
      }),
      { ul: 21 * M, load: 44, baseline: 24 },
    );
    const r = d5.cycle({ rtt_ms: 44 }, 0);
    expect(r.ulZone).toBe('YELLOW');
    expect(r.ulRateBps).toBe(20 * M);
    const g = d5.cycle({ rtt_ms: 5 }, 0.05); // well below baseline: GREEN, lifted to floor_green
    expect(g.ulZone).toBe('GREEN');
    expect(g.ulRateBps).toBe(30 * M);
  });
});

describe('RTT aggregation (median of three)', () => {
  it('3 replies -> median, 2 -> mean, 1 -> itself, 0 -> failure path', () => {
    const p = withParams((q) => (q.thresholds.alphaLoad = 1));
    expect(new WanController(p).cycle({ rtts_ms: [30, 10, 20] }, 0).measuredRttMs).toBe(20);
    expect(new WanController(p).cycle({ rtts_ms: [20, 30] }, 0).measuredRttMs).toBe(25);
    expect(new WanController(p).cycle({ rtts_ms: [25] }, 0).measuredRttMs).toBe(25);
    const r = new WanController(p).cycle({ rtts_ms: [] }, 0);
    expect([r.ok, r.failure, r.replies]).toStrictEqual([false, 'no_connectivity', 0]);
  });
});

describe('ICMP failure fallback (v1.3 §2.4, §11 #33-#35)', () => {
  it('#33 graceful_degradation: reuse load, freeze, freeze, then fail; total loss does not count; ICMP resets', () => {
    const c = new WanController(v13Params());
    c.cycle({ rtt_ms: 24 }, 0);
    const fb = { rtt_ms: null, gateway_ok: true, tcp_rtts_ms: [null, null] };
    const rs = run(c, fb, 5, 1);
    expect(rs.map((r) => r.ok)).toStrictEqual([true, true, true, false, false]);
    expect(rs.map((r) => r.icmpUnavailableCycles)).toStrictEqual([1, 2, 3, 4, 5]);
    expect(rs[0]?.sampleSource).toBe('last_load');
    expect(rs[1]?.frozen).toBe(true);
    expect(rs[3]?.failure).toBe('fallback_exhausted');
    const lost = c.cycle({ rtt_ms: null, gateway_ok: false, tcp_rtts_ms: [null, null] }, 2);
    expect([lost.ok, lost.failure, lost.icmpUnavailableCycles]).toStrictEqual([false, 'no_connectivity', 5]);
    const back = c.cycle({ rtt_ms: 24 }, 3);
    expect([back.ok, back.icmpRecovered, back.icmpUnavailableCycles]).toStrictEqual([true, true, 0]);
  });

  it('#34 TCP RTTs (median) are used as the sample in any mode', () => {
    for (const mode of ['graceful_degradation', 'freeze', 'use_last_rtt', 'bogus']) {
      const c = new WanController(withParams((p) => (p.fallback.mode = mode)));
      const r = c.cycle({ rtt_ms: null, gateway_ok: false, tcp_rtts_ms: [12, 18] }, 0);
      expect([r.ok, r.measuredRttMs, r.sampleSource], mode).toStrictEqual([true, 15, 'tcp']);
    }
  });

  it('#35 fallback disabled: an ICMP failure fails the cycle at once', () => {
    const c = new WanController(withParams((p) => (p.fallback.enabled = false)));
    const r = c.cycle({ rtt_ms: null, gateway_ok: true, tcp_rtts_ms: [10, 10] }, 0);
    expect([r.ok, r.failure, r.icmpUnavailableCycles]).toStrictEqual([false, 'fallback_disabled', 0]);
  });

  it('freeze and use_last_rtt modes; an unknown mode fails on the gateway-only path', () => {
    const gw = { rtt_ms: null, gateway_ok: true };
    const f = new WanController(withParams((p) => (p.fallback.mode = 'freeze')));
    expect(run(f, gw, 6, 0).every((r) => r.ok && r.frozen)).toBe(true);
    const u = new WanController(withParams((p) => (p.fallback.mode = 'use_last_rtt')));
    expect(
      run(u, gw, 6, 0).every((r) => r.ok && r.sampleSource === 'last_load' && r.measuredRttMs === 24),
    ).toBe(true);
    const b = new WanController(withParams((p) => (p.fallback.mode = 'nonsense')));
    expect(b.cycle(gw, 0).failure).toBe('unknown_mode');
  });

  it('disabled checks ignore their inputs', () => {
    const c = new WanController(
      withParams((p) => {
        p.fallback.checkGateway = false;
        p.fallback.checkTcp = false;
      }),
    );
    const r = c.cycle({ rtt_ms: null, gateway_ok: true, tcp_rtts_ms: [10] }, 0);
    expect([r.ok, r.failure]).toStrictEqual([false, 'no_connectivity']);
  });
});

describe('docs/decisions.md#d3: writes under the budget', () => {
  it('the first cycle writes (nothing applied yet); unchanged rates are never rewritten (flash wear)', () => {
    const c = new WanController(v13Params());
    const first = copy(c.cycle({ rtt_ms: 24, router_ok: true }, 0));
    expect(first.write).toStrictEqual({ dlBps: 940 * M, ulBps: 38 * M });
    const rs = run(c, { rtt_ms: 24, router_ok: true }, 100, 0.05);
    expect(rs.every((r) => r.write === null && !r.throttled)).toBe(true);
  });

  it('a decrease is written at once although the budget is spent; an increase waits and is coalesced', () => {
    const c = new WanController(v13Params());
    let t = 0;
    // spend the budget on 10 writes in the first 0.5 s: first write + 9 YELLOW decays
    expect(c.cycle({ rtt_ms: 24, router_ok: true }, t).write).not.toBeNull();
    for (let i = 0; i < 9; i++) {
      t += 0.05;
      expect(c.cycle({ rtt_ms: 60, router_ok: true }, t).write).not.toBeNull();
    }
    expect(c.writesRemaining(t)).toBe(0);
    // still congested: each further decrease is written at once, over budget
    t += 0.05;
    const dec = copy(c.cycle({ rtt_ms: 200, router_ok: true }, t));
    expect(dec.write).not.toBeNull();
    expect(dec.writeOverBudget).toBe(true);
    expect(dec.lastAppliedDlBps).toBe(dec.dlRateBps);
    // recovery: increases are withheld while the budget is spent
    const ups: ReturnType<typeof copy>[] = [];
    for (let i = 0; i < 200; i++) {
      t += 0.05;
      ups.push(copy(c.cycle({ rtt_ms: 24, router_ok: true }, t)));
    }
    const increases = ups.filter((r) => r.throttled);
    expect(increases.length).toBeGreaterThan(0);
    // over-budget writes in the recovery are only the remaining decreases (YELLOW decay on the way down)
    let prevDl = dec.lastAppliedDlBps as number;
    let prevUl = dec.lastAppliedUlBps as number;
    for (const r of ups) {
      if (r.write !== null) {
        expect(r.writeOverBudget).toBe(true);
        expect(r.write.dlBps < prevDl || r.write.ulBps < prevUl).toBe(true);
        prevDl = r.write.dlBps;
        prevUl = r.write.ulBps;
      }
    }
    // ... and the latest rate is written as soon as the oldest write leaves the window (strict '<')
    let firstFree = -1;
    for (let i = 0; i < 2000; i++) {
      t += 0.05;
      const r = c.cycle({ rtt_ms: 24, router_ok: true }, t);
      if (r.write !== null) {
        expect(r.write.dlBps).toBe(r.dlRateBps);
        expect(r.write.ulBps).toBe(r.ulRateBps);
        firstFree = t;
        break;
      }
      expect(r.throttled).toBe(true);
    }
    expect(firstFree).toBeGreaterThan(60); // the first write at t=0 ages out after 60 s
    expect(firstFree).toBeLessThan(60.2);
  });

  it('a write in flight is never queued twice; completion lets the latest rate go out', () => {
    const c = new WanController(v13Params());
    const w = c.cycle({ rtt_ms: 24 }, 0); // async mode: no router_ok
    expect(w.write).toStrictEqual({ dlBps: 940 * M, ulBps: 38 * M });
    expect(c.writeInFlight).toBe(true);
    const r1 = copy(c.cycle({ rtt_ms: 150 }, 0.05)); // RED: rate drops while the first write is in flight
    expect(r1.write).toBeNull();
    expect(r1.throttled).toBe(true);
    expect(c.writeCompleted(true)).toBe(true);
    expect(c.routerRates).toStrictEqual({ dlBps: 940 * M, ulBps: 38 * M });
    const r2 = c.cycle({ rtt_ms: 150 }, 0.1);
    expect(r2.write).toStrictEqual({ dlBps: r2.dlRateBps, ulBps: r2.ulRateBps });
    expect(c.writeCompleted(true)).toBe(true);
    expect(c.writeCompleted(true)).toBe(false); // nothing in flight any more
  });

  it('a failed write leaves the router rate unchanged and is retried with the latest rate', () => {
    const c = new WanController(v13Params());
    const f = copy(c.cycle({ rtt_ms: 24, router_ok: false }, 0));
    expect([f.ok, f.failure, f.routerOk, f.lastAppliedDlBps]).toStrictEqual([
      false,
      'router_write_failed',
      false,
      null,
    ]);
    const f2 = copy(c.cycle({ rtt_ms: 24 }, 0.05));
    expect(f2.write).not.toBeNull();
    c.writeCompleted(false);
    expect(c.routerRates.dlBps).toBeNull();
    const ok = c.cycle({ rtt_ms: 24, router_ok: true }, 0.1);
    expect(ok.write).toStrictEqual({ dlBps: 940 * M, ulBps: 38 * M });
    expect(ok.lastAppliedDlBps).toBe(940 * M);
    expect(ok.ok).toBe(true);
  });

  it('a pending write still goes out during frozen fallback cycles (the router ends at the latest rate)', () => {
    const c = new WanController(withParams((p) => (p.fallback.mode = 'freeze')));
    c.cycle({ rtt_ms: 24 }, 0); // in flight
    c.cycle({ rtt_ms: 150 }, 0.05); // RED while in flight -> pending
    c.writeCompleted(true);
    const r = c.cycle({ rtt_ms: null, gateway_ok: true }, 0.1);
    expect(r.frozen).toBe(true);
    expect(r.write).toStrictEqual({ dlBps: c.controllerRates.dlBps, ulBps: c.controllerRates.ulBps });
  });
});

describe('snapshot / restore', () => {
  it('round-trips everything the state file carries; a restart restores rates and does not rewrite them', () => {
    const a = new WanController(v13Params());
    for (let i = 0; i < 30; i++) a.cycle({ rtt_ms: 24 + (i % 7) * 9, router_ok: true }, i * 0.05);
    const snap = a.snapshot();
    const json = JSON.parse(JSON.stringify(snap));
    const b = new WanController(v13Params());
    expect(b.restore(json).ignored).toStrictEqual([]);
    expect(b.snapshot()).toStrictEqual(snap);
    expect(b.controllerRates).toStrictEqual(a.controllerRates);
    expect(b.routerRates).toStrictEqual(a.routerRates);
  });

  it('reads a v1.3 state file as written by v1.3 (§4.1)', () => {
    const v13 = {
      download: { green_streak: 1, soft_red_streak: 0, red_streak: 0, current_rate: 866304000 },
      upload: { green_streak: 1, soft_red_streak: 0, red_streak: 0, current_rate: 27197208 },
      ewma: { baseline_rtt: 24.001999, load_rtt: 32.3058 },
      last_applied: { dl_rate: 866304000, ul_rate: 27197208 },
      timestamp: '2026-01-21T09:46:43.123456',
    };
    const c = new WanController(v13Params());
    expect(c.restore(v13).ignored).toStrictEqual([]);
    const { timestamp: _t, ...rest } = v13;
    expect(c.snapshot()).toStrictEqual(rest);
  });

  it('ignores and reports invalid values instead of failing every later cycle', () => {
    const c = new WanController(v13Params());
    const rep = c.restore({
      download: { current_rate: 'fast', green_streak: -1 },
      upload: 7,
      ewma: { baseline_rtt: Number.NaN, load_rtt: 30 },
      last_applied: { dl_rate: null, ul_rate: 'x' },
    });
    expect(rep.ignored.sort()).toStrictEqual(
      [
        'download.current_rate',
        'download.green_streak',
        'ewma.baseline_rtt',
        'last_applied.ul_rate',
        'upload',
      ].sort(),
    );
    const r = c.cycle({ rtt_ms: 24 }, 0);
    expect(r.ok).toBe(true);
    expect(r.dlRateBps).toBe(940 * M);
    expect(c.restore(null).ignored).toStrictEqual(['(root)']);
  });
});

describe('params', () => {
  it('copies the params: later changes by the caller do not leak into a running controller', () => {
    const p = v13Params();
    const c = new WanController(p);
    p.download.ceilingBps = 1;
    p.thresholds.targetBloatMs = 0.001;
    const r = c.cycle({ rtt_ms: 30 }, 0);
    expect([r.dlZone, r.dlRateBps]).toStrictEqual(['GREEN', 940 * M]);
  });

  it('a non-finite time is refused before any state changes', () => {
    const c = new WanController(v13Params());
    expect(() => c.cycle({ rtt_ms: 24 }, Number.NaN)).toThrow(RangeError);
    expect(c.writeInFlight).toBe(false);
    expect(c.cycle({ rtt_ms: 24, router_ok: true }, 0).write).not.toBeNull();
  });

  it('rejects an inconsistent parameter set with the offending path', () => {
    expect(() => new WanController(withParams((p) => (p.download.floorRedBps = 300 * M)))).toThrow(
      /download\.floorRedBps/,
    );
    expect(() => new WanController(withParams((p) => (p.thresholds.alphaLoad = 0)))).toThrow(
      ControlParamsError,
    );
    expect(() => new WanController(withParams((p) => (p.upload.floorYellowBps = 5 * M)))).toThrow(
      /upload\.floor/,
    );
  });
});
