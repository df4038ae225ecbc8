/**
 * The steering daemon's Prometheus series: every counter exists at 0 from the start (so that
 * `increase()` alerts see the first transition), and the ms gauges have twins in seconds.
 */
import { scrapeMetrics } from '@wanctl/testkit';
import { describe, expect, it } from 'vitest';
import { SteeringMetrics } from '../src/daemon/metrics.js';

const scrape = (m: SteeringMetrics) => scrapeMetrics(m.registry);

describe('SteeringMetrics', () => {
  it('creates every counter series at 0 before any event: both transitions, each outcome and router operation', async () => {
    const m = new SteeringMetrics('spectrum', {
      processMetrics: false,
      states: { good: 'SPECTRUM_GOOD', degraded: 'SPECTRUM_DEGRADED' },
    });
    const s = await scrape(m);
    const zero = [
      'wanctl_steering_transitions_total{wan="spectrum",from="SPECTRUM_GOOD",to="SPECTRUM_DEGRADED"}',
      'wanctl_steering_transitions_total{wan="spectrum",from="SPECTRUM_DEGRADED",to="SPECTRUM_GOOD"}',
      'wanctl_steering_cycles_total{wan="spectrum",outcome="ok"}',
      'wanctl_steering_cycles_total{wan="spectrum",outcome="failed"}',
      'wanctl_steering_cycles_total{wan="spectrum",outcome="error"}',
      'wanctl_steering_router_errors_total{wan="spectrum",op="cake"}',
      'wanctl_steering_router_errors_total{wan="spectrum",op="rule_read"}',
      'wanctl_steering_router_errors_total{wan="spectrum",op="rule_toggle"}',
      'wanctl_steering_cake_drops_total{wan="spectrum"}',
      'wanctl_steering_rule_corrections_total{wan="spectrum"}',
      'wanctl_steering_toggle_failures_total{wan="spectrum"}',
    ];
    for (const k of zero) expect(s.get(k), k).toBe(0);
    // the first transition: increase() over the two scrapes is 1
    m.recordTransition('SPECTRUM_GOOD', 'SPECTRUM_DEGRADED');
    const after = await scrape(m);
    expect(after.get(zero[0] as string)).toBe(1);
  });

  it('the ms gauges keep their names and have twins in seconds (same value converted)', async () => {
    const m = new SteeringMetrics('spectrum', { processMetrics: false });
    m.recordSignals({
      deltaMs: 42,
      rttDeltaEwmaMs: 30.5,
      queueEwmaPackets: 3,
      baselineRttMs: 12,
      cakeDrops: 0,
    });
    const s = await scrape(m);
    expect(s.get('wanctl_steering_rtt_delta_ms{wan="spectrum"}')).toBe(42);
    expect(s.get('wanctl_steering_rtt_delta_seconds{wan="spectrum"}')).toBeCloseTo(0.042, 12);
    expect(s.get('wanctl_steering_rtt_delta_ewma_ms{wan="spectrum"}')).toBe(30.5);
    expect(s.get('wanctl_steering_rtt_delta_ewma_seconds{wan="spectrum"}')).toBeCloseTo(0.0305, 12);
    expect(s.get('wanctl_steering_baseline_rtt_ms{wan="spectrum"}')).toBe(12);
    expect(s.get('wanctl_steering_baseline_rtt_seconds{wan="spectrum"}')).toBeCloseTo(0.012, 12);
  });
});
