/**
 * The autorate daemon's Prometheus series: every counter exists at 0 from the start (so that
 * `increase()` alerts see the first event), and v1.3's Mbps/ms gauges have base-unit twins.
 */
import { createMetricsRegistry } from '@wanctl/runtime';
import { scrapeMetrics } from '@wanctl/testkit';
import { describe, expect, it } from 'vitest';
import { AutorateMetrics } from '../../src/daemon/metrics.js';

const scrape = (m: AutorateMetrics) => scrapeMetrics(m.registry);

describe('AutorateMetrics', () => {
  it('creates every labelled counter series at 0 when a WAN is added, before any event', async () => {
    const m = new AutorateMetrics(createMetricsRegistry({ defaultMetrics: false }));
    m.forWan('cable', ['rest', 'ssh']);
    m.forWan('dsl');
    const s = await scrape(m);
    for (const wan of ['cable', 'dsl']) {
      for (const name of [
        'wanctl_router_write_failures_total',
        'wanctl_ping_failures_total',
        'wanctl_cycle_overruns_total',
        'wanctl_router_updates_total',
        'wanctl_rate_limit_events_total',
        'wanctl_router_writes_throttled_total',
        'wanctl_router_writes_coalesced_total',
        'wanctl_cycles_total',
        'wanctl_reflector_replacements_total',
      ])
        expect(s.get(`${name}{wan="${wan}"}`), `${name} of ${wan}`).toBe(0);
      for (const direction of ['download', 'upload'])
        expect(s.get(`wanctl_router_corrections_total{direction="${direction}",wan="${wan}"}`)).toBe(0);
      for (const result of ['ok', 'failed'])
        expect(s.get(`wanctl_router_write_seconds_count{wan="${wan}",result="${result}"}`)).toBe(0);
      expect(s.get(`wanctl_cycle_seconds_count{wan="${wan}"}`)).toBe(0);
    }
    // the failover counter per transport the WAN can switch to (cable: REST with SSH fallback)
    expect(s.get('wanctl_router_failovers_total{wan="cable",to="rest"}')).toBe(0);
    expect(s.get('wanctl_router_failovers_total{wan="cable",to="ssh"}')).toBe(0);
    expect([...s.keys()].filter((k) => k.startsWith('wanctl_router_failovers_total{wan="dsl"'))).toEqual([]);
  });

  it('counts on from 0: the first event makes increase() see 1', async () => {
    const m = new AutorateMetrics(createMetricsRegistry({ defaultMetrics: false }));
    const w = m.forWan('cable', ['rest', 'ssh']);
    const before = await scrape(m);
    w.writeFailures.inc();
    w.failover('ssh');
    const after = await scrape(m);
    const key = 'wanctl_router_write_failures_total{wan="cable"}';
    expect((after.get(key) ?? Number.NaN) - (before.get(key) ?? Number.NaN)).toBe(1);
    const fo = 'wanctl_router_failovers_total{wan="cable",to="ssh"}';
    expect((after.get(fo) ?? Number.NaN) - (before.get(fo) ?? Number.NaN)).toBe(1);
  });

  it("keeps v1.3's names and adds base-unit twins (bit/s, s) with the same values converted", async () => {
    const m = new AutorateMetrics(createMetricsRegistry({ defaultMetrics: false }));
    const w = m.forWan('cable');
    // before the first cycle: no gauge value (no made-up 0 rate)
    expect([...(await scrape(m)).keys()].some((k) => k.startsWith('wanctl_bandwidth'))).toBe(false);
    w.dlMbps.set(812.5);
    w.ulMbps.set(20);
    w.routerDlMbps.set(800);
    w.baseline.set(12.5);
    w.load.set(30);
    w.delta.set(17.5);
    const s = await scrape(m);
    expect(s.get('wanctl_bandwidth_mbps{direction="download",wan="cable"}')).toBe(812.5);
    expect(s.get('wanctl_bandwidth_bits_per_second{direction="download",wan="cable"}')).toBe(812_500_000);
    expect(s.get('wanctl_bandwidth_bits_per_second{direction="upload",wan="cable"}')).toBe(20_000_000);
    expect(s.get('wanctl_router_bandwidth_mbps{direction="download",wan="cable"}')).toBe(800);
    expect(s.get('wanctl_router_bandwidth_bits_per_second{direction="download",wan="cable"}')).toBe(
      800_000_000,
    );
    expect(s.get('wanctl_rtt_baseline_ms{wan="cable"}')).toBe(12.5);
    expect(s.get('wanctl_rtt_baseline_seconds{wan="cable"}')).toBeCloseTo(0.0125, 12);
    expect(s.get('wanctl_rtt_load_seconds{wan="cable"}')).toBeCloseTo(0.03, 12);
    expect(s.get('wanctl_rtt_delta_seconds{wan="cable"}')).toBeCloseTo(0.0175, 12);
  });
});
