/** Typed fakes for the daemon's orchestration tests (no auto-mocks). */
import { parseAutorateConfig } from '@wanctl/config';
import type { QueueLimit } from '@wanctl/router-client';
import type { ReflectorHealth, RoundSamples, RttProbe } from '@wanctl/rtt-probe';
import { createLogger, type Logger } from '@wanctl/runtime';

/** A probe whose replies the test sets per cycle. */
export class FakeProbe implements RttProbe {
  readonly reflectors: readonly string[];
  private next: Array<number | null> = [];
  replies = 0;
  started = false;
  throwOnLatest = false;
  constructor(
    reflectors: string[],
    private readonly now: () => number,
  ) {
    this.reflectors = reflectors;
  }
  /** The replies the next latest() returns, one per reflector (null = none). */
  set(rtts: Array<number | null>): void {
    this.next = rtts;
  }
  async start(): Promise<void> {
    this.started = true;
  }
  async stop(): Promise<void> {
    this.started = false;
  }
  latest(): RoundSamples {
    if (this.throwOnLatest) throw new Error('probe exploded');
    const at = this.now();
    const samples = [];
    for (let i = 0; i < this.reflectors.length; i++) {
      const v = this.next[i];
      if (v !== null && v !== undefined)
        samples.push({ reflector: this.reflectors[i] as string, rttMs: v, seq: 0, at });
    }
    this.replies += samples.length;
    this.next = [];
    return { at, samples };
  }
  fresh(_maxAgeMs: number): RoundSamples {
    return { at: this.now(), samples: [] };
  }
  async measureOnce(): Promise<number | null> {
    return null;
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
}

/** A router whose writes the test answers (or leaves hanging). */
export class FakeRouter {
  activeTransport = 'rest';
  writes: Array<{ dl: number; ul: number }> = [];
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  private hanging: Array<() => void> = [];
  closed = false;
  setQueueLimits(limits: readonly QueueLimit[]): Promise<void> {
    this.writes.push({ dl: limits[0]?.maxLimitBps ?? -1, ul: limits[1]?.maxLimitBps ?? -1 });
    if (this.mode === 'ok') return Promise.resolve();
    if (this.mode === 'fail') return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:443'));
    return new Promise<void>((resolve) => {
      this.hanging.push(resolve);
    });
  }
  /** Answers every hanging write. */
  release(): void {
    for (const r of this.hanging.splice(0)) r();
  }
  async close(): Promise<void> {
    this.closed = true;
    this.release();
  }
  // unused RouterClient members (the daemon only writes limits)
  getQueueStats = () => Promise.reject(new Error('not used'));
  findMangleRule = () => Promise.reject(new Error('not used'));
  enableMangleRule = () => Promise.reject(new Error('not used'));
  disableMangleRule = () => Promise.reject(new Error('not used'));
  resetQueueCounters = () => Promise.reject(new Error('not used'));
  getIdentity = () => Promise.resolve('fake');
  getResource = () => Promise.reject(new Error('not used'));
  runCommand = () => Promise.reject(new Error('not used'));
}

/** A logger that keeps its lines (text format). */
export function memoryLogger(name = 'wan1'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({
    name,
    level: 'info',
    format: 'text',
    console: false,
    sink: (l) => lines.push(l),
  });
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

/** A valid autorate config text (v1.3 keys), paths under `dir`. */
export function configText(dir: string, extra: Record<string, string> = {}): string {
  return `
wan_name: "${extra['wan'] ?? 'wan1'}"
router:
  transport: rest
  host: 127.0.0.1
  user: admin
  password: "pw-not-real-123"
  port: 8080
queues:
  download: "WAN-Download-1"
  upload: "WAN-Upload-1"
continuous_monitoring:
  enabled: true
  baseline_rtt_initial: 20
  cycle_interval_ms: ${extra['interval'] ?? 50}
  download:
    floor_green_mbps: 40
    floor_yellow_mbps: 30
    floor_soft_red_mbps: 25
    floor_red_mbps: 20
    ceiling_mbps: 100
    step_up_mbps: 10
    factor_down: 0.5
  upload:
    floor_mbps: 5
    ceiling_mbps: 20
    step_up_mbps: 2
    factor_down: 0.5
  thresholds:
    target_bloat_ms: 10
    warn_bloat_ms: 30
    hard_red_bloat_ms: 60
    alpha_baseline: 0.02
    alpha_load: 0.5
  ping_hosts: ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
  use_median_of_three: true
  fallback_checks:
    enabled: ${extra['fallback'] ?? 'false'}
    gateway_ip: 192.0.2.254
    tcp_targets: [["192.0.2.10", 443]]
logging:
  main_log: "${dir}/wan1.log"
  debug_log: "${dir}/wan1_debug.log"
lock_file: "${dir}/${extra['wan'] ?? 'wan1'}.lock"
lock_timeout: 300
health_check:
  enabled: ${extra['health'] ?? 'false'}
  port: ${extra['healthPort'] ?? 9101}
`;
}

export function config(dir: string, extra: Record<string, string> = {}) {
  return parseAutorateConfig(configText(dir, extra), { file: `${dir}/wan1.yaml` });
}
