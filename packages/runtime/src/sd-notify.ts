/**
 * systemd notification (`sd_notify`): READY=1, WATCHDOG=1, STATUS=..., STOPPING=1.
 *
 * Why `systemd-notify` is spawned: the protocol needs an AF_UNIX SOCK_DGRAM datagram, and Node
 * (since 0.5) cannot open one (nodejs/node#29339, #61933 closed as won't-do); the packages that can
 * (`unix-dgram`, `sd-notify`) are native addons that must be compiled on the target. The
 * `systemd-notify` binary is present wherever systemd is, handles abstract (`@`) sockets, and
 * since systemd 246 waits for the manager to process the message (BARRIER), which removed the old
 * race where a short-lived sender could not be attributed to the service. Each message costs one
 * short-lived child (a few ms), so messages are rare by design: the {@link Watchdog} sends at
 * most one WATCHDOG=1 per half watchdog period, STATUS only when it changes.
 *
 * Requirement: the message comes from the child's PID, so the unit needs `NotifyAccess=all`
 * (with `Type=notify`). Without NOTIFY_SOCKET every call is a no-op (tests, CI, foreground runs).
 */
import { spawn } from 'node:child_process';
import { RuntimeError } from './errors.js';

/** Sends one notification message (newline-separated `KEY=value` lines) to `socketPath`. */
export type NotifyTransport = (socketPath: string, message: string) => Promise<void>;

/** The notify transport failed (binary missing, rejected). */
export class SdNotifyError extends RuntimeError {
  override name = 'SdNotifyError';
  constructor(message: string) {
    super('WANCTL_SD_NOTIFY', message);
  }
}

/**
 * Default transport: `systemd-notify KEY=value ...` with NOTIFY_SOCKET set, 5 s deadline.
 * @param binary path or name of systemd-notify
 */
export function systemdNotifyTransport(binary = 'systemd-notify'): NotifyTransport {
  return (socketPath, message) =>
    new Promise<void>((resolve, reject) => {
      const args = message.split('\n').filter((l) => l.length > 0);
      const child = spawn(binary, args, {
        env: { ...process.env, NOTIFY_SOCKET: socketPath },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => {
        if (stderr.length < 2000) stderr += d.toString();
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          new SdNotifyError(
            err.code === 'ENOENT'
              ? `${binary} not found: install systemd (it ships systemd-notify) or unset NOTIFY_SOCKET`
              : `${binary}: ${err.message}`,
          ),
        );
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else
          reject(
            new SdNotifyError(
              `${binary} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`,
            ),
          );
      });
    });
}

/** Options of {@link createSdNotify}. */
export interface SdNotifyOptions {
  /** Default `process.env`: reads NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID. */
  env?: NodeJS.ProcessEnv;
  /** Default {@link systemdNotifyTransport}. */
  transport?: NotifyTransport;
  /** Called with each failed send (log it). Sends never throw. */
  onError?: (err: Error) => void;
  /** PID compared with WATCHDOG_PID. Default `process.pid`. */
  pid?: number;
}

/** Counters of an {@link SdNotify}. */
export interface SdNotifyStats {
  sent: number;
  failed: number;
  /** Messages merged into a later one while a send was in flight. */
  coalesced: number;
}

/** A systemd notifier. All methods return promises that resolve when sent (or failed); they never reject. */
export interface SdNotify {
  /** NOTIFY_SOCKET is set. When false every call resolves immediately. */
  readonly enabled: boolean;
  readonly socketPath: string | null;
  /** WATCHDOG_USEC in microseconds if the watchdog is enabled for this process, else null. */
  readonly watchdogUsec: number | null;
  /** Recommended feeding interval: half of WATCHDOG_USEC, in ms; null if no watchdog. */
  readonly watchdogIntervalMs: number | null;
  readonly stats: SdNotifyStats;
  ready(status?: string): Promise<void>;
  watchdog(): Promise<void>;
  status(text: string): Promise<void>;
  stopping(status?: string): Promise<void>;
  /** Send raw fields, e.g. `{ RELOADING: '1' }`. */
  notify(fields: Record<string, string>): Promise<void>;
}

/**
 * Create a notifier from the environment. One message is in flight at a time; while one is
 * being sent, further messages are merged (later values of the same key win), so a slow
 * `systemd-notify` never piles up children.
 */
export function createSdNotify(options: SdNotifyOptions = {}): SdNotify {
  const env = options.env ?? process.env;
  const raw = env['NOTIFY_SOCKET'];
  const socketPath = raw !== undefined && raw !== '' ? raw : null;
  const transport = options.transport ?? systemdNotifyTransport();
  const pid = options.pid ?? process.pid;
  const usec = Number(env['WATCHDOG_USEC']);
  const wdPid = env['WATCHDOG_PID'];
  const watchdogUsec =
    socketPath !== null && Number.isFinite(usec) && usec > 0 && (wdPid === undefined || Number(wdPid) === pid)
      ? usec
      : null;
  const stats: SdNotifyStats = { sent: 0, failed: 0, coalesced: 0 };

  let pending: Map<string, string> | null = null;
  let pendingWaiters: Array<() => void> = [];
  let inFlight = false;

  const pump = (): void => {
    if (inFlight || pending === null || socketPath === null) return;
    const fields = pending;
    const waiters = pendingWaiters;
    pending = null;
    pendingWaiters = [];
    inFlight = true;
    const message = [...fields].map(([k, v]) => `${k}=${v.replace(/\n/g, ' ')}`).join('\n');
    transport(socketPath, message)
      .then(
        () => {
          stats.sent++;
        },
        (err: unknown) => {
          stats.failed++;
          options.onError?.(err instanceof Error ? err : new Error(String(err)));
        },
      )
      .finally(() => {
        inFlight = false;
        for (const w of waiters) w();
        pump();
      });
  };

  const notify = (fields: Record<string, string>): Promise<void> => {
    if (socketPath === null) return Promise.resolve();
    if (pending === null) pending = new Map();
    else stats.coalesced++;
    for (const [k, v] of Object.entries(fields)) {
      pending.delete(k); // re-insert so key order follows the latest call
      pending.set(k, v);
    }
    const done = new Promise<void>((resolve) => pendingWaiters.push(resolve));
    pump();
    return done;
  };

  return {
    enabled: socketPath !== null,
    socketPath,
    watchdogUsec,
    watchdogIntervalMs: watchdogUsec === null ? null : watchdogUsec / 2000,
    stats,
    ready: (status) => notify(status === undefined ? { READY: '1' } : { READY: '1', STATUS: status }),
    watchdog: () => notify({ WATCHDOG: '1' }),
    status: (text) => notify({ STATUS: text }),
    stopping: (status) =>
      notify(status === undefined ? { STOPPING: '1' } : { STOPPING: '1', STATUS: status }),
    notify,
  };
}

/** Options of {@link Watchdog}. */
export interface WatchdogOptions {
  notify: SdNotify;
  /** Feeding interval. Default: `notify.watchdogIntervalMs` (half of WATCHDOG_USEC), else 10 000 ms. */
  intervalMs?: number;
  /** Consecutive failed cycles after which feeding stops and STATUS says degraded. Default 3. */
  failureThreshold?: number;
  /** Monotonic ms. Default `performance.now()`. */
  now?: () => number;
  /** Status text while healthy (or a function giving it when needed). Default `Running`. */
  healthyStatus?: string | (() => string);
}

/**
 * Feeds the systemd watchdog from the control loop (docs/decisions.md#d6).
 *
 * - {@link Watchdog.cycleSucceeded} after each healthy cycle: sends WATCHDOG=1 at most once per
 *   interval (no 20 Hz flood).
 * - {@link Watchdog.cycleFailed} after a failed cycle. After `failureThreshold` in a row, feeding
 *   stops (so a daemon that stays broken is restarted by systemd after WatchdogSec) and STATUS
 *   says `Degraded - <reason>` (sent once).
 * - The first success after that feeds AGAIN at once and restores the status, so a hiccup
 *   shorter than WatchdogSec never becomes a restart (v1.3 stopped feeding for good).
 *
 * Count as failures only what a restart could fix (exceptions, a stuck loop); a WAN blackout
 * where the loop itself runs fine is a successful cycle with degraded health.
 */
export class Watchdog {
  private lastFedAt = Number.NEGATIVE_INFINITY;
  private failures = 0;
  private degraded = false;
  private readonly intervalMs: number;
  private readonly threshold: number;
  private readonly now: () => number;
  /** Number of WATCHDOG=1 messages requested. */
  feeds = 0;

  constructor(private readonly opts: WatchdogOptions) {
    this.intervalMs = opts.intervalMs ?? opts.notify.watchdogIntervalMs ?? 10_000;
    this.threshold = opts.failureThreshold ?? 3;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Consecutive failed cycles so far. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** True while feeding is suspended. */
  get isDegraded(): boolean {
    return this.degraded;
  }

  /** Report a healthy cycle. Returns true if WATCHDOG=1 was sent now. */
  cycleSucceeded(): boolean {
    this.failures = 0;
    const now = this.now();
    if (this.degraded) {
      // re-arm at once, in one message with the restored status
      this.degraded = false;
      this.lastFedAt = now;
      this.feeds++;
      const h = this.opts.healthyStatus;
      void this.opts.notify.notify({
        WATCHDOG: '1',
        STATUS: (typeof h === 'function' ? h() : h) ?? 'Running',
      });
      return true;
    }
    if (now - this.lastFedAt >= this.intervalMs) {
      this.feed(now);
      return true;
    }
    return false;
  }

  /** Report a failed cycle. Returns true if this failure made the watchdog stop feeding. */
  cycleFailed(reason: string): boolean {
    this.failures++;
    if (!this.degraded && this.failures >= this.threshold) {
      this.degraded = true;
      void this.opts.notify.status(`Degraded - ${reason}`);
      return true;
    }
    return false;
  }

  private feed(now: number): void {
    this.lastFedAt = now;
    this.feeds++;
    void this.opts.notify.watchdog();
  }
}
