import { describe, expect, it } from 'vitest';
import {
  resolveSteeringParams,
  StateThresholdsError,
  SteeringParamsError,
  steeringParamsFromV13Config,
} from '../../src/control/index.js';

const base = { primaryWan: 'wan1', intervalSeconds: 2, historySize: 100 };

describe('resolveSteeringParams', () => {
  it('fills v1.3 defaults', () => {
    const p = resolveSteeringParams(base);
    expect(p).toMatchObject({
      cakeAware: true,
      rttEwmaAlpha: 0.3,
      queueEwmaAlpha: 0.4,
      badThresholdMs: 25,
      recoveryThresholdMs: 12,
      badSamples: 8,
      goodSamples: 15,
      baselineRttMinMs: 10,
      baselineRttMaxMs: 60,
      confidence: null,
    });
    expect(p.thresholds).toMatchObject({
      red_rtt: 15,
      min_queue_red: 50,
      red_samples_required: 2,
      green_samples_required: 15,
    });
    expect(resolveSteeringParams({ ...base, confidence: {} }).confidence).toMatchObject({
      dryRun: true,
      steerThreshold: 55,
    });
  });

  it.each([
    [{ intervalSeconds: 0 }, 'measurement.interval_seconds'],
    [{ historySize: 0 }, 'state.history_size'],
    [{ rttEwmaAlpha: 1.5 }, 'thresholds.rtt_ewma_alpha'],
    [{ primaryWan: 'wan 1' }, 'topology.primary_wan'],
    [{ confidence: { steerThreshold: 20, recoveryThreshold: 20 } }, 'confidence.recovery_threshold'],
    [{ confidence: { steerThreshold: 120 } }, 'confidence.steer_threshold'],
    [{ baselineRttMinMs: 50, baselineRttMaxMs: 40 }, 'thresholds.baseline_rtt_bounds.max'],
  ])('rejects %j naming %s', (over, key) => {
    try {
      resolveSteeringParams({ ...base, ...over });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SteeringParamsError);
      expect((e as SteeringParamsError).key).toBe(key);
    }
  });

  it('threshold ordering is checked in CAKE-aware mode only (as v1.3)', () => {
    expect(() => resolveSteeringParams({ ...base, thresholds: { green_rtt: 20 } })).toThrow(
      StateThresholdsError,
    );
    expect(() =>
      resolveSteeringParams({ ...base, cakeAware: false, thresholds: { green_rtt: 20 } }),
    ).not.toThrow();
  });
});

describe('steeringParamsFromV13Config', () => {
  it('maps the v1.3 YAML layout', () => {
    const p = steeringParamsFromV13Config({
      topology: { primary_wan: 'spectrum', alternate_wan: 'att' },
      measurement: { interval_seconds: 2, ping_host: '1.1.1.1', ping_count: 3 },
      state: { file: '/x', history_size: 240 },
      mode: { cake_aware: true, use_confidence_scoring: true },
      confidence: { dry_run: false, steer_threshold: 60, hold_down_duration_sec: null },
      thresholds: {
        red_rtt_ms: 20,
        min_queue_red: 40,
        green_samples_required: 10,
        rtt_ewma_alpha: 0.25,
        baseline_rtt_bounds: { min: 5, max: 80 },
      },
    });
    expect(p).toMatchObject({
      primaryWan: 'spectrum',
      intervalSeconds: 2,
      historySize: 240,
      rttEwmaAlpha: 0.25,
    });
    expect(p.thresholds).toMatchObject({
      red_rtt: 20,
      min_queue_red: 40,
      green_samples_required: 10,
      yellow_rtt: 15,
    });
    expect(p.baselineRttMinMs).toBe(5);
    expect(p.confidence).toMatchObject({ dryRun: false, steerThreshold: 60, holdDownDurationSec: 30 });
  });

  it('a missing required key is a typed error naming it', () => {
    expect(() =>
      steeringParamsFromV13Config({ topology: { primary_wan: 'wan1' }, state: { history_size: 10 } }),
    ).toThrow(/measurement\.interval_seconds/);
  });
});
