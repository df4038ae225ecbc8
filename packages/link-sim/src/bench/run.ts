import { LinkSimConfigError, requirePositive } from '../errors.js';
import { type LoadSchedule, onOffLoad } from '../load.js';
import { Prng } from '../prng.js';
import { type DirectionOptions, type FlowOptions, LinkSim, type QueueCounters } from '../sim.js';
import { type CapacityTrace, type Direction, traceMax } from '../trace.js';
import type { Achieved, BenchController, BenchStartContext, Rates } from './controller.js';

export interface ControlBenchmarkOptions {
  trace: CapacityTrace;
  controller: BenchController;
  /** Simulated length, seconds. Default: the trace's duration (must then be finite). */
  durationS?: number;
  /** Seed of the simulation and the probe noise. Default 1. */
  seed?: number;
  /** Simulation tick, seconds. Default 0.001. */
  dtS?: number;
  /** Controller cycle, seconds. Default 0.05 (20 Hz). */
  cycleS?: number;
  /** Name of the scenario in reports. Default: the trace's name. */
  name?: string;
  /** Base RTT, ms. Default 20. */
  baseRttMs?: number;
  /** Configured ceilings (initial shaper rates). Default: the trace's maximum over the run. */
  ceilingDownBps?: number;
  ceilingUpBps?: number;
  /** Bottleneck and shaper options per direction (the trace and initial rate come from above). */
  down?: Omit<DirectionOptions, 'trace' | 'shaperRateBps'>;
  up?: Omit<DirectionOptions, 'trace' | 'shaperRateBps'>;
  flows?: FlowOptions;
  /** Offered load. Default: 4 down + 4 up flows, 40 s on, 10 s idle, repeated. */
  load?: LoadSchedule;
  /** Added-latency target for the recovery metric, ms. Default 15. */
  latencyTargetMs?: number;
  /** A capacity drop is a fall by at least this fraction below the recent maximum. Default 0.3. */
  dropFraction?: number;
  /** Window of that recent maximum, seconds. Default 2. */
  dropWindowS?: number;
  /** Latency must stay under target this long to count as recovered, seconds. Default 0.5. */
  recoveryHoldS?: number;
  /** Uniform noise added to the RTT handed to the controller, ms (probe jitter). Default 0.5. */
  probeJitterMs?: number;
  /**
   * Several reflectors: the controller also gets one RTT per reflector (4th argument of onCycle),
   * each the path RTT plus the reflector's own offset and seeded jitter, null once it has stopped
   * answering. The 2nd argument stays the first answering reflector's RTT. Default: one reflector,
   * no per-reflector array.
   */
  reflectors?: ReflectorSetup;
  /** Keep per-cycle series for plots. Default true. */
  recordSeries?: boolean;
}

/** Per-reflector RTT output of the benchmark (see ControlBenchmarkOptions.reflectors). */
export interface ReflectorSetup {
  count: number;
  /** Own extra RTT of each reflector, ms (its path beyond ours). Default 0 each. */
  offsetsMs?: readonly number[];
  /** From this time on, s, the reflector no longer answers (null/absent: always answers). */
  silentFromS?: readonly (number | null)[];
  /** The reflector's own RTT rises by addMs at atS (its path changed; ours did not). */
  shifts?: readonly { slot: number; atS: number; addMs: number }[];
}

/** Per-cycle series (one entry per controller cycle). */
export interface BenchSeries {
  tS: Float64Array;
  capacityDownBps: Float64Array;
  capacityUpBps: Float64Array;
  shaperDownBps: Float64Array;
  shaperUpBps: Float64Array;
  deliveredDownBps: Float64Array;
  deliveredUpBps: Float64Array;
  rttMs: Float64Array;
  loadOn: Uint8Array;
}

export interface CapacityDropEvent {
  tS: number;
  dir: Direction;
  /** Capacity before (window max) and after, bps. */
  fromBps: number;
  toBps: number;
  /** Seconds until added latency was back under target (and stayed for the hold); null = never. */
  recoveryS: number | null;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
  samples: number;
}

export interface ControlBenchmarkResult {
  scenario: string;
  trace: string;
  controller: string;
  seed: number;
  durationS: number;
  baseRttMs: number;
  ceilingDownBps: number;
  ceilingUpBps: number;
  latencyTargetMs: number;
  /** RTT minus base RTT, ms, sampled every cycle while load is on. */
  addedLatencyMs: LatencySummary;
  /** Delivered ÷ capacity while that direction's load is on (0..1). */
  utilisation: { down: number; up: number };
  deliveredBytes: { down: number; up: number };
  capacityDrops: {
    count: number;
    recovered: number;
    notRecovered: number;
    medianRecoveryS: number | null;
    maxRecoveryS: number | null;
    events: CapacityDropEvent[];
  };
  /** Cycles in which the controller changed the shaper rates (one batched router write each). */
  routerWrites: number;
  /** Wall time of the run, ms, and the speed in simulated seconds per wall second. */
  wallMs: number;
  simSecondsPerWallSecond: number;
  series?: BenchSeries;
}

/** Linear-interpolated percentile of a sorted array (p in 0..100). */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = (p / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  const f = pos - lo;
  return sorted[lo]! + f * (sorted[hi]! - sorted[lo]!);
}

class DropDetector {
  private readonly ring: Float64Array;
  private idx = 0;
  private filled = 0;
  open: CapacityDropEvent | null = null;
  private underSince = -1;

  constructor(
    readonly dir: Direction,
    windowCycles: number,
    private readonly fraction: number,
  ) {
    this.ring = new Float64Array(Math.max(1, windowCycles));
  }

  private push(v: number): void {
    this.ring[this.idx] = v;
    this.idx = (this.idx + 1) % this.ring.length;
    if (this.filled < this.ring.length) this.filled++;
  }

  private max(): number {
    let m = 0;
    for (let i = 0; i < this.filled; i++) m = Math.max(m, this.ring[i]!);
    return m;
  }

  /** Returns a newly opened event, if any. */
  observe(tS: number, cap: number, loadOn: boolean): CapacityDropEvent | null {
    let opened: CapacityDropEvent | null = null;
    if (this.filled > 0 && this.open === null && loadOn) {
      const m = this.max();
      if (cap <= (1 - this.fraction) * m) {
        opened = { tS, dir: this.dir, fromBps: m, toBps: cap, recoveryS: null };
        this.open = opened;
        this.underSince = -1;
        this.filled = 0; // the new level is the reference for the next drop
      }
    }
    this.push(cap);
    return opened;
  }

  /** Feeds the added latency; closes the open event once it stays under target for holdS. */
  latency(tS: number, added: number, targetMs: number, holdS: number): void {
    const ev = this.open;
    if (!ev) return;
    if (added < targetMs) {
      if (this.underSince < 0) this.underSince = tS;
      if (tS - this.underSince >= holdS - 1e-9) {
        ev.recoveryS = Math.max(0, this.underSince - ev.tS);
        this.open = null;
      }
    } else {
      this.underSince = -1;
    }
  }
}

/**
 * Runs one controller on one trace in simulated time and measures control quality.
 * Deterministic under `seed`. The shaper starts at the ceilings; every `cycleS` the controller
 * sees the probe RTT (true RTT plus seeded jitter) and the shaper's achieved rates, and may set
 * new rates, applied at once.
 */
export function runControlBenchmark(opts: ControlBenchmarkOptions): ControlBenchmarkResult {
  const trace = opts.trace;
  const durationS = requirePositive('durationS', opts.durationS ?? trace.durationS);
  const cycleS = requirePositive('cycleS', opts.cycleS ?? 0.05);
  const dtS = opts.dtS ?? 0.001;
  if (cycleS < dtS) throw new LinkSimConfigError('cycleS', `must be >= dtS (${dtS})`);
  const seed = opts.seed ?? 1;
  const baseRttMs = opts.baseRttMs ?? 20;
  const targetMs = opts.latencyTargetMs ?? 15;
  const holdS = opts.recoveryHoldS ?? 0.5;
  const jitterMs = opts.probeJitterMs ?? 0.5;
  const ceilDown = opts.ceilingDownBps ?? traceMax(trace, 'down', durationS);
  const ceilUp = opts.ceilingUpBps ?? traceMax(trace, 'up', durationS);
  requirePositive('ceilingDownBps', ceilDown);
  requirePositive('ceilingUpBps', ceilUp);
  const load = opts.load ?? onOffLoad({ onS: 40, offS: 10, downFlows: 4, upFlows: 4 });

  const sim = new LinkSim({
    seed,
    baseRttMs,
    trace,
    tickS: dtS,
    packetBytes: 1500,
    down: { ...opts.down, shaperRateBps: ceilDown },
    up: { ...opts.up, shaperRateBps: ceilUp },
    ...(opts.flows ? { flows: opts.flows } : {}),
    load,
  });
  const noise = new Prng(seed ^ 0x5eed);
  const ctx: BenchStartContext = { ceilingDownBps: ceilDown, ceilingUpBps: ceilUp, baseRttMs, cycleS, trace };
  const controller = opts.controller;
  controller.start?.(ctx);

  const cycles = Math.round(durationS / cycleS);
  const record = opts.recordSeries ?? true;
  const series: BenchSeries | undefined = record
    ? {
        tS: new Float64Array(cycles),
        capacityDownBps: new Float64Array(cycles),
        capacityUpBps: new Float64Array(cycles),
        shaperDownBps: new Float64Array(cycles),
        shaperUpBps: new Float64Array(cycles),
        deliveredDownBps: new Float64Array(cycles),
        deliveredUpBps: new Float64Array(cycles),
        rttMs: new Float64Array(cycles),
        loadOn: new Uint8Array(cycles),
      }
    : undefined;
  const added = new Float64Array(cycles);
  let nAdded = 0;
  let sumAdded = 0;
  const windowCycles = Math.round((opts.dropWindowS ?? 2) / cycleS);
  const fraction = opts.dropFraction ?? 0.3;
  const detectors = [
    new DropDetector('down', windowCycles, fraction),
    new DropDetector('up', windowCycles, fraction),
  ];
  const events: CapacityDropEvent[] = [];

  const cnt: QueueCounters = sim.counters('down');
  let prevQDown = cnt.bytes;
  let prevQUp = sim.counters('up', cnt).bytes;
  const snapD = sim.snapshot('down');
  const snapU = sim.snapshot('up');
  let prevDelD = snapD.deliveredBytes;
  let prevDelU = snapU.deliveredBytes;
  let prevCapD = snapD.capacityBits;
  let prevCapU = snapU.capacityBits;
  let usedD = 0;
  let capD = 0;
  let usedU = 0;
  let capU = 0;
  let writes = 0;
  const achieved: Achieved = { downBps: 0, upBps: 0, queuedDownBytes: 0, queuedUpBytes: 0 };
  let curDown = ceilDown;
  let curUp = ceilUp;

  const refl = opts.reflectors;
  const rtts: (number | null)[] | undefined = refl
    ? new Array<number | null>(Math.max(1, Math.floor(refl.count))).fill(null)
    : undefined;

  const t0 = performance.now();
  for (let k = 0; k < cycles; k++) {
    sim.step(cycleS);
    const t = sim.now;
    sim.snapshot('down', snapD);
    sim.snapshot('up', snapU);
    const qd = sim.counters('down', cnt).bytes;
    achieved.queuedDownBytes = cnt.queuedBytes;
    const qu = sim.counters('up', cnt).bytes;
    achieved.queuedUpBytes = cnt.queuedBytes;
    achieved.downBps = ((qd - prevQDown) * 8) / cycleS;
    achieved.upBps = ((qu - prevQUp) * 8) / cycleS;
    prevQDown = qd;
    prevQUp = qu;
    const delD = snapD.deliveredBytes - prevDelD;
    const delU = snapU.deliveredBytes - prevDelU;
    const cbD = snapD.capacityBits - prevCapD;
    const cbU = snapU.capacityBits - prevCapU;
    prevDelD = snapD.deliveredBytes;
    prevDelU = snapU.deliveredBytes;
    prevCapD = snapD.capacityBits;
    prevCapU = snapU.capacityBits;
    if (snapD.activeFlows > 0) {
      usedD += delD * 8;
      capD += cbD;
    }
    if (snapU.activeFlows > 0) {
      usedU += delU * 8;
      capU += cbU;
    }
    const rtt = sim.rttMs();
    const loadOn = sim.loadActive();
    const a = rtt - baseRttMs;
    if (loadOn) {
      added[nAdded++] = a;
      sumAdded += a;
    }
    for (const det of detectors) {
      const cap = det.dir === 'down' ? snapD.capacityBps : snapU.capacityBps;
      const ev = det.observe(t, cap, loadOn);
      if (ev) events.push(ev);
      det.latency(t, a, targetMs, holdS);
    }
    if (series) {
      series.tS[k] = t;
      series.capacityDownBps[k] = snapD.capacityBps;
      series.capacityUpBps[k] = snapU.capacityBps;
      series.shaperDownBps[k] = curDown;
      series.shaperUpBps[k] = curUp;
      series.deliveredDownBps[k] = (delD * 8) / cycleS;
      series.deliveredUpBps[k] = (delU * 8) / cycleS;
      series.rttMs[k] = rtt;
      series.loadOn[k] = loadOn ? 1 : 0;
    }

    let probe = rtt + (jitterMs > 0 ? noise.next() * jitterMs : 0);
    if (rtts) {
      let first = Number.NaN;
      for (let i = 0; i < rtts.length; i++) {
        const silentAt = refl?.silentFromS?.[i];
        let v: number | null =
          rtt + (refl?.offsetsMs?.[i] ?? 0) + (jitterMs > 0 ? noise.next() * jitterMs : 0);
        for (const sh of refl?.shifts ?? []) if (sh.slot === i && t >= sh.atS) v += sh.addMs;
        if (silentAt !== undefined && silentAt !== null && t >= silentAt) v = null;
        rtts[i] = v;
        if (v !== null && Number.isNaN(first)) first = v;
      }
      if (!Number.isNaN(first)) probe = first;
    }
    const cmd = controller.onCycle(t, probe, achieved, rtts);
    if (cmd) {
      const d = cmd.downBps;
      const u = cmd.upBps;
      if (!(Number.isFinite(d) && d > 0 && Number.isFinite(u) && u > 0)) {
        throw new LinkSimConfigError(
          `controller ${controller.name}`,
          `returned invalid rates down=${d} up=${u} at t=${t.toFixed(3)}s`,
        );
      }
      if (d !== curDown || u !== curUp) {
        writes++;
        curDown = d;
        curUp = u;
        sim.setShaperRate('down', d);
        sim.setShaperRate('up', u);
      }
    }
  }
  const wallMs = performance.now() - t0;

  const sorted = added.slice(0, nAdded).sort();
  const rec = events.filter((e) => e.recoveryS !== null).map((e) => e.recoveryS as number);
  rec.sort((x, y) => x - y);
  const result: ControlBenchmarkResult = {
    scenario: opts.name ?? trace.name,
    trace: trace.name,
    controller: controller.name,
    seed,
    durationS,
    baseRttMs,
    ceilingDownBps: ceilDown,
    ceilingUpBps: ceilUp,
    latencyTargetMs: targetMs,
    addedLatencyMs: {
      p50: percentileSorted(sorted, 50),
      p95: percentileSorted(sorted, 95),
      p99: percentileSorted(sorted, 99),
      mean: nAdded > 0 ? sumAdded / nAdded : Number.NaN,
      max: nAdded > 0 ? sorted[nAdded - 1]! : Number.NaN,
      samples: nAdded,
    },
    utilisation: { down: capD > 0 ? usedD / capD : Number.NaN, up: capU > 0 ? usedU / capU : Number.NaN },
    deliveredBytes: { down: snapD.deliveredBytes, up: snapU.deliveredBytes },
    capacityDrops: {
      count: events.length,
      recovered: rec.length,
      notRecovered: events.length - rec.length,
      medianRecoveryS: rec.length > 0 ? percentileSorted(rec, 50) : null,
      maxRecoveryS: rec.length > 0 ? rec[rec.length - 1]! : null,
      events,
    },
    routerWrites: writes,
    wallMs,
    simSecondsPerWallSecond: wallMs > 0 ? durationS / (wallMs / 1000) : Number.POSITIVE_INFINITY,
  };
  if (series) result.series = series;
  return result;
}
