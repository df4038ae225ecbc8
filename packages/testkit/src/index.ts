/**
 * @wanctl/testkit — private test support for the wanctl apps (never published, never imported by
 * `src/`): typed fakes for the router client, the RTT probe and the systemd notifier (no
 * auto-mocks), a logger that keeps its lines, a manual clock, and the helpers both apps' tests
 * need (temp dirs, free ports, polling).
 * @packageDocumentation
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CallOptions,
  type CommandResult,
  type MangleRule,
  type QueueLimit,
  type QueueStats,
  type RouterClient,
  RouterConnectionError,
  RouterNotFoundError,
  RouterTimeoutError,
  type SystemResource,
} from '@wanctl/router-client';
import type { ReflectorHealth, RoundSamples, RttProbe } from '@wanctl/rtt-probe';
import { createLogger, type Logger, type LogLevel, type SdNotify } from '@wanctl/runtime';

/** The steering rule comment of the test configs (v1.3's example). */
export const DEFAULT_RULE_COMMENT = 'ADAPTIVE: Steer latency-sensitive to WAN2';

export interface FakeCall {
  op: string;
  opts: CallOptions | undefined;
}

/**
 * A RouterClient holding one mangle rule, one queue's counters, and the queue limits written to
 * it. Every call is recorded (`calls`, `ops()`); failures, hangs and unapplied toggles are
 * scripted per test.
 */
export class FakeRouter implements RouterClient {
  activeTransport: 'rest' | 'ssh' = 'rest';
  ruleExists = true;
  ruleDisabled = true;
  comment: string;
  counters = { bytes: 0, packets: 0, dropped: 0, queuedPackets: 0 };
  /** Fail the next N calls of an op ('find', 'toggle', 'stats') with a connection error. */
  failNext: Record<string, number> = {};
  /** A toggle that the router accepts but does not apply (read-back mismatch). */
  ignoreToggles = false;
  /** Calls hang until their deadline (then RouterTimeoutError). */
  hang = false;
  calls: FakeCall[] = [];
  closed = false;
  /** Queue limit writes, download and upload of each (`setQueueLimits`). */
  writes: Array<{ dl: number; ul: number }> = [];
  /** How queue limit writes end: answered, refused, or left hanging until {@link release}. */
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  private hanging: Array<() => void> = [];

  constructor(comment: string = DEFAULT_RULE_COMMENT) {
    this.comment = comment;
  }

  private async step(op: string, opts: CallOptions | undefined): Promise<void> {
    this.calls.push({ op, opts });
    if (this.hang) {
      await new Promise((r) => setTimeout(r, opts?.deadlineMs ?? 5000));
      throw new RouterTimeoutError(`${op} timed out`, opts?.deadlineMs ?? 5000);
    }
    const n = this.failNext[op] ?? 0;
    if (n > 0) {
      this.failNext[op] = n - 1;
      throw new RouterConnectionError(`connection refused (${op})`, 'refused', { host: 'fake' });
    }
  }

  private rule(): MangleRule {
    return {
      id: '*1',
      comment: this.comment,
      disabled: this.ruleDisabled,
      invalid: false,
      dynamic: false,
      chain: 'prerouting',
      action: 'mark-routing',
      newRoutingMark: 'to_WAN2',
      props: {},
    };
  }

  async findMangleRule(comment: string, opts?: CallOptions): Promise<MangleRule | null> {
    await this.step('find', opts);
    return this.ruleExists && comment === this.comment ? this.rule() : null;
  }

  private async toggle(disabled: boolean, comment: string, opts?: CallOptions): Promise<MangleRule> {
    await this.step('toggle', opts);
    const last = this.calls[this.calls.length - 1];
    if (last) last.op = disabled ? 'disable' : 'enable';
    if (!this.ruleExists || comment !== this.comment)
      throw new RouterNotFoundError(`mangle rule "${comment}"`, 'no such item');
    if (!this.ignoreToggles) this.ruleDisabled = disabled;
    return this.rule();
  }

  enableMangleRule(comment: string, opts?: CallOptions): Promise<MangleRule> {
    return this.toggle(false, comment, opts);
  }

  disableMangleRule(comment: string, opts?: CallOptions): Promise<MangleRule> {
    return this.toggle(true, comment, opts);
  }

  async getQueueStats(names: readonly string[], opts?: CallOptions): Promise<QueueStats[]> {
    await this.step('stats', opts);
    return names.map((name) => ({
      name,
      id: '*10',
      bytes: this.counters.bytes,
      packets: this.counters.packets,
      dropped: this.counters.dropped,
      queuedPackets: this.counters.queuedPackets,
      queuedBytes: this.counters.queuedPackets * 1000,
      rateBps: 0,
      packetRate: 0,
      maxLimitBps: 940_000_000,
      queueType: 'cake-down-wan1',
      disabled: false,
    }));
  }

  /** Congestion: drops grow and packets stand in the queue. */
  congest(on: boolean): void {
    this.counters.packets += 100;
    if (on) this.counters.dropped += 5;
    this.counters.queuedPackets = on ? 80 : 0;
  }

  ops(): string[] {
    return this.calls.map((c) => c.op);
  }

  setQueueLimits(limits: readonly QueueLimit[], _opts?: CallOptions): Promise<void> {
    this.writes.push({ dl: limits[0]?.maxLimitBps ?? -1, ul: limits[1]?.maxLimitBps ?? -1 });
    if (this.mode === 'ok') return Promise.resolve();
    if (this.mode === 'fail') return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:443'));
    return new Promise<void>((resolve) => {
      this.hanging.push(resolve);
    });
  }

  /** Answers every hanging queue write. */
  release(): void {
    for (const r of this.hanging.splice(0)) r();
  }

  async resetQueueCounters(_n: readonly string[], _o?: CallOptions): Promise<void> {
    throw new Error('the fake router does not reset counters');
  }
  async getIdentity(): Promise<string> {
    return 'fake';
  }
  async getResource(): Promise<SystemResource> {
    return {
      uptime: undefined,
      version: undefined,
      boardName: undefined,
      architecture: undefined,
      cpuLoadPercent: undefined,
      freeMemoryBytes: undefined,
      totalMemoryBytes: undefined,
      props: {},
    };
  }
  async runCommand(_cli: string): Promise<CommandResult> {
    throw new Error('the fake router has typed operations only');
  }
  async close(): Promise<void> {
    this.closed = true;
    this.release();
  }
}

export interface FakeProbeOptions {
  /** Default `['127.0.0.1:7']`. */
  reflectors?: string[];
  /** Clock for the replies' `at` (ms). Default: a counter that grows with each reply. */
  now?: () => number;
  /** The standing reply of the first reflector (see {@link FakeProbe.next}). Default null. */
  next?: number | null;
}

/**
 * An RTT probe whose replies the test scripts: {@link set} gives the next round (one value per
 * reflector, consumed by the next `latest()`), else every `latest()` answers {@link next} from
 * the first reflector (null: no reply).
 */
export class FakeProbe implements RttProbe {
  readonly reflectors: string[];
  /** replaceReflector() calls, in order. */
  readonly replaced: Array<{ from: string; to: string }> = [];
  /** The standing reply of every round without a {@link set} (null: none arrived). */
  next: number | null;
  /** What measureOnce answers. */
  waited: number | null = null;
  measureCalls = 0;
  /** Replies handed out so far. */
  replies = 0;
  started = false;
  stopped = false;
  /** latest() throws (a bug somewhere in the cycle). */
  throwOnLatest = false;
  private round: Array<number | null> | null = null;
  private seq = 0;
  private readonly now: (() => number) | null;

  constructor(o: FakeProbeOptions = {}) {
    this.reflectors = [...(o.reflectors ?? ['127.0.0.1:7'])];
    this.now = o.now ?? null;
    this.next = o.next ?? null;
  }

  /** The replies the next latest() returns, one per reflector (null = none). */
  set(rtts: Array<number | null>): void {
    this.round = rtts;
  }
  async start(): Promise<void> {
    this.started = true;
  }
  async stop(): Promise<void> {
    this.started = false;
    this.stopped = true;
  }
  latest(): RoundSamples {
    if (this.throwOnLatest) throw new Error('probe exploded');
    const round = this.round ?? [this.next];
    this.round = null;
    const samples = [];
    for (let i = 0; i < this.reflectors.length; i++) {
      const v = round[i];
      if (v === null || v === undefined) continue;
      this.seq++;
      // without a clock, each reply is newer than the last (its sequence number)
      const at = this.now ? this.now() : this.seq;
      samples.push({ reflector: this.reflectors[i] as string, rttMs: v, seq: this.seq, at });
    }
    this.replies += samples.length;
    return { at: this.now ? this.now() : 0, samples };
  }
  fresh(_maxAgeMs?: number): RoundSamples {
    return this.latest();
  }
  async measureOnce(): Promise<number | null> {
    this.measureCalls++;
    return this.waited;
  }
  health(): ReflectorHealth[] {
    return this.reflectors.map((r) => ({
      reflector: r,
      lastReplyAgeMs: null,
      lastRttMs: null,
      lossPct: 0,
      replies: this.replies,
      alive: true,
    }));
  }
  /** Swaps the name in place (recorded in `replaced`); throws as the real probes do for an unknown one. */
  async replaceReflector(from: string, to: string): Promise<void> {
    const i = this.reflectors.indexOf(from);
    if (i < 0) throw new Error(`reflector "${from}" is not probed`);
    this.reflectors[i] = to;
    this.replaced.push({ from, to });
  }
}

/**
 * A systemd notifier that records every message: `messages` as fields, `texts()` as one line
 * each (`READY=1 <status>`, `WATCHDOG=1`, `STATUS=<text>`, `STOPPING=1`, other field sets as JSON).
 */
export class FakeNotify implements SdNotify {
  readonly enabled = true;
  readonly socketPath = '/run/fake-notify';
  readonly watchdogUsec: number;
  readonly watchdogIntervalMs: number;
  readonly stats = { sent: 0, failed: 0, coalesced: 0 };
  messages: Array<Record<string, string>> = [];

  /** @param watchdogIntervalMs how often the watchdog may be fed (half of WatchdogSec) */
  constructor(watchdogIntervalMs = 15_000) {
    this.watchdogIntervalMs = watchdogIntervalMs;
    this.watchdogUsec = watchdogIntervalMs * 2000;
  }
  async ready(status?: string): Promise<void> {
    this.messages.push({ READY: '1', ...(status ? { STATUS: status } : {}) });
  }
  async watchdog(): Promise<void> {
    this.messages.push({ WATCHDOG: '1' });
  }
  async status(text: string): Promise<void> {
    this.messages.push({ STATUS: text });
  }
  async stopping(status?: string): Promise<void> {
    this.messages.push({ STOPPING: '1', ...(status ? { STATUS: status } : {}) });
  }
  async notify(fields: Record<string, string>): Promise<void> {
    this.messages.push({ ...fields, [NOTIFY_CALL]: '1' });
  }
  /** Messages carrying `key`. */
  count(key: string): number {
    return this.messages.filter((m) => key in m).length;
  }
  /** The messages as lines (see the class comment). */
  texts(): string[] {
    return this.messages.map((m) => {
      if (NOTIFY_CALL in m) {
        const { [NOTIFY_CALL]: _, ...fields } = m;
        return JSON.stringify(fields);
      }
      if ('READY' in m) return `READY=1${m['STATUS'] ? ` ${m['STATUS']}` : ''}`;
      if ('STOPPING' in m) return 'STOPPING=1';
      if ('WATCHDOG' in m) return 'WATCHDOG=1';
      return `STATUS=${m['STATUS']}`;
    });
  }
}

/** Marks a message sent through the raw `notify(fields)` (e.g. the watchdog's re-arm). */
const NOTIFY_CALL = '\u0000notify';

/** A logger (text format) that keeps its lines. */
export function memoryLogger(name = 'test', level: LogLevel = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ name, level, format: 'text', console: false, sink: (l) => lines.push(l) });
  return { logger, lines };
}

/** A manual monotonic clock (ms). */
export function manualClock(start = 1000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** A fresh temporary directory and its removal. */
export async function tempDir(prefix = 'wanctl-test-'): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }) };
}

/** A free TCP port on 127.0.0.1 (bound then released; fine for a test that binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface WaitForOptions {
  /** Default 30 000 ms (a busy 2-core machine). */
  timeoutMs?: number;
  /** Default 25 ms. */
  intervalMs?: number;
  /** Added to the timeout error (what the test saw). */
  detail?: () => string;
}

/**
 * Polls `fn` until it returns a truthy value (returned) or the deadline passes (then throws,
 * naming `what` and the last value or error). A number as `opts` is the timeout in ms.
 */
export async function waitFor<T>(
  what: string,
  fn: () => T | Promise<T>,
  opts: WaitForOptions | number = {},
): Promise<NonNullable<T>> {
  const o = typeof opts === 'number' ? { timeoutMs: opts } : opts;
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})${
          o.detail ? `\n${o.detail()}` : ''
        }`,
      );
    }
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 25));
  }
}

/** `name{labels} value` lines of a Prometheus scrape, as a map (comments and blank lines skipped). */
export async function scrapeMetrics(registry: { metrics(): Promise<string> }): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await registry.metrics()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}
