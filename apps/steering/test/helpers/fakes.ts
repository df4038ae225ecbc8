/** Typed fakes for in-process daemon tests: router client, RTT probe, systemd notifier, logger sink. */
import { parseSteeringConfig, type SteeringConfig } from '@wanctl/config';
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
import { createLogger, type Logger, type SdNotify } from '@wanctl/runtime';

export interface FakeCall {
  op: string;
  opts: CallOptions | undefined;
}

/** A RouterClient holding one mangle rule and one queue's counters. */
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

  constructor(comment: string) {
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
    this.calls[this.calls.length - 1]!.op = disabled ? 'disable' : 'enable';
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

  async setQueueLimits(_l: readonly QueueLimit[], _o?: CallOptions): Promise<void> {
    throw new Error('steering never writes queues');
  }
  async resetQueueCounters(_n: readonly string[], _o?: CallOptions): Promise<void> {
    throw new Error('steering never resets counters');
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
    throw new Error('steering uses typed operations only');
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** An RTT probe whose replies the test scripts. */
export class FakeProbe implements RttProbe {
  readonly reflectors = ['127.0.0.1:7'];
  /** The reply of the next cycle (null: none arrived). */
  next: number | null = 1;
  /** What measureOnce answers. */
  waited: number | null = null;
  measureCalls = 0;
  started = false;
  stopped = false;
  private seq = 0;

  async start(): Promise<void> {
    this.started = true;
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
  /** latest() throws (a bug somewhere in the cycle). */
  throwOnLatest = false;
  latest(): RoundSamples {
    if (this.throwOnLatest) throw new Error('probe exploded');
    const v = this.next;
    if (v === null) return { at: 0, samples: [] };
    return { at: 0, samples: [{ reflector: this.reflectors[0]!, rttMs: v, seq: ++this.seq, at: this.seq }] };
  }
  fresh(): RoundSamples {
    return this.latest();
  }
  async measureOnce(): Promise<number | null> {
    this.measureCalls++;
    return this.waited;
  }
  health(): ReflectorHealth[] {
    return [];
  }
}

export class FakeNotify implements SdNotify {
  enabled = true;
  socketPath = '/fake';
  watchdogUsec = 30_000_000;
  watchdogIntervalMs = 15_000;
  constructor(intervalMs = 15_000) {
    this.watchdogIntervalMs = intervalMs;
  }
  stats = { sent: 0, failed: 0, merged: 0 } as unknown as SdNotify['stats'];
  messages: string[] = [];
  async ready(status?: string): Promise<void> {
    this.messages.push(`READY=1${status ? ` ${status}` : ''}`);
  }
  async watchdog(): Promise<void> {
    this.messages.push('WATCHDOG=1');
  }
  async status(text: string): Promise<void> {
    this.messages.push(`STATUS=${text}`);
  }
  async stopping(): Promise<void> {
    this.messages.push('STOPPING=1');
  }
  async notify(fields: Record<string, string>): Promise<void> {
    this.messages.push(JSON.stringify(fields));
  }
}

export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({
    name: 'test',
    level: 'debug',
    console: false,
    format: 'text',
    sink: (l) => lines.push(l),
  });
  return { logger, lines };
}

export const COMMENT = 'ADAPTIVE: Steer latency-sensitive to WAN2';

/** A parsed steering config whose paths live in `dir`. */
export function testConfig(
  dir: string,
  o: {
    interval?: number;
    red?: number;
    green?: number;
    historySize?: number;
    comment?: string;
    extra?: string;
  } = {},
): SteeringConfig {
  const yaml = `wan_name: steering
topology: { primary_wan: wan1, primary_wan_config: ${dir}/wan1.yaml, alternate_wan: wan2 }
router: { transport: rest, host: 127.0.0.1, user: admin, password: secret, port: 8080, ssh_key: ${dir}/key }
mangle_rule: { comment: "${o.comment ?? COMMENT}" }
cake_state_sources: { primary: ${dir}/wan1_state.json }
cake_queues: { primary_download: WAN-Download-1, primary_upload: WAN-Upload-1 }
measurement: { interval_seconds: ${o.interval ?? 2}, ping_host: 127.0.0.1, ping_count: 1 }
thresholds: { red_samples_required: ${o.red ?? 2}, green_samples_required: ${o.green ?? 3} }
state: { file: ${dir}/steering_state.json, history_size: ${o.historySize ?? 60} }
logging: { main_log: ${dir}/steering.log, debug_log: ${dir}/debug.log }
lock_file: ${dir}/steering.lock
lock_timeout: 300
${o.extra ?? ''}`;
  return parseSteeringConfig(yaml, { file: `${dir}/steering.yaml`, env: {} });
}
