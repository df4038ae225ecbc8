/**
 * Prometheus series of the steering daemon. v1.3's (which it kept in memory only):
 * `wanctl_steering_enabled{wan}`, `wanctl_congestion_state{wan}` (GREEN=1, YELLOW=2, SOFT_RED=3,
 * RED=4, unknown=0), `wanctl_steering_transitions_total{wan,from,to}`; and ours for the signals,
 * the rule on the router, cycles and router errors. The ms gauges have twins in seconds
 * (Prometheus base units, same value converted); every counter series (each transition, outcome,
 * operation) exists at 0 from the start, so that `increase()` sees the first event. The list with
 * both names is in apps/steering/README.md ("Metrics").
 */
import { createMetricsRegistry, zoneValue } from '@wanctl/runtime';
import { Counter, Gauge, type Registry } from 'prom-client';

export class SteeringMetrics {
  readonly registry: Registry;
  private readonly enabled: Gauge;
  private readonly congestion: Gauge;
  private readonly transitions: Counter;
  private readonly ruleOnRouter: Gauge;
  private readonly rttDelta: Gauge;
  private readonly rttDeltaEwma: Gauge;
  private readonly rttDeltaSeconds: Gauge;
  private readonly rttDeltaEwmaSeconds: Gauge;
  private readonly queueEwma: Gauge;
  private readonly baseline: Gauge;
  private readonly baselineSeconds: Gauge;
  private readonly cakeDrops: Counter;
  private readonly cycles: Counter;
  private readonly routerErrors: Counter;
  private readonly corrections: Counter;
  private readonly toggleFailures: Counter;

  /**
   * @param processMetrics also collect the process series (CPU, memory, event-loop lag); only
   *   worth it when the registry is served: the lag sampler is a timer that wakes the process.
   * @param states the steering state names (good, degraded): both transitions exist at 0
   */
  constructor(
    readonly wan: string,
    opts: { processMetrics?: boolean; states?: { good: string; degraded: string } } = {},
  ) {
    // one cycle every ~2 s: a lag sample every 100 ms, not prom-client's 10 ms (100 wake-ups/s)
    const registry = createMetricsRegistry({
      defaultMetrics: opts.processMetrics ?? true,
      eventLoopPrecisionMs: 100,
    });
    this.registry = registry;
    const g = (name: string, help: string, labelNames: string[] = ['wan']) =>
      new Gauge({ name, help, labelNames, registers: [registry] });
    const c = (name: string, help: string, labelNames: string[] = ['wan']) =>
      new Counter({ name, help, labelNames, registers: [registry] });
    this.enabled = g(
      'wanctl_steering_enabled',
      'Steering decision: 1 while traffic is steered (rule enabled)',
    );
    this.congestion = g(
      'wanctl_congestion_state',
      'Congestion assessment of the primary WAN: GREEN=1, YELLOW=2, SOFT_RED=3, RED=4, unknown=0',
    );
    this.transitions = c('wanctl_steering_transitions_total', 'Steering state transitions', [
      'wan',
      'from',
      'to',
    ]);
    this.ruleOnRouter = g(
      'wanctl_steering_rule_enabled_on_router',
      'The mangle rule as last read from the router: 1 enabled, 0 disabled, -1 missing or unknown',
    );
    this.rttDelta = g('wanctl_steering_rtt_delta_ms', 'RTT minus the autorate baseline (ms), this cycle');
    this.rttDeltaEwma = g('wanctl_steering_rtt_delta_ewma_ms', 'Smoothed RTT delta (ms)');
    this.rttDeltaSeconds = g(
      'wanctl_steering_rtt_delta_seconds',
      'RTT minus the autorate baseline (s), this cycle',
    );
    this.rttDeltaEwmaSeconds = g('wanctl_steering_rtt_delta_ewma_seconds', 'Smoothed RTT delta (s)');
    this.queueEwma = g('wanctl_steering_queue_ewma_packets', 'Smoothed CAKE queue depth (packets)');
    this.baseline = g(
      'wanctl_steering_baseline_rtt_ms',
      'Baseline RTT in use (ms), from the autorate state file',
    );
    this.baselineSeconds = g(
      'wanctl_steering_baseline_rtt_seconds',
      'Baseline RTT in use (s), from the autorate state file',
    );
    this.cakeDrops = c('wanctl_steering_cake_drops_total', 'CAKE drops seen on the primary download queue');
    this.cycles = c('wanctl_steering_cycles_total', 'Steering cycles by outcome', ['wan', 'outcome']);
    this.routerErrors = c('wanctl_steering_router_errors_total', 'Failed router calls by operation', [
      'wan',
      'op',
    ]);
    this.corrections = c(
      'wanctl_steering_rule_corrections_total',
      'Times the rule was found in the wrong state on the router and corrected',
    );
    this.toggleFailures = c(
      'wanctl_steering_toggle_failures_total',
      'Rule toggles that failed or did not read back',
    );
    // every counter series at 0 from the start
    const w = { wan };
    if (opts.states) {
      const { good, degraded } = opts.states;
      this.transitions.inc({ ...w, from: good, to: degraded }, 0);
      this.transitions.inc({ ...w, from: degraded, to: good }, 0);
    }
    for (const outcome of ['ok', 'failed', 'error']) this.cycles.inc({ ...w, outcome }, 0);
    for (const op of ['cake', 'rule_read', 'rule_toggle']) this.routerErrors.inc({ ...w, op }, 0);
    this.cakeDrops.inc(w, 0);
    this.corrections.inc(w, 0);
    this.toggleFailures.inc(w, 0);
  }

  recordState(enabled: boolean, congestionState: string): void {
    this.enabled.set({ wan: this.wan }, enabled ? 1 : 0);
    this.congestion.set({ wan: this.wan }, zoneValue(congestionState));
  }

  recordTransition(from: string, to: string): void {
    this.transitions.inc({ wan: this.wan, from, to });
  }

  recordRule(state: 'enabled' | 'disabled' | 'missing' | 'unknown'): void {
    this.ruleOnRouter.set({ wan: this.wan }, state === 'enabled' ? 1 : state === 'disabled' ? 0 : -1);
  }

  recordSignals(s: {
    deltaMs: number | null;
    rttDeltaEwmaMs: number;
    queueEwmaPackets: number;
    baselineRttMs: number | null;
    cakeDrops: number;
  }): void {
    const w = { wan: this.wan };
    if (s.deltaMs !== null) {
      this.rttDelta.set(w, s.deltaMs);
      this.rttDeltaSeconds.set(w, s.deltaMs / 1000);
    }
    this.rttDeltaEwma.set(w, s.rttDeltaEwmaMs);
    this.rttDeltaEwmaSeconds.set(w, s.rttDeltaEwmaMs / 1000);
    this.queueEwma.set(w, s.queueEwmaPackets);
    if (s.baselineRttMs !== null) {
      this.baseline.set(w, s.baselineRttMs);
      this.baselineSeconds.set(w, s.baselineRttMs / 1000);
    }
    if (s.cakeDrops > 0) this.cakeDrops.inc({ wan: this.wan }, s.cakeDrops);
  }

  cycle(outcome: 'ok' | 'failed' | 'error'): void {
    this.cycles.inc({ wan: this.wan, outcome });
  }

  routerError(op: 'cake' | 'rule_read' | 'rule_toggle'): void {
    this.routerErrors.inc({ wan: this.wan, op });
  }

  correction(): void {
    this.corrections.inc({ wan: this.wan });
  }

  toggleFailure(): void {
    this.toggleFailures.inc({ wan: this.wan });
  }
}
