import { AlternateWan, type AlternateWanOptions } from './alternate.js';
import { LinkSimConfigError, requireFinite, requirePositive } from './errors.js';
import { constantLoad, LoadCursor, type LoadSchedule } from './load.js';
import { Prng } from './prng.js';
import type { CapacityTrace, Direction } from './trace.js';

/** Options for one direction of the link. */
export interface DirectionOptions {
  /** Capacity trace for this direction; default: the top-level `trace`. */
  trace?: CapacityTrace;
  /**
   * Bottleneck (ISP-side) buffer in milliseconds of the *current* capacity: the queue holds at
   * most `bufferMs` of delay, whatever the capacity. Default 300. Ignored when `bufferBytes` is set.
   */
  bufferMs?: number;
  /** Bottleneck buffer as a fixed byte size (delay cap then grows when capacity falls). */
  bufferBytes?: number;
  /** Initial shaper rate (CAKE max-limit), bps. 0 or Infinity = unshaped. Default unshaped. */
  shaperRateBps?: number;
  /** CoDel target sojourn of the shaper, ms. Default 5 (CAKE's default). */
  shaperTargetMs?: number;
  /** CoDel interval of the shaper, ms. Default 100 (CAKE's default for rtt 100ms). */
  shaperIntervalMs?: number;
  /** Hard byte limit of the shaper queue (tail drop beyond it). Default 4 MiB. */
  shaperLimitBytes?: number;
}

/** How the greedy TCP-like flows behave. */
export interface FlowOptions {
  /**
   * Window growth in congestion avoidance. `cubic` (default, what Linux runs): the window
   * follows W(t) = C(t-K)^3 + Wmax after a loss, never slower than the additive increase;
   * `reno`: plain additive increase of `increasePacketsPerRtt` per RTT.
   */
  growth?: 'cubic' | 'reno';
  /** Multiplicative decrease on a loss. Default 0.7 (CUBIC's beta); 0.5 is Reno. */
  beta?: number;
  /** Additive increase in congestion avoidance, packets per RTT. Default 1. */
  increasePacketsPerRtt?: number;
  /** CUBIC's C, packets per second cubed. Default 0.4. */
  cubicC?: number;
  /** Initial congestion window, packets. Default 10. */
  initialWindowPackets?: number;
  /** Per-flow window cap (receive window), bytes. Default 8 MiB. */
  maxWindowBytes?: number;
}

export interface LinkSimOptions {
  /** PRNG seed: the same seed and options give the same run, bit for bit. Default 1. */
  seed?: number;
  /** Round-trip time of the empty path, ms. */
  baseRttMs: number;
  /** Capacity trace for both directions (unless a direction gives its own). */
  trace?: CapacityTrace;
  down?: DirectionOptions;
  up?: DirectionOptions;
  flows?: FlowOptions;
  /** Offered load over time. Default: 4 download and 4 upload flows, always on. */
  load?: LoadSchedule;
  /** Packet size used for packet counts and drops, bytes. Default 1500. */
  packetBytes?: number;
  /** Internal fixed time step, seconds (0.0005 .. 0.01). Default 0.001. */
  tickS?: number;
  /**
   * What shaper delay a ping sees in {@link LinkSim.rttMs}. `sparse` (default): CAKE serves a
   * sparse flow (a ping) ahead of the bulk, so it waits at most for the packet in service, as
   * on a real router. `backlog`: the bulk sojourn, shaper backlog / max-limit (what
   * a packet of a greedy flow waits). The flows themselves always see the bulk sojourn.
   */
  pingShaperDelay?: 'backlog' | 'sparse';
  /** The alternate WAN steering moves latency-sensitive traffic to (see {@link AlternateWan}). */
  alternate?: AlternateWanOptions;
}

/** Counters of the router's queue-tree entry for a direction (RouterOS `print stats` terms). */
export interface QueueCounters {
  /** Bytes that left the shaper since the last reset (monotonic). */
  bytes: number;
  /** Packets that left the shaper: floor(bytes / packetBytes) of the cumulative byte count. */
  packets: number;
  /** Packets the shaper dropped (CoDel drops and overflow), monotonic. */
  dropped: number;
  /** Packets in the shaper queue now (partial packets count as one). */
  queuedPackets: number;
  /** Bytes in the shaper queue now. */
  queuedBytes: number;
  /** Shaper output rate over the last second, bps. */
  rate: number;
  /** Shaper output rate over the last second, packets per second. */
  packetRate: number;
}

/** Everything the simulation knows about one direction, at the end of the last tick. */
export interface DirectionSnapshot {
  capacityBps: number;
  /** Shaper rate; Infinity when unshaped. */
  shaperRateBps: number;
  shaperBacklogBytes: number;
  shaperBacklogPackets: number;
  shaperDelayMs: number;
  bottleneckBacklogBytes: number;
  bottleneckBacklogPackets: number;
  bottleneckDelayMs: number;
  /** Bottleneck buffer size right now, bytes. */
  bottleneckBufferBytes: number;
  /** Bytes delivered out of the bottleneck (to the receiver), cumulative, never reset. */
  deliveredBytes: number;
  /** Bits delivered during the last `step()` call. */
  deliveredBitsLastStep: number;
  /** Integral of capacity over time, bits, cumulative (for utilisation). */
  capacityBits: number;
  /** Bytes the flows offered, cumulative. */
  offeredBytes: number;
  /** Bytes that left the shaper, cumulative, never reset. */
  shaperOutBytes: number;
  /** Bytes the shaper dropped / the bottleneck dropped, cumulative. */
  shaperDroppedBytes: number;
  bottleneckDroppedBytes: number;
  /** Packets dropped by the shaper (as in the counters, never reset) and by the bottleneck. */
  shaperDrops: number;
  bottleneckDrops: number;
  activeFlows: number;
}

const RATE_BINS = 10;
const RATE_BIN_S = 0.1;
const MIN_CAPACITY_BPS = 1000;

class Path {
  readonly dir: Direction;
  readonly trace: CapacityTrace;
  readonly bufferMs: number;
  readonly bufferBytes: number; // NaN when given in ms
  shaperBps: number; // Infinity = unshaped
  readonly targetS: number;
  readonly intervalS: number;
  readonly shaperLimit: number;

  qs = 0;
  qb = 0;
  capacity = 0;

  // Flow-queued shaper: one queue and one CoDel state per flow (as CAKE's flow isolation).
  readonly fq: Float64Array; // backlog bytes per flow
  readonly served: Float64Array; // bytes served per flow this tick (also the FIFO drop weights)
  readonly satisfied: Uint8Array;
  readonly firstAboveS: Float64Array;
  readonly dropping: Uint8Array;
  readonly dropCount: Float64Array;
  readonly lastDropCount: Float64Array;
  readonly dropNextS: Float64Array;

  // flows
  readonly cwnd: Float64Array;
  readonly ssthresh: Float64Array;
  readonly minRttS: Float64Array;
  readonly wMax: Float64Array; // CUBIC: window before the last reduction, bytes
  readonly epochS: Float64Array; // CUBIC: start of the current growth epoch
  readonly kS: Float64Array; // CUBIC: time to reach wMax again
  readonly cutAtS: Float64Array; // pending reaction time, -1 none
  readonly startS: Float64Array; // a new flow sends from this time on
  readonly lastCutS: Float64Array;
  readonly nFlows: number;
  nActive = 0;

  // accounting
  shaperOut = 0;
  shaperDrops = 0;
  bottleneckDrops = 0;
  shaperDroppedBytes = 0;
  bottleneckDroppedBytes = 0;
  dropAcc = 0;
  delivered = 0;
  deliveredStep = 0;
  capacityBits = 0;
  offered = 0;
  readonly bins = new Float64Array(RATE_BINS);
  binIndex = 0;
  binsFilled = 0;
  binAcc = 0;
  binElapsed = 0;
  binSum = 0;
  resetBytes = 0;
  resetDrops = 0;

  constructor(dir: Direction, opts: DirectionOptions, trace: CapacityTrace, maxFlows: number) {
    this.dir = dir;
    this.trace = trace;
    if (opts.bufferBytes !== undefined) {
      this.bufferBytes = requirePositive(`${dir}.bufferBytes`, opts.bufferBytes);
      this.bufferMs = Number.NaN;
    } else {
      this.bufferMs = requirePositive(`${dir}.bufferMs`, opts.bufferMs ?? 300);
      this.bufferBytes = Number.NaN;
    }
    this.shaperBps = normaliseRate(`${dir}.shaperRateBps`, opts.shaperRateBps ?? 0);
    this.targetS = requirePositive(`${dir}.shaperTargetMs`, opts.shaperTargetMs ?? 5) / 1000;
    this.intervalS = requirePositive(`${dir}.shaperIntervalMs`, opts.shaperIntervalMs ?? 100) / 1000;
    this.shaperLimit = requirePositive(`${dir}.shaperLimitBytes`, opts.shaperLimitBytes ?? 4 * 1024 * 1024);
    const n = Math.max(1, maxFlows);
    this.nFlows = n;
    this.fq = new Float64Array(n);
    this.served = new Float64Array(n);
    this.satisfied = new Uint8Array(n);
    this.firstAboveS = new Float64Array(n);
    this.dropping = new Uint8Array(n);
    this.dropCount = new Float64Array(n);
    this.lastDropCount = new Float64Array(n);
    this.dropNextS = new Float64Array(n);
    this.cwnd = new Float64Array(n);
    this.ssthresh = new Float64Array(n);
    this.minRttS = new Float64Array(n);
    this.wMax = new Float64Array(n);
    this.epochS = new Float64Array(n).fill(-1);
    this.kS = new Float64Array(n);
    this.cutAtS = new Float64Array(n).fill(-1);
    this.startS = new Float64Array(n);
    this.lastCutS = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
  }

  bufferNow(): number {
    return Number.isNaN(this.bufferBytes) ? (this.bufferMs * this.capacity) / 8000 : this.bufferBytes;
  }

  shaperDelayS(): number {
    return this.shaperBps === Number.POSITIVE_INFINITY ? 0 : (this.qs * 8) / this.shaperBps;
  }

  /**
   * Wait of a sparse-flow packet (a ping, an ACK): CAKE puts a flow whose queue was empty on its
   * new-flows list, served before the bulk, so it waits for the packet in service, at most one.
   */
  sparseDelayS(pkt: number): number {
    if (this.shaperBps === Number.POSITIVE_INFINITY) return 0;
    return (Math.min(this.qs, pkt) * 8) / this.shaperBps;
  }

  bottleneckDelayS(): number {
    return (this.qb * 8) / this.capacity;
  }
}

function normaliseRate(option: string, bps: number): number {
  const v = requireFinite(option, bps === Number.POSITIVE_INFINITY ? 0 : bps, 0);
  return v === 0 ? Number.POSITIVE_INFINITY : v;
}

/**
 * Deterministic discrete-time simulation of one WAN, both directions.
 *
 * Per direction the path is: greedy flows -> CAKE-like shaper (rate = max-limit, CoDel drops)
 * -> ISP bottleneck (rate = trace capacity, oversized drop-tail buffer) -> receiver.
 * Flows are fluid AIMD (or CUBIC) windows sending `cwnd / RTT`; a flow's RTT includes its own
 * direction's shaper sojourn and bottleneck delay, and on the ACK path the other direction's
 * bottleneck delay plus a sparse-flow wait in its shaper.
 * See README.md for the model and its simplifications.
 */
export class LinkSim {
  readonly baseRttMs: number;
  readonly packetBytes: number;
  readonly tickS: number;
  private readonly down: Path;
  private readonly up: Path;
  private readonly rng: Prng;
  private readonly load: LoadCursor;
  private readonly beta: number;
  private readonly aiBytes: number;
  private readonly iwBytes: number;
  private readonly maxWnd: number;
  private readonly cubic: boolean;
  private readonly cubicC: number;
  private readonly friendly: number;
  private readonly sparsePing: boolean;
  private ticks = 0;
  private acc = 0;
  private loadOn = false;
  /** The alternate WAN (null when the options gave none). */
  readonly alternate: AlternateWan | null;

  constructor(opts: LinkSimOptions) {
    this.baseRttMs = requirePositive('baseRttMs', opts.baseRttMs);
    this.packetBytes = requirePositive('packetBytes', opts.packetBytes ?? 1500);
    this.tickS = requirePositive('tickS', opts.tickS ?? 0.001);
    if (this.tickS < 0.0005 || this.tickS > 0.01) {
      throw new LinkSimConfigError('tickS', `expected 0.0005 .. 0.01 s, got ${this.tickS}`);
    }
    const ping = opts.pingShaperDelay ?? 'sparse';
    if (ping !== 'backlog' && ping !== 'sparse') {
      throw new LinkSimConfigError('pingShaperDelay', `expected 'backlog' or 'sparse', got ${String(ping)}`);
    }
    this.sparsePing = ping === 'sparse';
    this.alternate = opts.alternate ? new AlternateWan(opts.alternate) : null;
    const fl = opts.flows ?? {};
    this.beta = requireFinite('flows.beta', fl.beta ?? 0.7);
    if (!(this.beta > 0 && this.beta < 1))
      throw new LinkSimConfigError('flows.beta', 'expected 0 < beta < 1');
    this.aiBytes =
      requirePositive('flows.increasePacketsPerRtt', fl.increasePacketsPerRtt ?? 1) * this.packetBytes;
    this.iwBytes =
      requirePositive('flows.initialWindowPackets', fl.initialWindowPackets ?? 10) * this.packetBytes;
    const growth = fl.growth ?? 'cubic';
    if (growth !== 'cubic' && growth !== 'reno') {
      throw new LinkSimConfigError('flows.growth', `expected 'cubic' or 'reno', got ${String(growth)}`);
    }
    this.cubic = growth === 'cubic';
    this.cubicC = requirePositive('flows.cubicC', fl.cubicC ?? 0.4);
    this.friendly = (3 * (1 - this.beta)) / (1 + this.beta);
    this.maxWnd = requirePositive('flows.maxWindowBytes', fl.maxWindowBytes ?? 8 * 1024 * 1024);
    this.rng = new Prng(opts.seed ?? 1);
    this.load = new LoadCursor(opts.load ?? constantLoad(4, 4));
    const downTrace = opts.down?.trace ?? opts.trace;
    const upTrace = opts.up?.trace ?? opts.trace;
    if (!downTrace)
      throw new LinkSimConfigError('down.trace', 'a capacity trace is required (trace or down.trace)');
    if (!upTrace)
      throw new LinkSimConfigError('up.trace', 'a capacity trace is required (trace or up.trace)');
    this.down = new Path('down', opts.down ?? {}, downTrace, this.load.maxFlows('down'));
    this.up = new Path('up', opts.up ?? {}, upTrace, this.load.maxFlows('up'));
    for (const p of [this.down, this.up]) {
      let c0 = p.trace.at(0, p.dir);
      if (!(c0 >= MIN_CAPACITY_BPS)) c0 = MIN_CAPACITY_BPS;
      p.capacity = c0;
    }
    this.applyLoad(0);
  }

  /** Simulated time, seconds (a whole number of ticks). */
  get now(): number {
    return this.ticks * this.tickS;
  }

  private path(dir: Direction): Path {
    if (dir === 'down') return this.down;
    if (dir === 'up') return this.up;
    throw new LinkSimConfigError('direction', `expected 'down' or 'up', got ${String(dir)}`);
  }

  /** Sets the shaper rate (the queue's max-limit) for a direction; 0 or Infinity = unshaped. */
  setShaperRate(dir: Direction, bps: number): void {
    this.path(dir).shaperBps = normaliseRate('bps', bps);
  }

  /** The shaper rate in bps (Infinity when unshaped). */
  shaperRate(dir: Direction): number {
    return this.path(dir).shaperBps;
  }

  /** True capacity of the bottleneck right now, bps. */
  capacityBps(dir: Direction): number {
    return this.path(dir).capacity;
  }

  /** True when the load schedule has at least one flow running (in either direction). */
  loadActive(): boolean {
    return this.loadOn;
  }

  /** Number of flows running in a direction. */
  activeFlows(dir: Direction): number {
    return this.path(dir).nActive;
  }

  /**
   * Path RTT a ping sees now, ms: base + shaper and bottleneck queueing delay of both
   * directions (the request crosses the upload queues, the reply the download queues).
   */
  rttMs(): number {
    if (!this.sparsePing) return this.baseRttMs + 1000 * this.queueDelayS();
    const d = this.down;
    const u = this.up;
    const pkt = this.packetBytes;
    return (
      this.baseRttMs +
      1000 * (d.sparseDelayS(pkt) + d.bottleneckDelayS() + u.sparseDelayS(pkt) + u.bottleneckDelayS())
    );
  }

  private queueDelayS(): number {
    const d = this.down;
    const u = this.up;
    return d.shaperDelayS() + d.bottleneckDelayS() + u.shaperDelayS() + u.bottleneckDelayS();
  }

  /** Advances by `dtS` seconds in fixed ticks; a fraction of a tick is carried to the next call. */
  step(dtS: number): void {
    if (!(dtS >= 0) || !Number.isFinite(dtS))
      throw new LinkSimConfigError('dtS', `expected >= 0, got ${dtS}`);
    this.acc += dtS;
    const n = Math.floor(this.acc / this.tickS + 1e-9);
    this.acc -= n * this.tickS;
    if (this.acc < 0) this.acc = 0;
    this.down.deliveredStep = 0;
    this.up.deliveredStep = 0;
    for (let i = 0; i < n; i++) this.tick();
  }

  private applyLoad(t: number): void {
    const phase = this.load.phaseAt(t);
    this.setFlows(this.down, phase.downFlows, t);
    this.setFlows(this.up, phase.upFlows, t);
    this.loadOn = phase.downFlows + phase.upFlows > 0;
  }

  private setFlows(p: Path, n: number, t: number): void {
    if (n === p.nActive) return;
    for (let i = p.nActive; i < n; i++) {
      // Flows of a burst do not start in the same millisecond: spread them over 200 ms.
      p.startS[i] = t + (i === 0 ? 0 : this.rng.next() * 0.2);
      // A new flow: slow start from the initial window.
      p.cwnd[i] = this.iwBytes;
      p.ssthresh[i] = Number.POSITIVE_INFINITY;
      p.cutAtS[i] = -1;
      p.lastCutS[i] = Number.NEGATIVE_INFINITY;
      p.minRttS[i] = Number.POSITIVE_INFINITY;
      p.wMax[i] = 0;
      p.epochS[i] = -1;
    }
    p.nActive = n;
  }

  private tick(): void {
    const t = this.now;
    this.applyLoad(t);
    // A flow's data waits in its own direction's shaper (bulk sojourn) and bottleneck; its
    // ACKs are a thin flow in the other direction's shaper (sparse: served first) but queue
    // behind everything in the other bottleneck (a FIFO).
    const pkt = this.packetBytes;
    const d = this.down;
    const u = this.up;
    const base = this.baseRttMs / 1000;
    const dBottle = d.bottleneckDelayS();
    const uBottle = u.bottleneckDelayS();
    const rttDown = base + d.shaperDelayS() + dBottle + u.sparseDelayS(pkt) + uBottle;
    const rttUp = base + u.shaperDelayS() + uBottle + d.sparseDelayS(pkt) + dBottle;
    this.tickPath(d, t, rttDown);
    this.tickPath(u, t, rttUp);
    this.ticks++;
  }

  private tickPath(p: Path, t: number, rttS: number): void {
    const dt = this.tickS;
    const pkt = this.packetBytes;
    let c = p.trace.at(t, p.dir);
    if (!(c >= MIN_CAPACITY_BPS)) c = MIN_CAPACITY_BPS; // also catches NaN from a custom trace
    p.capacity = c;
    p.capacityBits += c * dt;
    const nf = p.nFlows;

    // 1. Flows: react to losses whose signal has come back, grow, send cwnd/RTT.
    let arrivals = 0;
    const n = p.nActive;
    for (let i = 0; i < n; i++) {
      if (t < p.startS[i]!) continue;
      let w = p.cwnd[i]!;
      const cut = p.cutAtS[i]!;
      if (cut >= 0 && t >= cut) {
        p.wMax[i] = w;
        w = Math.max(2 * pkt, w * this.beta);
        p.ssthresh[i] = w;
        p.epochS[i] = -1;
        p.cutAtS[i] = -1;
        p.lastCutS[i] = t;
      }
      if (rttS < p.minRttS[i]!) p.minRttS[i] = rttS;
      if (w < p.ssthresh[i]!) {
        // HyStart-like exit: leave slow start once the RTT has grown noticeably.
        const minRtt = p.minRttS[i]!;
        const thr = Math.min(0.016, Math.max(0.004, minRtt / 8));
        if (rttS > minRtt + thr) p.ssthresh[i] = w;
        w += (w * dt) / rttS;
      } else {
        let inc = (this.aiBytes * dt) / rttS;
        if (this.cubic) {
          // CUBIC's Reno-friendly floor grows at 3(1-beta)/(1+beta) of Reno's rate.
          inc *= this.friendly;
          if (p.epochS[i]! < 0) {
            // New epoch: K is the time to climb back to the window before the loss.
            p.epochS[i] = t;
            if (p.wMax[i]! < w) p.wMax[i] = w;
            p.kS[i] = Math.cbrt((p.wMax[i]! - w) / pkt / this.cubicC);
          }
          const x = t + rttS - p.epochS[i]! - p.kS[i]!;
          const target = p.wMax[i]! + this.cubicC * x * x * x * pkt;
          if (target > w) {
            const c = ((target - w) * dt) / rttS;
            if (c > inc) inc = c;
          }
        }
        w += inc;
      }
      if (w > this.maxWnd) w = this.maxWnd;
      p.cwnd[i] = w;
      const s = (w * dt) / rttS;
      p.fq[i] = p.fq[i]! + s;
      arrivals += s;
    }
    p.offered += arrivals;

    // 2. Shaper (CAKE-like): max-limit shared fairly among the flow queues (water-filling),
    //    CoDel per flow queue, overflow dropped from the fattest queue.
    let out = 0;
    if (p.shaperBps === Number.POSITIVE_INFINITY) {
      for (let i = 0; i < nf; i++) {
        const q = p.fq[i]!;
        p.served[i] = q;
        out += q;
        p.fq[i] = 0;
        p.dropping[i] = 0;
        p.firstAboveS[i] = 0;
      }
      p.qs = 0;
    } else {
      let remaining = (p.shaperBps * dt) / 8;
      let open = 0;
      for (let i = 0; i < nf; i++) {
        p.served[i] = 0;
        if (p.fq[i]! > 0) {
          p.satisfied[i] = 0;
          open++;
        } else {
          p.satisfied[i] = 1;
        }
      }
      while (open > 0 && remaining > 0) {
        const share = remaining / open;
        let progressed = false;
        for (let i = 0; i < nf; i++) {
          if (p.satisfied[i] === 0 && p.fq[i]! <= share) {
            p.served[i] = p.fq[i]!;
            remaining -= p.fq[i]!;
            p.satisfied[i] = 1;
            open--;
            progressed = true;
          }
        }
        if (!progressed) {
          for (let i = 0; i < nf; i++) if (p.satisfied[i] === 0) p.served[i] = share;
          remaining = 0;
        }
      }
      let total = 0;
      for (let i = 0; i < nf; i++) {
        const sv = p.served[i]!;
        p.fq[i] = p.fq[i]! - sv;
        if (p.fq[i]! < 1e-9) p.fq[i] = 0;
        out += sv;
        total += p.fq[i]!;
      }
      p.qs = total;
      while (p.qs > p.shaperLimit) this.dropFattest(p, t, rttS);
      this.codel(p, t, rttS);
    }
    p.shaperOut += out;
    this.addRate(p, out);

    // 3. Bottleneck: serve at capacity, drop-tail beyond the buffer.
    p.qb += out;
    const cap = (c * dt) / 8;
    const served = Math.min(p.qb, cap);
    p.qb -= served;
    const buf = p.bufferNow();
    if (p.qb > buf) {
      p.dropAcc += p.qb - buf;
      p.bottleneckDroppedBytes += p.qb - buf;
      p.qb = buf;
      let k = 0;
      while (p.dropAcc >= pkt) {
        p.dropAcc -= pkt;
        k++;
      }
      if (k > 0) {
        p.bottleneckDrops += k;
        const signals = Math.min(k, 2 * n);
        for (let j = 0; j < signals; j++) this.signalRandom(p, t, rttS);
      }
    }
    p.delivered += served;
    p.deliveredStep += served;
  }

  /**
   * CoDel (RFC 8289) on each flow queue: the sojourn is the queue's backlog over its fair
   * share of max-limit. Once it has stayed above target for a whole interval, drop one
   * packet, then the next after interval/sqrt(count), until it falls below target. At low
   * rates the target is raised to 1.5 packet times at max-limit (as CAKE does), and the
   * interval by the same amount.
   */
  private codel(p: Path, t: number, rttS: number): void {
    const pkt = this.packetBytes;
    const dt = this.tickS;
    const pktTimeS = (pkt * 8) / p.shaperBps;
    const target = Math.max(p.targetS, 1.5 * pktTimeS);
    const interval = p.intervalS + (target - p.targetS);
    for (let i = 0; i < p.nFlows; i++) {
      const q = p.fq[i]!;
      const sv = p.served[i]!;
      const sojourn = q <= 0 ? 0 : sv > 0 ? (q / sv) * dt : Number.POSITIVE_INFINITY;
      if (sojourn < target || q < pkt) {
        p.firstAboveS[i] = 0;
        p.dropping[i] = 0;
        continue;
      }
      if (p.dropping[i] === 0) {
        if (p.firstAboveS[i] === 0) {
          p.firstAboveS[i] = t + interval;
          continue;
        }
        if (t < p.firstAboveS[i]!) continue;
        p.dropping[i] = 1;
        const delta = p.dropCount[i]! - p.lastDropCount[i]!;
        p.dropCount[i] = delta > 1 && t - p.dropNextS[i]! < 16 * interval ? delta : 1;
        p.lastDropCount[i] = p.dropCount[i]!;
        this.shaperDrop(p, i, t, rttS);
        p.dropNextS[i] = t + interval / Math.sqrt(p.dropCount[i]!);
        continue;
      }
      while (p.dropping[i] === 1 && t >= p.dropNextS[i]!) {
        p.dropCount[i] = p.dropCount[i]! + 1;
        this.shaperDrop(p, i, t, rttS);
        p.dropNextS[i] = p.dropNextS[i]! + interval / Math.sqrt(p.dropCount[i]!);
        const q2 = p.fq[i]!;
        if (q2 < pkt || (sv > 0 && (q2 / sv) * dt < target)) p.dropping[i] = 0;
      }
    }
  }

  /** Drops one packet from flow queue i and tells the flow. */
  private shaperDrop(p: Path, i: number, t: number, rttS: number): void {
    const d = Math.min(p.fq[i]!, this.packetBytes);
    p.fq[i] = p.fq[i]! - d;
    p.qs = Math.max(0, p.qs - d);
    p.shaperDrops++;
    p.shaperDroppedBytes += d;
    this.signal(p, i, t, rttS);
  }

  /** Over the byte limit, CAKE drops from the head of the fattest flow queue. */
  private dropFattest(p: Path, t: number, rttS: number): void {
    let best = 0;
    for (let i = 1; i < p.nFlows; i++) if (p.fq[i]! > p.fq[best]!) best = i;
    if (p.fq[best]! <= 0) {
      p.qs = 0;
      return;
    }
    this.shaperDrop(p, best, t, rttS);
  }

  /** A drop-tail FIFO hits whichever flow's packet arrives: pick one weighted by its share. */
  private signalRandom(p: Path, t: number, rttS: number): void {
    let total = 0;
    for (let i = 0; i < p.nActive; i++) total += p.served[i]!;
    if (total <= 0) return;
    let r = this.rng.next() * total;
    for (let i = 0; i < p.nActive; i++) {
      r -= p.served[i]!;
      if (r < 0) {
        this.signal(p, i, t, rttS);
        return;
      }
    }
  }

  /**
   * A loss reaches the sender about one RTT later (1 to 1.25 RTT: where in the window the
   * lost packet was); a flow reacts at most once per RTT.
   */
  private signal(p: Path, i: number, t: number, rttS: number): void {
    if (i >= p.nActive) return;
    if (p.cutAtS[i]! >= 0) return;
    if (t - p.lastCutS[i]! < rttS) return;
    p.cutAtS[i] = t + rttS * (1 + 0.25 * this.rng.next());
  }

  private addRate(p: Path, bytes: number): void {
    p.binAcc += bytes;
    p.binElapsed += this.tickS;
    if (p.binElapsed >= RATE_BIN_S - 1e-9) {
      p.binSum += p.binAcc - p.bins[p.binIndex]!;
      p.bins[p.binIndex] = p.binAcc;
      p.binIndex = (p.binIndex + 1) % RATE_BINS;
      if (p.binsFilled < RATE_BINS) p.binsFilled++;
      p.binAcc = 0;
      p.binElapsed = 0;
    }
  }

  /**
   * The queue-tree counters of a direction (what RouterOS `print stats` shows for the queue).
   * Pass `out` to fill an existing object instead of allocating.
   */
  counters(dir: Direction, out?: QueueCounters): QueueCounters {
    const p = this.path(dir);
    const pkt = this.packetBytes;
    const bytes = Math.floor(p.shaperOut - p.resetBytes);
    const windowS = p.binsFilled * RATE_BIN_S;
    const rateBytes = windowS > 0 ? Math.max(0, p.binSum) / windowS : 0;
    const o = out ?? ({} as QueueCounters);
    o.bytes = bytes;
    o.packets = Math.floor(bytes / pkt);
    o.dropped = p.shaperDrops - p.resetDrops;
    o.queuedBytes = Math.round(p.qs);
    o.queuedPackets = Math.max(0, Math.ceil(p.qs / pkt - 1e-9));
    o.rate = Math.round(rateBytes * 8);
    o.packetRate = Math.round(rateBytes / pkt);
    return o;
  }

  /** Zeroes bytes, packets and dropped of a direction's queue counters (RouterOS reset-counters). */
  resetCounters(dir: Direction): void {
    const p = this.path(dir);
    // Keep the integer byte boundary so that packets stay consistent after a reset.
    p.resetBytes = Math.floor(p.shaperOut);
    p.resetDrops = p.shaperDrops;
  }

  /** Full state of a direction; pass `out` to avoid allocating. */
  snapshot(dir: Direction, out?: DirectionSnapshot): DirectionSnapshot {
    const p = this.path(dir);
    const pkt = this.packetBytes;
    const o = out ?? ({} as DirectionSnapshot);
    o.capacityBps = p.capacity;
    o.shaperRateBps = p.shaperBps;
    o.shaperBacklogBytes = p.qs;
    o.shaperBacklogPackets = Math.max(0, Math.ceil(p.qs / pkt - 1e-9));
    o.shaperDelayMs = p.shaperDelayS() * 1000;
    o.bottleneckBacklogBytes = p.qb;
    o.bottleneckBacklogPackets = Math.max(0, Math.ceil(p.qb / pkt - 1e-9));
    o.bottleneckDelayMs = p.bottleneckDelayS() * 1000;
    o.bottleneckBufferBytes = p.bufferNow();
    o.deliveredBytes = p.delivered;
    o.deliveredBitsLastStep = p.deliveredStep * 8;
    o.capacityBits = p.capacityBits;
    o.offeredBytes = p.offered;
    o.shaperOutBytes = p.shaperOut;
    o.shaperDroppedBytes = p.shaperDroppedBytes;
    o.bottleneckDroppedBytes = p.bottleneckDroppedBytes;
    o.shaperDrops = p.shaperDrops;
    o.bottleneckDrops = p.bottleneckDrops;
    o.activeFlows = p.nActive;
    return o;
  }

  /** Congestion windows of the running flows of a direction, bytes (a copy; for tests and plots). */
  flowWindows(dir: Direction): number[] {
    const p = this.path(dir);
    return Array.from(p.cwnd.subarray(0, p.nActive));
  }
}
