/**
 * UDP echo probing (no privileges needed) and a controllable UDP echo responder.
 *
 * Datagram (16 bytes, echoed back unchanged): `WRTT` magic, u32 probe id, u16 reflector index,
 * u16 generation of that index (bumped when the reflector is replaced), u32 sequence number (big
 * endian). Replies are matched by id, reflector, generation and sequence number; a reply later
 * than `timeoutMs` counts as lost.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ReflectorTracker } from './tracker.js';
import { ProbeConfigError, type ProbeEvent, ProbeUnavailableError, type RttProbe } from './types.js';

const MAGIC = 0x57525454; // "WRTT"
const PACKET_LEN = 16;
const RING = 256; // outstanding probes remembered per reflector

/** A `host:port` reflector. */
export interface UdpReflector {
  host: string;
  port: number;
}

/** Parse `"host:port"` or `"[v6]:port"`. @throws {ProbeConfigError} */
export function parseHostPort(text: string): UdpReflector {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !(port >= 1 && port <= 65535)) {
    throw new ProbeConfigError(`invalid UDP reflector "${text}": expected host:port (or [ipv6]:port)`);
  }
  return { host: m[1] as string, port };
}

/** The label of a UDP reflector (`host:port`, `[v6]:port`), as `reflectors` and samples show it. */
export function formatReflector(r: UdpReflector): string {
  return r.host.includes(':') ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`;
}

/** Options of {@link UdpEchoProbe}. */
export interface UdpEchoProbeOptions {
  /** `"host:port"` strings or objects. */
  reflectors: Array<string | UdpReflector>;
  /** Interval between probes to one reflector. Default 100 ms. */
  periodMs?: number;
  /** A reply later than this is lost. Default 1000 ms. */
  timeoutMs?: number;
  /** A reflector silent this long is reported down. Default max(2000, 3 × period + timeout). */
  deadAfterMs?: number;
  /** Local address to bind (per-WAN source address). */
  sourceAddress?: string;
  /**
   * Send each round from `latest()` when one is due (a round is due 3/4 of a period after the
   * previous one), so that a caller polling every period (a daemon's cycle) sends and reads in
   * the same wake-up; a timer sends only when the caller is late by half a period or stops
   * polling. Default true; false: a timer sends every period.
   */
  paceByCaller?: boolean;
  onEvent?: (e: ProbeEvent) => void;
  /** Monotonic clock (ms). Default `performance.now()`. */
  now?: () => number;
}

interface Target {
  label: string;
  host: string;
  port: number;
  address: string;
  family: 4 | 6;
  seq: number;
  /** Generation of this slot: bumped when its reflector is replaced (replies to the old one are ignored). */
  gen: number;
  /** Oldest sequence number that may still be outstanding (expiry scans from here). */
  oldest: number;
  sentSeq: Int32Array;
  sentAt: Float64Array;
}

/**
 * RTT probe with sequence-numbered UDP datagrams to echo reflectors.
 *
 * @example
 * const probe = new UdpEchoProbe({ reflectors: ['127.0.0.1:7007'], periodMs: 50 });
 * await probe.start();
 * const { samples } = probe.latest();
 */
export class UdpEchoProbe implements RttProbe {
  private readonly targets: Target[];
  private readonly tracker: ReflectorTracker;
  private readonly now: () => number;
  private readonly periodMs: number;
  private readonly timeoutMs: number;
  private readonly id = (Math.random() * 0xffffffff) >>> 0;
  private sockets: { 4?: Socket; 6?: Socket } = {};
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private lastSendAt = Number.NEGATIVE_INFINITY;
  private lastPollAt = Number.NEGATIVE_INFINITY;
  /** Datagrams sent / stray datagrams ignored. */
  sent = 0;
  ignored = 0;
  /** Rounds sent from `latest()` / by the timer. */
  roundsByCaller = 0;
  roundsByTimer = 0;
  /** Reflectors replaced at run time ({@link UdpEchoProbe.replaceReflector}). */
  replacements = 0;
  private replacing: Promise<void> = Promise.resolve();

  constructor(private readonly options: UdpEchoProbeOptions) {
    if (options.reflectors.length === 0) throw new ProbeConfigError('UDP probe needs at least one reflector');
    const parsed = options.reflectors.map((r) => (typeof r === 'string' ? parseHostPort(r) : r));
    const labels = parsed.map(formatReflector);
    this.now = options.now ?? (() => performance.now());
    this.periodMs = options.periodMs ?? 100;
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.targets = parsed.map((r, i) => ({
      label: labels[i] as string,
      host: r.host,
      port: r.port,
      address: '',
      family: 4,
      seq: 0,
      gen: 0,
      oldest: 0,
      sentSeq: new Int32Array(RING).fill(-1),
      sentAt: new Float64Array(RING),
    }));
    this.tracker = new ReflectorTracker(labels, {
      now: this.now,
      periodMs: this.periodMs,
      timeoutMs: this.timeoutMs,
      countSilence: false,
      deadAfterMs: options.deadAfterMs ?? Math.max(2000, 3 * this.periodMs + this.timeoutMs),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
  }

  /** Reflectors in order (a replacement changes one in place). */
  get reflectors(): readonly string[] {
    return this.tracker.reflectors;
  }

  /** Resolves reflector names once and opens the socket(s). @throws {ProbeUnavailableError} */
  async start(): Promise<void> {
    if (this.running) return;
    for (const t of this.targets) {
      const a = await resolveReflector(t.host, t.label);
      t.address = a.address;
      t.family = a.family;
    }
    for (const fam of [4, 6] as const) {
      if (!this.targets.some((t) => t.family === fam)) continue;
      this.sockets[fam] = await this.openSocket(fam);
    }
    this.tracker.reset();
    this.running = true;
    this.sendRound(false);
  }

  private async openSocket(fam: 4 | 6): Promise<Socket> {
    const sock = createSocket(fam === 4 ? 'udp4' : 'udp6');
    sock.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    sock.on('error', (err) =>
      this.options.onEvent?.({ kind: 'error', message: `udp probe: ${err.message}` }),
    );
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      const src = this.options.sourceAddress;
      sock.bind(src && isIP(src) === fam ? { address: src, port: 0 } : { port: 0 }, () => {
        sock.off('error', reject);
        resolve();
      });
    }).catch((err: Error) => {
      sock.close();
      throw new ProbeUnavailableError(`cannot open UDP socket: ${err.message}`);
    });
    return sock;
  }

  /**
   * Probe `newReflector` (`host:port`) in `oldReflector`'s place: the slot gets the new target
   * (a name is resolved first), a fresh sequence and loss state and a new generation, so that a
   * late reply of the old reflector is ignored. See {@link RttProbe.replaceReflector}.
   */
  replaceReflector(oldReflector: string, newReflector: string): Promise<void> {
    const run = this.replacing.then(() => this.doReplace(oldReflector, newReflector));
    this.replacing = run.catch(() => {});
    return run;
  }

  private async doReplace(oldReflector: string, newReflector: string): Promise<void> {
    const i = this.tracker.indexOf(oldReflector);
    const parsed = parseHostPort(newReflector);
    const label = formatReflector(parsed);
    const t = i === undefined ? undefined : this.targets[i];
    if (i === undefined || t === undefined)
      throw new ProbeConfigError(`UDP reflector "${oldReflector}" is not probed`);
    if (this.tracker.indexOf(label) !== undefined)
      throw new ProbeConfigError(`UDP reflector "${label}" is probed already`);
    let address = '';
    let family: 4 | 6 = 4;
    if (this.running) {
      ({ address, family } = await resolveReflector(parsed.host, label));
      if (!this.sockets[family] && this.running) this.sockets[family] = await this.openSocket(family);
    }
    t.label = label;
    t.host = parsed.host;
    t.port = parsed.port;
    t.address = address;
    t.family = family;
    t.seq = 0;
    t.oldest = 0;
    t.gen = (t.gen + 1) & 0xffff;
    t.sentSeq.fill(-1);
    this.tracker.replace(i, label);
    this.replacements++;
  }

  /** Sends one probe to every reflector, then arms the timer for the next round. */
  private sendRound(byCaller: boolean): void {
    if (!this.running) return;
    const now = this.now();
    this.lastSendAt = now;
    if (byCaller) this.roundsByCaller++;
    else this.roundsByTimer++;
    if (this.timer) clearTimeout(this.timer);
    // a caller that polls every period sends the next round itself; the timer is the fallback,
    // due half a period after the caller's turn
    const paced =
      this.options.paceByCaller !== false && (byCaller || now - this.lastPollAt <= this.periodMs * 1.25);
    this.timer = setTimeout(() => this.sendRound(false), paced ? this.periodMs * 1.5 : this.periodMs);
    for (let i = 0; i < this.targets.length; i++) {
      const t = this.targets[i] as Target;
      // expire the probe that is about to be overwritten, and any timed-out one
      this.expire(i, t, now);
      const seq = t.seq;
      t.seq = (t.seq + 1) & 0x7fffffff;
      if (t.seq === 0) t.oldest = 0; // wrapped (after 2^31 probes)
      const slot = seq % RING;
      t.sentSeq[slot] = seq;
      t.sentAt[slot] = now;
      // a fresh buffer per datagram: dgram reads it asynchronously, after this loop moved on
      const packet = Buffer.allocUnsafe(PACKET_LEN);
      packet.writeUInt32BE(MAGIC, 0);
      packet.writeUInt32BE(this.id, 4);
      packet.writeUInt16BE(i, 8);
      packet.writeUInt16BE(t.gen, 10);
      packet.writeUInt32BE(seq >>> 0, 12);
      const sock = this.sockets[t.family];
      if (!sock) continue;
      this.sent++;
      sock.send(packet, t.port, t.address, (err) => {
        if (err) this.options.onEvent?.({ kind: 'error', message: `udp send to ${t.label}: ${err.message}` });
      });
    }
    this.tracker.checkDead(now);
  }

  /**
   * Counts as lost the probes older than the timeout, and the one whose ring slot the next
   * probe takes. Probes go out in sequence order, so the scan starts at the oldest one that may
   * still be outstanding and stops at the first that is not yet due.
   */
  private expire(i: number, t: Target, now: number): void {
    while (t.oldest < t.seq) {
      const slot = t.oldest % RING;
      const s = t.sentSeq[slot] as number;
      if (s === t.oldest) {
        if (now - (t.sentAt[slot] as number) <= this.timeoutMs && t.seq - t.oldest < RING) break;
        t.sentSeq[slot] = -1;
        this.tracker.lost(i, s);
      }
      t.oldest++;
    }
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    const at = this.now();
    if (msg.length < PACKET_LEN || msg.readUInt32BE(0) !== MAGIC || msg.readUInt32BE(4) !== this.id) {
      this.ignored++;
      return;
    }
    const i = msg.readUInt16BE(8);
    const seq = msg.readUInt32BE(12) & 0x7fffffff;
    const t = this.targets[i];
    if (!t || t.port !== rinfo.port || msg.readUInt16BE(10) !== t.gen) {
      this.ignored++;
      return;
    }
    const slot = seq % RING;
    if (t.sentSeq[slot] !== seq) {
      this.ignored++; // duplicate, or already counted lost
      return;
    }
    const rtt = at - (t.sentAt[slot] as number);
    t.sentSeq[slot] = -1;
    if (rtt > this.timeoutMs) {
      this.tracker.lost(i, seq);
      return;
    }
    this.tracker.reply(i, Math.round(rtt * 1000) / 1000, seq, at);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.tracker.cancelWaiters();
    const socks = Object.values(this.sockets);
    this.sockets = {};
    await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  /** The newest reply per reflector since the previous call; sends the next round if it is due. */
  latest() {
    const round = this.tracker.latest();
    this.lastPollAt = round.at;
    if (
      this.running &&
      this.options.paceByCaller !== false &&
      round.at - this.lastSendAt >= this.periodMs * 0.75
    )
      this.sendRound(true);
    return round;
  }

  fresh(maxAgeMs: number) {
    return this.tracker.fresh(maxAgeMs);
  }

  measureOnce(timeoutMs: number): Promise<number | null> {
    return this.tracker.nextReply(timeoutMs);
  }

  health() {
    return this.tracker.health();
  }
}

/** A reflector's address (a name is looked up). @throws {ProbeUnavailableError} */
async function resolveReflector(host: string, label: string): Promise<{ address: string; family: 4 | 6 }> {
  const fam = isIP(host);
  if (fam === 4 || fam === 6) return { address: host, family: fam };
  try {
    const r = await lookup(host);
    return { address: r.address, family: r.family === 6 ? 6 : 4 };
  } catch (err) {
    throw new ProbeUnavailableError(`cannot resolve UDP reflector ${label}: ${(err as Error).message}`);
  }
}

/** Options of {@link startUdpEchoResponder}. */
export interface UdpEchoResponderOptions {
  /** 0 picks a free port. */
  port: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Fixed reply delay (ms). Default 0. */
  delayMs?: number;
  /**
   * Per-datagram delay: return the delay in ms, or null to drop the datagram (loss).
   * Takes precedence over `delayMs`.
   */
  delayFn?: (msg: Buffer, from: RemoteInfo) => number | null;
}

/** A running echo responder. */
export interface UdpEchoResponder {
  readonly host: string;
  readonly port: number;
  /** `host:port` for a probe's reflector list. */
  readonly address: string;
  /** Datagrams received / echoed. */
  readonly stats: { received: number; echoed: number; dropped: number };
  /** Change the fixed delay at run time (clears any delayFn). */
  setDelay(ms: number): void;
  /** Replace the delay function at run time (null: back to the fixed delay). */
  setDelayFn(fn: ((msg: Buffer, from: RemoteInfo) => number | null) | null): void;
  /** Drop every datagram (a dead reflector) until set back to false. */
  setDropAll(drop: boolean): void;
  close(): Promise<void>;
}

/**
 * A UDP echo server for tests and the demo's link model: echoes each datagram back after a
 * delay the caller controls at run time.
 */
export async function startUdpEchoResponder(options: UdpEchoResponderOptions): Promise<UdpEchoResponder> {
  const host = options.host ?? '127.0.0.1';
  const sock = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  let delayMs = options.delayMs ?? 0;
  let delayFn = options.delayFn ?? null;
  let dropAll = false;
  const pending = new Set<NodeJS.Timeout>();
  const stats = { received: 0, echoed: 0, dropped: 0 };
  let closed = false;
  sock.on('message', (msg, rinfo) => {
    stats.received++;
    const d = dropAll ? null : delayFn ? delayFn(msg, rinfo) : delayMs;
    if (d === null || closed) {
      stats.dropped++;
      return;
    }
    const send = () => {
      if (closed) return;
      stats.echoed++;
      sock.send(msg, rinfo.port, rinfo.address);
    };
    if (d <= 0) {
      send();
      return;
    }
    const t = setTimeout(() => {
      pending.delete(t);
      send();
    }, d);
    pending.add(t);
  });
  sock.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(options.port, host, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  const port = sock.address().port;
  return {
    host,
    port,
    address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    stats,
    setDelay: (ms) => {
      delayMs = ms;
      delayFn = null;
    },
    setDelayFn: (fn) => {
      delayFn = fn;
    },
    setDropAll: (drop) => {
      dropAll = drop;
    },
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        for (const t of pending) clearTimeout(t);
        pending.clear();
        sock.close(() => resolve());
      }),
  };
}
