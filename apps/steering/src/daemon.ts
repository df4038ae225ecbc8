/**
 * The wanctl-steering daemon shell: the I/O around the pure control law (src/control/).
 *
 * Each cycle (every `measurement.interval_seconds`) it reads, concurrently and each within a
 * deadline: the primary WAN's baseline RTT from its autorate state file, its own RTT (background
 * probe), the CAKE counters of the primary download queue, and (at most every ~2 s) the mangle
 * rule's state on the router. The control law decides; a toggle is written and read back (D7);
 * a rule found in the wrong state (toggled behind our back) is corrected. State is persisted
 * atomically on change (plus a heartbeat), health and metrics are served on loopback, systemd is
 * notified and its watchdog fed (D6), SIGTERM stops cleanly.
 */
import { stat } from 'node:fs/promises';
import { CakeStatsReader } from '@wanctl/cake-stats';
import type { SteeringConfig } from '@wanctl/config';
import {
  type CallOptions,
  getRouterClientWithFailover,
  type RouterClient,
  type RouterLogger,
  type TransportSwitch,
} from '@wanctl/router-client';
import {
  chooseProbe,
  createProbe,
  type ProbeChoice,
  type ProbeEvent,
  probeInfo,
  type RttProbe,
} from '@wanctl/rtt-probe';
import {
  acquirePidLock,
  createLogger,
  createSdNotify,
  createTicker,
  type Endpoints,
  installSignalHandlers,
  LatencyStats,
  type Logger,
  LogThrottle,
  type PidLock,
  readJsonWithRecovery,
  registerSecret,
  type SdNotify,
  StateStore,
  startEndpoints,
  type Ticker,
  Watchdog,
} from '@wanctl/runtime';
import { type BaselineReading, DEFAULT_BASELINE_STALE_MS, readAutorateBaseline } from './baseline.js';
import { routerClientOptions, steeringParamsFromConfig } from './config-params.js';
import {
  type CakeSnapshot,
  SteeringController,
  type SteeringCycleResult,
  type SteeringParams,
  type SteeringStateFile,
} from './control/index.js';
import { DaemonStartError } from './errors.js';
import { SteeringMetrics } from './metrics.js';
import { type RttMeasurement, RttMeasurer } from './rtt.js';
import { type RuleState, SteeringRule } from './rule.js';
import { VERSION } from './version.js';

/** The rule is read from the router at most this often (every cycle at the default 2 s interval). */
export const RULE_CHECK_PERIOD_MS = 2000;
/**
 * A persisted DEGRADED decision older than this is not carried over a restart (after v1.3, a clean
 * restart with an old DEGRADED state and a pre-enabled rule steered traffic with no decision).
 */
export const STALE_DECISION_MS = 600_000;
/** Consecutive failed cycles after which /health reports degraded. */
export const FAILED_CYCLES_DEGRADED = 3;

export interface SteeringDaemonOptions {
  config: SteeringConfig;
  /** Control-law params (default: from the config). */
  params?: SteeringParams;
  debug?: boolean;
  /** Log what would be done; never toggle the rule. */
  dryRun?: boolean;
  /**
   * `--udp-reflector`: probe these UDP echo reflectors (`host:port`), overriding
   * `measurement.probe` (null/empty: the config decides).
   */
  udpReflectors?: string[] | null;
  fpingBinary?: string;
  /** Serve health/metrics (default true). */
  serveHttp?: boolean;
  /** A baseline file older than this is reported stale (default 300 s). */
  baselineStaleMs?: number;
  /** Install SIGTERM/SIGINT/SIGHUP handlers at setup() (default true; in-process tests pass false). */
  signals?: boolean;
  /** Injected parts (tests). */
  deps?: {
    logger?: Logger;
    routerClient?: RouterClient;
    probe?: RttProbe;
    notify?: SdNotify;
    /** Wall clock, ms. */
    now?: () => number;
    /** Monotonic clock, ms. */
    monotonic?: () => number;
    sleep?: (ms: number) => Promise<void>;
  };
}

interface Transition {
  from: string;
  to: string;
  at: string;
  reason: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

export class SteeringDaemon {
  readonly config: SteeringConfig;
  readonly params: SteeringParams;
  readonly controller: SteeringController;
  readonly log: Logger;
  readonly metrics: SteeringMetrics;
  readonly dryRun: boolean;
  private readonly now: () => number;
  private readonly mono: () => number;
  private readonly intervalMs: number;
  private readonly callDeadlineMs: number;
  private readonly ruleCheckEvery: number;
  private readonly throttle: LogThrottle;
  /** Which probe, from `measurement.probe` or `--udp-reflector` (health shows it). */
  readonly probeChoice: ProbeChoice;
  private lock: PidLock | null = null;
  private client: RouterClient | null = null;
  private probe: RttProbe | null = null;
  private measurer: RttMeasurer | null = null;
  private rule: SteeringRule | null = null;
  private cake: CakeStatsReader | null = null;
  private store: StateStore<SteeringStateFile> | null = null;
  private endpoints: Endpoints | null = null;
  private notify: SdNotify | null = null;
  private watchdog: Watchdog | null = null;
  private ticker: Ticker | null = null;
  private readonly cycleMs = new LatencyStats(600);
  private readonly startedAt: number;
  // what /health shows
  private cycles = 0;
  private consecutiveFailures = 0;
  private lastCycleAt: number | null = null;
  private lastResult: SteeringCycleResult | null = null;
  private lastBaseline: BaselineReading | null = null;
  private lastRtt: RttMeasurement | null = null;
  private lastCakeError: string | null = null;
  private lastTransition: Transition | null = null;
  private stateSince: number;
  private corrections = 0;
  private toggleError: string | null = null;
  private ruleCheckPending = true;
  private lastError: string | null = null;
  private stopping: Promise<void> | null = null;
  private stopRequested = false;
  private onStopRequested: (() => void) | null = null;
  private runResolve: ((code: number) => void) | null = null;
  private uninstallSignals: (() => void) | null = null;

  constructor(private readonly o: SteeringDaemonOptions) {
    this.config = o.config;
    this.params = o.params ?? steeringParamsFromConfig(o.config);
    this.controller = new SteeringController(this.params);
    this.dryRun = o.dryRun ?? false;
    this.now = o.deps?.now ?? Date.now;
    this.mono = o.deps?.monotonic ?? (() => performance.now());
    this.intervalMs = this.config.measurement.intervalMs;
    // docs/decisions.md#d2: every router call of a cycle has a deadline, and the worst case of a
    // cycle (RTT, CAKE and rule read in parallel, then one toggle) stays far inside WatchdogSec.
    this.callDeadlineMs = Math.min(this.config.router.callDeadlineMs, Math.max(2000, 2 * this.intervalMs));
    this.ruleCheckEvery = Math.max(1, Math.ceil(RULE_CHECK_PERIOD_MS / this.intervalMs));
    this.throttle = new LogThrottle(60_000, () => this.mono());
    this.probeChoice = chooseProbe(
      this.config.measurement.probe,
      [this.config.measurement.pingHost],
      o.udpReflectors,
    );
    this.startedAt = this.now();
    this.stateSince = this.startedAt;
    const wan = this.params.primaryWan.toLowerCase();
    this.log =
      o.deps?.logger ??
      createLogger({
        name: `steering_${wan}`,
        level: o.debug ? 'debug' : 'info',
        file: this.config.logging.mainLog,
        ...(o.debug ? { debugFile: this.config.logging.debugLog } : {}),
        console: true,
        consoleLevel: o.debug ? 'debug' : 'info',
      });
    // the process series only when /metrics is served (the registry is not exposed otherwise)
    this.metrics = new SteeringMetrics(wan, { processMetrics: this.config.metrics.enabled });
  }

  private callOptions = (): CallOptions => ({ deadlineMs: this.callDeadlineMs });

  /**
   * Lock, router client, probe, restored state, health and metrics servers, systemd notifier.
   * Throws LockHeldError / LockError / DaemonStartError. A health or metrics port that cannot be
   * bound is a warning naming the key to change (v1.3), not an error.
   */
  async setup(opts: { lock?: boolean; http?: boolean } = {}): Promise<void> {
    const cfg = this.config;
    if (this.o.signals !== false && this.uninstallSignals === null) {
      // installed first, so a SIGTERM during start-up is a clean stop too
      this.uninstallSignals = installSignalHandlers({
        onStop: (sig) => {
          this.log.info(`${sig} received: stopping`);
          this.stopRequested = true;
          this.onStopRequested?.();
        },
        onReload: () => this.log.reopen(),
      });
    }
    for (const w of cfg.warnings) this.log.warn(`config: ${w.message}`, { path: w.path });
    if (cfg.router.password) registerSecret(cfg.router.password.reveal());
    if (opts.lock !== false) this.lock = acquirePidLock(cfg.lockFile);
    const routerLog: RouterLogger = {
      debug: (m, f) => this.log.debug(m, f),
      info: (m, f) => this.log.info(m, f),
      warn: (m, f) => this.log.warn(m, f),
      error: (m, f) => this.log.error(m, f),
    };
    if (this.o.deps?.routerClient) this.client = this.o.deps.routerClient;
    else {
      const fc = getRouterClientWithFailover(routerClientOptions(cfg, routerLog, this.callDeadlineMs), {
        onSwitch: (ev: TransportSwitch) =>
          this.log.warn(`router transport ${ev.from} -> ${ev.to}: ${ev.reason}`, { recovered: ev.recovered }),
      });
      this.client = fc;
    }
    this.rule = new SteeringRule(this.client, cfg.mangleRule.comment, this.callOptions, this.now);
    this.cake = new CakeStatsReader(this.client, { logger: routerLog });
    this.probe = this.o.deps?.probe ?? this.makeProbe();
    const rttBudget = Math.max(
      50,
      Math.min(cfg.timeouts.pingTotalSec * 1000, Math.floor(this.intervalMs * 0.6)),
    );
    this.measurer = new RttMeasurer(this.probe, {
      deadlineMs: rttBudget,
      attemptTimeoutMs: cfg.timeouts.pingSec * 1000,
      ...(this.o.deps?.sleep ? { sleep: this.o.deps.sleep } : {}),
      onAttemptFailed: (attempt, timeoutMs) =>
        this.log.warn(`Ping attempt ${attempt}/3 failed (no reply within ${timeoutMs} ms)`, {
          reflectors: this.probe?.reflectors.join(','),
        }),
    });
    await this.restoreState();
    this.store = new StateStore<SteeringStateFile>({
      path: cfg.state.file,
      serialize: (v) => ({ ...v, timestamp: iso(this.now()), ...(this.dryRun ? { dry_run: true } : {}) }),
      changeKey: (v) =>
        JSON.stringify([
          v.current_state,
          v.red_count,
          v.good_count,
          v.bad_count,
          v.congestion_state,
          v.last_transition_time,
          // 3 failures make /health degraded; counting further is no reason to write every cycle
          Math.min(v.cake_read_failures, 3),
          v.baseline_rtt === null ? null : Math.round(v.baseline_rtt),
        ]),
      forceIntervalMs: 60_000,
      minIntervalMs: Math.min(1000, this.intervalMs),
      // the daemon's monotonic clock, so the write spacing follows the cycles (and tests' clocks)
      now: this.mono,
      onError: (e) => this.log.warn(`state file: ${e.message}`),
    });
    if (opts.http ?? this.o.serveHttp ?? true) {
      // a port that cannot be bound is a warning, as in autorate (v1.3); STATUS= says so
      this.endpoints = await startEndpoints({
        file: cfg.file,
        health: cfg.healthCheck,
        provider: () => this.healthBody(),
        metrics: cfg.metrics,
        registry: cfg.metrics.enabled ? this.metrics.registry : null,
        metricsOnHealthPort: true,
        log: this.log,
      });
    }
    this.notify = this.o.deps?.notify ?? createSdNotify({ onError: (e) => this.log.debug(e.message) });
    this.watchdog = new Watchdog({ notify: this.notify, healthyStatus: this.statusText() });
    const r = this.measurer.retryPlan;
    this.log.info(
      `wanctl-steering ${VERSION}: ${this.params.primaryWan} -> ${cfg.topology.alternateWan}, rule "${cfg.mangleRule.comment}", ` +
        `${this.params.cakeAware ? `CAKE-aware (queue ${cfg.cakeQueues.primaryDownload})` : 'legacy RTT-only'}` +
        `${this.params.confidence ? `, confidence scoring${this.params.confidence.dryRun ? ' (dry run)' : ''}` : ''}` +
        `, every ${cfg.measurement.intervalSec} s; router ${cfg.router.host} over ${cfg.router.transport}` +
        `${cfg.router.fallbackTransport ? ` (fallback ${cfg.router.fallbackTransport})` : ''}` +
        `; probe ${this.probeChoice.method} (${this.probeChoice.source}) ${this.probe.reflectors.join(',')} (${r.attempts} attempts of ${r.timeoutMs} ms)` +
        `${this.dryRun ? '; DRY RUN: the rule is never changed' : ''}`,
    );
  }

  private makeProbe(): RttProbe {
    const cfg = this.config;
    const onEvent = (e: ProbeEvent) => {
      const { kind, ...rest } = e;
      if (kind === 'reflector-up') this.log.info(`probe: ${kind}`, rest);
      else this.log.warn(`probe: ${kind}`, rest);
    };
    // about ping_count replies per cycle (v1.3 pinged ping_count times per cycle)
    return createProbe(this.probeChoice, {
      periodMs: Math.max(10, Math.min(1000, Math.floor(this.intervalMs / cfg.measurement.pingCount))),
      timeoutMs: Math.max(10, Math.round(cfg.timeouts.pingSec * 1000)),
      onEvent,
      ...(this.o.fpingBinary ? { fpingBinary: this.o.fpingBinary } : {}),
    });
  }

  /** Starts the background probe (ProbeUnavailableError when fping cannot run). */
  async startProbe(): Promise<void> {
    await this.probe?.start();
  }

  private async restoreState(): Promise<void> {
    const path = this.config.state.file;
    const rec = await readJsonWithRecovery<unknown>(
      path,
      (raw) => {
        if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
          throw new Error('not a JSON object');
        return raw;
      },
      () => null,
    );
    for (const p of rec.problems) this.log.warn(`state file: ${p}`);
    if (rec.source === 'default') {
      this.log.info(`No steering state at ${path}: starting ${this.controller.stateGood}`);
      return;
    }
    const { warnings } = this.controller.restore(rec.value);
    for (const w of warnings) this.log.warn(`state file ${path}: ${w}`);
    const restored = this.controller.currentState;
    if (restored !== this.controller.stateGood && restored !== this.controller.stateDegraded) {
      // v1.3 treated a foreign name as DEGRADED; we do not steer on a decision we cannot read.
      this.controller.adoptRuleState(false);
      this.log.warn(
        `state file ${path}: current_state "${restored}" is neither ${this.controller.stateGood} nor ` +
          `${this.controller.stateDegraded} (another primary_wan?): starting ${this.controller.stateGood}`,
      );
      return;
    }
    const raw = rec.value as Record<string, unknown>;
    if (raw['dry_run'] === true && !this.dryRun && this.controller.steeringEnabled) {
      // a decision made in --dry-run was never acted on: it is not a decision to act on now
      this.controller.adoptRuleState(false);
      this.log.warn(`state file ${path} was written by a --dry-run: starting ${this.controller.stateGood}`);
      return;
    }
    const ltt =
      typeof raw['last_transition_time'] === 'string' ? Date.parse(raw['last_transition_time']) : Number.NaN;
    if (Number.isFinite(ltt)) this.stateSince = ltt;
    // A DEGRADED decision is carried over only if it is recent (see STALE_DECISION_MS).
    if (this.controller.steeringEnabled) {
      let ageMs = Number.POSITIVE_INFINITY;
      try {
        ageMs = this.now() - (await stat(rec.source === 'backup' ? `${path}.bak` : path)).mtimeMs;
      } catch {
        /* unknown age: treat as stale */
      }
      if (ageMs > STALE_DECISION_MS) {
        this.controller.adoptRuleState(false);
        this.stateSince = this.now();
        this.log.warn(
          `Persisted state was DEGRADED but is ${Number.isFinite(ageMs) ? `${Math.round(ageMs / 1000)} s` : 'of unknown age'} old: ` +
            `starting ${this.controller.stateGood} (a steering decision is not carried over a long stop)`,
        );
        return;
      }
    }
    this.log.info(`Restored steering state from ${path}: ${this.controller.currentState}`);
  }

  /**
   * Start-up reconciliation: before the first cycle, make the rule on the router
   * agree with the daemon's decision. If the router cannot be read now, the first cycle does it.
   */
  async reconcile(): Promise<void> {
    const rule = this.rule!;
    const want = this.controller.steeringEnabled;
    let seen: RuleState;
    try {
      seen = await rule.read();
    } catch (e) {
      this.metrics.routerError('rule_read');
      this.log.error(
        `Start-up: cannot read the steering rule: ${(e as Error).message}; will retry every cycle`,
      );
      this.ruleCheckPending = true;
      return;
    }
    this.metrics.recordRule(seen);
    this.ruleCheckPending = false;
    if (seen === 'missing') {
      this.log.error(
        `Start-up: no mangle rule with comment "${rule.comment}" on the router: steering cannot act until it exists`,
      );
      this.ruleCheckPending = true;
      return;
    }
    if (seen === 'unknown' || (seen === 'enabled') === want) {
      this.log.info(
        `Start-up: rule is ${seen} on the router, as the state ${this.controller.currentState} wants`,
      );
      return;
    }
    await this.correct(seen, 'Start-up');
  }

  /** Put the rule in the state the decision wants (after it was found otherwise). */
  private async correct(seen: 'enabled' | 'disabled', when: string): Promise<void> {
    const want = this.controller.steeringEnabled;
    const msg =
      `${when}: rule "${this.config.mangleRule.comment}" is ${seen} on the router but the state is ` +
      `${this.controller.currentState} (since ${iso(this.stateSince)})`;
    if (this.dryRun) {
      if (this.throttle.allow('dry-correct') !== false)
        this.log.warn(`${msg}: DRY RUN, would ${want ? 'enable' : 'disable'} it`);
      return;
    }
    this.log.warn(`${msg}: ${want ? 'enabling' : 'disabling'} it`);
    try {
      await this.rule!.set(want);
      this.corrections++;
      this.metrics.correction();
      this.toggleError = null;
      this.log.info(`Steering rule ${want ? 'enabled' : 'disabled'} and verified (correction)`);
    } catch (e) {
      this.toggleError = (e as Error).message;
      this.metrics.toggleFailure();
      this.metrics.routerError('rule_toggle');
      this.ruleCheckPending = true;
      this.log.error(`Correcting the steering rule failed: ${(e as Error).message}; will retry next cycle`);
    }
    this.metrics.recordRule(this.rule!.observation.state);
  }

  private async readCake(): Promise<CakeSnapshot | null> {
    const q = this.config.cakeQueues.primaryDownload;
    try {
      const r = await this.cake!.readOne(q, this.callOptions());
      this.lastCakeError = null;
      const s = r.snapshot;
      return { dropped: s.dropped, queued_packets: s.queuedPackets, packets: s.packets, bytes: s.bytes };
    } catch (e) {
      this.lastCakeError = (e as Error).message;
      this.metrics.routerError('cake');
      if (this.throttle.allow('cake') !== false)
        this.log.warn(`CAKE stats of queue "${q}" unavailable: ${(e as Error).message}`);
      return null;
    }
  }

  private async readRule(): Promise<RuleState | null> {
    try {
      const s = await this.rule!.read();
      this.metrics.recordRule(s);
      return s;
    } catch (e) {
      this.metrics.routerError('rule_read');
      if (this.throttle.allow('rule-read') !== false)
        this.log.warn(`Cannot read the steering rule: ${(e as Error).message}`);
      return null;
    }
  }

  private async toggle(enable: boolean): Promise<boolean> {
    try {
      await this.rule!.set(enable);
      this.toggleError = null;
      this.log.info(`Steering rule ${enable ? 'enabled' : 'disabled'} and verified`, {
        transport: this.client?.activeTransport,
      });
      return true;
    } catch (e) {
      this.toggleError = (e as Error).message;
      this.metrics.toggleFailure();
      this.metrics.routerError('rule_toggle');
      this.ruleCheckPending = true;
      this.log.error(`Failed to ${enable ? 'enable' : 'disable'} the steering rule: ${(e as Error).message}`);
      return false;
    }
  }

  /** One cycle. Never throws for router, probe or file problems (they are reported). */
  async runCycle(): Promise<SteeringCycleResult> {
    const cfg = this.config;
    const n = ++this.cycles;
    const checkRule = this.ruleCheckPending || (n - 1) % this.ruleCheckEvery === 0;
    const [baseline, rtt, cake, seen] = await Promise.all([
      readAutorateBaseline(cfg.primaryStateFile, {
        nowMs: this.now(),
        staleAfterMs: this.o.baselineStaleMs ?? DEFAULT_BASELINE_STALE_MS,
      }),
      this.measurer!.measure(),
      this.params.cakeAware ? this.readCake() : Promise.resolve(null),
      checkRule ? this.readRule() : Promise.resolve(null),
    ]);
    if (checkRule && seen !== null && seen !== 'missing') this.ruleCheckPending = false;
    this.lastBaseline = baseline;
    this.lastRtt = rtt;
    if (baseline.problem !== null && this.throttle.allow(`baseline-${baseline.status}`) !== false) {
      this.log.warn(baseline.problem);
    }
    const nowMs = this.now();
    const pend = this.controller.begin(
      { autorateBaselineRttMs: baseline.valueMs, rttMs: rtt.rttMs, cake, timestamp: iso(nowMs) },
      this.mono() / 1000,
    );
    let ok: boolean | null = null;
    try {
      if (pend.action !== null) {
        if (this.dryRun) {
          this.log.info(`DRY RUN: would ${pend.action} the steering rule (${pend.reason ?? ''})`);
          ok = true;
        } else ok = await this.toggle(pend.action === 'enable');
      }
    } catch (e) {
      ok = false; // never leave the controller between begin() and complete()
      this.log.error(`Rule toggle: ${(e as Error).message}`);
    }
    const r = this.controller.complete(ok);
    for (const ev of r.events) {
      if (ev.level === 'debug') this.log.debug(ev.message);
      else if (ev.level === 'info') this.log.info(ev.message);
      else if (ev.level === 'warning') this.log.warn(ev.message);
      else this.log.error(ev.message);
    }
    if (r.summary !== null) this.log.debug(r.summary);
    if (r.stateChanged) {
      this.stateSince = nowMs;
      this.lastTransition = { from: r.previousState, to: r.currentState, at: iso(nowMs), reason: r.reason };
      this.metrics.recordTransition(r.previousState, r.currentState);
    } else if (pend.action === null && (seen === 'enabled' || seen === 'disabled')) {
      // The rule was changed behind our back (or a correction is still pending): correct it.
      if ((seen === 'enabled') !== r.steeringEnabled) await this.correct(seen, 'Drift');
    }
    if (seen === 'missing' && this.throttle.allow('rule-missing') !== false) {
      this.log.error(`No mangle rule with comment "${cfg.mangleRule.comment}" on the router`);
    }
    this.lastResult = r;
    this.lastCycleAt = nowMs;
    if (r.ok) this.consecutiveFailures = 0;
    else this.consecutiveFailures++;
    this.metrics.cycle(r.ok ? 'ok' : 'failed');
    this.metrics.recordState(r.steeringEnabled, r.congestionState);
    this.metrics.recordSignals({
      deltaMs: r.deltaMs,
      rttDeltaEwmaMs: r.rttDeltaEwmaMs,
      queueEwmaPackets: r.queueEwmaPackets,
      baselineRttMs: r.baselineRttMs,
      cakeDrops: r.cakeDropsDelta,
    });
    this.store?.update(this.controller.snapshot());
    return r;
  }

  /** The systemd STATUS= text while healthy. */
  private statusText(): string {
    const notes = this.endpoints?.notes ?? [];
    return `Steering ${this.params.primaryWan}${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`;
  }

  /** What is wrong now, one sentence each (empty = healthy). */
  problems(): string[] {
    const p: string[] = [];
    if (this.consecutiveFailures >= FAILED_CYCLES_DEGRADED) {
      p.push(
        `${this.consecutiveFailures} consecutive cycles could not decide (${this.lastResult?.failure ?? 'error'})`,
      );
    }
    if (this.lastError !== null) p.push(`cycle error: ${this.lastError}`);
    const b = this.lastBaseline;
    if (b !== null && b.problem !== null) p.push(b.problem);
    const obs = this.rule?.observation;
    if (obs?.state === 'missing')
      p.push(`mangle rule "${this.config.mangleRule.comment}" not found on the router`);
    if (obs && obs.error !== null) p.push(`router: ${obs.error}`);
    if (this.toggleError !== null && !this.dryRun) p.push(`rule toggle failing: ${this.toggleError}`);
    if (this.params.cakeAware && (this.lastResult?.cakeReadFailures ?? 0) >= 3) {
      p.push(`CAKE stats unavailable (${this.lastCakeError ?? 'read failed'}): RED cannot be detected`);
    }
    if (this.lastRtt?.source === 'none') p.push('no RTT reply this cycle (using the last RTT)');
    return p;
  }

  /** The /health document. */
  healthBody(): Record<string, unknown> & { status: string } {
    const r = this.lastResult;
    const obs = this.rule?.observation ?? { state: 'unknown', at: null, error: null };
    const problems = this.problems();
    const want = this.controller.steeringEnabled;
    const b = this.lastBaseline;
    const ruleInSync =
      obs.state === 'enabled' || obs.state === 'disabled' ? (obs.state === 'enabled') === want : null;
    return {
      status: problems.length === 0 ? 'healthy' : 'degraded',
      version: VERSION,
      uptime_seconds: Math.round((this.now() - this.startedAt) / 100) / 10,
      wan: this.params.primaryWan,
      alternate_wan: this.config.topology.alternateWan,
      state: this.controller.currentState,
      state_since: iso(this.stateSince),
      steering_enabled: want,
      dry_run: this.dryRun,
      congestion_state: r?.congestionState ?? null,
      mode: this.params.cakeAware
        ? this.params.confidence
          ? 'cake_aware+confidence'
          : 'cake_aware'
        : 'legacy_rtt',
      last_transition: this.lastTransition,
      counters: r ? { red_count: r.redCount, good_count: r.goodCount, bad_count: r.badCount } : null,
      signals: {
        baseline_rtt_ms: r?.baselineRttMs ?? null,
        baseline_source: r?.baselineSource ?? null,
        rtt_ms: r?.currentRttMs ?? null,
        rtt_source: r?.rttSource ?? null,
        delta_ms: r?.deltaMs ?? null,
        rtt_delta_ewma_ms: r?.rttDeltaEwmaMs ?? null,
        queue_ewma_packets: r?.queueEwmaPackets ?? null,
        cake_drops_delta: r?.cakeDropsDelta ?? null,
        cake_queued_packets: r?.cakeQueuedPackets ?? null,
        cake_read_ok: r?.cakeReadOk ?? null,
        cake_read_failures: r?.cakeReadFailures ?? 0,
        confidence: r?.confidence
          ? { score: r.confidence.score, contributors: r.confidence.contributors }
          : null,
      },
      baseline_file: {
        path: this.config.primaryStateFile,
        status: b?.status ?? null,
        age_seconds: b?.ageMs == null ? null : Math.round(b.ageMs / 1000),
        problem: b?.problem ?? null,
      },
      rule: {
        comment: this.config.mangleRule.comment,
        on_router: obs.state,
        checked_at: obs.at === null ? null : iso(obs.at),
        in_sync: ruleInSync,
        corrections: this.corrections,
        last_error: obs.error ?? this.toggleError,
      },
      router: {
        host: this.config.router.host,
        transport: this.client?.activeTransport ?? this.config.router.transport,
        configured_transport: this.config.router.transport,
        fallback_transport: this.config.router.fallbackTransport,
      },
      state_file: {
        path: this.config.state.file,
        writes: this.store?.stats.writes ?? 0,
        last_error: this.store?.stats.lastError ?? null,
      },
      probe: {
        ...probeInfo(this.probeChoice),
        kind: this.probeChoice.kind,
        reflectors: this.probe?.reflectors ?? [],
        last_source: this.lastRtt?.source ?? null,
      },
      cycles: {
        count: this.cycles,
        interval_ms: this.intervalMs,
        consecutive_failures: this.consecutiveFailures,
        last_at: this.lastCycleAt === null ? null : iso(this.lastCycleAt),
        duration_ms:
          this.cycleMs.count > 0
            ? { p50: this.cycleMs.p50(), p99: this.cycleMs.p99(), max: this.cycleMs.max() }
            : null,
      },
      problems,
      /** Endpoints the config enables that could not be served (port in use): not degraded, v1.3. */
      endpoint_problems: this.endpoints?.notes ?? [],
    };
  }

  /** --once: one cycle, state saved. */
  async runOnce(): Promise<SteeringCycleResult> {
    await this.reconcile();
    const r = await this.runCycle();
    await this.store?.flush(this.controller.snapshot());
    return r;
  }

  /** --reset: default state saved, rule disabled and read back. Returns whether the rule is off. */
  async reset(): Promise<boolean> {
    this.controller.restore({});
    await this.store?.flush(this.controller.snapshot());
    this.log.info(`State reset to ${this.controller.stateGood} (${this.config.state.file})`);
    if (this.dryRun) {
      this.log.info('DRY RUN: would disable the steering rule');
      return true;
    }
    try {
      await this.rule!.set(false);
      this.log.info('Steering rule disabled and verified');
      return true;
    } catch (e) {
      this.log.error(`Failed to disable the steering rule: ${(e as Error).message}`);
      return false;
    }
  }

  /** Runs until SIGTERM/SIGINT; resolves with the exit code (0). */
  async run(): Promise<number> {
    if (!this.stopRequested) await this.reconcile();
    return new Promise<number>((resolve) => {
      this.runResolve = resolve;
      this.onStopRequested = () => {
        void this.stop();
      };
      if (this.stopRequested) {
        this.onStopRequested();
        return;
      }
      // Replies measured while start-up kept the event loop busy are not a cycle's RTT.
      this.probe?.latest();
      this.ticker = createTicker(
        this.intervalMs,
        async () => {
          try {
            await this.runCycle();
            this.lastError = null;
            this.watchdog?.cycleSucceeded();
          } catch (e) {
            // A bug, not a measurement problem (those are reported by runCycle): count it.
            this.lastError = (e as Error).message;
            this.consecutiveFailures++;
            this.metrics.cycle('error');
            this.log.error(`Cycle failed: ${(e as Error).stack ?? String(e)}`);
            this.watchdog?.cycleFailed((e as Error).message);
          }
        },
        { onRunEnd: (ms) => this.cycleMs.record(ms) },
      );
      this.ticker.start();
      void this.notify?.ready(this.statusText());
    });
  }

  /** Stops the loop, saves the state, releases everything. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    await this.ticker?.stop();
    await this.notify?.stopping();
    try {
      await this.store?.flush(this.controller.snapshot());
    } catch (e) {
      this.log.error(`Saving the state failed: ${(e as Error).message}`);
    }
    await this.release('Stopped');
    this.runResolve?.(0);
  }

  /** Releases what setup() took, after a failed start. */
  abort(): Promise<void> {
    return this.release(null);
  }

  /** Closes the state store, probe, router client and endpoints; releases the lock and signals. */
  private async release(lastLine: string | null): Promise<void> {
    this.store?.close();
    await Promise.allSettled([this.probe?.stop(), this.client?.close(), this.endpoints?.close()]);
    this.lock?.release();
    this.uninstallSignals?.();
    if (lastLine !== null) this.log.info(lastLine);
    if (!this.o.deps?.logger) await this.log.close();
  }

  /** True once SIGTERM/SIGINT was received. */
  get stopWasRequested(): boolean {
    return this.stopRequested;
  }
}

export { DaemonStartError };
