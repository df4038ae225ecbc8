/**
 * The wanctl-autorate daemon: one or several WANs in one process. Per WAN: a PID lock, the
 * state file (restored at start, written on change), a background probe, the router client with
 * failover, and a drift-free ticker running the control cycle. Process-wide: health, metrics,
 * systemd notify/watchdog and signals.
 */
import { readFileSync } from 'node:fs';
import type { AutorateConfig } from '@wanctl/config';
import {
  getRouterClientWithFailover,
  type RouterClient,
  routerOptionsFromConfig,
  type TransportSwitch,
} from '@wanctl/router-client';
import {
  chooseProbe,
  createProbe,
  gatewayCheck,
  type ProbeEvent,
  type ProbeInfo,
  probeInfo,
  type RttProbe,
  tcpFallbackCheck,
} from '@wanctl/rtt-probe';
import {
  acquirePidLock,
  createLogger,
  createMetricsRegistry,
  createSdNotify,
  createTicker,
  DaemonStartError,
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
import { controlParamsFromConfig } from '../config-params.js';
import { type FallbackChecks, WanMeasurement } from './measurement.js';
import { AutorateMetrics } from './metrics.js';
import { Recorder } from './recorder.js';
import { WanRunner } from './wan-runner.js';

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

/** A fatal startup problem that is not a config error (exit 1); from @wanctl/runtime. */
export { DaemonStartError };

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

interface Wan {
  cfg: AutorateConfig;
  log: Logger;
  lock: PidLock | null;
  measurement: WanMeasurement;
  router: RouterClient;
  store: StateStore<WanRunner>;
  runner: WanRunner;
  recorder: Recorder | null;
  probeKind: 'fping' | 'udp';
  probeInfo: ProbeInfo;
  ticker: Ticker | null;
  /** Consecutive cycles that threw. */
  errors: number;
}

const PROBE_EVENT_TEXT: Record<ProbeEvent['kind'], string> = {
  'reflector-down': 'reflector down',
  'reflector-up': 'reflector answering again',
  'child-exit': 'fping exited',
  'child-restart': 'restarting fping',
  error: 'probe error',
};

export class AutorateDaemon {
  readonly wans: Wan[] = [];
  private readonly o: DaemonOptions;
  private readonly startedAt = performance.now();
  private endpoints: Endpoints | null = null;
  private metrics: AutorateMetrics | null = null;
  private notify: SdNotify | null = null;
  private watchdog: Watchdog | null = null;
  private uninstallSignals: (() => void) | null = null;
  private stopping: Promise<number> | null = null;
  private resolveDone: ((code: number) => void) | null = null;
  private lastStatus = '';
  private pendingLock: PidLock | null = null;
  /** Work per cycle over all WANs (ms) and cycle duration from its slot (lateness + work). */
  readonly cycleWork = new LatencyStats(1200);
  readonly cycleDuration = new LatencyStats(1200);
  /** Process CPU time spent inside each cycle (ms; getrusage, so a descheduled cycle is not counted). */
  readonly cycleCpu = new LatencyStats(1200);

  constructor(opts: DaemonOptions) {
    if (opts.configs.length === 0) throw new DaemonStartError('no WAN config given');
    this.o = opts;
  }

  private get first(): AutorateConfig {
    return this.o.configs[0] as AutorateConfig;
  }

  /** Logger, params, lock, state, probe, router, runner for each WAN. Throws on fatal problems. */
  async setup(opts: { locks: boolean }): Promise<void> {
    const debug = this.o.debug ?? false;
    if (this.first.metrics.enabled) {
      this.metrics = new AutorateMetrics(createMetricsRegistry());
    }
    for (const cfg of this.o.configs) {
      const log = createLogger({
        name: cfg.wanName,
        level: 'info',
        file: cfg.logging.mainLog,
        ...(debug ? { debugFile: cfg.logging.debugLog } : {}),
        console: this.o.deps?.logToConsole ?? true,
        consoleLevel: debug ? 'debug' : 'info',
        ...(this.o.deps?.logSink ? { sink: this.o.deps.logSink } : {}),
      });
      if (cfg.router.password) registerSecret(cfg.router.password.reveal());
      for (const w of cfg.warnings) log.warn(`config: ${w.message}`, { path: w.path });
      const params = controlParamsFromConfig(cfg);
      let lock: PidLock | null = null;
      if (opts.locks) lock = acquirePidLock(cfg.lockFile);
      this.pendingLock = lock; // released by abort() if the rest of this WAN's setup fails
      // state: primary, then backup, then defaults (each problem logged)
      const restored = await readJsonWithRecovery<unknown>(
        cfg.stateFile,
        (raw) => {
          if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
            throw new Error('not a JSON object');
          return raw;
        },
        () => null,
      );
      for (const p of restored.problems) log.warn(`state file: ${p}`, { path: cfg.stateFile });
      const problems = new LogThrottle(60_000, () => performance.now(), { burst: 3 });
      const { probe, kind, info: probeDesc } = this.createProbe(cfg, log);
      const checks: FallbackChecks = this.o.deps?.checks ?? {
        gateway: (host, timeoutMs) =>
          gatewayCheck(host, { timeoutMs, ...(this.o.fpingBinary ? { binary: this.o.fpingBinary } : {}) }),
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
        checks,
        now: () => performance.now(),
        onProblem: (m) => {
          const n = problems.allow(m);
          if (n !== false) log.warn(m, n > 0 ? { suppressed: n } : {});
        },
      });
      const router = this.o.deps?.createRouter
        ? this.o.deps.createRouter(cfg, log)
        : getRouterClientWithFailover(routerOptionsFromConfig(cfg.router, log));
      const recorder = this.o.recordFile
        ? new Recorder(this.o.configs.length > 1 ? `${this.o.recordFile}.${cfg.wanName}` : this.o.recordFile)
        : null;
      const store = new StateStore<WanRunner>({
        path: cfg.stateFile,
        serialize: (r) => r.stateBody(),
        changeKey: (r) => r.stateChangeKey(),
        forceIntervalMs: 60_000,
        minIntervalMs: 1000,
        write: { backup: true, mode: 0o644 },
        onError: (e) => log.warn(`could not save state: ${e.message}`, { path: cfg.stateFile }),
      });
      const runner = new WanRunner({
        name: cfg.wanName,
        params,
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
        metrics: this.metrics ? this.metrics.forWan(cfg.wanName.toLowerCase()) : null,
        onDegradedChange: () => this.updateStatus(),
      });
      if (restored.value !== null) {
        // The router may have changed while the daemon was away (router reboot, manual edit): the
        // last written rates are not trusted across a restart, so the first cycle writes the
        // restored rates once (v1.3 restored them and skipped that write).
        const ignored = runner.restore({
          ...(restored.value as Record<string, unknown>),
          last_applied: { dl_rate: null, ul_rate: null },
        });
        const s = runner.controller.snapshot();
        log.info(`state restored from ${restored.source === 'backup' ? 'backup of ' : ''}${cfg.stateFile}`, {
          dl_bps: s.download.current_rate,
          ul_bps: s.upload.current_rate,
          baseline_ms: s.ewma.baseline_rtt,
          ...(ignored.length > 0 ? { ignored } : {}),
        });
        if (restored.source === 'primary') store.markPersisted(runner);
      } else {
        log.info('no saved state; starting at the ceilings', { path: cfg.stateFile });
      }
      if (
        router instanceof Object &&
        'on' in router &&
        typeof (router as { on: unknown }).on === 'function'
      ) {
        (router as unknown as { on(ev: 'switch', fn: (e: TransportSwitch) => void): void }).on(
          'switch',
          (e) => runner.onTransportSwitch(e),
        );
      }
      this.wans.push({
        cfg,
        log,
        lock,
        measurement,
        router,
        store,
        runner,
        recorder,
        probeKind: kind,
        probeInfo: probeDesc,
        ticker: null,
        errors: 0,
      });
      this.pendingLock = null;
    }
  }

  private createProbe(
    cfg: AutorateConfig,
    log: Logger,
  ): { probe: RttProbe; kind: 'fping' | 'udp'; info: ProbeInfo } {
    const hosts =
      cfg.useMedianOfThree && cfg.pingHosts.length >= 3
        ? cfg.pingHosts.slice(0, 3)
        : cfg.pingHosts.slice(0, 1);
    // --udp-reflector overrides continuous_monitoring.probe (median of three: the first three)
    const choice = chooseProbe(cfg.probe, hosts, this.o.udpReflectors, cfg.useMedianOfThree ? 3 : 1);
    if (this.o.deps?.createProbe) {
      const injected = this.o.deps.createProbe(cfg);
      return { ...injected, info: probeInfo(choice) };
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
      ...(this.o.fpingBinary ? { fpingBinary: this.o.fpingBinary } : {}),
    });
    return { probe, kind: choice.kind, info: probeInfo(choice) };
  }

  /** Starts every probe (ProbeUnavailableError when fping is missing). */
  async startProbes(): Promise<void> {
    for (const w of this.wans) await w.measurement.start();
  }

  /** Runs the daemon until SIGTERM/SIGINT (or {@link stop}); resolves with the exit code. */
  async run(): Promise<number> {
    const done = new Promise<number>((res) => {
      this.resolveDone = res;
    });
    const log = (this.wans[0] as Wan).log;
    const first = this.first;
    // health and metrics first: a port that cannot be bound is a warning (v1.3), and the
    // systemd STATUS= line says so
    this.endpoints = await startEndpoints({
      file: first.file,
      health: first.healthCheck,
      provider: () => this.healthBody(),
      metrics: first.metrics,
      registry: this.metrics?.registry ?? null,
      log,
    });
    this.notify =
      this.o.deps?.notify ?? createSdNotify({ onError: (e) => log.debug(`sd_notify: ${e.message}`) });
    this.watchdog = new Watchdog({ notify: this.notify, healthyStatus: this.statusText() });
    if (this.o.deps?.installSignals !== false) {
      this.uninstallSignals = installSignalHandlers({
        onStop: (sig) => {
          log.info(`${sig} received; stopping`);
          void this.stop();
        },
        onReload: () => {
          for (const w of this.wans) w.log.reopen();
          log.info('SIGHUP: log files reopened');
        },
      });
    }
    for (const w of this.wans) {
      const interval = w.cfg.cycleIntervalMs;
      w.ticker = createTicker(
        interval,
        () => {
          this.runOne(w);
        },
        {
          onRunEnd: (ms, info) => {
            const d = ms + info.lateMs;
            this.cycleDuration.record(d);
            if (ms > interval) w.runner.countOverrun();
          },
        },
      );
      w.ticker.start();
      w.log.info('started', {
        cycle_ms: interval,
        probe: w.probeKind,
        probe_method: w.probeInfo.method,
        probe_source: w.probeInfo.source,
        reflectors: w.measurement.probe.reflectors,
        transport: w.router.activeTransport,
        state_file: w.cfg.stateFile,
        version: VERSION,
      });
    }
    void this.notify.ready(this.statusText());
    return done;
  }

  private runOne(w: Wan): void {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    try {
      w.runner.runCycle();
      w.errors = 0;
    } catch (e) {
      w.errors++;
      const err = e as Error;
      w.log.error(`cycle error: ${err.message}`, { consecutive: w.errors });
      if (w.log.isDebugEnabled()) w.log.debug(err.stack ?? String(err));
    }
    this.cycleWork.record(performance.now() - t0);
    const c = process.cpuUsage(c0);
    this.cycleCpu.record((c.user + c.system) / 1000);
    // Watchdog (D6): fed while every WAN's loop runs; only repeated internal errors (which a
    // restart may fix) stop it. A blackout or an unreachable router is degraded health, not a
    // reason to be killed (docs/decisions.md#d6).
    const wd = this.watchdog;
    if (wd) {
      let broken: Wan | null = null;
      for (const x of this.wans) {
        if (x.errors >= 3) {
          broken = x;
          break;
        }
      }
      if (broken) wd.cycleFailed(`${broken.cfg.wanName}: cycle errors`);
      else wd.cycleSucceeded();
    }
  }

  private statusText(): string {
    const deg = this.wans.filter((w) => w.runner.degraded);
    const notes = this.endpoints?.notes.length ? `; ${this.endpoints.notes.join('; ')}` : '';
    if (deg.length === 0) return `Running - ${this.wans.length} WAN(s) healthy${notes}`;
    return `Degraded - ${deg.map((w) => `${w.cfg.wanName}: ${w.runner.reasons.join(', ')}`).join('; ')}${notes}`;
  }

  private updateStatus(): void {
    const s = this.statusText();
    if (s === this.lastStatus || !this.notify) return;
    this.lastStatus = s;
    void this.notify.status(s);
  }

  /** The /health document: v1.3's fields, then ours. */
  healthBody(): { status: string; [k: string]: unknown } {
    const degraded = this.wans.some((w) => w.runner.degraded);
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    return {
      status: degraded ? 'degraded' : 'healthy',
      uptime_seconds: Math.round((performance.now() - this.startedAt) / 100) / 10,
      version: VERSION,
      consecutive_failures: Math.max(0, ...this.wans.map((w) => w.runner.consecutiveFailures)),
      wan_count: this.wans.length,
      wans: this.wans.map((w) => w.runner.health()),
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
        overruns: this.wans.reduce((a, w) => a + (w.ticker?.stats.overruns ?? 0), 0),
        skipped_ticks: this.wans.reduce((a, w) => a + (w.ticker?.stats.skippedTicks ?? 0), 0),
      },
      // endpoints the config enables that could not be served (port in use): not degraded, v1.3
      endpoint_problems: this.endpoints?.notes ?? [],
      watchdog: {
        degraded: this.watchdog?.isDegraded ?? false,
        feeds: this.watchdog?.feeds ?? 0,
        systemd: this.notify?.enabled ?? false,
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

  /**
   * Stops within one cycle: tickers stop (the running cycle finishes), writes in flight get a
   * short grace, state is force-saved, everything is closed and the locks are released.
   */
  stop(): Promise<number> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<number> {
    await Promise.all(this.wans.map((w) => w.ticker?.stop()));
    void this.notify?.stopping('Stopping');
    await Promise.all(this.wans.map((w) => w.runner.settle(Math.min(2000, w.cfg.router.callDeadlineMs))));
    await this.saveAll(true);
    await this.release('shutdown complete');
    this.resolveDone?.(0);
    return 0;
  }

  /**
   * `--once`: wait (bounded by the ping timeout) for the first replies, run one cycle per WAN,
   * wait for the writes, save state. v1.3 exits 0 even when the cycle failed.
   */
  async runOnce(): Promise<void> {
    const deadline =
      performance.now() + Math.max(...this.wans.map((w) => w.cfg.timeouts.pingSec * 1000)) + 200;
    while (performance.now() < deadline) {
      if (this.wans.every((w) => w.measurement.probe.health().some((h) => h.replies > 0))) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const w of this.wans) this.runOne(w);
    await Promise.all(this.wans.map((w) => w.runner.settle(w.cfg.router.callDeadlineMs)));
    await this.saveAll(false);
    for (const w of this.wans) {
      const h = w.runner.health() as { download: unknown; upload: unknown; status: string };
      w.log.info('one cycle done', { download: h.download, upload: h.upload, status: h.status });
    }
    await this.release(null);
  }

  /** Releases whatever setup() acquired (startup failure path). */
  abort(): Promise<void> {
    return this.release(null);
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

  /**
   * Closes state stores, recorders, probes, router clients and endpoints, releases the locks and
   * signal handlers, logs `lastLine` and closes the logs.
   */
  private async release(lastLine: string | null): Promise<void> {
    this.pendingLock?.release();
    this.pendingLock = null;
    for (const w of this.wans) {
      w.store.close();
      w.recorder?.close();
    }
    await Promise.allSettled(this.wans.map((w) => w.measurement.stop()));
    await Promise.allSettled(this.wans.map((w) => w.router.close()));
    await this.endpoints?.close();
    this.uninstallSignals?.();
    for (const w of this.wans) w.lock?.release();
    if (lastLine !== null) this.wans[0]?.log.info(lastLine);
    await Promise.allSettled(this.wans.map((w) => w.log.close()));
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

function r3(x: number | null): number {
  return x !== null && Number.isFinite(x) ? Math.round(x * 1000) / 1000 : 0;
}
