/**
 * The fault storm (issue 16): pieces used by fault-storm.test.ts. A seeded PRNG, the catalogue of
 * faults and router events with their settings, the daemon configs, the child processes, a UDP
 * echo reflector, and the snapshot/ownership bookkeeping that says which router objects the
 * daemons may change (and which field of them).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Emulator, FaultSettings, QueueCounters, TrafficModel } from '@wanctl/routeros-emulator';
import { REPO } from './helpers.js';

export const AUTORATE_CLI = path.join(REPO, 'apps', 'autorate', 'dist', 'cli.js');
export const STEERING_CLI = path.join(REPO, 'apps', 'steering', 'dist', 'cli.js');

export const DL_QUEUE = 'WAN-Download-1';
export const UL_QUEUE = 'WAN-Upload-1';
export const RULE_COMMENT = 'ADAPTIVE: Steer latency-sensitive to WAN2';
export const TREE = '/queue/tree';
export const TYPES = '/queue/type';
export const MANGLE = '/ip/firewall/mangle';

// ---------------------------------------------------------------------------------------------
// seeded randomness

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = prng(seed);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// ---------------------------------------------------------------------------------------------
// the fault catalogue

export type Face = 'rest' | 'ssh';

/** One kind of fault: what it sets on the face, and the key(s) that clear it. */
export interface FaultKind {
  face: Face;
  kind: string;
  /** The settings to merge into the face's faults (random where the kind has a parameter). */
  settings(r: Rng): FaultSettings;
}

const count = (r: Rng) => r.int(1, 6);

export const FAULT_KINDS: readonly FaultKind[] = [
  { face: 'rest', kind: 'refused', settings: () => ({ down: true }) },
  { face: 'rest', kind: 'reset', settings: (r) => ({ reset: r.chance(0.5) ? true : count(r) }) },
  { face: 'rest', kind: 'hang', settings: () => ({ hang: true }) },
  { face: 'rest', kind: 'slow', settings: (r) => ({ latencyMs: r.int(50, 2500) }) },
  { face: 'rest', kind: '401', settings: (r) => ({ httpError: { status: 401, count: count(r) } }) },
  { face: 'rest', kind: '500', settings: (r) => ({ httpError: { status: 500, count: count(r) } }) },
  { face: 'rest', kind: '503', settings: (r) => ({ httpError: { status: 503, count: count(r) } }) },
  {
    face: 'rest',
    kind: 'malformed-json',
    settings: (r) => ({ malformedJson: r.chance(0.5) ? true : count(r) }),
  },
  {
    face: 'rest',
    kind: 'answer-body',
    settings: (r) => ({
      answerBody: {
        body: r.pick(['null', '{}', '""', '', '[]', '{".id":"*FFFF","name":"other"}']),
        count: count(r),
        ...(r.chance(0.5) ? { method: r.pick(['GET', 'PATCH', 'POST']) } : {}),
      },
    }),
  },
  {
    face: 'rest',
    kind: 'oversize',
    settings: (r) => ({ oversize: { bytes: r.int(256 * 1024, 3 * 1024 * 1024), count: count(r) } }),
  },
  { face: 'rest', kind: 'session-closed', settings: (r) => ({ sessionClosed: count(r) }) },
  { face: 'rest', kind: 'max-sessions', settings: () => ({ maxSessions: 1 }) },
  { face: 'ssh', kind: 'refused', settings: () => ({ down: true }) },
  { face: 'ssh', kind: 'hang', settings: () => ({ hang: true }) },
  { face: 'ssh', kind: 'slow', settings: (r) => ({ latencyMs: r.int(50, 2500) }) },
  { face: 'ssh', kind: 'disconnect', settings: (r) => ({ disconnect: r.chance(0.5) ? true : count(r) }) },
  {
    face: 'ssh',
    kind: 'oversize',
    settings: (r) => ({ oversize: { bytes: r.int(256 * 1024, 3 * 1024 * 1024), count: count(r) } }),
  },
  { face: 'ssh', kind: 'max-sessions', settings: () => ({ maxSessions: 1 }) },
];

/** The settings that clear what `s` set (every key to false). */
export function clearing(s: FaultSettings): FaultSettings {
  return Object.fromEntries(Object.keys(s).map((k) => [k, false])) as FaultSettings;
}

/** Counts per row of the final table. */
export class Tally {
  private readonly rows = new Map<string, number>();
  add(row: string): void {
    this.rows.set(row, (this.rows.get(row) ?? 0) + 1);
  }
  get(row: string): number {
    return this.rows.get(row) ?? 0;
  }
  total(prefix = ''): number {
    let n = 0;
    for (const [k, v] of this.rows) if (k.startsWith(prefix)) n += v;
    return n;
  }
  entries(): Array<[string, number]> {
    return [...this.rows.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  }
}

// ---------------------------------------------------------------------------------------------
// load: a traffic model for the steering daemon's CAKE reads, and a UDP echo reflector

/** Queue counters for the primary download queue: drops and a standing queue while congested. */
export class StormTrafficModel implements TrafficModel {
  congested = false;
  private dropped = 0;
  private packets = 0;
  counters(q: { name: string }): QueueCounters {
    if (q.name !== DL_QUEUE)
      return { bytes: 0, packets: 0, dropped: 0, queuedBytes: 0, queuedPackets: 0, rate: 0, packetRate: 0 };
    this.packets += 100;
    if (this.congested) this.dropped += 5;
    const queued = this.congested ? 80 : 0;
    return {
      bytes: this.packets * 1000,
      packets: this.packets,
      dropped: this.dropped,
      queuedBytes: queued * 1000,
      queuedPackets: queued,
      rate: 0,
      packetRate: 0,
    };
  }
}

export interface Reflector {
  port: number;
  setDelay(ms: number): void;
  close(): Promise<void>;
}

/** A UDP echo reflector on 127.0.0.1 that answers every datagram after a settable delay. */
export async function startReflector(delayMs: number): Promise<Reflector> {
  const sock = createSocket('udp4');
  let delay = delayMs;
  let closed = false;
  const timers = new Set<NodeJS.Timeout>();
  sock.on('message', (msg, rinfo) => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!closed) sock.send(msg, rinfo.port, rinfo.address);
    }, delay);
    timers.add(t);
  });
  sock.on('error', () => {});
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  return {
    port: sock.address().port,
    setDelay(ms) {
      delay = ms;
    },
    close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      return new Promise<void>((r) => sock.close(() => r()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// the daemons

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

export interface RouterAccess {
  emu: Emulator;
  user: string;
  passwordEnv: string;
  keyFile: string;
}

/** wanctl-autorate: REST primary, SSH fallback, 50 ms cycles, UDP probe, a big write budget. */
export function autorateYaml(o: RouterAccess & { dir: string; healthPort: number; udpPort: number }): string {
  return `wan_name: "wan1"
router:
  transport: rest
  host: 127.0.0.1
  user: ${o.user}
  password: "\${${o.passwordEnv}}"
  port: ${o.emu.rest?.port}
  scheme: http
  ssh_key: "${o.keyFile}"
  ssh_port: ${o.emu.ssh?.port}
  ssh_host_key_sha256: "${o.emu.ssh?.hostKeyFingerprint}"
  call_deadline_ms: 1500
queues:
  download: "${DL_QUEUE}"
  upload: "${UL_QUEUE}"
continuous_monitoring:
  enabled: true
  baseline_rtt_initial: 20
  cycle_interval_ms: 50
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
    target_bloat_ms: 40
    warn_bloat_ms: 80
    hard_red_bloat_ms: 150
    alpha_baseline: 0.02
    alpha_load: 0.5
  ping_hosts: ["127.0.0.1"]
  probe:
    method: udp
    udp_port: ${o.udpPort}
  fallback_checks:
    enabled: false
  write_budget:
    max_writes: 1000
    window_sec: 60
logging:
  main_log: "${o.dir}/wan1.log"
  debug_log: "${o.dir}/wan1_debug.log"
lock_file: "${o.dir}/wan1.lock"
lock_timeout: 300
history:
  file: "${o.dir}/wan1_history.db"
timeouts:
  ssh_command: 2
  ping: 1
health_check:
  enabled: true
  host: 127.0.0.1
  port: ${o.healthPort}
metrics:
  enabled: false
`;
}

/** wanctl-steering: REST primary, SSH fallback, 0.2 s cycles, reading autorate's state file. */
export function steeringYaml(o: RouterAccess & { dir: string; healthPort: number; udpPort: number }): string {
  return `schema_version: "1.0"
wan_name: "steering"
topology:
  primary_wan: "wan1"
  primary_wan_config: "${o.dir}/wan1.yaml"
  alternate_wan: "wan2"
router:
  transport: "rest"
  host: "127.0.0.1"
  user: "${o.user}"
  password: "\${${o.passwordEnv}}"
  port: ${o.emu.rest?.port}
  scheme: "http"
  ssh_key: "${o.keyFile}"
  ssh_port: ${o.emu.ssh?.port}
  ssh_host_key_sha256: "${o.emu.ssh?.hostKeyFingerprint}"
mangle_rule:
  comment: "${RULE_COMMENT}"
cake_state_sources:
  primary: "${o.dir}/wan1_state.json"
cake_queues:
  primary_download: "${DL_QUEUE}"
  primary_upload: "${UL_QUEUE}"
measurement:
  interval_seconds: 0.2
  ping_host: "127.0.0.1"
  ping_count: 1
  probe:
    method: udp
    udp_port: ${o.udpPort}
thresholds:
  red_samples_required: 2
  green_samples_required: 4
mode:
  cake_aware: true
state:
  file: "${o.dir}/steering_state.json"
  history_size: 60
logging:
  main_log: "${o.dir}/steering.log"
  debug_log: "${o.dir}/steering_debug.log"
lock_file: "${o.dir}/steering.lock"
lock_timeout: 300
history:
  file: "${o.dir}/steering_history.db"
health_check:
  enabled: true
  port: ${o.healthPort}
metrics:
  enabled: false
`;
}

export interface Daemon {
  name: string;
  child: ChildProcess;
  /** The last ~256 KiB of stdout + stderr. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  stop(): Promise<void>;
}

export function startDaemon(name: string, cli: string, args: string[], env: Record<string, string>): Daemon {
  const child = spawn(process.execPath, [cli, ...args], {
    env: { ...process.env, ...env, NOTIFY_SOCKET: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 512 * 1024) out = out.slice(-256 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    output: () => out,
    exited,
    alive,
    async stop() {
      if (!alive()) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** GET a JSON document (null when the endpoint does not answer or the body is not JSON). */
export async function getJson(
  url: string,
): Promise<{ status: number; body: Record<string, unknown> } | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    const text = await res.text();
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return null;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// what the daemons may change, and the snapshot of everything else

/** Fields that are counters or ids, not configuration: left out of snapshots. */
const VOLATILE = new Set([
  '.id',
  'bytes',
  'packets',
  'dropped',
  'rate',
  'packet-rate',
  'queued-bytes',
  'queued-packets',
]);

/** The router objects the daemons own, and the one field each may change. */
export function ownedField(menu: string, item: Record<string, string>): string | null {
  if (menu === TREE && (item['name'] === DL_QUEUE || item['name'] === UL_QUEUE)) return 'max-limit';
  if (menu === MANGLE && item['comment'] === RULE_COMMENT) return 'disabled';
  return null;
}

/** A key naming an object across renumbering: menu and name (or comment for mangle rules). */
export function objectKey(menu: string, item: Record<string, string>): string {
  return menu === MANGLE ? `${menu} comment="${item['comment']}"` : `${menu} name="${item['name']}"`;
}

export type Snapshot = Map<string, Record<string, string>>;

/**
 * Every object of the menus the daemons touch, keyed by name/comment, without counters and ids,
 * and without the one field a daemon owns (our queues' max-limit, our rule's disabled).
 */
export function snapshot(emu: Emulator): Snapshot {
  const snap: Snapshot = new Map();
  for (const menu of [TREE, TYPES, MANGLE]) {
    for (const item of emu.state.list(menu) as Array<Record<string, string>>) {
      const owned = ownedField(menu, item);
      const rec = Object.fromEntries(
        Object.entries(item).filter(([k]) => !VOLATILE.has(k) && k !== owned),
      ) as Record<string, string>;
      snap.set(objectKey(menu, item), rec);
    }
  }
  return snap;
}

/** The differences between two snapshots, one line each. */
export function diffSnapshots(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  for (const [key, a] of before) {
    const b = after.get(key);
    if (!b) {
      out.push(`${key}: removed`);
      continue;
    }
    for (const f of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (a[f] !== b[f]) out.push(`${key}: ${f} ${JSON.stringify(a[f])} -> ${JSON.stringify(b[f])}`);
    }
  }
  for (const key of after.keys()) if (!before.has(key)) out.push(`${key}: added`);
  return out;
}

/** Formats rows as a fixed-width text table. */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const w = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i] ?? 0)).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
