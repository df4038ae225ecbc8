import { describe, expect, it } from 'vitest';
import {
  ConfidenceController,
  type ConfidenceParams,
  type ConfidenceSignals,
  computeConfidence,
  DEFAULT_CONFIDENCE_PARAMS,
} from '../../src/control/index.js';

const G = 'WAN1_GOOD';
const D = 'WAN1_DEGRADED';
const sig = (cakeState: string, rtt: number, drops = 0): ConfidenceSignals => ({
  cakeState,
  rttDeltaMs: rtt,
  dropsPerSec: drops,
  queueDepthPct: 0,
  cakeStateHistory: [],
  dropsHistory: [],
  queueHistory: [],
});
const fast: ConfidenceParams = {
  ...DEFAULT_CONFIDENCE_PARAMS,
  dryRun: false,
  sustainDurationSec: 0.1,
  recoverySustainSec: 0.1,
  holdDownDurationSec: 0.1,
  maxToggles: 2,
  penaltyDurationSec: 10,
  penaltyThresholdAdd: 15,
};

/** Drive GOOD->DEGRADED->GOOD toggles with strong signals; returns the state and the time reached. */
function flap(
  ctl: ConfidenceController,
  toggles: number,
  t0 = 0,
  dt = 0.05,
): { state: string; t: number; events: string[] } {
  const events: string[] = [];
  let state = G;
  let t = t0;
  let done = 0;
  for (let k = 0; k < 1000 && done < toggles; k++, t += dt) {
    const ev = ctl.evaluate(state === G ? sig('RED', 130) : sig('GREEN', 0), state, t);
    events.push(...ev.events);
    if (ev.decision === 'ENABLE_STEERING') {
      state = D;
      done++;
    } else if (ev.decision === 'DISABLE_STEERING') {
      state = G;
      done++;
    }
  }
  return { state, t, events };
}

describe('computeConfidence', () => {
  it('RED alone is 50, below the default steer threshold; YELLOW tops out at 55', () => {
    expect(computeConfidence(sig('RED', 0)).score).toBe(50);
    const y = computeConfidence({
      cakeState: 'YELLOW',
      rttDeltaMs: 121,
      dropsPerSec: 3,
      queueDepthPct: 60,
      cakeStateHistory: [],
      dropsHistory: [1, 2, 3],
      queueHistory: [60, 60],
    });
    expect(y).toEqual({
      score: 55,
      contributors: ['YELLOW', 'rtt_delta=121.0ms(severe)', 'drops_increasing(3.0/s)', 'queue_high(60%)'],
    });
  });
});

describe('ConfidenceController', () => {
  it('the flap penalty is applied: while engaged a score between base and base+add does not start the degrade timer', () => {
    const ctl = new ConfidenceController(fast, 0.05, G, D);
    const { state, t, events } = flap(ctl, 4); // > maxToggles (2) toggles within the window
    expect(state).toBe(G);
    expect(events.some((e) => e.startsWith('[FLAP-BRAKE] ENGAGED: flap_detected, toggles=3'))).toBe(true);
    // score 65: RED + high RTT (50 + 15); base 55 <= 65 < 70
    const ev = ctl.evaluate(sig('RED', 85), G, t);
    expect(ev.flapPenaltyActive).toBe(true);
    expect(ev.effectiveSteerThreshold).toBe(70);
    expect(ev.score).toBe(65);
    expect(ev.degradeTimer).toBeNull();
    // stronger evidence still steers
    expect(ctl.evaluate(sig('RED', 130), G, t + 0.05).degradeTimer).toBe(0.1);
    // after the penalty expires, the base threshold is used again (one cycle: v1.3 re-checks next cycle)
    const later = ctl.evaluate(sig('RED', 85), G, (ev.flapPenaltyExpiry ?? 0) + 0.01);
    expect(later.flapPenaltyActive).toBe(false);
    expect(later.effectiveSteerThreshold).toBe(55);
    expect(later.events.some((e) => e.startsWith('[FLAP-BRAKE] DISENGAGED'))).toBe(true);
  });

  it('flap detection disabled: never engages', () => {
    const ctl = new ConfidenceController({ ...fast, flapDetectionEnabled: false }, 0.05, G, D);
    const { t } = flap(ctl, 6);
    const ev = ctl.evaluate(sig('RED', 85), G, t);
    expect(ev.flapPenaltyActive).toBe(false);
    expect(ev.flapWindowLen).toBe(0);
    expect(ev.degradeTimer).toBe(0.1);
  });

  it('toggles older than the window are pruned when the next toggle is recorded', () => {
    const ctl = new ConfidenceController({ ...fast, flapWindowMinutes: 1 }, 0.05, G, D);
    const first = flap(ctl, 2, 0);
    expect(ctl.timers().flapWindow).toHaveLength(2);
    flap(ctl, 1, first.t + 120);
    expect(ctl.timers().flapWindow).toHaveLength(1);
  });

  it('a confidence drop below the threshold clears the degrade timer; recovery violations clear the recovery timer with reasons', () => {
    const ctl = new ConfidenceController(
      { ...fast, sustainDurationSec: 1, recoverySustainSec: 1 },
      0.05,
      G,
      D,
    );
    expect(ctl.evaluate(sig('RED', 130), G, 0).degradeTimer).toBe(1);
    const cleared = ctl.evaluate(sig('GREEN', 0), G, 0.05);
    expect(cleared.degradeTimer).toBeNull();
    expect(cleared.events[0]).toContain('degrade_timer_reset');
    // DEGRADED, no hold-down running: recovery timer starts, then a violation resets it
    expect(ctl.evaluate(sig('GREEN', 0), D, 0.1).recoveryTimer).toBe(1);
    const v = ctl.evaluate(sig('YELLOW', 12, 2), D, 0.15);
    expect(v.recoveryTimer).toBeNull();
    expect(v.events[0]).toBe(
      '[PHASE2B] recovery_timer_reset reason=[state=YELLOW, rtt_delta=12.0ms, drops=2.000]',
    );
  });

  it('v1.3: in dry-run the hold-down set by a would-be ENABLE stays set while the state stays GOOD', () => {
    const ctl = new ConfidenceController({ ...fast, dryRun: true }, 0.05, G, D);
    ctl.evaluate(sig('RED', 130), G, 0);
    const ev = ctl.evaluate(sig('RED', 130), G, 0.05);
    const ev2 = ctl.evaluate(sig('RED', 130), G, 0.1);
    expect(ev.decision ?? ev2.decision).toBeNull();
    expect([ev.wouldDecide, ev2.wouldDecide]).toContain('ENABLE_STEERING');
    expect(ctl.evaluate(sig('GREEN', 0), G, 5).holdDownTimer).toBe(0.1);
  });
});
