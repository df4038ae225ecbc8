import { readFile } from 'node:fs/promises';
import { LinkSimConfigError, requireFinite, requirePositive, TraceFormatError } from './errors.js';
import { Prng } from './prng.js';

/** A traffic direction as seen from the home: download (ISP to home) or upload. */
export type Direction = 'down' | 'up';

/**
 * The true capacity of the WAN over time, for both directions.
 * `at` must be cheap: the simulation calls it once per tick and direction.
 */
export interface CapacityTrace {
  readonly name: string;
  /** Natural length in seconds (Infinity for a constant trace). After it, the last value holds. */
  readonly durationS: number;
  /** Capacity in bits per second at simulated time `tS` (seconds, >= 0). Always > 0. */
  at(tS: number, dir: Direction): number;
}

export type Interpolation = 'step' | 'linear';

/**
 * A trace given by samples (t, down, up). Between samples the value holds (`step`) or is
 * interpolated (`linear`); before the first sample the first value applies, after the last
 * the last value holds. Lookups keep a cursor, so monotonic time costs O(1).
 */
export class SampledTrace implements CapacityTrace {
  readonly name: string;
  readonly durationS: number;
  readonly interpolation: Interpolation;
  private readonly t: Float64Array;
  private readonly down: Float64Array;
  private readonly up: Float64Array;
  private cursor = 0;

  constructor(
    name: string,
    samples: { tS: ArrayLike<number>; downBps: ArrayLike<number>; upBps: ArrayLike<number> },
    opts: { interpolation?: Interpolation; durationS?: number } = {},
  ) {
    const n = samples.tS.length;
    if (n === 0) throw new LinkSimConfigError('trace.samples', 'a trace needs at least one sample');
    if (samples.downBps.length !== n || samples.upBps.length !== n) {
      throw new LinkSimConfigError('trace.samples', 'tS, downBps and upBps must have the same length');
    }
    this.name = name;
    this.interpolation = opts.interpolation ?? 'step';
    this.t = Float64Array.from(samples.tS);
    this.down = Float64Array.from(samples.downBps);
    this.up = Float64Array.from(samples.upBps);
    for (let i = 0; i < n; i++) {
      requireFinite(`trace.samples[${i}].tS`, this.t[i], 0);
      if (i > 0 && this.t[i]! <= this.t[i - 1]!) {
        throw new LinkSimConfigError(`trace.samples[${i}].tS`, 'sample times must increase strictly');
      }
      requirePositive(`trace.samples[${i}].downBps`, this.down[i]);
      requirePositive(`trace.samples[${i}].upBps`, this.up[i]);
    }
    this.durationS = opts.durationS ?? this.t[n - 1]!;
  }

  get sampleCount(): number {
    return this.t.length;
  }

  at(tS: number, dir: Direction): number {
    const t = this.t;
    const n = t.length;
    let i = this.cursor;
    if (tS < t[i]!) {
      // Went backwards: binary search for the last sample <= tS.
      let lo = 0;
      let hi = i;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (t[mid]! <= tS) lo = mid;
        else hi = mid - 1;
      }
      i = lo;
    } else {
      while (i + 1 < n && t[i + 1]! <= tS) i++;
    }
    this.cursor = i;
    const v = dir === 'down' ? this.down : this.up;
    if (this.interpolation === 'linear' && i + 1 < n && tS > t[i]!) {
      const f = (tS - t[i]!) / (t[i + 1]! - t[i]!);
      return v[i]! + f * (v[i + 1]! - v[i]!);
    }
    return v[i]!;
  }
}

/** Constant capacity. */
export function constantTrace(opts: { downBps: number; upBps: number; name?: string }): CapacityTrace {
  const down = requirePositive('downBps', opts.downBps);
  const up = requirePositive('upBps', opts.upBps);
  return {
    name: opts.name ?? 'constant',
    durationS: Number.POSITIVE_INFINITY,
    at: (_t, dir) => (dir === 'down' ? down : up),
  };
}

export interface TraceStep {
  /** Time the step takes effect, seconds. The first step is taken to start at 0. */
  readonly atS: number;
  readonly downBps: number;
  readonly upBps: number;
}

/** Piecewise-constant capacity: each step holds until the next. */
export function stepsTrace(opts: {
  steps: readonly TraceStep[];
  durationS?: number;
  name?: string;
}): SampledTrace {
  if (opts.steps.length === 0) throw new LinkSimConfigError('steps', 'at least one step is needed');
  const tS = opts.steps.map((s, i) => (i === 0 ? 0 : requireFinite(`steps[${i}].atS`, s.atS, 0)));
  const last = tS[tS.length - 1]!;
  return new SampledTrace(
    opts.name ?? 'steps',
    { tS, downBps: opts.steps.map((s) => s.downBps), upBps: opts.steps.map((s) => s.upBps) },
    { interpolation: 'step', durationS: opts.durationS ?? last + 60 },
  );
}

function grid(durationS: number, gridS: number): { n: number; tS: Float64Array } {
  requirePositive('durationS', durationS);
  requirePositive('gridS', gridS);
  const n = Math.floor(durationS / gridS) + 1;
  const tS = new Float64Array(n);
  for (let i = 0; i < n; i++) tS[i] = i * gridS;
  return { n, tS };
}

/** Adds short contention "dips" (multiplicative) to a series, as Poisson events. */
function addDips(
  rng: Prng,
  series: Float64Array,
  gridS: number,
  ratePerMin: number,
  depth: number,
  durMinS: number,
  durMaxS: number,
): void {
  if (ratePerMin <= 0 || depth <= 0) return;
  const n = series.length;
  let t = rng.exponential(60 / ratePerMin);
  const end = n * gridS;
  while (t < end) {
    const dur = rng.uniform(durMinS, durMaxS);
    const d = depth * rng.uniform(0.7, 1.0);
    const i0 = Math.floor(t / gridS);
    const i1 = Math.min(n, Math.ceil((t + dur) / gridS));
    for (let i = i0; i < i1; i++) series[i] = series[i]! * (1 - d);
    t += dur + rng.exponential(60 / ratePerMin);
  }
}

export interface CableEveningOptions {
  /** Provisioned (off-peak) download capacity, bps. Default 900e6. */
  downBps?: number;
  /** Provisioned upload capacity, bps. Default 35e6. */
  upBps?: number;
  /** Length of the compressed "evening", seconds. Default 300. */
  durationS?: number;
  /** Seed for dips and noise. Default 1. */
  seed?: number;
  /** Fraction of the download capacity left at the peak of the evening. Default 0.55. */
  eveningDownFraction?: number;
  /** Fraction of the upload capacity left at the peak. Default 0.8. */
  eveningUpFraction?: number;
  /** Share of the duration spent ramping into (and out of) the peak. Default 0.2 each. */
  rampFraction?: number;
  /** Share of the duration before the ramp starts (and after it ends). Default 0.15. */
  quietFraction?: number;
  /** Contention dips per minute (Poisson), only during the evening. Default 4. */
  dipsPerMinute?: number;
  /** Depth of a dip as a fraction of the current capacity. Default 0.35. */
  dipDepth?: number;
  /** Dip length range, seconds. Default [1, 4]. */
  dipDurationS?: readonly [number, number];
  /** Standard deviation of the slow multiplicative noise. Default 0.03. */
  noiseFraction?: number;
  /** Sample grid, seconds. Default 0.1. */
  gridS?: number;
}

/**
 * A DOCSIS cable evening compressed into a few minutes: nominal capacity, a ramp down into
 * prime time to `eveningDownFraction` (upload to `eveningUpFraction`), contention dips of
 * `dipDepth` for a few seconds while congested, slow noise, and a ramp back up.
 */
export function cableEveningTrace(opts: CableEveningOptions = {}): SampledTrace {
  const downBps = requirePositive('downBps', opts.downBps ?? 900e6);
  const upBps = requirePositive('upBps', opts.upBps ?? 35e6);
  const durationS = opts.durationS ?? 300;
  const gridS = opts.gridS ?? 0.1;
  const rng = new Prng(opts.seed ?? 1);
  const fDown = opts.eveningDownFraction ?? 0.55;
  const fUp = opts.eveningUpFraction ?? 0.8;
  const ramp = (opts.rampFraction ?? 0.2) * durationS;
  const quiet = (opts.quietFraction ?? 0.15) * durationS;
  const noise = opts.noiseFraction ?? 0.03;
  const [dipMin, dipMax] = opts.dipDurationS ?? [1, 4];
  const { n, tS } = grid(durationS, gridS);
  const down = new Float64Array(n);
  const up = new Float64Array(n);
  const evening = new Uint8Array(n);
  let x = 0;
  const rho = Math.exp(-gridS / 5);
  for (let i = 0; i < n; i++) {
    const t = tS[i]!;
    let level: number; // 0 = nominal, 1 = peak congestion
    if (t < quiet) level = 0;
    else if (t < quiet + ramp) level = (t - quiet) / ramp;
    else if (t < durationS - quiet - ramp) level = 1;
    else if (t < durationS - quiet) level = (durationS - quiet - t) / ramp;
    else level = 0;
    x = rho * x + Math.sqrt(1 - rho * rho) * noise * rng.normal();
    const m = Math.max(0.5, 1 + x);
    down[i] = downBps * (1 - level * (1 - fDown)) * m;
    up[i] = upBps * (1 - level * (1 - fUp)) * Math.max(0.5, 1 + x / 2);
    evening[i] = level > 0.5 ? 1 : 0;
  }
  // Dips only in the congested part: generate on a copy, apply where evening.
  const dipped = Float64Array.from(down);
  addDips(rng, dipped, gridS, opts.dipsPerMinute ?? 4, opts.dipDepth ?? 0.35, dipMin, dipMax);
  for (let i = 0; i < n; i++) if (evening[i] === 1) down[i] = dipped[i]!;
  return new SampledTrace(
    'cable-evening',
    { tS, downBps: down, upBps: up },
    { interpolation: 'linear', durationS },
  );
}

export interface LteOptions {
  /** Mean download capacity, bps. Default 60e6. */
  downBps?: number;
  /** Mean upload capacity, bps. Default 15e6. */
  upBps?: number;
  durationS?: number;
  seed?: number;
  /** Standard deviation of log-capacity. Default 0.35. */
  volatility?: number;
  /** Correlation time of the fading, seconds. Default 2. */
  coherenceS?: number;
  /** Correlation between down and up fading. Default 0.6. */
  upDownCorrelation?: number;
  /** Deep fades per minute (Poisson). Default 3. */
  fadesPerMinute?: number;
  /** Depth of a deep fade (fraction removed). Default 0.8. */
  fadeDepth?: number;
  /** Fade length range, seconds. Default [0.5, 3]. */
  fadeDurationS?: readonly [number, number];
  /** Lower bound as a fraction of the mean. Default 0.05. */
  minFraction?: number;
  /** Upper bound as a fraction of the mean. Default 2.5. */
  maxFraction?: number;
  /** Sample grid, seconds. Default 0.05. */
  gridS?: number;
}

/**
 * LTE-like fast-varying capacity: log-normal AR(1) fading with correlation time `coherenceS`,
 * down and up partly correlated, plus deep fades (handover, cell edge) a few times a minute.
 */
export function lteTrace(opts: LteOptions = {}): SampledTrace {
  const downBps = requirePositive('downBps', opts.downBps ?? 60e6);
  const upBps = requirePositive('upBps', opts.upBps ?? 15e6);
  const durationS = opts.durationS ?? 300;
  const gridS = opts.gridS ?? 0.05;
  const sigma = opts.volatility ?? 0.35;
  const rho = Math.exp(-gridS / requirePositive('coherenceS', opts.coherenceS ?? 2));
  const corr = opts.upDownCorrelation ?? 0.6;
  const minF = opts.minFraction ?? 0.05;
  const maxF = opts.maxFraction ?? 2.5;
  const rng = new Prng(opts.seed ?? 1);
  const { n, tS } = grid(durationS, gridS);
  const down = new Float64Array(n);
  const up = new Float64Array(n);
  let xd = 0;
  let xu = 0;
  const k = Math.sqrt(1 - rho * rho) * sigma;
  for (let i = 0; i < n; i++) {
    const zd = rng.normal();
    const zu = corr * zd + Math.sqrt(1 - corr * corr) * rng.normal();
    xd = rho * xd + k * zd;
    xu = rho * xu + k * zu;
    const fd = Math.exp(xd - (sigma * sigma) / 2);
    const fu = Math.exp(xu - (sigma * sigma) / 2);
    down[i] = downBps * Math.min(maxF, Math.max(minF, fd));
    up[i] = upBps * Math.min(maxF, Math.max(minF, fu));
  }
  const [fMin, fMax] = opts.fadeDurationS ?? [0.5, 3];
  const fades = Float64Array.from({ length: n }, () => 1);
  addDips(rng, fades, gridS, opts.fadesPerMinute ?? 3, opts.fadeDepth ?? 0.8, fMin, fMax);
  for (let i = 0; i < n; i++) {
    down[i] = Math.max(downBps * minF, down[i]! * fades[i]!);
    up[i] = Math.max(upBps * minF, up[i]! * fades[i]!);
  }
  return new SampledTrace('lte', { tS, downBps: down, upBps: up }, { interpolation: 'linear', durationS });
}

export interface DslOptions {
  /** Sync-derived download capacity, bps. Default 50e6 (VDSL2). */
  downBps?: number;
  /** Upload capacity, bps. Default 10e6. */
  upBps?: number;
  durationS?: number;
  seed?: number;
  /** Standard deviation of the slow wander (fraction). Default 0.01. */
  wanderFraction?: number;
  gridS?: number;
}

/** A steady DSL line: capacity fixed by the sync rate, with a tiny slow wander. */
export function dslTrace(opts: DslOptions = {}): SampledTrace {
  const downBps = requirePositive('downBps', opts.downBps ?? 50e6);
  const upBps = requirePositive('upBps', opts.upBps ?? 10e6);
  const durationS = opts.durationS ?? 300;
  const gridS = opts.gridS ?? 1;
  const w = opts.wanderFraction ?? 0.01;
  const rng = new Prng(opts.seed ?? 1);
  const { n, tS } = grid(durationS, gridS);
  const down = new Float64Array(n);
  const up = new Float64Array(n);
  let x = 0;
  const rho = Math.exp(-gridS / 30);
  for (let i = 0; i < n; i++) {
    x = rho * x + Math.sqrt(1 - rho * rho) * w * rng.normal();
    down[i] = downBps * (1 + x);
    up[i] = upBps * (1 + x);
  }
  return new SampledTrace('dsl', { tS, downBps: down, upBps: up }, { interpolation: 'linear', durationS });
}

export interface ParseTraceOptions {
  /** Name of the resulting trace. Default: `source`. */
  name?: string;
  /** Used in error messages (a file path). Default `trace`. */
  source?: string;
  /** `csv` or `jsonl`; default: detected from the first non-blank line (`{` means jsonl). */
  format?: 'csv' | 'jsonl';
  /** Default `step`: each row holds until the next one. */
  interpolation?: Interpolation;
}

/**
 * Parses a capacity trace: CSV rows `t_s,down_bps,up_bps` (an optional header row naming those
 * columns in any order, `#` comments and blank lines allowed), or JSON lines
 * `{"t_s":0,"down_bps":1e8,"up_bps":2e7}`. Times must increase strictly, capacities be > 0.
 */
export function parseTrace(text: string, opts: ParseTraceOptions = {}): SampledTrace {
  const source = opts.source ?? 'trace';
  const lines = text.split(/\r?\n/);
  const tS: number[] = [];
  const down: number[] = [];
  const up: number[] = [];
  let format = opts.format;
  let cols: [number, number, number] = [0, 1, 2];
  let headerSeen = false;
  for (let li = 0; li < lines.length; li++) {
    const raw = lines[li]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    format ??= raw.startsWith('{') ? 'jsonl' : 'csv';
    let t: number;
    let d: number;
    let u: number;
    if (format === 'jsonl') {
      let obj: unknown;
      try {
        obj = JSON.parse(raw);
      } catch (err) {
        throw new TraceFormatError(source, li + 1, `not valid JSON (${(err as Error).message})`);
      }
      if (typeof obj !== 'object' || obj === null) {
        throw new TraceFormatError(source, li + 1, 'expected an object with t_s, down_bps, up_bps');
      }
      const o = obj as Record<string, unknown>;
      t = o['t_s'] as number;
      d = o['down_bps'] as number;
      u = o['up_bps'] as number;
    } else {
      const cells = raw.split(/[,;\t]/).map((c) => c.trim());
      if (!headerSeen && tS.length === 0 && cells.some((c) => /[a-z_]/i.test(c) && Number.isNaN(Number(c)))) {
        const idx = ['t_s', 'down_bps', 'up_bps'].map((k) => cells.indexOf(k));
        if (idx.some((i) => i < 0)) {
          throw new TraceFormatError(
            source,
            li + 1,
            `header must name t_s, down_bps and up_bps, got "${raw}"`,
          );
        }
        cols = idx as [number, number, number];
        headerSeen = true;
        continue;
      }
      t = Number(cells[cols[0]]);
      d = Number(cells[cols[1]]);
      u = Number(cells[cols[2]]);
      if (cells.length < 3) throw new TraceFormatError(source, li + 1, `expected 3 columns, got "${raw}"`);
    }
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) {
      throw new TraceFormatError(source, li + 1, `t_s must be a number >= 0, got ${String(t)}`);
    }
    if (typeof d !== 'number' || !Number.isFinite(d) || d <= 0) {
      throw new TraceFormatError(source, li + 1, `down_bps must be a number > 0, got ${String(d)}`);
    }
    if (typeof u !== 'number' || !Number.isFinite(u) || u <= 0) {
      throw new TraceFormatError(source, li + 1, `up_bps must be a number > 0, got ${String(u)}`);
    }
    if (tS.length > 0 && t <= tS[tS.length - 1]!) {
      throw new TraceFormatError(
        source,
        li + 1,
        `t_s must increase strictly (${t} after ${tS[tS.length - 1]})`,
      );
    }
    tS.push(t);
    down.push(d);
    up.push(u);
  }
  if (tS.length === 0) throw new TraceFormatError(source, 0, 'no samples');
  return new SampledTrace(
    opts.name ?? source,
    { tS, downBps: down, upBps: up },
    { interpolation: opts.interpolation ?? 'step' },
  );
}

/** Reads and parses a trace file (see {@link parseTrace}); the format is taken from the extension. */
export async function loadTraceFile(
  path: string,
  opts: Omit<ParseTraceOptions, 'source'> = {},
): Promise<SampledTrace> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new TraceFormatError(path, 0, `cannot read the file (${(err as Error).message})`);
  }
  const format = opts.format ?? (/\.(jsonl|ndjson|json)$/i.test(path) ? 'jsonl' : undefined);
  return parseTrace(text, { ...opts, source: path, ...(format ? { format } : {}) });
}

/** Largest capacity of a trace over [0, durationS], sampled every `stepS`. */
export function traceMax(trace: CapacityTrace, dir: Direction, durationS: number, stepS = 0.05): number {
  let m = 0;
  for (let t = 0; t <= durationS; t += stepS) m = Math.max(m, trace.at(t, dir));
  trace.at(0, dir);
  return m;
}
