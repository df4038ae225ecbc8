/**
 * Prometheus series of the autorate daemon: v1.3's (same names, labels and units) plus the
 * cycle duration histogram, router write latency, throttled/coalesced writes and failovers.
 * Per-WAN label children are resolved once, so a cycle only sets numbers.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const STATE_VALUE: Record<string, number> = { GREEN: 1, YELLOW: 2, SOFT_RED: 3, RED: 4 };

/** Maps a zone to v1.3's gauge value (unknown = 0). */
export function zoneValue(zone: string | null): number {
  return zone === null ? 0 : (STATE_VALUE[zone] ?? 0);
}

export class AutorateMetrics {
  readonly bandwidth: Gauge<'direction' | 'wan'>;
  readonly routerBandwidth: Gauge<'direction' | 'wan'>;
  readonly rttBaseline: Gauge<'wan'>;
  readonly rttLoad: Gauge<'wan'>;
  readonly rttDelta: Gauge<'wan'>;
  readonly state: Gauge<'direction' | 'wan'>;
  readonly cycles: Counter<'wan'>;
  readonly cycleDuration: Gauge<'wan'>;
  readonly routerUpdates: Counter<'wan'>;
  readonly rateLimitEvents: Counter<'wan'>;
  readonly pingFailures: Counter<'wan'>;
  readonly cycleSeconds: Histogram<'wan'>;
  readonly writeSeconds: Histogram<'wan' | 'result'>;
  readonly writeFailures: Counter<'wan'>;
  readonly throttled: Counter<'wan'>;
  readonly coalesced: Counter<'wan'>;
  readonly failovers: Counter<'wan' | 'to'>;
  readonly overruns: Counter<'wan'>;
  readonly reflectorReplies: Gauge<'wan'>;

  constructor(readonly registry: Registry) {
    const r = [registry];
    this.bandwidth = new Gauge({
      name: 'wanctl_bandwidth_mbps',
      help: "Controller's rate (Mbps)",
      labelNames: ['direction', 'wan'],
      registers: r,
    });
    this.routerBandwidth = new Gauge({
      name: 'wanctl_router_bandwidth_mbps',
      help: "Router's rate as last written and confirmed (Mbps)",
      labelNames: ['direction', 'wan'],
      registers: r,
    });
    this.rttBaseline = new Gauge({
      name: 'wanctl_rtt_baseline_ms',
      help: 'Baseline RTT (ms)',
      labelNames: ['wan'],
      registers: r,
    });
    this.rttLoad = new Gauge({
      name: 'wanctl_rtt_load_ms',
      help: 'Load RTT EWMA (ms)',
      labelNames: ['wan'],
      registers: r,
    });
    this.rttDelta = new Gauge({
      name: 'wanctl_rtt_delta_ms',
      help: 'max(0, load - baseline) (ms)',
      labelNames: ['wan'],
      registers: r,
    });
    this.state = new Gauge({
      name: 'wanctl_state',
      help: 'Zone: GREEN=1, YELLOW=2, SOFT_RED=3, RED=4',
      labelNames: ['direction', 'wan'],
      registers: r,
    });
    this.cycles = new Counter({
      name: 'wanctl_cycles_total',
      help: 'Completed (non-frozen) cycles',
      labelNames: ['wan'],
      registers: r,
    });
    this.cycleDuration = new Gauge({
      name: 'wanctl_cycle_duration_seconds',
      help: "Last cycle's duration (s)",
      labelNames: ['wan'],
      registers: r,
    });
    this.routerUpdates = new Counter({
      name: 'wanctl_router_updates_total',
      help: 'Successful router writes',
      labelNames: ['wan'],
      registers: r,
    });
    this.rateLimitEvents = new Counter({
      name: 'wanctl_rate_limit_events_total',
      help: 'Cycles whose write was held back by the write budget',
      labelNames: ['wan'],
      registers: r,
    });
    this.pingFailures = new Counter({
      name: 'wanctl_ping_failures_total',
      help: 'Cycles without any usable ICMP reply',
      labelNames: ['wan'],
      registers: r,
    });
    this.cycleSeconds = new Histogram({
      name: 'wanctl_cycle_seconds',
      help: 'Cycle work time (s)',
      labelNames: ['wan'],
      buckets: [0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers: r,
    });
    this.writeSeconds = new Histogram({
      name: 'wanctl_router_write_seconds',
      help: 'Router write round trip (s)',
      labelNames: ['wan', 'result'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
      registers: r,
    });
    this.writeFailures = new Counter({
      name: 'wanctl_router_write_failures_total',
      help: 'Failed router writes',
      labelNames: ['wan'],
      registers: r,
    });
    this.throttled = new Counter({
      name: 'wanctl_router_writes_throttled_total',
      help: 'Cycles whose changed rate was not written yet (budget or a write in flight)',
      labelNames: ['wan'],
      registers: r,
    });
    this.coalesced = new Counter({
      name: 'wanctl_router_writes_coalesced_total',
      help: 'Rate changes superseded before they were written (only the latest rate is written)',
      labelNames: ['wan'],
      registers: r,
    });
    this.failovers = new Counter({
      name: 'wanctl_router_failovers_total',
      help: 'Router transport switches',
      labelNames: ['wan', 'to'],
      registers: r,
    });
    this.overruns = new Counter({
      name: 'wanctl_cycle_overruns_total',
      help: 'Cycles that took longer than the interval (the missed slots are skipped, never stacked)',
      labelNames: ['wan'],
      registers: r,
    });
    this.reflectorReplies = new Gauge({
      name: 'wanctl_reflector_replies',
      help: 'Usable reflector replies in the last cycle (quorum)',
      labelNames: ['wan'],
      registers: r,
    });
  }

  /** Label children for one WAN (resolved once). */
  forWan(wanLabel: string): WanMetrics {
    const w = { wan: wanLabel };
    return {
      dlMbps: this.bandwidth.labels({ direction: 'download', ...w }),
      ulMbps: this.bandwidth.labels({ direction: 'upload', ...w }),
      routerDlMbps: this.routerBandwidth.labels({ direction: 'download', ...w }),
      routerUlMbps: this.routerBandwidth.labels({ direction: 'upload', ...w }),
      baseline: this.rttBaseline.labels(w),
      load: this.rttLoad.labels(w),
      delta: this.rttDelta.labels(w),
      dlState: this.state.labels({ direction: 'download', ...w }),
      ulState: this.state.labels({ direction: 'upload', ...w }),
      cycles: this.cycles.labels(w),
      cycleDuration: this.cycleDuration.labels(w),
      routerUpdates: this.routerUpdates.labels(w),
      rateLimitEvents: this.rateLimitEvents.labels(w),
      pingFailures: this.pingFailures.labels(w),
      cycleSeconds: this.cycleSeconds.labels(w),
      writeOk: this.writeSeconds.labels({ ...w, result: 'ok' }),
      writeFailed: this.writeSeconds.labels({ ...w, result: 'failed' }),
      writeFailures: this.writeFailures.labels(w),
      throttled: this.throttled.labels(w),
      coalesced: this.coalesced.labels(w),
      failover: (to: string) => this.failovers.labels({ ...w, to }).inc(),
      overruns: this.overruns.labels(w),
      replies: this.reflectorReplies.labels(w),
    };
  }
}

type G = ReturnType<Gauge<string>['labels']>;
type C = ReturnType<Counter<string>['labels']>;
type H = ReturnType<Histogram<string>['labels']>;

export interface WanMetrics {
  dlMbps: G;
  ulMbps: G;
  routerDlMbps: G;
  routerUlMbps: G;
  baseline: G;
  load: G;
  delta: G;
  dlState: G;
  ulState: G;
  cycles: C;
  cycleDuration: G;
  routerUpdates: C;
  rateLimitEvents: C;
  pingFailures: C;
  cycleSeconds: H;
  writeOk: H;
  writeFailed: H;
  writeFailures: C;
  throttled: C;
  coalesced: C;
  failover: (to: string) => void;
  overruns: C;
  replies: G;
}
