/**
 * Failover between the configured transport (primary) and the other one (fallback)
 * (docs/decisions.md#d1, #d2):
 * - a transport failure (connection error, timeout, auth refused) moves the SAME call to the
 *   other transport, within the call's deadline; RouterOS answers (no such item, syntax
 *   error) are returned as they are;
 * - once on the fallback, the primary is re-probed in the background (a read-only identity
 *   print) and taken back as soon as it answers;
 * - every switch is logged once here, with its reason, and announced as one `switch` event
 *   (listeners count or display it; they should not log it again);
 * - each transport's last known state is available for health output (transportStates), and
 *   the idle one can be checked on demand (checkIdleTransport);
 * - retries are bounded and jittered and never outlast the call's deadline.
 */
import { EventEmitter } from 'node:events';
import { Deadline, type MonotonicClock, monotonicNow } from './deadline.js';
import { isTransportFailure, RouterConnectionError, RouterOptionsError, type Transport } from './errors.js';
import type { TransportState } from './health.js';
import { RestRouterClient } from './rest.js';
import { SshRouterClient } from './ssh.js';
import type {
  CallOptions,
  CommandResult,
  MangleRule,
  QueueLimit,
  QueueStats,
  RouterClient,
  RouterClientOptions,
  RouterLogger,
  SystemResource,
} from './types.js';
import { silentLogger } from './types.js';

export interface TransportSwitch {
  from: Transport;
  to: Transport;
  /** Why: the error message that caused it, or "primary healthy again". */
  reason: string;
  /** true when going back to the primary. */
  recovered: boolean;
}

/** Raised when every configured transport failed within the call. */
export class RouterUnavailableError extends RouterConnectionError {
  override readonly code: string = 'WANCTL_ROUTER_UNAVAILABLE';
  readonly errors: Partial<Record<Transport, Error>>;
  constructor(errors: Partial<Record<Transport, Error>>, host: string | undefined) {
    const parts = Object.entries(errors).map(([t, e]) => `${t}: ${e?.message}`);
    super(`router ${host ?? ''} unreachable over every transport (${parts.join('; ')})`, 'unreachable', {
      host,
    });
    this.errors = errors;
  }
}

export interface FailoverOptions {
  logger?: RouterLogger;
  /** Default call deadline, ms (default 5000). */
  deadlineMs?: number;
  /**
   * Share of the call's remaining time the first transport may use when a second one is
   * available (default 0.5): a hung primary leaves the fallback the rest.
   */
  firstShare?: number;
  /** Re-probe interval of the primary while on the fallback, ms (default 10000). */
  reprobeIntervalMs?: number;
  /** Deadline of one re-probe, ms (default 2000). */
  reprobeDeadlineMs?: number;
  now?: MonotonicClock;
}

export interface FailoverEvents {
  /** A transport switch (one per switch; already logged by the client). */
  switch: [ev: TransportSwitch];
}

/**
 * A RouterClient over a primary and an optional fallback transport. Transport switches are
 * announced as the `switch` event: `client.on('switch', (ev) => …)`.
 */
export class FailoverRouterClient extends EventEmitter<FailoverEvents> implements RouterClient {
  readonly primary: RouterClient;
  readonly fallback: RouterClient | undefined;
  private usingFallback = false;
  private readonly logger: RouterLogger;
  private readonly opts: FailoverOptions;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;
  private closed = false;
  /** Number of transport switches so far (for metrics). */
  switches = 0;

  constructor(primary: RouterClient, fallback: RouterClient | undefined, opts: FailoverOptions = {}) {
    super();
    this.primary = primary;
    this.fallback = fallback;
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger;
  }

  get activeTransport(): Transport {
    return this.usingFallback && this.fallback ? this.fallback.activeTransport : this.primary.activeTransport;
  }

  /** True while calls go to the fallback. */
  get onFallback(): boolean {
    return this.usingFallback;
  }

  private switchTo(toFallback: boolean, reason: string): void {
    if (this.usingFallback === toFallback || !this.fallback) return;
    const from = this.activeTransport;
    this.usingFallback = toFallback;
    this.switches++;
    const ev: TransportSwitch = { from, to: this.activeTransport, reason, recovered: !toFallback };
    if (toFallback)
      this.logger.warn(`router transport ${ev.from} failed (${reason}); switched to ${ev.to}`, { ...ev });
    else
      this.logger.info(`router transport ${ev.to} healthy again; switched back from ${ev.from}`, { ...ev });
    this.emit('switch', ev);
    if (toFallback) this.scheduleProbe();
    else this.stopProbe();
  }

  private scheduleProbe(): void {
    if (this.closed || this.probeTimer || !this.usingFallback) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      void this.probePrimary();
    }, this.opts.reprobeIntervalMs ?? 10_000);
    this.probeTimer.unref();
  }

  private stopProbe(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  /** Re-probe the primary now (read-only identity print); switch back if it answers. */
  async probePrimary(): Promise<boolean> {
    if (this.closed || !this.usingFallback || this.probing) return false;
    this.probing = true;
    try {
      await this.primary.getIdentity({ deadlineMs: this.opts.reprobeDeadlineMs ?? 2000 });
      if (!this.closed) this.switchTo(false, 'primary healthy again');
      return true;
    } catch (err) {
      this.logger.debug?.(`re-probe of ${this.primary.activeTransport} failed: ${(err as Error).message}`);
      return false;
    } finally {
      this.probing = false;
      this.scheduleProbe();
    }
  }

  /** Run one operation with failover inside the call's deadline. */
  private async call<T>(
    opts: CallOptions | undefined,
    op: (c: RouterClient, o: CallOptions) => Promise<T>,
  ): Promise<T> {
    if (this.closed) throw new RouterConnectionError('router client is closed', 'closed');
    const deadline = new Deadline(
      opts?.deadlineMs ?? this.opts.deadlineMs ?? 5000,
      this.opts.now ?? monotonicNow,
    );
    const first = this.usingFallback && this.fallback ? this.fallback : this.primary;
    const second = this.fallback ? (first === this.primary ? this.fallback : this.primary) : undefined;
    const firstBudget = second ? deadline.remaining() * (this.opts.firstShare ?? 0.5) : deadline.remaining();
    try {
      return await op(first, { deadlineMs: Math.max(1, firstBudget) });
    } catch (err) {
      if (!second || !isTransportFailure(err)) throw err;
      const remaining = deadline.remaining();
      if (remaining <= 1) throw err;
      let result: T;
      try {
        result = await op(second, { deadlineMs: remaining });
      } catch (err2) {
        if (!isTransportFailure(err2)) {
          // The other transport reached RouterOS, which answered: that transport works.
          this.switchTo(second === this.fallback, (err as Error).message);
          throw err2;
        }
        throw new RouterUnavailableError(
          { [first.activeTransport]: err as Error, [second.activeTransport]: err2 as Error },
          (err as { host?: string }).host,
        );
      }
      this.switchTo(second === this.fallback, (err as Error).message);
      return result;
    }
  }

  /** Last known state of the primary, then the fallback (when configured). */
  transportStates(): TransportState[] {
    return [this.primary, this.fallback].flatMap((c) => c?.transportStates?.() ?? []);
  }

  /**
   * Check the transport not in use now with one read-only identity print (its state then
   * shows in transportStates). For a daemon's slow health cadence, not for every cycle.
   * Resolves true when it answered; false when it failed or there is none.
   */
  async checkIdleTransport(opts: CallOptions = { deadlineMs: 2000 }): Promise<boolean> {
    const idle = this.usingFallback ? this.primary : this.fallback;
    if (!idle || this.closed) return false;
    try {
      await idle.getIdentity(opts);
      return true;
    } catch {
      return false;
    }
  }

  setQueueLimits(limits: readonly QueueLimit[], opts?: CallOptions): Promise<void> {
    return this.call(opts, (c, o) => c.setQueueLimits(limits, o));
  }
  getQueueStats(names: readonly string[], opts?: CallOptions): Promise<QueueStats[]> {
    return this.call(opts, (c, o) => c.getQueueStats(names, o));
  }
  findMangleRule(comment: string, opts?: CallOptions): Promise<MangleRule | null> {
    return this.call(opts, (c, o) => c.findMangleRule(comment, o));
  }
  enableMangleRule(comment: string, opts?: CallOptions): Promise<MangleRule> {
    return this.call(opts, (c, o) => c.enableMangleRule(comment, o));
  }
  disableMangleRule(comment: string, opts?: CallOptions): Promise<MangleRule> {
    return this.call(opts, (c, o) => c.disableMangleRule(comment, o));
  }
  resetQueueCounters(names: readonly string[], opts?: CallOptions): Promise<void> {
    return this.call(opts, (c, o) => c.resetQueueCounters(names, o));
  }
  getIdentity(opts?: CallOptions): Promise<string> {
    return this.call(opts, (c, o) => c.getIdentity(o));
  }
  getResource(opts?: CallOptions): Promise<SystemResource> {
    return this.call(opts, (c, o) => c.getResource(o));
  }
  runCommand(cli: string, opts?: CallOptions): Promise<CommandResult> {
    return this.call(opts, (c, o) => c.runCommand(cli, o));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopProbe();
    await Promise.allSettled([this.primary.close(), this.fallback?.close()]);
    this.removeAllListeners();
  }
}

/** Build a single-transport client. */
export function createRouterClient(
  options: RouterClientOptions,
  transport: Transport = options.transport,
): RouterClient {
  const common = {
    host: options.host,
    ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}),
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  };
  if (transport === 'rest') {
    if (!options.rest)
      throw new RouterOptionsError('transport "rest" needs REST settings (user and password)');
    return new RestRouterClient({ ...options.rest, ...common });
  }
  if (!options.ssh)
    throw new RouterOptionsError('transport "ssh" needs SSH settings (user and a key or password)');
  return new SshRouterClient({ ...options.ssh, ...common });
}

function hasCredentials(options: RouterClientOptions, t: Transport): boolean {
  if (t === 'rest') return !!options.rest && options.rest.user !== '' && options.rest.password !== undefined;
  return (
    !!options.ssh &&
    options.ssh.user !== '' &&
    !!(options.ssh.password || options.ssh.privateKeyPath || options.ssh.privateKey)
  );
}

/**
 * The client the daemons use: primary = `options.transport`, fallback = the other transport
 * when its credentials are configured.
 */
export function getRouterClientWithFailover(
  options: RouterClientOptions,
  extra: Omit<FailoverOptions, 'logger' | 'deadlineMs' | 'reprobeIntervalMs'> = {},
): FailoverRouterClient {
  const primary = createRouterClient(options, options.transport);
  const other: Transport = options.transport === 'rest' ? 'ssh' : 'rest';
  const fallback = hasCredentials(options, other) ? createRouterClient(options, other) : undefined;
  return new FailoverRouterClient(primary, fallback, {
    ...extra,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}),
    ...(options.reprobeIntervalMs !== undefined ? { reprobeIntervalMs: options.reprobeIntervalMs } : {}),
  });
}
