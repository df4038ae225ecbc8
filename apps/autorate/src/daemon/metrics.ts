/**
 * Prometheus series of the autorate daemon: v1.3's (same names, labels and units) plus the
 * cycle duration histogram, router write latency, throttled/coalesced writes and failovers.
 * Each of v1.3's Mbps and ms gauges has a twin in base units by Prometheus convention
 * (`_bits_per_second`, `_seconds`), same value converted. Every counter and histogram series a
 * WAN can have is created at 0 when the daemon starts (per WAN, direction, transport, result),
 * so that `increase()` and `rate()` see the first event. The list with both names is in
 * apps/autorate/README.md ("Metrics").
 *
 * prom-client validates and hashes the labels on every `set`/`inc`, even through a child from
 * `labels()`, and allocates a new entry per `set`. A cycle therefore only stores numbers in
 * per-WAN holders ({@link LazyGauge}, {@link LazyCounter}); they are copied into the series when
 * the registry is scraped (the metrics' `collect`). Histograms observe directly.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** A gauge's latest value, copied into its series at scrape time (no series before the first set). */
export class LazyGauge {
  value = Number.NaN;
  set(v: number): void {
    this.value = v;
  }
}

/** Counter increments since the last scrape, added to its series at scrape time. */
export class LazyCounter {
  pending = 0;
  inc(by = 1): void {
    this.pending += by;
  }
}

type Labels = Record<string, string>;
type H = ReturnType<Histogram<string>['labels']>;

/** The same value under a base-unit name: `name`, its help, and the factor from v1.3's unit. */
interface BaseUnitTwin {
  name: string;
  help: string;
  factor: number;
}

/** A gauge and its per-WAN holders (and, optionally, its twin in base units, from the same holders). */
class LazyGaugeFamily {
  readonly metric: Gauge<string>;
  readonly twin: Gauge<string> | null;
  private readonly children: Array<[Labels, LazyGauge]> = [];

  constructor(registry: Registry, name: string, help: string, labelNames: string[], twin?: BaseUnitTwin) {
    const children = this.children;
    this.metric = new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        for (const [labels, g] of children) if (!Number.isNaN(g.value)) this.set(labels, g.value);
      },
    });
    this.twin = twin
      ? new Gauge({
          name: twin.name,
          help: twin.help,
          labelNames,
          registers: [registry],
          collect() {
            for (const [labels, g] of children)
              if (!Number.isNaN(g.value)) this.set(labels, g.value * twin.factor);
          },
        })
      : null;
  }

  child(labels: Labels): LazyGauge {
    const g = new LazyGauge();
    this.children.push([labels, g]);
    return g;
  }
}

/** A counter and its per-WAN holders. */
class LazyCounterFamily {
  readonly metric: Counter<string>;
  private readonly children: Array<[Labels, LazyCounter]> = [];

  constructor(registry: Registry, name: string, help: string, labelNames: string[]) {
    const children = this.children;
    this.metric = new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        for (const [labels, c] of children) {
          if (c.pending === 0) continue;
          this.inc(labels, c.pending);
          c.pending = 0;
        }
      },
    });
  }

  /** The holder of one label set; its series exists at 0 from now on. */
  child(labels: Labels): LazyCounter {
    const c = new LazyCounter();
    this.children.push([labels, c]);
    this.metric.inc(labels, 0);
    return c;
  }
}

const WAN = ['wan'];
const DIR_WAN = ['direction', 'wan'];

export class AutorateMetrics {
  readonly bandwidth: LazyGaugeFamily;
  readonly routerBandwidth: LazyGaugeFamily;
  readonly rttBaseline: LazyGaugeFamily;
  readonly rttLoad: LazyGaugeFamily;
  readonly rttDelta: LazyGaugeFamily;
  readonly state: LazyGaugeFamily;
  readonly cycles: LazyCounterFamily;
  readonly cycleDuration: LazyGaugeFamily;
  readonly routerUpdates: LazyCounterFamily;
  readonly rateLimitEvents: LazyCounterFamily;
  readonly pingFailures: LazyCounterFamily;
  readonly cycleSeconds: Histogram<'wan'>;
  readonly writeSeconds: Histogram<'wan' | 'result'>;
  readonly writeFailures: LazyCounterFamily;
  readonly throttled: LazyCounterFamily;
  readonly coalesced: LazyCounterFamily;
  readonly failovers: Counter<'wan' | 'to'>;
  readonly overruns: LazyCounterFamily;
  readonly reflectorReplies: LazyGaugeFamily;
  readonly corrections: LazyCounterFamily;
  readonly reflectorReplacements: LazyCounterFamily;

  constructor(readonly registry: Registry) {
    const gauge = (name: string, help: string, labels = WAN, twin?: BaseUnitTwin) =>
      new LazyGaugeFamily(registry, name, help, labels, twin);
    const counter = (name: string, help: string) => new LazyCounterFamily(registry, name, help, WAN);
    const bps = (name: string, help: string): BaseUnitTwin => ({ name, help, factor: 1e6 });
    const sec = (name: string, help: string): BaseUnitTwin => ({ name, help, factor: 1e-3 });
    this.bandwidth = gauge(
      'wanctl_bandwidth_mbps',
      "Controller's rate (Mbps)",
      DIR_WAN,
      bps('wanctl_bandwidth_bits_per_second', "Controller's rate (bit/s)"),
    );
    this.routerBandwidth = gauge(
      'wanctl_router_bandwidth_mbps',
      "Router's rate as last written and confirmed (Mbps)",
      DIR_WAN,
      bps('wanctl_router_bandwidth_bits_per_second', "Router's rate as last written and confirmed (bit/s)"),
    );
    this.rttBaseline = gauge(
      'wanctl_rtt_baseline_ms',
      'Baseline RTT (ms)',
      WAN,
      sec('wanctl_rtt_baseline_seconds', 'Baseline RTT (s)'),
    );
    this.rttLoad = gauge(
      'wanctl_rtt_load_ms',
      'Load RTT EWMA (ms)',
      WAN,
      sec('wanctl_rtt_load_seconds', 'Load RTT EWMA (s)'),
    );
    this.rttDelta = gauge(
      'wanctl_rtt_delta_ms',
      'max(0, load - baseline) (ms)',
      WAN,
      sec('wanctl_rtt_delta_seconds', 'max(0, load - baseline) (s)'),
    );
    this.state = gauge('wanctl_state', 'Zone: GREEN=1, YELLOW=2, SOFT_RED=3, RED=4', DIR_WAN);
    this.cycles = counter('wanctl_cycles_total', 'Completed (non-frozen) cycles');
    this.cycleDuration = gauge('wanctl_cycle_duration_seconds', "Last cycle's duration (s)");
    this.routerUpdates = counter('wanctl_router_updates_total', 'Successful router writes');
    this.rateLimitEvents = counter(
      'wanctl_rate_limit_events_total',
      'Cycles whose write was held back by the write budget',
    );
    this.pingFailures = counter('wanctl_ping_failures_total', 'Cycles without any usable ICMP reply');
    this.cycleSeconds = new Histogram({
      name: 'wanctl_cycle_seconds',
      help: 'Cycle work time (s)',
      labelNames: ['wan'],
      buckets: [0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers: [registry],
    });
    this.writeSeconds = new Histogram({
      name: 'wanctl_router_write_seconds',
      help: 'Router write round trip (s)',
      labelNames: ['wan', 'result'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
      registers: [registry],
    });
    this.writeFailures = counter('wanctl_router_write_failures_total', 'Failed router writes');
    this.throttled = counter(
      'wanctl_router_writes_throttled_total',
      'Cycles whose changed rate was not written yet (budget or a write in flight)',
    );
    this.coalesced = counter(
      'wanctl_router_writes_coalesced_total',
      'Rate changes superseded before they were written (only the latest rate is written)',
    );
    this.failovers = new Counter({
      name: 'wanctl_router_failovers_total',
      help: 'Router transport switches',
      labelNames: ['wan', 'to'],
      registers: [registry],
    });
    this.overruns = counter(
      'wanctl_cycle_overruns_total',
      'Cycles that took longer than the interval (the missed slots are skipped, never stacked)',
    );
    this.corrections = new LazyCounterFamily(
      registry,
      'wanctl_router_corrections_total',
      'Max-limits found changed on the router (reboot, late write, operator edit) and rewritten (D15)',
      DIR_WAN,
    );
    this.reflectorReplacements = counter(
      'wanctl_reflector_replacements_total',
      'Reflectors replaced by a spare after the adaptive law reported them bad (silent, or off the others)',
    );
    this.reflectorReplies = gauge(
      'wanctl_reflector_replies',
      'Usable reflector replies in the last cycle (quorum)',
    );
  }

  /**
   * The holders of one WAN (a cycle then only stores numbers). Its counter and histogram series
   * exist at 0 from now on; `transports`: the router transports it can switch between (the
   * failover counter's `to` values; none for a single transport).
   */
  forWan(wanLabel: string, transports: readonly string[] = []): WanMetrics {
    const w = { wan: wanLabel };
    const dl = { direction: 'download', wan: wanLabel };
    const ul = { direction: 'upload', wan: wanLabel };
    for (const to of transports) this.failovers.inc({ ...w, to }, 0);
    this.cycleSeconds.zero(w);
    this.writeSeconds.zero({ ...w, result: 'ok' });
    this.writeSeconds.zero({ ...w, result: 'failed' });
    return {
      dlMbps: this.bandwidth.child(dl),
      ulMbps: this.bandwidth.child(ul),
      routerDlMbps: this.routerBandwidth.child(dl),
      routerUlMbps: this.routerBandwidth.child(ul),
      baseline: this.rttBaseline.child(w),
      load: this.rttLoad.child(w),
      delta: this.rttDelta.child(w),
      dlState: this.state.child(dl),
      ulState: this.state.child(ul),
      cycles: this.cycles.child(w),
      cycleDuration: this.cycleDuration.child(w),
      routerUpdates: this.routerUpdates.child(w),
      rateLimitEvents: this.rateLimitEvents.child(w),
      pingFailures: this.pingFailures.child(w),
      cycleSeconds: this.cycleSeconds.labels(w),
      writeOk: this.writeSeconds.labels({ ...w, result: 'ok' }),
      writeFailed: this.writeSeconds.labels({ ...w, result: 'failed' }),
      writeFailures: this.writeFailures.child(w),
      throttled: this.throttled.child(w),
      coalesced: this.coalesced.child(w),
      failover: (to: string) => this.failovers.labels({ ...w, to }).inc(),
      overruns: this.overruns.child(w),
      replies: this.reflectorReplies.child(w),
      correctionsDl: this.corrections.child(dl),
      correctionsUl: this.corrections.child(ul),
      reflectorReplacements: this.reflectorReplacements.child(w),
    };
  }
}

export interface WanMetrics {
  dlMbps: LazyGauge;
  ulMbps: LazyGauge;
  routerDlMbps: LazyGauge;
  routerUlMbps: LazyGauge;
  baseline: LazyGauge;
  load: LazyGauge;
  delta: LazyGauge;
  dlState: LazyGauge;
  ulState: LazyGauge;
  cycles: LazyCounter;
  cycleDuration: LazyGauge;
  routerUpdates: LazyCounter;
  rateLimitEvents: LazyCounter;
  pingFailures: LazyCounter;
  cycleSeconds: H;
  writeOk: H;
  writeFailed: H;
  writeFailures: LazyCounter;
  throttled: LazyCounter;
  coalesced: LazyCounter;
  failover: (to: string) => void;
  overruns: LazyCounter;
  replies: LazyGauge;
  correctionsDl: LazyCounter;
  correctionsUl: LazyCounter;
  reflectorReplacements: LazyCounter;
}
