/**
 * The start/stop sequence of a wanctl daemon, written once for both (autorate, steering).
 *
 * {@link startDaemon} installs the signal handlers first (a SIGTERM during start-up is a clean
 * stop too), creates the systemd notifier and watchdog, lets the daemon build its parts (lock,
 * state, probe, router client, ...) in an async factory that registers a teardown step for each
 * part it acquired, then starts the health and metrics endpoints. If anything in that sequence
 * throws, every part acquired so far is released in reverse order and the error is rethrown
 * unchanged (it carries its `WANCTL_` code; see errors.ts): start-up errors are handled here
 * and nowhere else.
 *
 * The returned {@link DaemonHost} runs the daemon ({@link DaemonHost.run}: start the loops,
 * READY=1) and stops it: {@link DaemonHost.stop} is idempotent (SIGTERM, SIGINT and callers
 * share one stop), a second SIGTERM/SIGINT while stopping aborts the process (exit 1; the lock
 * files are still removed by their exit hook), and the teardown is ordered: loops halted (the
 * running cycle finishes), STOPPING=1, state drained and saved, parts released in reverse order
 * of acquisition, signal handlers removed, the last log line written, the logs closed.
 */
import type { Registry } from 'prom-client';
import { type EndpointSettings, type Endpoints, startEndpoints } from './endpoints.js';
import type { HealthBody } from './http.js';
import type { Logger } from './logger.js';
import { createSdNotify, type SdNotify, Watchdog } from './sd-notify.js';
import { type HandledSignal, installSignalHandlers, type SignalHandlerOptions } from './signals.js';

/** What the daemon's factory gets from the host. */
export interface HostContext {
  /** The systemd notifier (a no-op outside systemd). */
  readonly notify: SdNotify;
  /** Fed by the daemon's cycles (docs/decisions.md#d6); its healthy STATUS= is the daemon's `statusText()`. */
  readonly watchdog: Watchdog;
  /**
   * One sentence per endpoint the config enables that could not be served; filled when the
   * endpoints start (after the factory returned), the same array for the host's whole life.
   */
  readonly endpointNotes: readonly string[];
  /** True once SIGTERM/SIGINT arrived. */
  readonly stopRequested: boolean;
  /**
   * Registers the release of a part just acquired. Steps run in reverse order of registration
   * when the daemon stops, or at once when the start fails; a step that throws is logged and the
   * others still run. `last` steps (closing the logs) run after the final log line.
   */
  defer(what: string, step: () => unknown, opts?: { last?: boolean }): void;
}

/** The endpoints a daemon serves (config sections), without the provider and log the host adds. */
export interface HostedEndpoints {
  /** Config file, named in a warning about a port that cannot be bound. */
  file: string;
  health: EndpointSettings;
  metrics: EndpointSettings;
  registry: Registry | null;
  metricsOnHealthPort?: boolean;
}

/** What a daemon built by the factory offers the host. */
export interface HostedDaemon {
  /** The logger the host writes its own lines to (signals, teardown problems, the last line). */
  readonly log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  /** Health and metrics to serve, or null for none. */
  readonly endpoints: HostedEndpoints | null;
  /** The `/health` document (200 when `status === 'healthy'`). */
  healthBody(): HealthBody;
  /** The systemd STATUS= text now. */
  statusText(): string;
  /** Starts the cycle loops (called once, by {@link DaemonHost.run}). */
  start(): void | Promise<void>;
  /** Stops the loops; resolves when the running cycle has finished. */
  halt(): Promise<void>;
  /** After STOPPING=1: let writes in flight settle and save the state (problems logged, never thrown). */
  drain(): Promise<void>;
  /** SIGHUP: reopen the log files. */
  reopenLogs(): void;
}

/** Options of {@link startDaemon}. */
export interface DaemonHostOptions<D extends HostedDaemon> {
  /** Builds the daemon's parts; registers a teardown step for each part it acquires. */
  build(ctx: HostContext): Promise<D>;
  /** Serve the daemon's endpoints (default true). */
  http?: boolean;
  /** Install SIGTERM/SIGINT/SIGHUP handlers (default true; in-process tests pass false). */
  signals?: boolean;
  /** Where the signals come from (tests pass an EventEmitter). Default `process`. */
  signalTarget?: SignalHandlerOptions['target'];
  /** A second SIGTERM/SIGINT while stopping. Default `process.exit(1)`. */
  onForceExit?: (signal: 'SIGTERM' | 'SIGINT') => void;
  /** The notifier (tests inject a fake). Default: systemd's, from NOTIFY_SOCKET. */
  notify?: SdNotify;
  /** STATUS= sent with STOPPING=1 (default none). */
  stoppingStatus?: string;
  /** The last log line of a stop (default `Stopped`). */
  stopLine?: string;
}

interface Step {
  what: string;
  run: () => unknown;
}

/**
 * A running daemon: its parts ({@link DaemonHost.daemon}) and their start/stop sequence.
 * Built by {@link startDaemon}.
 */
export class DaemonHost<D extends HostedDaemon> {
  private stopping: Promise<number> | null = null;
  private released: Promise<void> | null = null;
  private started = false;
  private resolveDone: (code: number) => void = () => {};
  private readonly done = new Promise<number>((r) => {
    this.resolveDone = r;
  });

  /** @internal built by {@link startDaemon} */
  constructor(
    /** The daemon's parts, fully constructed. */
    readonly daemon: D,
    private readonly core: HostCore,
    private readonly opts: DaemonHostOptions<D>,
  ) {
    core.onStopSignal = () => {
      if (this.started) void this.stop();
    };
  }

  /** The notifier and watchdog the daemon was built with. */
  get notify(): SdNotify {
    return this.core.notify;
  }
  get watchdog(): Watchdog {
    return this.core.watchdog;
  }
  /** The endpoints that are served (null: none configured or `http: false`). */
  get endpoints(): Endpoints | null {
    return this.core.endpoints;
  }
  /** True once SIGTERM/SIGINT arrived. */
  get stopRequested(): boolean {
    return this.core.stopRequested;
  }

  /**
   * Starts the loops and tells systemd READY=1; resolves with the exit status (0) once the
   * daemon has stopped (SIGTERM/SIGINT or {@link stop}). A stop requested during start-up stops
   * at once. If starting the loops throws, the parts are released and the error rethrown.
   */
  async run(): Promise<number> {
    if (this.started) return this.done;
    this.started = true;
    if (this.core.stopRequested) return this.stop();
    try {
      await this.daemon.start();
    } catch (e) {
      await this.dispose();
      throw e;
    }
    if (this.core.stopRequested) return this.stop();
    void this.core.notify.ready(this.daemon.statusText());
    return this.done;
  }

  /**
   * Stops the daemon (idempotent: every caller gets the same promise): loops halted, STOPPING=1,
   * state drained, parts released in reverse order, the last line logged, logs closed.
   * Resolves with the exit status, 0.
   */
  stop(): Promise<number> {
    this.started = true;
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /** Releases every part without the stop sequence (after `--once`, or a failed start of the loops). Idempotent. */
  dispose(): Promise<void> {
    this.released ??= this.core.release(null);
    return this.released;
  }

  private async doStop(): Promise<number> {
    await this.daemon.halt();
    void this.core.notify.stopping(this.opts.stoppingStatus);
    await this.daemon.drain();
    this.released ??= this.core.release(this.opts.stopLine ?? 'Stopped');
    await this.released;
    this.resolveDone(0);
    return 0;
  }
}

/** The host's own state, shared by the start sequence and the DaemonHost. */
class HostCore implements HostContext {
  stopRequested = false;
  endpoints: Endpoints | null = null;
  readonly endpointNotes: string[] = [];
  readonly notify: SdNotify;
  readonly watchdog: Watchdog;
  /** The daemon's logger once built (the host's lines before that go nowhere). */
  log: HostedDaemon['log'] | null = null;
  onStopSignal: () => void = () => {};
  private readonly steps: Step[] = [];
  private readonly lastSteps: Step[] = [];
  private uninstallSignals: () => void = () => {};
  private statusText: () => string = () => 'Running';

  constructor(o: DaemonHostOptions<HostedDaemon>) {
    this.notify = o.notify ?? createSdNotify({ onError: (e) => this.log?.debug(`sd_notify: ${e.message}`) });
    this.watchdog = new Watchdog({ notify: this.notify, healthyStatus: () => this.statusText() });
    if (o.signals !== false) {
      this.uninstallSignals = installSignalHandlers({
        onStop: (sig: HandledSignal) => {
          this.log?.info(`${sig} received: stopping`);
          this.stopRequested = true;
          this.onStopSignal();
        },
        onReload: () => this.onReload(),
        ...(o.onForceExit ? { onForceExit: o.onForceExit } : {}),
        ...(o.signalTarget ? { target: o.signalTarget } : {}),
      });
    }
  }

  onReload: () => void = () => {};

  adopt(d: HostedDaemon): void {
    this.log = d.log;
    this.statusText = () => d.statusText();
    this.onReload = () => d.reopenLogs();
  }

  defer(what: string, step: () => unknown, opts: { last?: boolean } = {}): void {
    (opts.last ? this.lastSteps : this.steps).push({ what, run: step });
  }

  async release(lastLine: string | null): Promise<void> {
    await runSteps(this.steps.splice(0).reverse(), this.log);
    this.uninstallSignals();
    if (lastLine !== null) this.log?.info(lastLine);
    await runSteps(this.lastSteps.splice(0).reverse(), null);
  }
}

async function runSteps(steps: Step[], log: HostedDaemon['log'] | null): Promise<void> {
  for (const s of steps) {
    try {
      await s.run();
    } catch (e) {
      log?.warn(`releasing ${s.what} failed: ${(e as Error)?.message ?? String(e)}`);
    }
  }
}

/**
 * Starts a daemon: signals, notifier and watchdog, the daemon's factory, then its endpoints (a
 * port that cannot be bound is a warning, see startEndpoints). Throws what the factory threw,
 * after releasing whatever it had acquired.
 *
 * @example
 * const host = await startDaemon({
 *   build: async (ctx) => {
 *     const lock = acquirePidLock(cfg.lockFile);
 *     ctx.defer('lock', () => lock.release());
 *     return new MyDaemon(cfg, ctx);
 *   },
 * });
 * process.exitCode = await host.run();
 */
export async function startDaemon<D extends HostedDaemon>(o: DaemonHostOptions<D>): Promise<DaemonHost<D>> {
  const core = new HostCore(o as DaemonHostOptions<HostedDaemon>);
  let daemon: D;
  try {
    daemon = await o.build(core);
    core.adopt(daemon);
    const ep = daemon.endpoints;
    if ((o.http ?? true) && ep !== null) {
      const endpoints = await startEndpoints({
        ...ep,
        provider: () => daemon.healthBody(),
        log: daemon.log,
      });
      core.endpoints = endpoints;
      core.endpointNotes.push(...endpoints.notes);
      core.defer('health and metrics endpoints', () => endpoints.close());
    }
  } catch (e) {
    await core.release(null);
    throw e;
  }
  return new DaemonHost(daemon, core, o);
}
