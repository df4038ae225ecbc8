/**
 * The wanctl-steering daemon shell: the I/O around the pure control law (src/control/), on the
 * daemon host of @wanctl/runtime (signals, lock release, health/metrics, systemd notify and
 * watchdog, the stop sequence).
 *
 * Each cycle (every `measurement.interval_seconds`) it reads, concurrently and each within a
 * deadline: the primary WAN's baseline RTT from its autorate state file, its own RTT (background
 * probe), the CAKE counters of the primary download queue, and (at most every ~2 s) the mangle
 * rule's state on the router. The control law decides; a toggle is written and read back (D7);
 * a rule found in the wrong state (toggled behind our back) is corrected (rule-sync.ts). State
 * is restored at start (restore.ts) and persisted atomically on change (plus a heartbeat);
 * /health is built in health.ts.
 */
import { CakeStatsReader } from '@wanctl/cake-stats';
import type { SteeringConfig } from '@wanctl/config';
import {
  createDashboardServer,
  HistoryRecorder,
  logHistoryStatus,
  registerHistoryMetrics,
} from '@wanctl/history';
import {
  type CallOptions,
  FailoverRouterClient,
  getRouterClientWithFailover,
  type RouterClient,
  type RouterLogger,
} from '@wanctl/router-client';
import {
  chooseProbe,
  createProbe,
  type ProbeChoice,
  type ProbeEvent,
  type RttProbe,
} from '@wanctl/rtt-probe';
import {
  acquirePidLock,
  createLogger,
  createTicker,
  type DaemonHost,
  errorCode,
  type HostContext,
  type HostedDaemon,
  type HostedEndpoints,
  LatencyStats,
  type Logger,
  LogThrottle,
  registerSecret,
  type SdNotify,
  StateStore,
  startDaemon,
  type Ticker,
} from '@wanctl/runtime';
import { routerClientOptions, steeringParamsFromConfig } from '../config-params.js';
import {
  type CakeSnapshot,
  SteeringController,
  type SteeringCycleResult,
  type SteeringParams,
  type SteeringStateFile,
} from '../control/index.js';
import { VERSION } from '../version.js';
import { DEFAULT_BASELINE_STALE_MS, readAutorateBaseline } from './baseline.js';
import { type CycleRecord, type HealthSource, steeringHealthBody, steeringProblems } from './health.js';
import { SteeringMetrics } from './metrics.js';
import { restoreSteeringState } from './restore.js';
import { assertPlausibleState } from './restore-validate.js';
import { RttMeasurer } from './rtt.js';
import { SteeringRule } from './rule.js';
import { RuleSync } from './rule-sync.js';

/** The rule is read from the router at most this often (every cycle at the default 2 s interval). */
export const RULE_CHECK_PERIOD_MS = 2000;

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
  /** Take the PID lock (default true). */
  lock?: boolean;
  /** Start the background probe (default true; `--reset` needs none). */
  startProbe?: boolean;
  /** Serve health/metrics (default true). */
  serveHttp?: boolean;
  /** A baseline file older than this is reported stale (default 300 s). */
  baselineStaleMs?: number;
  /** Install SIGTERM/SIGINT/SIGHUP handlers (default true; in-process tests pass false). */
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

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Starts the daemon on the runtime's host: lock, router client, probe (started), restored
 * state, then health and metrics. Throws LockHeldError / LockError / LogFileError /
 * ProbeUnavailableError (with their codes) after releasing whatever was acquired. `host.run()`
 * reconciles the rule and starts the cycles; `host.stop()` (or SIGTERM) stops after the current
 * cycle, state saved.
 */
export function startSteeringDaemon(o: SteeringDaemonOptions): Promise<DaemonHost<SteeringDaemon>> {
  return startDaemon({
    build: (ctx) => buildSteeringDaemon(o, ctx),
    http: o.serveHttp ?? true,
    signals: o.signals !== false,
    ...(o.deps?.notify ? { notify: o.deps.notify } : {}),
    stopLine: 'Stopped',
  });
}

/** The parts {@link SteeringDaemon} is made of (built by {@link startSteeringDaemon}). */
interface SteeringParts {
  config: SteeringConfig;
  params: SteeringParams;
  controller: SteeringController;
  log: Logger;
  metrics: SteeringMetrics;
  dryRun: boolean;
  now: () => number;
  mono: () => number;
  callDeadlineMs: number;
  throttle: LogThrottle;
  probeChoice: ProbeChoice;
  client: RouterClient;
  probe: RttProbe;
  measurer: RttMeasurer;
  rule: SteeringRule;
  cake: CakeStatsReader;
  store: StateStore<SteeringStateFile>;
  startedAt: number;
  stateSince: number;
  baselineStaleMs: number;
  /** The history store's recorder (null: `history.enabled` is false). */
  history: HistoryRecorder | null;
  /** The history dashboard as health shows it (null: not enabled). */
  dashboard?: DashboardHealth | null;
}

/** `history_dashboard` in health: served, or down (port in use) with the reason and its code. */
interface DashboardHealth {
  status: 'serving' | 'down';
  url: string | null;
  problem: string | null;
  code?: string;
}

async function buildSteeringDaemon(o: SteeringDaemonOptions, ctx: HostContext): Promise<SteeringDaemon> {
  const cfg = o.config;
  const params = o.params ?? steeringParamsFromConfig(cfg);
  const dryRun = o.dryRun ?? false;
  const now = o.deps?.now ?? Date.now;
  const mono = o.deps?.monotonic ?? (() => performance.now());
  const intervalMs = cfg.measurement.intervalMs;
  const wan = params.primaryWan.toLowerCase();
  const log =
    o.deps?.logger ??
    createLogger({
      name: `steering_${wan}`,
      level: o.debug ? 'debug' : 'info',
      file: cfg.logging.mainLog,
      ...(o.debug ? { debugFile: cfg.logging.debugLog } : {}),
      console: true,
      consoleLevel: o.debug ? 'debug' : 'info',
    });
  if (!o.deps?.logger) ctx.defer('log', () => log.close(), { last: true });
  for (const w of cfg.warnings) log.warn(`config: ${w.message}`, { path: w.path });
  if (cfg.router.password) registerSecret(cfg.router.password.reveal());
  if (o.lock !== false) {
    const lock = acquirePidLock(cfg.lockFile, {
      staleAfterMs: cfg.lockTimeoutSec * 1000,
      onTakeover: (m) => log.warn(m),
    });
    ctx.defer('lock', () => lock.release());
  }
  // docs/decisions.md#d2: every router call of a cycle has a deadline, and the worst case of a
  // cycle (RTT, CAKE and rule read in parallel, then one toggle) stays far inside WatchdogSec.
  const callDeadlineMs = Math.min(cfg.router.callDeadlineMs, Math.max(2000, 2 * intervalMs));
  const callOptions = (): CallOptions => ({ deadlineMs: callDeadlineMs });
  const routerLog: RouterLogger = {
    debug: (m, f) => log.debug(m, f),
    info: (m, f) => log.info(m, f),
    warn: (m, f) => log.warn(m, f),
    error: (m, f) => log.error(m, f),
  };
  // the client logs each transport switch once (through routerLog)
  const client =
    o.deps?.routerClient ?? getRouterClientWithFailover(routerClientOptions(cfg, routerLog, callDeadlineMs));
  ctx.defer('router client', () => client.close());
  const rule = new SteeringRule(client, cfg.mangleRule.comment, callOptions, now);
  const cake = new CakeStatsReader(client, { logger: routerLog });
  const probeChoice = chooseProbe(cfg.measurement.probe, [cfg.measurement.pingHost], o.udpReflectors);
  const probe = o.deps?.probe ?? makeProbe(cfg, probeChoice, intervalMs, log, o.fpingBinary);
  ctx.defer('probe', () => probe.stop());
  const rttBudget = Math.max(50, Math.min(cfg.timeouts.pingTotalSec * 1000, Math.floor(intervalMs * 0.6)));
  const measurer = new RttMeasurer(probe, {
    deadlineMs: rttBudget,
    attemptTimeoutMs: cfg.timeouts.pingSec * 1000,
    ...(o.deps?.sleep ? { sleep: o.deps.sleep } : {}),
    onAttemptFailed: (attempt, timeoutMs) =>
      log.warn(`Ping attempt ${attempt}/3 failed (no reply within ${timeoutMs} ms)`, {
        reflectors: probe.reflectors.join(','),
      }),
  });
  const controller = new SteeringController(params);
  const startedAt = now();
  const since = await restoreSteeringState({ path: cfg.state.file, controller, params, dryRun, now, log });
  const store = new StateStore<SteeringStateFile>({
    path: cfg.state.file,
    serialize: (v) => ({ ...v, timestamp: iso(now()), ...(dryRun ? { dry_run: true } : {}) }),
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
    minIntervalMs: Math.min(1000, intervalMs),
    // the daemon's monotonic clock, so the write spacing follows the cycles (and tests' clocks)
    now: mono,
    onError: (e) => log.warn(`state file: ${e.message}`),
    write: { validateBackup: (raw) => assertPlausibleState(raw, params) },
  });
  ctx.defer('state store', () => store.close());
  // history: transitions with their reason, router failures, restarts. Opening never throws: a
  // store that cannot be written makes history degraded (health, wanctl_history_degraded) only.
  const hc = cfg.history;
  let dashboard: DashboardHealth | null = null;
  const history = hc.enabled
    ? HistoryRecorder.open({
        file: hc.file,
        wan: params.primaryWan,
        kind: 'steering',
        retention: hc.retention,
        maxSizeMb: hc.maxSizeMb,
        flushIntervalMs: hc.flushIntervalSec * 1000,
        onStatus: logHistoryStatus(log),
      })
    : null;
  if (history) {
    ctx.defer('history', () => history.close());
    history.restart(`wanctl-steering ${VERSION} pid ${process.pid}${dryRun ? ' (dry run)' : ''}`);
    if (client instanceof FailoverRouterClient) {
      client.on('switch', (e) => {
        if (e.recovered) history.failback(e.from, e.to);
        else history.failover(e.from, e.to, e.reason);
      });
    }
    if (hc.dashboard.enabled) {
      const dd = hc.dashboard;
      try {
        const server = await createDashboardServer({ files: [hc.file], host: dd.host, port: dd.port });
        ctx.defer('history dashboard', () => server.close());
        log.info('history dashboard', { url: server.url });
        dashboard = { status: 'serving', url: server.url, problem: null };
      } catch (e) {
        // a port in use (HttpBindError, WANCTL_HTTP_BIND) is a warning: steering runs on
        const code = errorCode(e);
        const problem = `history dashboard not served on ${dd.host}:${dd.port}: ${(e as Error).message} (history.dashboard.port)`;
        log.warn(problem, code ? { code } : {});
        dashboard = { status: 'down', url: null, problem, ...(code ? { code } : {}) };
      }
    }
  }
  // ProbeUnavailableError when fping cannot run
  if (o.startProbe !== false) await probe.start();
  const d = new SteeringDaemon(
    {
      config: cfg,
      params,
      controller,
      log,
      // the process series only when /metrics is served (the registry is not exposed otherwise)
      metrics: new SteeringMetrics(wan, {
        processMetrics: cfg.metrics.enabled,
        states: { good: controller.stateGood, degraded: controller.stateDegraded },
      }),
      dryRun,
      now,
      mono,
      callDeadlineMs,
      throttle: new LogThrottle(60_000, mono),
      probeChoice,
      client,
      probe,
      measurer,
      rule,
      cake,
      store,
      startedAt,
      stateSince: since ?? startedAt,
      baselineStaleMs: o.baselineStaleMs ?? DEFAULT_BASELINE_STALE_MS,
      history,
      dashboard,
    },
    ctx,
  );
  if (history)
    registerHistoryMetrics(d.metrics.registry, () => [{ wan: params.primaryWan, recorder: history }]);
  const r = measurer.retryPlan;
  log.info(
    `wanctl-steering ${VERSION}: ${params.primaryWan} -> ${cfg.topology.alternateWan}, rule "${cfg.mangleRule.comment}", ` +
      `${params.cakeAware ? `CAKE-aware (queue ${cfg.cakeQueues.primaryDownload})` : 'legacy RTT-only'}` +
      `${params.confidence ? `, confidence scoring${params.confidence.dryRun ? ' (dry run)' : ''}` : ''}` +
      `, every ${cfg.measurement.intervalSec} s; router ${cfg.router.host} over ${cfg.router.transport}` +
      `${cfg.router.fallbackTransport ? ` (fallback ${cfg.router.fallbackTransport})` : ''}` +
      `; probe ${probeChoice.method} (${probeChoice.source}) ${probe.reflectors.join(',')} (${r.attempts} attempts of ${r.timeoutMs} ms)` +
      `${dryRun ? '; DRY RUN: the rule is never changed' : ''}`,
  );
  return d;
}

function makeProbe(
  cfg: SteeringConfig,
  choice: ProbeChoice,
  intervalMs: number,
  log: Logger,
  fpingBinary: string | undefined,
): RttProbe {
  const onEvent = (e: ProbeEvent) => {
    const { kind, ...rest } = e;
    if (kind === 'reflector-up') log.info(`probe: ${kind}`, rest);
    else log.warn(`probe: ${kind}`, rest);
  };
  // about ping_count replies per cycle (v1.3 pinged ping_count times per cycle)
  return createProbe(choice, {
    periodMs: Math.max(10, Math.min(1000, Math.floor(intervalMs / cfg.measurement.pingCount))),
    timeoutMs: Math.max(10, Math.round(cfg.timeouts.pingSec * 1000)),
    onEvent,
    ...(fpingBinary ? { fpingBinary } : {}),
  });
}

export class SteeringDaemon implements HostedDaemon, HealthSource {
  readonly config: SteeringConfig;
  readonly params: SteeringParams;
  readonly controller: SteeringController;
  readonly log: Logger;
  readonly metrics: SteeringMetrics;
  readonly dryRun: boolean;
  readonly client: RouterClient;
  readonly probe: RttProbe;
  readonly store: StateStore<SteeringStateFile>;
  /** Which probe, from `measurement.probe` or `--udp-reflector` (health shows it). */
  readonly probeChoice: ProbeChoice;
  readonly ruleSync: RuleSync;
  readonly intervalMs: number;
  readonly startedAt: number;
  readonly cycleMs = new LatencyStats(600);
  /** What the cycles leave for /health. */
  readonly record: CycleRecord;
  readonly endpoints: HostedEndpoints;
  private readonly p: SteeringParts;
  private readonly ruleCheckEvery: number;
  private readonly ticker: Ticker;

  constructor(
    parts: SteeringParts,
    private readonly ctx: HostContext,
  ) {
    this.p = parts;
    this.config = parts.config;
    this.params = parts.params;
    this.controller = parts.controller;
    this.log = parts.log;
    this.metrics = parts.metrics;
    this.dryRun = parts.dryRun;
    this.client = parts.client;
    this.probe = parts.probe;
    this.store = parts.store;
    this.probeChoice = parts.probeChoice;
    this.startedAt = parts.startedAt;
    this.intervalMs = parts.config.measurement.intervalMs;
    this.ruleCheckEvery = Math.max(1, Math.ceil(RULE_CHECK_PERIOD_MS / this.intervalMs));
    this.record = {
      cycles: 0,
      consecutiveFailures: 0,
      lastCycleAt: null,
      lastResult: null,
      lastBaseline: null,
      lastRtt: null,
      lastCakeError: null,
      lastTransition: null,
      stateSince: parts.stateSince,
      lastError: null,
    };
    this.ruleSync = new RuleSync({
      rule: parts.rule,
      controller: parts.controller,
      metrics: parts.metrics,
      log: parts.log,
      throttle: parts.throttle,
      dryRun: parts.dryRun,
      stateSince: () => iso(this.record.stateSince),
      transport: () => parts.client.activeTransport,
    });
    const cfg = parts.config;
    this.endpoints = {
      file: cfg.file,
      health: cfg.healthCheck,
      metrics: cfg.metrics,
      registry: cfg.metrics.enabled ? parts.metrics.registry : null,
      metricsOnHealthPort: true,
    };
    this.ticker = createTicker(this.intervalMs, () => this.loopCycle(), {
      onRunEnd: (ms) => this.cycleMs.record(ms),
    });
  }

  get endpointNotes(): readonly string[] {
    return this.ctx.endpointNotes;
  }

  now(): number {
    return this.p.now();
  }

  /** Start-up reconciliation of the rule with the decision (see RuleSync.reconcile). */
  reconcile(): Promise<void> {
    return this.ruleSync.reconcile();
  }

  private async readCake(): Promise<CakeSnapshot | null> {
    const q = this.config.cakeQueues.primaryDownload;
    try {
      const [s] = await this.p.cake.readSnapshots([q], { deadlineMs: this.p.callDeadlineMs });
      if (s === undefined) throw new RangeError(`queue "${q}" not in the answer`);
      this.record.lastCakeError = null;
      return { dropped: s.dropped, queued_packets: s.queuedPackets, packets: s.packets, bytes: s.bytes };
    } catch (e) {
      this.record.lastCakeError = (e as Error).message;
      this.metrics.routerError('cake');
      if (this.p.throttle.allow('cake') !== false)
        this.log.warn(`CAKE stats of queue "${q}" unavailable: ${(e as Error).message}`);
      return null;
    }
  }

  /** One cycle. Never throws for router, probe or file problems (they are reported). */
  async runCycle(): Promise<SteeringCycleResult> {
    const cfg = this.config;
    const rec = this.record;
    const sync = this.ruleSync;
    const n = ++rec.cycles;
    const checkRule = sync.checkPending || (n - 1) % this.ruleCheckEvery === 0;
    const [baseline, rtt, cake, seen] = await Promise.all([
      readAutorateBaseline(cfg.primaryStateFile, {
        nowMs: this.p.now(),
        staleAfterMs: this.p.baselineStaleMs,
      }),
      this.p.measurer.measure(),
      this.params.cakeAware ? this.readCake() : Promise.resolve(null),
      checkRule ? sync.read() : Promise.resolve(null),
    ]);
    if (checkRule && seen !== null && seen !== 'missing') sync.checkPending = false;
    rec.lastBaseline = baseline;
    rec.lastRtt = rtt;
    if (baseline.problem !== null && this.p.throttle.allow(`baseline-${baseline.status}`) !== false) {
      this.log.warn(baseline.problem);
    }
    const nowMs = this.p.now();
    const pend = this.controller.begin(
      {
        autorateBaselineRttMs: baseline.valueMs,
        rttMs: rtt.rttMs,
        cake,
        timestamp: iso(nowMs),
        autorateCongestion: baseline.congestion,
      },
      this.p.mono() / 1000,
    );
    let ok: boolean | null = null;
    try {
      if (pend.action !== null) {
        if (this.dryRun) {
          this.log.info(`DRY RUN: would ${pend.action} the steering rule (${pend.reason ?? ''})`);
          ok = true;
        } else ok = await sync.toggle(pend.action === 'enable');
      }
    } catch (e) {
      ok = false; // never leave the controller between begin() and complete()
      this.log.error(`Rule toggle: ${(e as Error).message}`);
    }
    if (ok === false) this.p.history?.writeFailure(`rule toggle (${pend.action}) failed`);
    const r = this.controller.complete(ok);
    for (const ev of r.events) {
      if (ev.level === 'debug') this.log.debug(ev.message);
      else if (ev.level === 'info') this.log.info(ev.message);
      else if (ev.level === 'warning') this.log.warn(ev.message);
      else this.log.error(ev.message);
    }
    if (r.summary !== null) this.log.debug(r.summary);
    if (r.stateChanged) {
      this.log.info(
        `Steering ${r.steeringEnabled ? 'ENABLED' : 'DISABLED'}: ${r.previousState} -> ${r.currentState} by ${r.actionSource ?? '?'}; now: ${r.stateReason}`,
      );
      rec.stateSince = nowMs;
      rec.lastTransition = { from: r.previousState, to: r.currentState, at: iso(nowMs), reason: r.reason };
      this.metrics.recordTransition(r.previousState, r.currentState);
      this.p.history?.steering(r.previousState, r.currentState, r.reason ?? r.stateReason ?? '');
    } else if (pend.action === null && (seen === 'enabled' || seen === 'disabled')) {
      // The rule was changed behind our back (or a correction is still pending): correct it.
      if ((seen === 'enabled') !== r.steeringEnabled) await sync.correct(seen, 'Drift');
    }
    if (seen === 'missing' && this.p.throttle.allow('rule-missing') !== false) {
      this.log.error(`No mangle rule with comment "${cfg.mangleRule.comment}" on the router`);
    }
    rec.lastResult = r;
    rec.lastCycleAt = nowMs;
    if (r.ok) rec.consecutiveFailures = 0;
    else rec.consecutiveFailures++;
    this.metrics.cycle(r.ok ? 'ok' : 'failed');
    this.metrics.recordState(r.steeringEnabled, r.congestionState);
    this.metrics.recordSignals({
      deltaMs: r.deltaMs,
      rttDeltaEwmaMs: r.rttDeltaEwmaMs,
      queueEwmaPackets: r.queueEwmaPackets,
      baselineRttMs: r.baselineRttMs,
      cakeDrops: r.cakeDropsDelta,
    });
    this.store.update(this.controller.snapshot());
    return r;
  }

  /** A ticker's cycle: a throw is a bug (not a measurement problem): counted, and the watchdog told. */
  private async loopCycle(): Promise<void> {
    try {
      await this.runCycle();
      this.record.lastError = null;
      this.ctx.watchdog.cycleSucceeded();
    } catch (e) {
      this.record.lastError = (e as Error).message;
      this.record.consecutiveFailures++;
      this.metrics.cycle('error');
      this.log.error(`Cycle failed: ${(e as Error).stack ?? String(e)}`);
      this.ctx.watchdog.cycleFailed((e as Error).message);
    }
  }

  /** The systemd STATUS= text while healthy. */
  statusText(): string {
    const notes = this.ctx.endpointNotes;
    return `Steering ${this.params.primaryWan}${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`;
  }

  /** What is wrong now, one sentence each (empty = healthy). */
  problems(): string[] {
    return steeringProblems(this);
  }

  /** The /health document. */
  healthBody(): Record<string, unknown> & { status: string } {
    // history is not control: a degraded store shows in `history`, never in `status`
    const h = this.p.history;
    return {
      ...steeringHealthBody(this),
      history: h ? h.health() : { status: 'disabled' },
      // a dashboard that could not be served is "down" here, never steering's status
      ...(this.p.dashboard ? { history_dashboard: this.p.dashboard } : {}),
    };
  }

  /** --once: the rule reconciled, one cycle, state saved. */
  async runOnce(): Promise<SteeringCycleResult> {
    await this.ruleSync.reconcile();
    const r = await this.runCycle();
    await this.store.flush(this.controller.snapshot());
    return r;
  }

  /** --reset: default state saved, rule disabled and read back. Returns whether the rule is off. */
  async reset(): Promise<boolean> {
    this.controller.restore({});
    await this.store.flush(this.controller.snapshot());
    this.log.info(`State reset to ${this.controller.stateGood} (${this.config.state.file})`);
    return this.ruleSync.disableNow();
  }

  /** The rule reconciled, then the cycles (the host sends READY=1). */
  async start(): Promise<void> {
    await this.ruleSync.reconcile();
    // Replies measured while start-up kept the event loop busy are not a cycle's RTT.
    this.probe.latest();
    this.ticker.start();
  }

  /** The ticker stops after the running cycle. */
  halt(): Promise<void> {
    return this.ticker.stop();
  }

  /** The state saved (a failure is logged). */
  async drain(): Promise<void> {
    try {
      await this.store.flush(this.controller.snapshot());
    } catch (e) {
      this.log.error(`Saving the state failed: ${(e as Error).message}`);
    }
  }

  reopenLogs(): void {
    this.log.reopen();
  }
}
