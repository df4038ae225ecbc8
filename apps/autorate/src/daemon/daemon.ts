/**
 * The wanctl-autorate daemon: one or several WANs in one process. Per WAN: a PID lock, the
 * state file (restored at start, written on change), a background probe, the router client with
 * failover, and the control cycle. Process-wide: one drift-free ticker per cycle interval that
 * runs every WAN's cycle in one wake-up, and (the daemon host of @wanctl/runtime) health,
 * metrics, systemd notify/watchdog, signals, the start/stop sequence.
 */
import { readFileSync } from 'node:fs';
import type { AutorateConfig } from '@wanctl/config';
import {
  createDashboardServer,
  type DashboardServer,
  HistoryRecorder,
  logHistoryStatus,
  registerHistoryMetrics,
} from '@wanctl/history';
import { openLinuxCake } from '@wanctl/linux-cake';
import {
  FailoverRouterClient,
  getRouterClientWithFailover,
  type RouterClient,
  routerOptionsFromConfig,
} from '@wanctl/router-client';
import {
  chooseProbe,
  createProbe,
  gatewayCheck,
  type ProbeEvent,
  type ProbeInfo,
  probeInfo,
  type RttProbe,
  reflectorName,
  tcpFallbackCheck,
} from '@wanctl/rtt-probe';
import {
  acquirePidLock,
  createLogger,
  createMetricsRegistry,
  createTicker,
  type DaemonHost,
  DaemonStartError,
  errorCode,
  type HostContext,
  type HostedDaemon,
  type HostedEndpoints,
  LatencyStats,
  type Logger,
  LogThrottle,
  readStateObject,
  registerSecret,
  type SdNotify,
  StateStore,
  startDaemon,
  type Ticker,
} from '@wanctl/runtime';
import { controlParamsFromConfig } from '../config-params.js';
import { adaptiveParamsFromControl, MIN_RATE_FRACTION } from '../control/index.js';
import { type FallbackChecks, WanMeasurement } from './measurement.js';
import { AutorateMetrics } from './metrics.js';
import { QueueReader, type QueueStatsSource } from './queue-reader.js';
import { Recorder } from './recorder.js';
import { ReflectorPool } from './reflector-pool.js';
import { assertPlausibleState, restoreBoundsFromParams, validateRestoredState } from './restore-validate.js';
import { type RateWriter, WanRunner } from './wan-runner.js';

/** The package version (from package.json), for health and logs. */
export const VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

export interface DaemonOptions {
  configs: AutorateConfig[];
  debug?: boolean;
  /** Record each WAN's cycle inputs (replay format) to this file; several WANs: `<file>.<wan>`. */
  recordFile?: string | null;
  /**
   * `--udp-reflector`: probe these `host:port` UDP echo reflectors, overriding
   * `continuous_monitoring.probe` (null/empty: the config decides).
   */
  udpReflectors?: string[] | null;
  /** fping binary (default `fping` on PATH). */
  fpingBinary?: string;
  /** Injections for tests. */
  deps?: {
    createProbe?: (cfg: AutorateConfig) => { probe: RttProbe; kind: 'fping' | 'udp' };
    createRouter?: (cfg: AutorateConfig, log: Logger) => RouterClient;
    checks?: FallbackChecks;
    notify?: SdNotify;
    installSignals?: boolean;
    logSink?: (line: string) => void;
    logToConsole?: boolean;
  };
}

/** One WAN's parts, all acquired and started. */
interface WanParts {
  cfg: AutorateConfig;
  log: Logger;
  measurement: WanMeasurement;
  /** RouterOS client (REST/SSH with failover) or the local linux-cake shaper. */
  router: RateWriter & {
    close(): Promise<void>;
    getQueueStats?: QueueStatsSource['getQueueStats'];
    checkIdleTransport?(): Promise<boolean>;
  };
  store: StateStore<WanRunner>;
  runner: WanRunner;
  probeKind: 'fping' | 'udp';
  probeInfo: ProbeInfo;
  /** The history store's recorder (null: `history.enabled` is false). */
  history: HistoryRecorder | null;
  /** Replaces the reflectors the adaptive law reports bad (null: the v1.3 law, no such report). */
  reflectorPool: ReflectorPool | null;
}

interface Wan extends WanParts {
  /** Consecutive cycles that threw. */
  errors: number;
}

/**
 * The WANs that share one cycle interval, and the one ticker that runs their cycles: every slot
 * is one wake-up of the process, in which each WAN's cycle runs once, in config order.
 */
interface CycleGroup {
  intervalMs: number;
  wans: Wan[];
  ticker: Ticker;
}

const PROBE_EVENT_TEXT: Record<ProbeEvent['kind'], string> = {
  'reflector-down': 'reflector down',
  'reflector-up': 'reflector answering again',
  'child-exit': 'fping exited',
  'child-restart': 'restarting fping',
  error: 'probe error',
};

/**
 * Starts the daemon on the runtime's host: per WAN, in config order, the logger, the PID lock,
 * the restored state, the probe (started), the router client and the cycle runner; then health
 * and metrics. Throws LockHeldError / LockError / LogFileError / ProbeUnavailableError /
 * DaemonStartError (with their codes) after releasing whatever was acquired. `host.run()` starts
 * the cycles; `host.stop()` (or SIGTERM) stops within one cycle, state saved.
 */
export function startAutorateDaemon(o: DaemonOptions): Promise<DaemonHost<AutorateDaemon>> {
  return startDaemon({
    build: (ctx) => buildAutorateDaemon(o, ctx),
    signals: o.deps?.installSignals !== false,
    ...(o.deps?.notify ? { notify: o.deps.notify } : {}),
    stoppingStatus: 'Stopping',
    stopLine: 'shutdown complete',
  });
}

/** The factory: every WAN's parts, acquired in order, each release registered with the host. */
async function buildAutorateDaemon(o: DaemonOptions, ctx: HostContext): Promise<AutorateDaemon> {
  if (o.configs.length === 0) throw new DaemonStartError('no WAN config given');
  const debug = o.debug ?? false;
  const first = o.configs[0] as AutorateConfig;
  const metrics = first.metrics.enabled ? new AutorateMetrics(createMetricsRegistry()) : null;
  let daemon: AutorateDaemon | undefined;
  const wans: WanParts[] = [];
  for (const cfg of o.configs) {
    const log = createLogger({
      name: cfg.wanName,
      level: 'info',
      file: cfg.logging.mainLog,
      ...(debug ? { debugFile: cfg.logging.debugLog } : {}),
      console: o.deps?.logToConsole ?? true,
      consoleLevel: debug ? 'debug' : 'info',
      ...(o.deps?.logSink ? { sink: o.deps.logSink } : {}),
    });
    ctx.defer(`${cfg.wanName} log`, () => log.close(), { last: true });
    if (cfg.router.password) registerSecret(cfg.router.password.reveal());
    for (const w of cfg.warnings) log.warn(`config: ${w.message}`, { path: w.path });
    const params = controlParamsFromConfig(cfg);
    const lock = acquirePidLock(cfg.lockFile, {
      staleAfterMs: cfg.lockTimeoutSec * 1000,
      onTakeover: (m) => log.warn(m),
    });
    ctx.defer(`${cfg.wanName} lock`, () => lock.release());
    // state: primary, then backup, then defaults (each problem logged)
    const restored = await readStateObject(cfg.stateFile, (p) =>
      log.warn(`state file: ${p}`, { path: cfg.stateFile }),
    );
    // impossible values (a 0.5 ms baseline, a 1e300 rate) are dropped loudly, never used (issue 16.5)
    const bounds = restoreBoundsFromParams(params);
    const checked = restored.value === null ? null : validateRestoredState(restored.value, bounds);
    for (const p of checked?.problems ?? []) log.warn(`state file: ${p.message}`, { path: cfg.stateFile });
    const problems = new LogThrottle(60_000, () => performance.now(), { burst: 3 });
    const { probe, kind, info: probeDesc, spares } = makeProbe(o, cfg, log);
    const checks: FallbackChecks = o.deps?.checks ?? {
      gateway: (host, timeoutMs) =>
        gatewayCheck(host, { timeoutMs, ...(o.fpingBinary ? { binary: o.fpingBinary } : {}) }),
      tcp: (targets, timeoutMs) => tcpFallbackCheck(targets, timeoutMs),
    };
    const measurement = new WanMeasurement({
      probe,
      probeKind: kind,
      medianOfThree: cfg.useMedianOfThree && probe.reflectors.length >= 3,
      holdMs: replyHoldMs(cfg),
      fallback: {
        enabled: cfg.fallback.enabled,
        checkGateway: cfg.fallback.checkGateway,
        checkTcp: cfg.fallback.checkTcp,
        gatewayIp: cfg.fallback.gatewayIp,
        tcpTargets: cfg.fallback.tcpTargets.map((t) => [t.host, t.port] as const),
      },
      pingTimeoutMs: cfg.timeouts.pingSec * 1000,
      // the first cycle runs as the probe starts: it waits for a first reply, not a failure
      startupGraceMs: cfg.timeouts.pingSec * 1000,
      checks,
      now: () => performance.now(),
      onProblem: (m) => {
        const n = problems.allow(m);
        if (n !== false) log.warn(m, n > 0 ? { suppressed: n } : {});
      },
    });
    ctx.defer(`${cfg.wanName} probe`, () => measurement.stop());
    const router = o.deps?.createRouter
      ? o.deps.createRouter(cfg, log)
      : cfg.router.transport === 'linux-cake'
        ? await openLinuxCake(cfg, log) // creates/adopts the qdiscs; a mismatch stops the start
        : getRouterClientWithFailover(routerOptionsFromConfig(cfg.router, log));
    ctx.defer(`${cfg.wanName} router client`, () => router.close());
    const recorder = o.recordFile
      ? new Recorder(o.configs.length > 1 ? `${o.recordFile}.${cfg.wanName}` : o.recordFile)
      : null;
    if (recorder) ctx.defer(`${cfg.wanName} recorder`, () => recorder.close());
    const history = openHistory(cfg, log, ctx);
    const store = new StateStore<WanRunner>({
      path: cfg.stateFile,
      serialize: (r) => r.stateBody(),
      changeKey: (r) => r.stateChangeKey(),
      forceIntervalMs: 60_000,
      minIntervalMs: 1000,
      write: { backup: true, mode: 0o644, validateBackup: (raw) => assertPlausibleState(raw, bounds) },
      onError: (e) => log.warn(`could not save state: ${e.message}`, { path: cfg.stateFile }),
    });
    ctx.defer(`${cfg.wanName} state store`, () => store.close());
    const law = cfg.controlLaw ?? 'v1.3';
    // the queue reader beside the loop (achieved rates, reconciliation, reachability)
    const reader =
      typeof router.getQueueStats === 'function'
        ? new QueueReader({
            source: router as QueueStatsSource,
            names: [cfg.queues.download, cfg.queues.upload],
            deadlineMs: cfg.router.callDeadlineMs,
            now: () => performance.now(),
            maxBps: 10 * Math.max(params.download.ceilingBps, params.upload.ceilingBps),
            // v1.3 does not use achieved rates: a read a second serves reconciliation and
            // reachability at a fifth of the CPU; adaptive measures achieved rates over 200 ms
            // from a router, over 100 ms from the local kernel (a read is a netlink dump through
            // the tc child, not an HTTP request: after a capacity drop a stale achieved rate sets
            // the depth of the first cuts)
            ...(law !== 'adaptive'
              ? { minIntervalMs: 1000 }
              : cfg.router.transport === 'linux-cake'
                ? { minIntervalMs: 50, minWindowMs: 100 }
                : { minIntervalMs: 200 }),
          })
        : null;
    const wanMetrics = metrics ? metrics.forWan(cfg.wanName.toLowerCase(), failoverTransports(router)) : null;
    // adaptive law: a reflector it reports bad is replaced by the next spare (v1.3: no report)
    const reflectorPool =
      law === 'adaptive'
        ? new ReflectorPool({
            slots: measurement,
            spares,
            log,
            metric: wanMetrics?.reflectorReplacements ?? null,
            history,
          })
        : null;
    const runner = new WanRunner({
      name: cfg.wanName,
      params,
      law,
      ...(law === 'adaptive'
        ? {
            adaptive: adaptiveParamsFromControl(params, {
              // RouterOS: a write budget (2/s sustained, bursts of 4); the local tc shaper: none
              writePolicy: { mode: cfg.router.transport === 'linux-cake' ? 'unlimited' : 'budgeted' },
              // docs/decisions.md#d16: cuts to what the link delivered may go under the floor
              ...(cfg.cutBelowFloor ? { minRateFraction: MIN_RATE_FRACTION } : {}),
            }),
          }
        : {}),
      reader,
      queues: cfg.queues,
      measurement,
      probeKind: kind,
      probeInfo: probeDesc,
      router,
      writeDeadlineMs: cfg.router.callDeadlineMs,
      logger: log,
      now: () => performance.now(),
      store,
      recorder,
      history,
      metrics: wanMetrics,
      onDegradedChange: () => daemon?.updateStatus(),
    });
    if (checked?.state) {
      // The router may have changed while the daemon was away (router reboot, manual edit): the
      // last written rates are not trusted across a restart, so the first cycle writes the
      // restored rates once (v1.3 restored them and skipped that write).
      const ignored = runner.restore({
        ...checked.state,
        last_applied: { dl_rate: null, ul_rate: null },
      });
      const s = runner.controller.snapshot();
      log.info(`state restored from ${restored.source === 'backup' ? 'backup of ' : ''}${cfg.stateFile}`, {
        dl_bps: s.download.current_rate,
        ul_bps: s.upload.current_rate,
        baseline_ms: s.ewma.baseline_rtt,
        ...(ignored.length > 0 ? { ignored } : {}),
      });
      if (restored.source === 'primary' && checked.problems.length === 0) store.markPersisted(runner);
    } else {
      log.info('no saved state; starting at the ceilings', { path: cfg.stateFile });
    }
    // the client logs each switch once; the runner counts it
    if (router instanceof FailoverRouterClient) router.on('switch', (e) => runner.onTransportSwitch(e));
    history?.restart(`wanctl-autorate ${VERSION} pid ${process.pid}`);
    wans.push({
      cfg,
      log,
      measurement,
      router,
      store,
      runner,
      probeKind: kind,
      probeInfo: probeDesc,
      history,
      reflectorPool,
    });
  }
  if (metrics) {
    registerHistoryMetrics(metrics.registry, () =>
      wans.flatMap((w) => (w.history ? [{ wan: w.cfg.wanName, recorder: w.history }] : [])),
    );
  }
  const dashboard = await openDashboard(wans, ctx);
  // every probe (ProbeUnavailableError when fping is missing)
  for (const w of wans) await w.measurement.start();
  daemon = new AutorateDaemon(wans, metrics, ctx, dashboard);
  return daemon;
}

/**
 * The WAN's history recorder when `history.enabled` (else null). Opening never throws: a file
 * that cannot be created or written makes history degraded (health, `wanctl_history_degraded`),
 * never the daemon. Its close (the last seconds written, at most 3 s) is registered with the host.
 */
function openHistory(cfg: AutorateConfig, log: Logger, ctx: HostContext): HistoryRecorder | null {
  const hc = cfg.history;
  if (!hc.enabled) return null;
  const h = HistoryRecorder.open({
    file: hc.file,
    wan: cfg.wanName,
    kind: 'autorate',
    retention: hc.retention,
    maxSizeMb: hc.maxSizeMb,
    flushIntervalMs: hc.flushIntervalSec * 1000,
    onStatus: logHistoryStatus(log),
  });
  ctx.defer(`${cfg.wanName} history`, () => h.close());
  return h;
}

/**
 * The history dashboard (`history.dashboard.enabled` of the first WAN's config), showing every
 * WAN's store. A port that cannot be bound (HttpBindError, WANCTL_HTTP_BIND) is a warning and the
 * dashboard is "down" in health: history is not the daemon's job, the control loop runs on.
 */
async function openDashboard(wans: WanParts[], ctx: HostContext): Promise<DashboardInfo | null> {
  const first = wans[0] as WanParts;
  const d = first.cfg.history.dashboard;
  if (!first.cfg.history.enabled || !d.enabled) return null;
  const files = wans.filter((w) => w.history !== null).map((w) => w.cfg.history.file);
  try {
    const server = await createDashboardServer({ files, host: d.host, port: d.port });
    ctx.defer('history dashboard', () => server.close());
    first.log.info('history dashboard', { url: server.url });
    return { server, problem: null, code: null };
  } catch (e) {
    const code = errorCode(e) ?? null;
    const problem = `history dashboard not served on ${d.host}:${d.port}: ${(e as Error).message} (history.dashboard.port)`;
    first.log.warn(problem, code ? { code } : {});
    return { server: null, problem, code };
  }
}

interface DashboardInfo {
  server: DashboardServer | null;
  problem: string | null;
  /** The error's code (WANCTL_HTTP_BIND for a port in use). */
  code: string | null;
}

function makeProbe(
  o: DaemonOptions,
  cfg: AutorateConfig,
  log: Logger,
): { probe: RttProbe; kind: 'fping' | 'udp'; info: ProbeInfo; spares: string[] } {
  const hosts =
    cfg.useMedianOfThree && cfg.pingHosts.length >= 3 ? cfg.pingHosts.slice(0, 3) : cfg.pingHosts.slice(0, 1);
  // --udp-reflector overrides continuous_monitoring.probe (median of three: the first three)
  const max = cfg.useMedianOfThree ? 3 : 1;
  const choice = chooseProbe(cfg.probe, hosts, o.udpReflectors, max);
  // spares, as the probe names them: the ping hosts beyond the ones in use, then
  // spare_ping_hosts (with --udp-reflector: the reflectors given beyond the ones in use)
  const spareHosts =
    choice.source === '--udp-reflector'
      ? (o.udpReflectors ?? []).slice(max)
      : [...cfg.pingHosts.slice(hosts.length), ...cfg.sparePingHosts];
  const spares: string[] = [];
  for (const h of spareHosts) {
    try {
      spares.push(reflectorName(choice, h));
    } catch (e) {
      log.warn(`spare reflector ignored: ${(e as Error).message}`);
    }
  }
  if (o.deps?.createProbe) {
    const injected = o.deps.createProbe(cfg);
    return { ...injected, info: probeInfo(choice), spares };
  }
  const onEvent = (e: ProbeEvent) => {
    const { kind, ...rest } = e;
    if (kind === 'reflector-up') log.info(PROBE_EVENT_TEXT[kind], rest);
    else log.warn(PROBE_EVENT_TEXT[kind], rest);
  };
  const probe = createProbe(choice, {
    periodMs: Math.max(10, cfg.cycleIntervalMs),
    timeoutMs: Math.round(cfg.timeouts.pingSec * 1000),
    onEvent,
    ...(o.fpingBinary ? { fpingBinary: o.fpingBinary } : {}),
  });
  return { probe, kind: choice.kind, info: probeInfo(choice), spares };
}

/** The running daemon's parts and its cycle, health and stop steps (the host runs them). */
export class AutorateDaemon implements HostedDaemon {
  readonly wans: Wan[];
  /** One ticker per distinct cycle interval (usually one for the whole process). */
  readonly groups: CycleGroup[];
  readonly log: Logger;
  readonly endpoints: HostedEndpoints;
  private readonly startedAt = performance.now();
  private lastStatus = '';
  /** Work per cycle over all WANs (ms) and cycle duration from its slot (lateness + work). */
  readonly cycleWork = new LatencyStats(1200);
  readonly cycleDuration = new LatencyStats(1200);
  /** Process CPU time spent inside each cycle (ms; getrusage, so a descheduled cycle is not counted). */
  readonly cycleCpu = new LatencyStats(1200);
  private idleChecks: NodeJS.Timeout[] = [];

  constructor(
    parts: WanParts[],
    metrics: AutorateMetrics | null,
    private readonly ctx: HostContext,
    /** The history dashboard (null: not enabled). */
    readonly dashboard: DashboardInfo | null = null,
  ) {
    this.wans = parts.map((p) => ({ ...p, errors: 0 }));
    // One timer for all WANs of an interval, not one per WAN: eight WANs woke the process up to
    // eight times per 50 ms. Each WAN's cycle still runs once per slot, in config order, and is
    // judged on its own work: its duration counts from the slot (as its own ticker's lateness
    // plus work did), an overrun is its own work beyond the interval. A slot whose cycles
    // together outlast the interval skips the slots that passed, for every WAN of the group,
    // as one WAN's ticker did for it (the others' timers could not fire before it ended either).
    const byInterval = new Map<number, Wan[]>();
    for (const w of this.wans) {
      const g = byInterval.get(w.cfg.cycleIntervalMs);
      if (g) g.push(w);
      else byInterval.set(w.cfg.cycleIntervalMs, [w]);
    }
    this.groups = [...byInterval].map(([intervalMs, wans]) => ({
      intervalMs,
      wans,
      ticker: createTicker(intervalMs, (info) => this.runSlot(wans, intervalMs, info.scheduledAt)),
    }));
    const first = (parts[0] as WanParts).cfg;
    this.log = (parts[0] as WanParts).log;
    // health and metrics: a port that cannot be bound is a warning (v1.3), and STATUS= says so
    this.endpoints = {
      file: first.file,
      health: first.healthCheck,
      metrics: first.metrics,
      registry: metrics?.registry ?? null,
    };
  }

  /** Starts the cycle tickers (the host then sends READY=1). */
  start(): void {
    for (const g of this.groups) g.ticker.start();
    for (const w of this.wans) {
      // the transport not in use is checked off the cycle, so that a dead fallback shows in health
      const r = w.router;
      if (typeof r.checkIdleTransport === 'function') {
        const t = setInterval(() => void r.checkIdleTransport?.().catch(() => {}), IDLE_CHECK_MS);
        t.unref();
        this.idleChecks.push(t);
      }
      w.log.info('started', {
        cycle_ms: w.cfg.cycleIntervalMs,
        probe: w.probeKind,
        probe_method: w.probeInfo.method,
        probe_source: w.probeInfo.source,
        reflectors: w.measurement.probe.reflectors,
        ...(w.reflectorPool ? { spare_reflectors: w.reflectorPool.spareList } : {}),
        transport: w.router.activeTransport,
        state_file: w.cfg.stateFile,
        version: VERSION,
      });
    }
  }

  reopenLogs(): void {
    for (const w of this.wans) w.log.reopen();
    this.log.info('SIGHUP: log files reopened');
  }

  /**
   * One slot of a group: each WAN's cycle in order (none waits on I/O), each measured on its
   * own: work (wall ms), CPU (process CPU time between one cycle's end and the next one's, so
   * n + 1 getrusage calls per slot instead of 2n), duration from the slot (null: not on a
   * slot, `--once`), overrun.
   */
  private runSlot(wans: readonly Wan[], intervalMs: number, scheduledAt: number | null): void {
    let c0 = process.cpuUsage();
    for (const w of wans) {
      const t0 = performance.now();
      this.runOne(w);
      const t1 = performance.now();
      const workMs = t1 - t0;
      this.cycleWork.record(workMs);
      const c1 = process.cpuUsage();
      this.cycleCpu.record((c1.user - c0.user + (c1.system - c0.system)) / 1000);
      c0 = c1;
      if (scheduledAt !== null) this.cycleDuration.record(t1 - scheduledAt);
      if (workMs > intervalMs) w.runner.countOverrun();
      this.feedWatchdog();
    }
  }

  /** One WAN's cycle (errors counted and logged, never thrown). */
  private runOne(w: Wan): void {
    try {
      w.runner.runCycle();
      // after the law: a reflector it has reported bad is replaced by a spare (no allocation
      // unless it replaces one)
      const ad = w.runner.adaptive;
      if (w.reflectorPool !== null && ad !== null) {
        const r = ad.lastResult;
        w.reflectorPool.update(ad, r.badReflectors, r.silentReflectors, performance.now());
      }
      w.errors = 0;
    } catch (e) {
      w.errors++;
      const err = e as Error;
      w.log.error(`cycle error: ${err.message}`, { consecutive: w.errors });
      if (w.log.isDebugEnabled()) w.log.debug(err.stack ?? String(err));
    }
  }

  /** After each WAN's cycle. */
  private feedWatchdog(): void {
    // Watchdog (D6): fed while every WAN's loop runs; only repeated internal errors (which a
    // restart may fix) stop it. A blackout or an unreachable router is degraded health, not a
    // reason to be killed (docs/decisions.md#d6).
    let broken: Wan | null = null;
    for (const x of this.wans) {
      if (x.errors >= 3) {
        broken = x;
        break;
      }
    }
    if (broken) this.ctx.watchdog.cycleFailed(`${broken.cfg.wanName}: cycle errors`);
    else this.ctx.watchdog.cycleSucceeded();
  }

  statusText(): string {
    const deg = this.wans.filter((w) => w.runner.degraded);
    const notes = this.ctx.endpointNotes;
    const tail = notes.length ? `; ${notes.join('; ')}` : '';
    if (deg.length === 0) return `Running - ${this.wans.length} WAN(s) healthy${tail}`;
    return `Degraded - ${deg.map((w) => `${w.cfg.wanName}: ${w.runner.reasons.join(', ')}`).join('; ')}${tail}`;
  }

  /** Sends STATUS= when it changed (a WAN became degraded or recovered). */
  updateStatus(): void {
    const s = this.statusText();
    if (s === this.lastStatus) return;
    this.lastStatus = s;
    void this.ctx.notify.status(s);
  }

  /** The /health document: v1.3's fields, then ours. */
  healthBody(): { status: string; [k: string]: unknown } {
    // a state file that cannot be saved is lost at the next restart: degraded, with the reason
    const stateProblems = this.wans.flatMap((w) => {
      const f = w.store.failure;
      return f
        ? [
            `${w.cfg.wanName}: state file not saved (${f.consecutiveFailures} failures in a row): ${f.lastError}`,
          ]
        : [];
    });
    const degraded = this.wans.some((w) => w.runner.degraded) || stateProblems.length > 0;
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    return {
      status: degraded ? 'degraded' : 'healthy',
      uptime_seconds: Math.round((performance.now() - this.startedAt) / 100) / 10,
      version: VERSION,
      consecutive_failures: Math.max(0, ...this.wans.map((w) => w.runner.consecutiveFailures)),
      wan_count: this.wans.length,
      // history is not control: a degraded store shows in each WAN's `history` (and in
      // wanctl_history_degraded), never in `status`
      wans: this.wans.map((w) => ({
        ...w.runner.health(),
        ...(w.reflectorPool ? { reflector_pool: w.reflectorPool.health() } : {}),
        history: w.history ? w.history.health() : { status: 'disabled' },
      })),
      state_file_problems: stateProblems,
      // a dashboard that could not be served is "down" here, never the daemon's status
      ...(this.dashboard
        ? {
            history_dashboard: {
              status: this.dashboard.server ? 'serving' : 'down',
              url: this.dashboard.server?.url ?? null,
              problem: this.dashboard.problem,
              ...(this.dashboard.code ? { code: this.dashboard.code } : {}),
            },
          }
        : {}),
      cycle: {
        interval_ms: this.wans.map((w) => w.cfg.cycleIntervalMs),
        work_ms: {
          p50: r3(this.cycleWork.p50()),
          p99: r3(this.cycleWork.p99()),
          max: r3(this.cycleWork.max()),
          count: this.cycleWork.count,
        },
        cpu_ms: { p50: r3(this.cycleCpu.p50()), p99: r3(this.cycleCpu.p99()), max: r3(this.cycleCpu.max()) },
        duration_ms: {
          p50: r3(this.cycleDuration.p50()),
          p99: r3(this.cycleDuration.p99()),
          max: r3(this.cycleDuration.max()),
        },
        overruns: this.wans.reduce((a, w) => a + w.runner.overruns, 0),
        // slots skipped, per WAN (each WAN of a group missed them)
        skipped_ticks: this.groups.reduce((a, g) => a + g.ticker.stats.skippedTicks * g.wans.length, 0),
      },
      // endpoints the config enables that could not be served (port in use): not degraded, v1.3
      endpoint_problems: this.ctx.endpointNotes,
      watchdog: {
        degraded: this.ctx.watchdog.isDegraded,
        feeds: this.ctx.watchdog.feeds,
        systemd: this.ctx.notify.enabled,
      },
      process: {
        pid: process.pid,
        rss_bytes: mem.rss,
        heap_used_bytes: mem.heapUsed,
        cpu_user_us: cpu.user,
        cpu_system_us: cpu.system,
      },
    };
  }

  /** Tickers stop; the running cycle finishes. */
  async halt(): Promise<void> {
    for (const t of this.idleChecks) clearInterval(t);
    this.idleChecks = [];
    await Promise.all(this.groups.map((g) => g.ticker.stop()));
  }

  /** Writes in flight get a short grace, then every WAN's state is force-saved. */
  async drain(): Promise<void> {
    await Promise.all(this.wans.map((w) => w.runner.settle(Math.min(2000, w.cfg.router.callDeadlineMs))));
    await this.saveAll(true);
  }

  /**
   * `--once`: wait (bounded by the ping timeout) for the first replies, run one cycle per WAN,
   * wait for the writes, save state. v1.3 exits 0 even when the cycle failed. The caller then
   * releases the parts (`host.dispose()`).
   */
  async runOnce(): Promise<void> {
    const deadline =
      performance.now() + Math.max(...this.wans.map((w) => w.cfg.timeouts.pingSec * 1000)) + 200;
    while (performance.now() < deadline) {
      if (this.wans.every((w) => w.measurement.probe.health().some((h) => h.replies > 0))) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    this.runSlot(this.wans, Number.POSITIVE_INFINITY, null);
    await Promise.all(this.wans.map((w) => w.runner.settle(w.cfg.router.callDeadlineMs)));
    await this.saveAll(false);
    for (const w of this.wans) {
      const h = w.runner.health() as { download: unknown; upload: unknown; status: string };
      w.log.info('one cycle done', { download: h.download, upload: h.upload, status: h.status });
    }
  }

  /** Saves every WAN's state now (a failure is logged, never thrown). */
  private async saveAll(final: boolean): Promise<void> {
    for (const w of this.wans) {
      try {
        await w.store.flush(w.runner);
        if (final) w.log.info('state saved', { path: w.cfg.stateFile });
      } catch (e) {
        w.log.error(`${final ? 'final ' : ''}state save failed: ${(e as Error).message}`);
      }
    }
  }
}

/**
 * How long a reply stays usable: the probe runs at the cycle rate, so a cycle can fall between
 * two replies, and a busy host delays some. Four probe periods, at least 250 ms, never more than
 * the per-probe timeout (v1.3 waited that long for a reply before calling the ping failed).
 */
export function replyHoldMs(cfg: AutorateConfig): number {
  const period = Math.max(10, cfg.cycleIntervalMs);
  return Math.min(cfg.timeouts.pingSec * 1000, Math.max(4 * period, 250));
}

/** The transports a WAN's router client can switch to (the failover counter's `to` label values). */
function failoverTransports(router: unknown): string[] {
  if (!(router instanceof FailoverRouterClient) || router.fallback === undefined) return [];
  return [router.primary.activeTransport, router.fallback.activeTransport];
}

/** How often the transport not in use is checked (health shows its state), ms. */
const IDLE_CHECK_MS = 30_000;

/** Rounded to µs; an empty window (null) or a non-number stays null in health, never a made-up 0. */
function r3(x: number | null): number | null {
  return x !== null && Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null;
}
