/**
 * One test per failure mode seen in production after v1.3 that applies to the pure control law,
 * named after it (§n is the number the reference's authors gave it). (The others — transports, watchdog plumbing, storage, logging, steering,
 * deployment — belong to the daemon shell and the other workspaces.)
 */
import { describe, expect, it } from 'vitest';
import {
  ControlParamsError,
  RateLimiter,
  validateControlParams,
  WanController,
} from '../../src/control/index.js';
import { loadGolden } from '../golden/golden.js';
import { copy, M, run, v13Params, withParams } from './fixtures.js';

describe('failure modes seen after v1.3', () => {
  it('§2.4 watchdog restarts during WAN blackouts: a blackout holds the rates, reports failure, never throws, and recovery re-arms', () => {
    const c = new WanController(v13Params());
    run(c, { rtt_ms: 24, router_ok: true }, 20, 0);
    const before = c.controllerRates;
    const blackout = run(
      c,
      { rtt_ms: null, gateway_ok: false, tcp_rtts_ms: [null, null], router_ok: true },
      400,
      1,
    );
    expect(blackout.every((r) => !r.ok && r.failure === 'no_connectivity' && r.write === null)).toBe(true);
    expect(blackout.every((r) => r.stale && r.dlRateBps === null)).toBe(true);
    expect(c.controllerRates).toStrictEqual(before);
    expect(c.routerRates).toStrictEqual(before);
    const back = copy(c.cycle({ rtt_ms: 24, router_ok: true }, 30));
    expect([back.ok, back.stale, back.sampleSource]).toStrictEqual([true, false, 'icmp']);
  });

  it('§2.5 crash loop on extreme RTT: 0, negative, NaN, Infinity and 10 000 ms never throw or poison the EWMAs (D12)', () => {
    const c = new WanController(v13Params());
    const nasty: unknown[] = [
      0,
      -5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      10_000,
      1e308,
      '12',
      {},
    ];
    let t = 0;
    for (const v of nasty) {
      for (const input of [
        { rtt_ms: v as number },
        { rtts_ms: [v as number, 24, v as number] },
        { rtt_ms: null, gateway_ok: true, tcp_rtts_ms: [v as number, null] },
      ]) {
        t += 0.05;
        const r = c.cycle(input, t);
        expect(Number.isFinite(r.loadRttMs), JSON.stringify(input)).toBe(true);
        expect(Number.isFinite(r.baselineRttMs)).toBe(true);
        if (r.measuredRttMs !== null) expect(Number.isFinite(r.measuredRttMs)).toBe(true);
        if (r.dlRateBps !== null) expect(Number.isInteger(r.dlRateBps)).toBe(true);
      }
    }
    // a huge sample is clamped to baseline + maxRttDeltaMs and flagged; an invalid one is dropped and counted
    const fresh = new WanController(v13Params());
    const big = fresh.cycle({ rtt_ms: 10_000 }, 0);
    expect([big.clamped, big.measuredRttMs]).toStrictEqual([true, 24 + 1000]);
    const bad = fresh.cycle({ rtts_ms: [Number.NaN, -1, 30] }, 0.05);
    expect([bad.invalidSamples, bad.replies, bad.measuredRttMs]).toStrictEqual([2, 1, 30]);
  });

  it('§2.6 a zero-success measurement cycle presented stale RTT as healthy: 0/3 replies are marked stale, quorum is exposed', () => {
    const c = new WanController(v13Params());
    c.cycle({ rtts_ms: [24, 25, 26] }, 0);
    const zero = copy(c.cycle({ rtts_ms: [], gateway_ok: true, tcp_rtts_ms: [null, null] }, 0.05));
    expect(zero.ok).toBe(true); // v1.3 semantics: the first fallback cycle re-feeds the load EWMA ...
    expect([zero.stale, zero.replies, zero.sampleSource]).toStrictEqual([true, 0, 'last_load']); // ... but says so
    const frozen = copy(c.cycle({ rtts_ms: [], gateway_ok: true }, 0.1));
    expect([frozen.stale, frozen.frozen, frozen.dlZone]).toStrictEqual([true, true, null]);
    const one = copy(c.cycle({ rtts_ms: [30] }, 0.15));
    const two = copy(c.cycle({ rtts_ms: [30, 31] }, 0.2));
    expect([one.replies, one.stale, two.replies, two.stale]).toStrictEqual([1, false, 2, false]);
  });

  it('§2.8 spike detector fired on DOCSIS idle jitter: an idle trace gives 0 forced RED; the same spike on 3 consecutive cycles gives RED', () => {
    // recorded idle traces from the golden vectors plus synthetic DOCSIS jitter with lone outliers
    const golden = loadGolden('wan_controller_cable.json');
    const idle = golden.scenarios.find((s) => s.name === 'steady_idle');
    expect(idle).toBeDefined();
    const c = new WanController(withParams((p) => (p.thresholds.accelThresholdMs = 12)));
    let forced = 0;
    let spikes = 0;
    let t = 0;
    for (const row of idle?.cycles ?? []) {
      t += 0.05;
      if (c.cycle(row['input'] as { rtts_ms: number[] }, t).forcedRed) forced++;
    }
    let seed = 12345;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const u = seed / 2147483648;
      const rtt = u < 0.02 ? 24 + 40 * u * 50 : 22 + 4 * u; // ~2 % lone outliers up to +40 ms
      t += 0.05;
      const r = c.cycle({ rtt_ms: rtt }, t);
      if (r.accelSpike) spikes++;
      if (r.forcedRed) forced++;
    }
    expect(spikes).toBeGreaterThan(50); // the detector does see the jitter ...
    expect(forced).toBe(0); // ... but never forces RED on it
    // a real step: the same spike three cycles running forces RED
    const d = new WanController(v13Params());
    const rs = run(d, { rtt_ms: 24 }, 10, 0);
    expect(rs.some((r) => r.forcedRed)).toBe(false);
    const step = [64, 104, 144].map((v, i) => copy(d.cycle({ rtt_ms: v }, 1 + i * 0.05)));
    expect(step.map((r) => r.accelSpike)).toStrictEqual([true, true, true]);
    expect(step[2]?.forcedRed).toBe(true);
    expect(step[2]?.dlZone).toBe('RED');
  });

  it('§2.9 hysteresis deadband made recovery impossible: cross-parameter constraints are enforced on every params path', () => {
    const bad = [
      withParams((p) => (p.thresholds.targetBloatMs = 45)), // target == warn
      withParams((p) => (p.thresholds.warnBloatMs = 90)), // warn > hard
      withParams((p) => (p.download.floorGreenBps = 1000 * M)), // floor above ceiling
      withParams((p) => (p.thresholds.baselineRttMinMs = 70)), // min > max
      withParams((p) => (p.thresholds.accelConfirmCycles = 0)),
      withParams((p) => (p.writeBudget.maxWrites = 0)),
    ];
    for (const p of bad) {
      expect(() => validateControlParams(p)).toThrow(ControlParamsError);
      expect(() => new WanController(p)).toThrow(ControlParamsError);
    }
    expect(() => validateControlParams(v13Params())).not.toThrow();
  });

  it('§2.19 write amplification at 20 Hz: steady state writes the router once and flags nothing to persist', () => {
    const c = new WanController(v13Params());
    const rs = run(c, { rtt_ms: 24, router_ok: true }, 2000, 0);
    expect(rs.filter((r) => r.write !== null).length).toBe(1);
    // after the start-up transient (first write, zone settles), the EWMAs move every cycle but
    // nothing the state file needs urgently does
    expect(rs.slice(2).filter((r) => r.persistDirty).length).toBe(0);
    expect(rs[0]?.persistDirty).toBe(true);
  });

  it('§2.21 unbounded in-memory history: the write budget keeps a fixed-size ring however many writes happen', () => {
    const rl = new RateLimiter(10, 60);
    for (let i = 0; i < 100_000; i++) rl.recordChange(i * 0.05);
    expect(rl.capacity).toBe(10);
    expect(rl.windowLength(100_000 * 0.05)).toBe(10);
    // controller: 100k cycles of alternating congestion, memory-visible state stays bounded
    const c = new WanController(v13Params());
    for (let i = 0; i < 100_000; i++) c.cycle({ rtt_ms: i % 40 < 20 ? 24 : 150, router_ok: true }, i * 0.05);
    expect(JSON.stringify(c.snapshot()).length).toBeLessThan(400);
  });

  it('§2.25 reload/cold-start state bleed: restore() is a cold boundary (write in flight, spike streak, ICMP counter, budget)', () => {
    const c = new WanController(v13Params());
    c.cycle({ rtt_ms: 24 }, 0); // write in flight
    c.cycle({ rtt_ms: 64 }, 0.05); // one spike
    c.cycle({ rtt_ms: null, gateway_ok: true }, 0.1); // ICMP counter 1
    expect(c.writeInFlight).toBe(true);
    c.restore(c.snapshot());
    expect(c.writeInFlight).toBe(false);
    expect(c.writesRemaining(0.15)).toBe(10);
    const r = c.cycle({ rtt_ms: 24 }, 0.15);
    expect([r.spikeStreak, r.icmpUnavailableCycles, r.icmpRecovered]).toStrictEqual([0, 0, false]);
    expect(r.write).not.toBeNull(); // nothing was applied before the restore: write again
  });
});
