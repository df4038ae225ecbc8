import { describe, expect, it } from 'vitest';
import {
  ControllerUsageError,
  type CycleInput,
  SteeringController,
  type SteeringCycleResult,
} from '../../src/control/index.js';
import { cakeSeq, params } from './helpers.js';

const BASE = 25;

function run(ctl: SteeringController, inputs: CycleInput[], t0 = 0, dt = 2): SteeringCycleResult[] {
  return inputs.map((inp, k) => ctl.cycle(inp, t0 + k * dt));
}

describe('SteeringController: CAKE-aware hysteresis', () => {
  it('a congestion episode enables after red_samples_required RED cycles (EWMA lag gives YELLOW first)', () => {
    const ctl = new SteeringController(params());
    const cake = cakeSeq();
    const quiet = (): CycleInput => ({ autorateBaselineRttMs: BASE, rttMs: 26, cake: cake(0, 0) });
    const busy = (): CycleInput => ({
      autorateBaselineRttMs: BASE,
      rttMs: 60,
      cake: cake(5, 80),
      timestamp: 'T',
    });
    const r = run(ctl, [quiet(), quiet(), busy(), busy(), busy()]);
    expect(r.map((x) => x.assessment)).toEqual(['GREEN', 'GREEN', 'YELLOW', 'RED', 'RED']);
    expect(r.map((x) => x.redCount)).toEqual([0, 0, 0, 1, 0]);
    expect(r.map((x) => x.action)).toEqual([null, null, null, null, 'enable']);
    const last = r[4]!;
    expect(last.stateChanged).toBe(true);
    expect(last.currentState).toBe('WAN1_DEGRADED');
    expect(last.steeringEnabled).toBe(true);
    expect(last.actionSource).toBe('hysteresis');
    expect(last.reason).toMatch(
      /^WAN1 DEGRADED detected - rtt=35\.0ms ewma=\d+\.\dms drops=5 q=80 \(sustained 2 samples\)$/,
    );
    expect(last.transitionLogLine).toContain('State transition: WAN1_GOOD -> WAN1_DEGRADED');
    const snap = ctl.snapshot();
    expect(snap.transitions).toEqual([
      { timestamp: 'T', from: 'WAN1_GOOD', to: 'WAN1_DEGRADED', bad_count: 0, good_count: 0 },
    ]);
    expect(snap.last_transition_time).toBe('T');
    expect(snap.cake_state_history).toEqual(['GREEN', 'GREEN', 'YELLOW', 'RED', 'RED']);
  });

  it('a YELLOW between REDs resets red_count (no action)', () => {
    const ctl = new SteeringController(params({ thresholds: { red_samples_required: 2 } }));
    const cake = cakeSeq();
    run(ctl, [{ autorateBaselineRttMs: BASE, rttMs: 26, cake: cake(0, 0) }]);
    // EWMA primed high so each cycle's state is set by drops/queue.
    const red = (): CycleInput => ({ autorateBaselineRttMs: BASE, rttMs: 80, cake: cake(3, 60) });
    const yellow = (): CycleInput => ({ autorateBaselineRttMs: BASE, rttMs: 80, cake: cake(0, 60) });
    const r = run(ctl, [red(), red(), yellow(), red(), yellow(), red()].slice(1));
    expect(r.map((x) => x.assessment)).toEqual(['RED', 'YELLOW', 'RED', 'YELLOW', 'RED']);
    expect(r.map((x) => x.redCount)).toEqual([1, 0, 1, 0, 1]);
    expect(r.every((x) => x.action === null && x.currentState === 'WAN1_GOOD')).toBe(true);
  });

  it('recovery needs green_samples_required unbroken GREEN cycles; a YELLOW restarts the count', () => {
    for (const greens of [15, 3]) {
      const ctl = new SteeringController(params({ thresholds: { green_samples_required: greens } }));
      ctl.adoptRuleState(true);
      const cake = cakeSeq();
      const g = (): CycleInput => ({ autorateBaselineRttMs: BASE, rttMs: 26, cake: cake(0, 0) });
      const y = (): CycleInput => ({ autorateBaselineRttMs: BASE, rttMs: 26, cake: cake(0, 20) });
      const seq = [...Array.from({ length: greens - 1 }, g), y(), ...Array.from({ length: greens }, g)];
      const r = run(ctl, seq);
      const counts = r.map((x) => x.goodCount);
      expect(counts.slice(0, greens - 1)).toEqual(Array.from({ length: greens - 1 }, (_, k) => k + 1));
      expect(counts[greens - 1]).toBe(0); // the YELLOW
      const disableAt = r.findIndex((x) => x.action === 'disable');
      expect(disableAt).toBe(greens - 1 + greens);
      expect(r[disableAt]!.currentState).toBe('WAN1_GOOD');
      expect(r[disableAt]!.reason).toContain(`WAN1 RECOVERED - rtt=1.0ms`);
      expect(r[disableAt]!.reason).toContain(`(sustained ${greens} samples)`);
      expect(r[disableAt]!.goodCount).toBe(0);
    }
  });

  it('a failed toggle keeps the state and the counter, and is retried on the next qualifying cycle', () => {
    const ctl = new SteeringController(params());
    const cake = cakeSeq();
    run(ctl, [{ autorateBaselineRttMs: BASE, rttMs: 26, cake: cake(0, 0) }]);
    const red = (ok: boolean): CycleInput => ({
      autorateBaselineRttMs: BASE,
      rttMs: 90,
      cake: cake(4, 70),
      routerOk: ok,
    });
    const r = run(ctl, [red(false), red(false), red(false), red(true)]);
    expect(r.map((x) => x.assessment)).toEqual(['RED', 'RED', 'RED', 'RED']);
    expect(r.map((x) => x.action)).toEqual([null, 'enable', 'enable', 'enable']);
    expect(r.map((x) => x.routerOk)).toEqual([null, false, false, true]);
    expect(r.map((x) => x.redCount)).toEqual([1, 2, 3, 0]);
    expect(r.map((x) => x.currentState)).toEqual(['WAN1_GOOD', 'WAN1_GOOD', 'WAN1_GOOD', 'WAN1_DEGRADED']);
    expect(r[1]!.transitionLogLine).toMatch(/^Failed to enable steering, staying in WAN1_GOOD/);
    expect(r[1]!.events.some((e) => e.level === 'error')).toBe(true);
    expect(ctl.snapshot().transitions).toHaveLength(1);
  });

  it('CAKE read failures leave only RTT: YELLOW at most, never RED; the failure count is reported', () => {
    const ctl = new SteeringController(params());
    const r = run(
      ctl,
      Array.from({ length: 5 }, () => ({ autorateBaselineRttMs: BASE, rttMs: 200, cake: null })),
    );
    expect(r.map((x) => x.cakeReadFailures)).toEqual([1, 2, 3, 4, 5]);
    expect(r.every((x) => x.assessment === 'YELLOW' && x.cakeReadOk === false)).toBe(true);
    expect(r[0]!.events.some((e) => e.level === 'warning' && e.message.includes('failure 1'))).toBe(true);
    expect(r[2]!.events.some((e) => e.level === 'error' && e.message.includes('after 3 attempts'))).toBe(
      true,
    );
    expect(r[3]!.events.some((e) => e.message.includes('CAKE'))).toBe(false);
  });

  it('D8: the first CAKE read cannot produce a RED sample from old cumulative drops', () => {
    const ctl = new SteeringController(params());
    // Prime the EWMA high with RTT; first cake read carries 1e6 historical drops.
    const r = ctl.cycle(
      {
        autorateBaselineRttMs: BASE,
        rttMs: 100,
        cake: { dropped: 1e6, queued_packets: 80, packets: 1, bytes: 1 },
      },
      0,
    );
    expect(r.cakeDropsDelta).toBe(0);
    expect(r.cakeFirstRead).toBe(true);
    expect(r.assessment).toBe('YELLOW');
    const reset = ctl.cycle(
      {
        autorateBaselineRttMs: BASE,
        rttMs: 100,
        cake: { dropped: 3, queued_packets: 80, packets: 1, bytes: 1 },
      },
      2,
    );
    expect(reset.cakeDropsDelta).toBe(0);
    expect(reset.cakeCounterResets).toContain('dropped');
    expect(ctl.snapshot().cake_drops_history).toEqual([0, 0]);
  });

  it('D12: an RTT delta over 1000 ms or a queue over 10000 packets is clamped and flagged, not a crash', () => {
    const ctl = new SteeringController(params());
    const cake = cakeSeq();
    ctl.cycle({ autorateBaselineRttMs: BASE, rttMs: 30, cake: cake(0, 0) }, 0);
    const r = ctl.cycle({ autorateBaselineRttMs: BASE, rttMs: 5000, cake: cake(10, 20000) }, 2);
    expect(r.ok).toBe(true);
    expect(r.clamped).toEqual({ rttDelta: true, queue: true });
    expect(r.deltaMs).toBe(4975);
    expect(r.rttDeltaEwmaMs).toBe(0.7 * 5 + 0.3 * 1000);
    expect(r.queueEwmaPackets).toBe(10000); // previous queue EWMA was 0.0: first-sample rule
    expect(r.events.filter((e) => e.message.includes('clamped'))).toHaveLength(2);
  });
});

describe('SteeringController: baseline and RTT inputs', () => {
  it('no baseline yet fails the cycle; an out-of-bounds value is rejected; a cached value is reused', () => {
    const ctl = new SteeringController(params());
    const r0 = ctl.cycle({ autorateBaselineRttMs: null, rttMs: 30, cake: null }, 0);
    expect(r0).toMatchObject({
      ok: false,
      failure: 'no_baseline',
      baselineRttMs: null,
      baselineRejected: 'missing',
    });
    expect(r0.cakeReadFailures).toBe(0); // nothing read after a baseline failure (v1.3 order)
    const r1 = ctl.cycle({ autorateBaselineRttMs: 5, rttMs: 30, cake: null }, 2);
    expect(r1).toMatchObject({ ok: false, failure: 'no_baseline', baselineRejected: 'out_of_bounds' });
    expect(r1.events[0]!.message).toBe(
      'Baseline RTT out of bounds [10.0-60.0ms]: 5.00ms, ignoring (possible autorate compromise)',
    );
    const r2 = ctl.cycle({ autorateBaselineRttMs: 10, rttMs: 30, cake: null }, 4); // inclusive bound
    expect(r2).toMatchObject({ ok: true, baselineRttMs: 10, baselineSource: 'fresh', deltaMs: 20 });
    const r3 = ctl.cycle({ autorateBaselineRttMs: 61, rttMs: 30, cake: null }, 6);
    expect(r3).toMatchObject({
      ok: true,
      baselineRttMs: 10,
      baselineSource: 'cached',
      baselineRejected: 'out_of_bounds',
    });
    const r4 = ctl.cycle({ autorateBaselineRttMs: null, rttMs: 30, cake: null }, 8);
    expect(r4).toMatchObject({ ok: true, baselineRttMs: 10, baselineSource: 'cached' });
  });

  it('custom baseline bounds are honoured (e.g. a fiber link under 10 ms)', () => {
    const ctl = new SteeringController(params({ baselineRttMinMs: 2, baselineRttMaxMs: 20 }));
    expect(ctl.cycle({ autorateBaselineRttMs: 4, rttMs: 5, cake: null }, 0)).toMatchObject({
      ok: true,
      baselineRttMs: 4,
    });
  });

  it('a failed ping falls back to the last measured RTT; with no history the cycle fails after reading CAKE', () => {
    const ctl = new SteeringController(params());
    const cake = cakeSeq();
    const r0 = ctl.cycle({ autorateBaselineRttMs: BASE, rttMs: null, cake: cake(0, 0) }, 0);
    expect(r0).toMatchObject({ ok: false, failure: 'no_rtt', cakeReadOk: true, historyRttLen: 0 });
    const r1 = ctl.cycle({ autorateBaselineRttMs: BASE, rttMs: 31.5, cake: cake(0, 0) }, 2);
    expect(r1).toMatchObject({ ok: true, rttSource: 'measured', currentRttMs: 31.5 });
    const r2 = ctl.cycle({ autorateBaselineRttMs: BASE, rttMs: null, cake: cake(0, 0) }, 4);
    expect(r2).toMatchObject({
      ok: true,
      rttSource: 'fallback',
      currentRttMs: 31.5,
      deltaMs: 6.5,
      historyRttLen: 2,
    });
  });

  it('RTT below the baseline gives delta 0', () => {
    const ctl = new SteeringController(params());
    expect(ctl.cycle({ autorateBaselineRttMs: BASE, rttMs: 20, cake: null }, 0).deltaMs).toBe(0);
  });
});

describe('SteeringController: legacy RTT-only mode', () => {
  it('bad_samples cycles over bad_threshold_ms enable, good_samples under recovery_threshold_ms disable', () => {
    const ctl = new SteeringController(params({ cakeAware: false, badSamples: 3, goodSamples: 2 }));
    const i = (rtt: number): CycleInput => ({
      autorateBaselineRttMs: BASE,
      rttMs: rtt,
      cake: { dropped: 9, queued_packets: 999, packets: 1, bytes: 1 },
    });
    // delta 26 > 25 is bad; 25 exactly is not; delta 11 < 12 is good; 12 is not.
    const r = run(ctl, [i(51), i(51), i(50), i(51), i(51), i(51), i(37), i(36), i(37), i(36), i(36)]);
    expect(r.map((x) => x.badCount)).toEqual([1, 2, 0, 1, 2, 0, 0, 0, 0, 0, 0]);
    expect(r.map((x) => x.goodCount)).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0]);
    expect(r.map((x) => x.action)).toEqual([
      null,
      null,
      null,
      null,
      null,
      'enable',
      null,
      null,
      null,
      null,
      'disable',
    ]);
    expect(r[5]!.reason).toBe('WAN1 DEGRADED detected (delta=26.0ms sustained for 3 samples)');
    expect(r.every((x) => x.cakeReadOk === null && x.cakeDropsDelta === 0 && x.cakeQueuedPackets === 0)).toBe(
      true,
    );
    expect(
      r.every((x) => x.congestionState === 'GREEN' && x.rttDeltaEwmaMs === 0 && x.assessment === null),
    ).toBe(true);
    expect(ctl.snapshot().red_count).toBe(0);
    expect(ctl.snapshot().cake_state_history).toEqual([]);
  });
});

describe('SteeringController: confidence scoring', () => {
  const conf = (over: Record<string, unknown> = {}) =>
    params({
      intervalSeconds: 2,
      thresholds: { red_samples_required: 1000, green_samples_required: 1000 },
      confidence: { dryRun: false, ...over },
    });
  const red = (cake: ReturnType<typeof cakeSeq>, drops: number): CycleInput => ({
    autorateBaselineRttMs: BASE,
    rttMs: 160,
    cake: cake(drops, 80),
  });

  it('D9: timers step by the configured interval (2 s cycle: "2 s" sustain fires on the 2nd qualifying cycle, not the 41st)', () => {
    const ctl = new SteeringController(conf());
    const cake = cakeSeq();
    ctl.cycle({ autorateBaselineRttMs: BASE, rttMs: 26, cake: cake(0, 0) }, 0);
    const r = run(
      ctl,
      Array.from({ length: 5 }, (_, k) => red(cake, k + 1)),
      2,
    );
    // the scorer sees the previous cycle's assessment (v1.3): GREEN first, RED afterwards
    expect(r.map((x) => x.confidence?.score)).toEqual([25, 95, 95, 95, 95]);
    expect(r.map((x) => x.confidence?.degradeTimer)).toEqual([null, 2.0, null, null, null]);
    expect(r.map((x) => x.action)).toEqual([null, null, 'enable', null, null]);
    expect(r[2]!.actionSource).toBe('confidence');
    expect(r[2]!.reason).toBe(
      'confidence=95 >= 55 sustained 2s signals=[RED, rtt_delta=135.0ms(severe), drops_increasing(3.0/s), queue_high(80%)]',
    );
    expect(r[2]!.currentState).toBe('WAN1_DEGRADED');
    // the hold-down (30 s) is 15 cycles of 2 s
    expect(r.slice(3).map((x) => x.confidence?.holdDownTimer)).toEqual([28, 26]);
    // on the confidence-decision cycle v1.3 skips the hysteresis step: no assessment, congestion_state kept
    expect(r[2]!.assessment).toBeNull();
    expect(r[2]!.congestionState).toBe('RED');
  });

  it('full cycle: hold-down then recovery timer, then DISABLE; recovery needs GREEN, low RTT and no drops', () => {
    const ctl = new SteeringController(
      conf({ sustainDurationSec: 2, holdDownDurationSec: 4, recoverySustainSec: 4 }),
    );
    const cake = cakeSeq();
    const quiet = (): CycleInput => ({ autorateBaselineRttMs: BASE, rttMs: 26, cake: cake(0, 0) });
    const r = run(ctl, [
      quiet(),
      red(cake, 1),
      red(cake, 2),
      red(cake, 3),
      ...Array.from({ length: 10 }, quiet),
    ]).slice(1);
    const enableAt = r.findIndex((x) => x.action === 'enable');
    const disableAt = r.findIndex((x) => x.action === 'disable');
    expect(enableAt).toBe(2);
    expect(r.slice(3, 6).map((x) => x.confidence?.holdDownTimer)).toEqual([2, null, null]);
    expect(disableAt).toBeGreaterThan(enableAt);
    expect(r[disableAt]!.currentState).toBe('WAN1_GOOD');
    expect(r[disableAt]!.reason).toMatch(/^confidence=0 <= 20 sustained 4s/);
  });

  it('dry-run: the decision is only logged, the rule is never toggled, the timers still run', () => {
    const ctl = new SteeringController(conf({ dryRun: true }));
    const cake = cakeSeq();
    ctl.cycle({ autorateBaselineRttMs: BASE, rttMs: 26, cake: cake(0, 0) }, 0);
    const r = run(
      ctl,
      Array.from({ length: 4 }, (_, k) => red(cake, k + 1)),
      2,
    );
    expect(r.every((x) => x.action === null && x.currentState === 'WAN1_GOOD')).toBe(true);
    expect(r[2]!.confidence?.wouldDecide).toBe('ENABLE_STEERING');
    expect(r[2]!.confidence?.decision).toBeNull();
    expect(r[2]!.confidence?.holdDownTimer).toBe(30);
    expect(
      r[2]!.events.some((e) =>
        e.message.startsWith('[PHASE2B][DRY-RUN] WOULD_ENABLE_STEERING confidence=95'),
      ),
    ).toBe(true);
  });

  it('live mode: the hysteresis still runs on cycles without a confidence decision and can switch first', () => {
    const ctl = new SteeringController(params({ confidence: { dryRun: false } }));
    const cake = cakeSeq();
    run(ctl, [{ autorateBaselineRttMs: BASE, rttMs: 26, cake: cake(0, 0) }]);
    const r = run(ctl, [red(cake, 1), red(cake, 2)]);
    expect(r[1]!.action).toBe('enable');
    expect(r[1]!.actionSource).toBe('hysteresis');
  });
});

describe('SteeringController: state file', () => {
  it('snapshot histories are bounded by historySize; the CAKE state history by 10', () => {
    const ctl = new SteeringController(params({ historySize: 5 }));
    const cake = cakeSeq();
    run(
      ctl,
      Array.from({ length: 30 }, (_, k) => ({
        autorateBaselineRttMs: BASE,
        rttMs: 26 + k,
        cake: cake(k, k),
      })),
    );
    const s = ctl.snapshot();
    expect(s.history_rtt).toEqual([51, 52, 53, 54, 55]);
    expect(s.history_delta).toHaveLength(5);
    expect(s.cake_drops_history).toEqual([25, 26, 27, 28, 29]);
    expect(s.queue_depth_history).toHaveLength(5);
    expect(s.cake_state_history).toHaveLength(10);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('restore() continues where the snapshot left off (counters, EWMAs, state)', () => {
    const a = new SteeringController(params());
    const cake = cakeSeq();
    const inputs: CycleInput[] = [
      { autorateBaselineRttMs: BASE, rttMs: 26, cake: cake(0, 0) },
      { autorateBaselineRttMs: BASE, rttMs: 60, cake: cake(5, 80) },
      { autorateBaselineRttMs: BASE, rttMs: 60, cake: cake(5, 80) },
    ];
    run(a, inputs);
    const b = new SteeringController(params());
    expect(b.restore(JSON.parse(JSON.stringify(a.snapshot())))).toEqual({ warnings: [] });
    // everything but the baseline comes back (v1.3 re-reads the baseline every cycle)
    expect(b.snapshot()).toEqual({ ...a.snapshot(), baseline_rtt: null });
    expect(b.snapshot().red_count).toBe(1);
    const next: CycleInput = { autorateBaselineRttMs: BASE, rttMs: 60, cake: cake(5, 80) };
    const ra = a.cycle(next, 10);
    const rb = b.cycle(next, 10);
    expect(rb.rttDeltaEwmaMs).toBe(ra.rttDeltaEwmaMs);
    // the CAKE reference is not persisted: after a restart the first read only re-bases (D8)
    expect(ra.cakeDropsDelta).toBe(5);
    expect(rb.cakeDropsDelta).toBe(0);
  });

  it('restore() of garbage never throws: defaults plus a warning per bad field', () => {
    const ctl = new SteeringController(params());
    expect(ctl.restore('nope').warnings).toHaveLength(1);
    const rep = ctl.restore({
      current_state: 7,
      red_count: 'x',
      history_rtt: [1, 'a'],
      congestion_state: 'PURPLE',
      extra: 1,
    });
    expect(rep.warnings.length).toBe(4);
    expect(ctl.snapshot()).toMatchObject({
      current_state: 'WAN1_GOOD',
      red_count: 0,
      history_rtt: [],
      congestion_state: 'GREEN',
    });
    expect(ctl.snapshot()).not.toHaveProperty('extra');
  });

  it('an unknown restored state name counts as DEGRADED (v1.3) and is normalised on the next cycle', () => {
    const ctl = new SteeringController(params());
    ctl.restore({ current_state: 'ATT_GOOD' });
    expect(ctl.steeringEnabled).toBe(true);
    const r = ctl.cycle({ autorateBaselineRttMs: BASE, rttMs: 26, cake: null }, 0);
    expect(r.currentState).toBe('WAN1_DEGRADED');
    const legacy = new SteeringController(params());
    legacy.restore({ current_state: 'SPECTRUM_GOOD' });
    expect(legacy.cycle({ autorateBaselineRttMs: BASE, rttMs: 26, cake: null }, 0).currentState).toBe(
      'WAN1_GOOD',
    );
  });

  it('adoptRuleState() reconciles with the router and resets the counters', () => {
    const ctl = new SteeringController(params());
    expect(ctl.adoptRuleState(false)).toBe(false);
    expect(ctl.adoptRuleState(true)).toBe(true);
    expect(ctl.currentState).toBe('WAN1_DEGRADED');
    expect(ctl.snapshot().good_count).toBe(0);
  });
});

describe('SteeringController: two-phase use by the daemon shell', () => {
  it('begin() returns the action; complete() applies the outcome', () => {
    const ctl = new SteeringController(params({ thresholds: { red_samples_required: 1 } }));
    const cake = cakeSeq();
    ctl.cycle({ autorateBaselineRttMs: BASE, rttMs: 100, cake: cake(0, 0) }, 0);
    const p = ctl.begin({ autorateBaselineRttMs: BASE, rttMs: 100, cake: cake(3, 90) }, 2);
    expect(p).toMatchObject({ action: 'enable', fromState: 'WAN1_GOOD', toState: 'WAN1_DEGRADED' });
    expect(() => ctl.begin({ autorateBaselineRttMs: BASE, rttMs: 100, cake: null }, 3)).toThrow(
      ControllerUsageError,
    );
    const r = ctl.complete(true);
    expect(r.stateChanged).toBe(true);
    expect(() => ctl.complete(true)).toThrow(ControllerUsageError);
  });
});
