/**
 * docs/decisions.md#d14: the autorate congestion report as a steering input, on the pure
 * controller with a fake clock. The collapse is the demo's: the line falls below the autorate
 * floors, the queue builds in the ISP's buffer (CAKE sees no drops and no backlog), the RTT goes
 * to ~600 ms for 12 s, then the line recovers and stays loaded (autorate YELLOW/GREEN).
 */
import { describe, expect, it } from 'vitest';
import {
  type AutorateCongestion,
  type CycleInput,
  computeConfidence,
  SteeringController,
  type SteeringCycleResult,
  type SteeringParamsInput,
} from '../../src/control/index.js';
import { cakeSeq, params } from './helpers.js';

const BASE = 20;
const ONSET = 30;
const RECOVERY = 42;

interface Line {
  /** the steering's own RTT, ms */
  rttMs: number;
  /** the autorate report, or undefined (none in the file) */
  report?: AutorateCongestion | null;
}

const report = (
  zone: string,
  atFloor: boolean,
  delta: number,
  ageSeconds = 0.6,
  upZone = zone,
): AutorateCongestion => ({
  ageSeconds,
  download: { zone, atFloor, rttDeltaMs: delta },
  upload: { zone: upZone, atFloor, rttDeltaMs: delta },
});

/**
 * The demo's collapse as seen at time t: autorate needs ~0.5 s to reach its floor and its report
 * is up to a second old; after the recovery the line stays loaded (RTT 8..30 ms above base).
 */
function collapse(t: number, opts: { withReport?: boolean; age?: number } = {}): Line {
  const withReport = opts.withReport ?? true;
  const age = opts.age ?? 0.6;
  const inCollapse = t >= ONSET && t < RECOVERY;
  const jitter = ((t * 7) % 5) * 4; // 0..16 ms, deterministic
  const rttMs = inCollapse ? BASE + 560 + jitter : t > 5 ? BASE + 8 + jitter : BASE + 1;
  if (!withReport) return { rttMs };
  const seenAt = t - age; // what autorate knew when it wrote the report
  const red = seenAt >= ONSET + 0.5 && seenAt < RECOVERY;
  const after = seenAt >= RECOVERY && seenAt < RECOVERY + 6;
  return {
    rttMs,
    report: red
      ? report('RED', true, 550, age)
      : after
        ? report('YELLOW', false, 25, age, 'GREEN')
        : report(t > 5 ? 'YELLOW' : 'GREEN', false, t > 5 ? 14 : 1, age, 'GREEN'),
  };
}

/** Runs `lineAt` from t=0 to `untilS` every `dt` seconds; CAKE always quiet (no drops, no queue). */
function run(
  over: Partial<SteeringParamsInput>,
  lineAt: (t: number) => Line,
  opts: { dt?: number; untilS?: number } = {},
): { t: number; r: SteeringCycleResult }[] {
  const dt = opts.dt ?? 1;
  const ctl = new SteeringController(params({ intervalSeconds: dt, ...over }));
  const cake = cakeSeq();
  const out: { t: number; r: SteeringCycleResult }[] = [];
  for (let t = 0; t <= (opts.untilS ?? 90); t += dt) {
    const l = lineAt(t);
    const input: CycleInput = {
      autorateBaselineRttMs: BASE,
      rttMs: l.rttMs,
      cake: cake(0, 0),
      timestamp: `t=${t}`,
      ...(l.report !== undefined ? { autorateCongestion: l.report } : {}),
    };
    out.push({ t, r: ctl.cycle(input, 1000 + t) });
  }
  return out;
}

const enables = (rs: { t: number; r: SteeringCycleResult }[]) =>
  rs.filter((x) => x.r.stateChanged && x.r.steeringEnabled).map((x) => x.t);
const disables = (rs: { t: number; r: SteeringCycleResult }[]) =>
  rs.filter((x) => x.r.stateChanged && !x.r.steeringEnabled).map((x) => x.t);

describe('D14: steering acts on congestion the shaper cannot fix', () => {
  for (const dt of [1, 2]) {
    for (const mode of ['cake-aware', 'confidence', 'legacy'] as const) {
      // 1 s cycles (the demo's): within 3 s. 2 s cycles (the example's): the report is seen on the
      // first cycle after autorate reached its floor and confirmed on the next, so within 2 cycles + 1 s.
      const maxDelay = dt === 1 ? 3 : 2 * dt + 1;
      it(`${mode}, ${dt} s cycles: enables within ${maxDelay} s of the onset, once, and disables within 30 s after the line recovers`, () => {
        const over: Partial<SteeringParamsInput> =
          mode === 'confidence'
            ? { confidence: { dryRun: false } }
            : mode === 'legacy'
              ? { cakeAware: false }
              : {};
        const rs = run(over, (t) => collapse(t), { dt });
        const on = enables(rs);
        const off = disables(rs);
        expect(on).toHaveLength(1);
        expect(on[0]).toBeGreaterThanOrEqual(ONSET);
        expect(on[0]! - ONSET).toBeLessThanOrEqual(maxDelay);
        expect(off).toHaveLength(1);
        expect(off[0]).toBeGreaterThan(RECOVERY);
        expect(off[0]! - RECOVERY).toBeLessThanOrEqual(30);
        const enable = rs.find((x) => x.t === on[0])!.r;
        if (enable.actionSource === 'confidence') {
          // confidence mode may get there first: RTT evidence plus the WAN zone's weight
          expect(mode).toBe('confidence');
          expect(enable.confidence?.contributors).toContain('WAN_RED');
        } else {
          expect(enable.actionSource).toBe('wan');
          expect(enable.reason).toMatch(
            /^WAN1 DEGRADED \(D14\): download RED at its floor with autorate rtt delta 550\.0ms >= 80ms for \d\.\ds \(>= 1s\)/,
          );
          expect(enable.transitionLogLine).toContain(
            'State transition: WAN1_GOOD -> WAN1_DEGRADED (WAN1 DEGRADED (D14)',
          );
        }
        const disable = rs.find((x) => x.t === off[0])!.r;
        expect(disable.reason).toMatch(/^WAN1 RECOVERED \(D14\): line recovered: own rtt delta/);
        expect(rs.at(-1)!.r.steeringEnabled).toBe(false);
      });
    }
  }

  it('the reason for the current state names the signals and the thresholds', () => {
    const rs = run({}, (t) => collapse(t));
    const calm = rs.find((x) => x.t === 10)!.r.stateReason;
    expect(calm).toContain('not steered: CAKE RED needs rtt_ewma > 15ms');
    expect(calm).toContain('congested = RED at floor with delta >= 80ms, or under the floor, for 1s');
    const steered = rs.find((x) => x.t === ONSET + 6)!.r.stateReason;
    expect(steered).toMatch(/^steered because: WAN1 DEGRADED \(D14\): download RED at its floor/);
    expect(steered).toMatch(/hold-down \d+\.\ds left/);
    expect(steered).toContain('waiting for rtt delta < 40ms');
  });

  it('without the report (an autorate before D14) the v1.3 decisions are unchanged: CAKE sees nothing, no steering', () => {
    const withoutReport = run({}, (t) => collapse(t, { withReport: false }));
    const disabled = run({ wanState: { enabled: false } }, (t) => collapse(t));
    expect(enables(withoutReport)).toEqual([]);
    // cycle by cycle the same as with the input switched off (v1.3)
    const strip = (r: SteeringCycleResult) => ({ ...r, wan: null, stateReason: '' });
    expect(withoutReport.map((x) => strip(x.r))).toEqual(disabled.map((x) => strip(x.r)));
    expect(withoutReport.every((x) => x.r.wan?.status === 'absent')).toBe(true);
  });

  it('without the report, a v1.3 CAKE episode enables and recovers exactly as v1.3 (no hold-down)', () => {
    const cakeEpisode = (ctl: SteeringController, withStaleGreen: boolean) => {
      const cake = cakeSeq();
      const seq: SteeringCycleResult[] = [];
      for (let k = 0; k < 40; k++) {
        const busy = k >= 3 && k < 8;
        seq.push(
          ctl.cycle(
            {
              autorateBaselineRttMs: BASE,
              rttMs: busy ? 60 : 21,
              cake: busy ? cake(5, 80) : cake(0, 0),
              ...(withStaleGreen ? { autorateCongestion: report('GREEN', false, 1, 30) } : {}),
            },
            k * 2,
          ),
        );
      }
      return seq;
    };
    const v13 = cakeEpisode(new SteeringController(params()), false);
    expect(v13.filter((r) => r.stateChanged).map((r) => r.actionSource)).toEqual([
      'hysteresis',
      'hysteresis',
    ]);
    // a stale GREEN report is unknown, not GREEN-forever: the v1.3 enable still happens, same cycle
    const stale = cakeEpisode(new SteeringController(params()), true);
    const at = (s: SteeringCycleResult[]) => s.findIndex((r) => r.stateChanged);
    expect(at(stale)).toBe(at(v13));
    expect(stale.every((r) => r.wan?.status === 'stale')).toBe(true);
  });

  it('stale autorate data is unknown: a RED-at-floor report older than stale_sec never enables', () => {
    const rs = run({}, (t) => collapse(t, { age: 8 }));
    expect(enables(rs)).toEqual([]);
    expect(rs.find((x) => x.t === ONSET + 5)!.r.wan?.status).toBe('stale');
    expect(rs.find((x) => x.t === ONSET + 5)!.r.stateReason).toContain('unknown (8.0s old, > 5s)');
    // a report from the future (clock skew) is unknown too
    const future = run({}, (t) => collapse(t, { age: -30 }));
    expect(enables(future)).toEqual([]);
  });

  it('stale autorate data is unknown, not RED-forever: a report frozen at RED while steered lets the own RTT recover', () => {
    const rs = run({}, (t) => {
      const l = collapse(t);
      // autorate died during the collapse: its last report (RED at the floor) only ages
      if (t >= ONSET + 5) return { rttMs: l.rttMs, report: report('RED', true, 550, t - (ONSET + 5)) };
      return l;
    });
    expect(enables(rs)).toHaveLength(1);
    const off = disables(rs);
    expect(off).toHaveLength(1);
    expect(off[0]! - RECOVERY).toBeLessThanOrEqual(30);
    expect(rs.find((x) => x.t === off[0])!.r.reason).toContain('autorate report stale: own RTT only');
  });

  it('hold-down: dips in and after a collapse give at most one enable per collapse', () => {
    const rs = run(
      {},
      (t) => {
        const l = collapse(t);
        // inside the collapse the RTT clears for 3 s (and autorate sees YELLOW above its floor)
        if (t >= 35 && t < 38) return { rttMs: BASE + 5, report: report('YELLOW', false, 10) };
        // an evening of dips afterwards: RED at the floor for half a second at a time
        if (t >= 75 && t % 5 === 0) return { rttMs: BASE + 300, report: report('RED', true, 300) };
        return l;
      },
      { untilS: 120 },
    );
    expect(enables(rs)).toHaveLength(1);
    expect(disables(rs)).toHaveLength(1);
    expect(disables(rs)[0]).toBeGreaterThan(RECOVERY);
  });

  it('no steering on the zone alone: a long RED-at-floor report with a low RTT delta does not enable', () => {
    for (const confidence of [null, { dryRun: false }]) {
      const rs = run({ confidence }, (t) => ({
        rttMs: BASE + 30,
        report: t > 10 ? report('RED', true, 50) : report('GREEN', false, 2),
      }));
      expect(enables(rs)).toEqual([]);
    }
  });
});

describe('D14 in confidence scoring: the WAN zone adds weight, never steers on its own', () => {
  const base = {
    cakeState: 'YELLOW',
    dropsPerSec: 0,
    queueDepthPct: 0,
    cakeStateHistory: [],
    dropsHistory: [],
    queueHistory: [],
  };

  it('RED adds 25 and SOFT_RED 12, only with RTT evidence', () => {
    expect(computeConfidence({ ...base, rttDeltaMs: 150, wanZone: 'RED' })).toEqual({
      score: 60,
      contributors: ['YELLOW', 'rtt_delta=150.0ms(severe)', 'WAN_RED'],
    });
    expect(computeConfidence({ ...base, rttDeltaMs: 150, wanZone: 'SOFT_RED' }).score).toBe(47);
    expect(computeConfidence({ ...base, rttDeltaMs: 150 }).score).toBe(35);
    // no RTT evidence: the zone counts nothing, even with every queue signal present
    const noRtt = computeConfidence({
      ...base,
      rttDeltaMs: 5,
      wanZone: 'RED',
      dropsHistory: [0, 1, 5],
      queueHistory: [80, 80],
      queueDepthPct: 80,
    });
    expect(noRtt.contributors).not.toContain('WAN_RED');
    expect(noRtt.score).toBe(30);
  });

  it('a RED zone (not at the floor) with queue signals but no RTT evidence never enables; with RTT evidence it does', () => {
    const go = (rtt: number) => {
      const ctl = new SteeringController(params({ intervalSeconds: 1, confidence: { dryRun: false } }));
      const cake = cakeSeq();
      const rs: SteeringCycleResult[] = [];
      for (let k = 0; k < 30; k++) {
        rs.push(
          ctl.cycle(
            {
              autorateBaselineRttMs: BASE,
              rttMs: BASE + rtt,
              cake: cake(k % 2, 60), // queue >= 10: YELLOW; growing drops, standing queue
              autorateCongestion: report('RED', false, rtt),
            },
            k,
          ),
        );
      }
      return rs;
    };
    expect(go(5).some((r) => r.stateChanged)).toBe(false);
    const withRtt = go(150);
    const first = withRtt.find((r) => r.stateChanged);
    expect(first?.actionSource).toBe('confidence');
    expect(first?.confidence?.contributors).toContain('WAN_RED');
  });

  it('the red weight must stay below the steer threshold', () => {
    expect(() => params({ confidence: { dryRun: false }, wanState: { redWeight: 55 } })).toThrow(
      /wan_state\.red_weight.*never steers on its own/,
    );
  });
});

describe('D14 recovery on a noisy line', () => {
  it('one spike after the recovery does not restart the recovery timer; two in a row do', () => {
    const spikes = (at: number[]) =>
      run({}, (t) => {
        const l = collapse(t);
        if (at.includes(t)) return { rttMs: BASE + 190, report: report('RED', true, 190) };
        return l;
      });
    const clean = disables(spikes([]))[0]!;
    expect(disables(spikes([RECOVERY + 6]))[0]).toBe(clean);
    expect(disables(spikes([RECOVERY + 6, RECOVERY + 7]))[0]).toBeGreaterThanOrEqual(RECOVERY + 7 + 8);
  });
});

describe('D14 confirmation from the report', () => {
  it("autorate's own RED run counts towards the confirmation: enabled on the first sighting", () => {
    const rs = run({}, (t) => {
      const l = collapse(t);
      const d = l.report?.download;
      if (l.report && d?.zone === 'RED') {
        const redFor = t - 0.6 - (ONSET + 0.5);
        return { rttMs: l.rttMs, report: { ...l.report, download: { ...d, redForSec: redFor } } };
      }
      return l;
    });
    const firstSeen = rs.find((x) => x.r.wan?.congestedNow)!.t;
    // seen at ONSET+2 with 0.9 s of RED behind it: confirmed then or on the next cycle, not later
    expect(enables(rs)[0]! - firstSeen).toBeLessThanOrEqual(1);
    const withRun = run({}, (t) => {
      const l = collapse(t);
      const d = l.report?.download;
      return l.report && d?.zone === 'RED'
        ? { rttMs: l.rttMs, report: { ...l.report, download: { ...d, redForSec: 1.5 } } }
        : l;
    });
    const seen = withRun.find((x) => x.r.wan?.congestedNow)!.t;
    expect(enables(withRun)).toEqual([seen]);
  });
});

describe('D14 holds v1.3 recovery while the report shows the congestion', () => {
  it("v1.3's GREEN count does not disable while a fresh report says RED at the floor; it does once that ends", () => {
    // the own probe does not see the congestion (another path): v1.3 alone would recover after
    // green_samples_required GREEN cycles and D14 would enable again: a flap
    const rs = run(
      {},
      (t) => ({
        rttMs: BASE + 2,
        report: t >= 10 && t < 50 ? report('RED', true, 300) : report('GREEN', false, 2),
      }),
      { untilS: 90 },
    );
    expect(enables(rs)).toHaveLength(1);
    const off = disables(rs);
    expect(off).toHaveLength(1);
    expect(off[0]).toBeGreaterThanOrEqual(50);
    expect(
      rs.some((x) => x.r.events.some((e) => e.message.includes('recovery held by the autorate report'))),
    ).toBe(true);
  });
});

describe('D16: a direction under its floor is congestion for steering, whatever the RTT', () => {
  /** The adaptive law cut the download under its floor 1 s into the collapse; the RTT is back to low. */
  function belowFloorCollapse(t: number): Line {
    const inCollapse = t >= ONSET && t < RECOVERY;
    const seenAt = t - 0.6;
    const below = seenAt >= ONSET + 1 && seenAt < RECOVERY + 2; // climbs back over the floor 2 s after
    const spike = t >= ONSET && t < ONSET + 1; // the queue before the cut
    const rttMs = spike ? BASE + 400 : inCollapse ? BASE + 6 : t > 5 ? BASE + 8 : BASE + 1;
    const r = report(spike ? 'RED' : 'GREEN', below, spike ? 380 : 5);
    return { rttMs, report: { ...r, download: { ...r.download!, belowFloor: below } } };
  }

  it('enables within seconds of the cut under the floor, with the reason, and disables after the line recovers', () => {
    const rs = run({}, belowFloorCollapse);
    const on = enables(rs);
    expect(on).toHaveLength(1);
    expect(on[0]!).toBeGreaterThanOrEqual(ONSET + 1);
    expect(on[0]!).toBeLessThanOrEqual(ONSET + 3);
    const reason = rs.find((x) => x.t === on[0])!.r.wan?.enable ?? '';
    expect(reason).toMatch(/^download under its floor for \d\.\ds \(>= 1s\)/);
    const off = disables(rs);
    expect(off).toHaveLength(1);
    // not while under the floor; within 30 s of the recovery
    expect(off[0]!).toBeGreaterThan(RECOVERY + 2);
    expect(off[0]!).toBeLessThanOrEqual(RECOVERY + 30);
  });

  it('a report without below_floor (an autorate before D16) and a low RTT does not enable', () => {
    const rs = run({}, (t) => {
      const l = belowFloorCollapse(t);
      const d = l.report!.download!;
      return { rttMs: l.rttMs, report: { ...l.report!, download: { ...d, belowFloor: undefined } } };
    });
    expect(enables(rs)).toEqual([]);
  });
});
