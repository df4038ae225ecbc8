/**
 * The `adaptive` control law (`continuous_monitoring.control_law: adaptive`): load-aware, per
 * direction, beside the v1.3 law. Pure: no clock, no I/O; time and measurements are arguments.
 * Allocation-free per cycle (fixed typed arrays, one reused result object).
 *
 * Measure: per-reflector baselines (windowed minimum of a lightly smoothed RTT, so a reflector's
 * own path RTT is subtracted and a route change is learned within the window); the cycle's delay
 * is the median of the good answering reflectors' deltas. Bloat = `detectCount` of the last
 * `detectWindow` delays over the threshold (config `target_bloat_ms`, at least `minThresholdMs`,
 * plus one packet's serialisation per direction). A reflector that stops answering or drifts
 * away from the others is reported (`badReflectors`) for the probe layer to replace and left out.
 *
 * Decide, per direction, from what the shaper delivered (`*_achieved_bps`):
 * - attribution: an idle direction is never cut; loaded directions are cut first, a direction
 *   that does not fill its rate only when nothing is loaded (at the start of a load, the one
 *   nearer to filling its rate first) or when a cut did not drain the delay and it is not falling
 *   (escalation); with both loaded they probe above their estimates in turns, and the one not
 *   probing is not blamed, unless the delay is severe (`severeDelayFactor` × the threshold under
 *   a lasting load: the line fell, every loaded direction is cut at once, to `cutFactorSevere`,
 *   its estimate is the cut rate, and both probe at full speed, not in turns, until their next cut);
 * - cut to what the link delivered (delivered ÷ (1 + delay growth rate) × `cutFactor`, deeper with
 *   the standing delay), never above the current rate; that is the new capacity estimate; without
 *   an achieved rate, a fraction of the rate;
 * - raise only a loaded direction, never within `refractoryS` of its cut: fast back to the estimate,
 *   at the fastest probe rate up to 0.9 × what the link carried before recent cuts (a fade, or a
 *   cut for the other direction's queue, passes; that memory fades in `recallS`), then a probe that
 *   grows the longer no bloat is seen and tapers as the delay nears the threshold; never more than
 *   `probeHeadroom` above what the direction delivers (a rate the link cannot fill would make the
 *   culprit look 'low' and get the other direction cut);
 * - an idle direction decays towards max(green floor, 0.9 × estimate).
 * Rates stay within [min, ceiling]. A cut to what the link delivered may go under the configured
 * floor, down to `minBps` (1 % of the ceiling; config `cut_below_floor: true`, off by default): a floor the
 * link cannot carry keeps its buffer full (the demo's evening collapse: 600 ms for 12 s at the
 * floor, 14 ms p95 with the cut). Nothing else goes under the floor: no blind cut, no decay; a
 * rate under it climbs back as the link carries more. Under the floor is where steering takes
 * over (docs/decisions.md#d16). With `cut_below_floor: false` the floor is a hard bound, as in
 * v1.3. Decided rates pass through the
 * {@link WritePolicy}.
 * See README.md (this directory) "The adaptive law".
 */
import {
  type ControlParams,
  ControlParamsError,
  lowestDownloadFloorBps,
  lowestUploadFloorBps,
} from './params.js';
import type { WriteRequest } from './wan-controller.js';
import {
  validateWritePolicy,
  WRITE_POLICY_DEFAULTS,
  WritePolicy,
  type WritePolicyParams,
} from './write-policy.js';

export interface AdaptiveDirectionParams {
  floorBps: number;
  /**
   * Lowest rate, at most `floorBps`. Under the configured floor only by a cut to what the link
   * delivered (a loaded direction under bloat): a floor the link cannot carry keeps its queue full.
   */
  minBps: number;
  ceilingBps: number;
  /** Idle decay target (lower bound of it; see the module comment). */
  baseBps: number;
}

export interface AdaptiveParams {
  intervalSeconds: number;
  download: AdaptiveDirectionParams;
  upload: AdaptiveDirectionParams;
  /** Delay over the baseline that counts as bloat, ms (config `target_bloat_ms`). */
  thresholdMs: number;
  /** The threshold used is at least this, ms (a v1.3 DSL target of 3 ms is within one packet's wait). */
  minThresholdMs: number;
  /** Bloat = at least `detectCount` of the last `detectWindow` delays over the threshold. */
  detectWindow: number;
  detectCount: number;
  /** No raise and no second cut this long after a cut, s. */
  refractoryS: number;
  /** Cut to this fraction of the delivered rate at the threshold … */
  cutFactor: number;
  /** The cut goes deeper with the standing delay (to drain it in about `drainS`), down to this fraction. */
  cutFactorSevere: number;
  /** Seconds to drain the standing delay by a cut. */
  drainS: number;
  /** A direction that does not fill its rate is cut too when the delay has not fallen this long after a cut, s. */
  escalateS: number;
  /** … when the delay is still above this fraction of the delay at that cut (a right cut drains it). */
  escalateFraction: number;
  /**
   * A delay over this many times the threshold is the line's fall, not a probe's overshoot: every
   * loaded direction is cut (no turn-taking).
   */
  severeDelayFactor: number;
  /** Both directions loaded: each probes above its estimate in turn, this long at most, s. */
  turnS: number;
  /** Cut without an achieved rate: fraction of the current rate. */
  blindCutFactor: number;
  /** A direction is loaded (may be raised) when it delivers at least this share of its rate. */
  loadedFraction: number;
  /** A direction is idle (never cut, decays) under this share of its rate and under half its floor. */
  idleFraction: number;
  /** Probe increase per second right after a cut and at most, as fractions of the rate. */
  probeMinPerS: number;
  probeMaxPerS: number;
  /** Seconds without bloat for the probe to go from min to max. */
  probeRampS: number;
  /** A raise stays within this fraction above the delivered rate. */
  probeHeadroom: number;
  /** Under what the link carried before a cut, the probe runs at its fastest; that memory fades in this long, s. */
  recallS: number;
  /** Idle decay towards the base rate, fraction per second. */
  idleDecayPerS: number;
  /** Reflector baseline window, s (windowed minimum). */
  baselineWindowS: number;
  /** A reflector is bad when silent this long, s, or this far (ms) off the others' median for `reflectorOutlierS`. */
  reflectorSilentS: number;
  reflectorOutlierMs: number;
  reflectorOutlierS: number;
  writePolicy: WritePolicyParams;
}

/**
 * The lowest rate of a direction with config `cut_below_floor: true`: this share of its ceiling
 * (or its floor if lower); by default (`minRateFraction` null) it is the floor itself.
 */
export const MIN_RATE_FRACTION = 0.01;

/** Most reflectors tracked (slots of `rtts_ms`). */
export const MAX_REFLECTORS = 16;
const BUCKETS = 8;
/** One full-size packet on the wire (1538 bytes), bits. */
const PACKET_BITS = 1538 * 8;

export const ADAPTIVE_DEFAULTS = Object.freeze({
  minThresholdMs: 5,
  detectWindow: 4,
  detectCount: 2,
  refractoryS: 0.5,
  cutFactor: 0.9,
  cutFactorSevere: 0.6,
  drainS: 0.3,
  escalateS: 0.2,
  escalateFraction: 0.7,
  severeDelayFactor: 3,
  turnS: 4,
  blindCutFactor: 0.85,
  loadedFraction: 0.75,
  idleFraction: 0.2,
  probeMinPerS: 0.03,
  probeMaxPerS: 0.4,
  probeRampS: 4,
  recallS: 10,
  probeHeadroom: 0.15,
  idleDecayPerS: 0.01,
  baselineWindowS: 20,
  reflectorSilentS: 2,
  reflectorOutlierMs: 30,
  reflectorOutlierS: 5,
});

/**
 * Adaptive parameters from the v1.3 ones of the same config: floors/ceilings/threshold carry over
 * (floor = the lowest configured floor, base = the green floor), the rest are defaults.
 */
export function adaptiveParamsFromControl(
  p: ControlParams,
  overrides: Partial<Omit<AdaptiveParams, 'download' | 'upload' | 'writePolicy'>> & {
    writePolicy?: Partial<WritePolicyParams>;
    /**
     * A cut to what the link delivered may go under the configured floor, down to this share of
     * the ceiling (e.g. {@link MIN_RATE_FRACTION}, config `cut_below_floor: true`); default null:
     * never under the floor, as the config's default.
     */
    minRateFraction?: number | null;
  } = {},
): AdaptiveParams {
  const d = p.download;
  const u = p.upload;
  const dlFloor = lowestDownloadFloorBps(d);
  const ulFloor = lowestUploadFloorBps(u);
  const { writePolicy, minRateFraction = null, ...rest } = overrides;
  const lowest = (floor: number, ceiling: number) =>
    minRateFraction === null ? floor : Math.min(floor, Math.round(minRateFraction * ceiling));
  return validateAdaptiveParams({
    intervalSeconds: p.intervalSeconds,
    download: {
      floorBps: dlFloor,
      minBps: lowest(dlFloor, d.ceilingBps),
      ceilingBps: d.ceilingBps,
      baseBps: d.floorGreenBps,
    },
    upload: {
      floorBps: ulFloor,
      minBps: lowest(ulFloor, u.ceilingBps),
      ceilingBps: u.ceilingBps,
      baseBps: u.floorGreenBps ?? u.floorRedBps,
    },
    thresholdMs: p.thresholds.targetBloatMs,
    ...ADAPTIVE_DEFAULTS,
    ...rest,
    writePolicy: { ...WRITE_POLICY_DEFAULTS, ...writePolicy },
  });
}

/** Checks adaptive parameters; throws ControlParamsError naming the field. */
export function validateAdaptiveParams(p: AdaptiveParams): AdaptiveParams {
  const pos = (path: string, v: number) => {
    if (!(Number.isFinite(v) && v > 0)) throw new ControlParamsError(path, 'a number > 0', v);
  };
  const frac = (path: string, v: number) => {
    if (!(Number.isFinite(v) && v > 0 && v <= 1)) throw new ControlParamsError(path, 'a number in (0, 1]', v);
  };
  pos('intervalSeconds', p.intervalSeconds);
  for (const dir of ['download', 'upload'] as const) {
    const d = p[dir];
    pos(`${dir}.floorBps`, d.floorBps);
    pos(`${dir}.ceilingBps`, d.ceilingBps);
    if (d.floorBps > d.ceilingBps) {
      throw new ControlParamsError(`${dir}.floorBps`, `<= ${dir}.ceilingBps (${d.ceilingBps})`, d.floorBps);
    }
    pos(`${dir}.minBps`, d.minBps);
    if (d.minBps > d.floorBps) {
      throw new ControlParamsError(`${dir}.minBps`, `<= ${dir}.floorBps (${d.floorBps})`, d.minBps);
    }
    if (!(d.baseBps >= d.floorBps && d.baseBps <= d.ceilingBps)) {
      throw new ControlParamsError(`${dir}.baseBps`, `within [floorBps, ceilingBps]`, d.baseBps);
    }
  }
  pos('thresholdMs', p.thresholdMs);
  if (!(Number.isFinite(p.minThresholdMs) && p.minThresholdMs >= 0)) {
    throw new ControlParamsError('minThresholdMs', 'a number >= 0', p.minThresholdMs);
  }
  if (!(Number.isInteger(p.detectWindow) && p.detectWindow >= 1 && p.detectWindow <= 32)) {
    throw new ControlParamsError('detectWindow', 'an integer 1..32', p.detectWindow);
  }
  if (!(Number.isInteger(p.detectCount) && p.detectCount >= 1 && p.detectCount <= p.detectWindow)) {
    throw new ControlParamsError(
      'detectCount',
      `an integer 1..detectWindow (${p.detectWindow})`,
      p.detectCount,
    );
  }
  if (!(Number.isFinite(p.refractoryS) && p.refractoryS >= 0)) {
    throw new ControlParamsError('refractoryS', 'a number >= 0', p.refractoryS);
  }
  frac('cutFactor', p.cutFactor);
  frac('cutFactorSevere', p.cutFactorSevere);
  if (p.cutFactorSevere > p.cutFactor) {
    throw new ControlParamsError('cutFactorSevere', `<= cutFactor (${p.cutFactor})`, p.cutFactorSevere);
  }
  frac('blindCutFactor', p.blindCutFactor);
  pos('drainS', p.drainS);
  pos('turnS', p.turnS);
  if (!(Number.isFinite(p.severeDelayFactor) && p.severeDelayFactor >= 1)) {
    throw new ControlParamsError('severeDelayFactor', 'a number >= 1', p.severeDelayFactor);
  }
  frac('escalateFraction', p.escalateFraction);
  if (!(Number.isFinite(p.escalateS) && p.escalateS >= 0)) {
    throw new ControlParamsError('escalateS', 'a number >= 0', p.escalateS);
  }
  frac('loadedFraction', p.loadedFraction);
  frac('idleFraction', p.idleFraction);
  if (p.idleFraction >= p.loadedFraction) {
    throw new ControlParamsError('idleFraction', `< loadedFraction (${p.loadedFraction})`, p.idleFraction);
  }
  pos('probeMinPerS', p.probeMinPerS);
  pos('probeMaxPerS', p.probeMaxPerS);
  if (p.probeMaxPerS < p.probeMinPerS) {
    throw new ControlParamsError('probeMaxPerS', `>= probeMinPerS (${p.probeMinPerS})`, p.probeMaxPerS);
  }
  pos('probeRampS', p.probeRampS);
  pos('recallS', p.recallS);
  pos('probeHeadroom', p.probeHeadroom);
  if (!(Number.isFinite(p.idleDecayPerS) && p.idleDecayPerS >= 0 && p.idleDecayPerS < 1)) {
    throw new ControlParamsError('idleDecayPerS', 'a number in [0, 1)', p.idleDecayPerS);
  }
  pos('baselineWindowS', p.baselineWindowS);
  pos('reflectorSilentS', p.reflectorSilentS);
  pos('reflectorOutlierMs', p.reflectorOutlierMs);
  pos('reflectorOutlierS', p.reflectorOutlierS);
  validateWritePolicy(p.writePolicy);
  return p;
}

/** Input of one adaptive cycle (the v1.3 fields it reads plus what each direction delivered). */
export interface AdaptiveInput {
  /** One reflector's RTT (slot 0), or null when it did not answer. */
  rtt_ms?: number | null | undefined;
  /** Per-reflector RTTs by slot (null = no answer this cycle); takes precedence over rtt_ms. */
  rtts_ms?: ArrayLike<number | null> | null | undefined;
  /** Bits per second the download shaper delivered since the previous cycle; absent = unknown. */
  dl_achieved_bps?: number | null | undefined;
  ul_achieved_bps?: number | null | undefined;
  /**
   * Bytes waiting in each shaper's own queue at the latest counter read (RouterOS `queued-bytes`,
   * tc backlog); absent = unknown. A loaded direction whose shaper holds a queue is limited by the
   * shaper, not the line: with both loaded, the delay is the one whose shaper holds none.
   */
  dl_queued_bytes?: number | null | undefined;
  ul_queued_bytes?: number | null | undefined;
  /** Synchronous write mode (replay): a write issued this cycle is completed with this outcome. */
  router_ok?: boolean | undefined;
}

export type LoadClass = 'idle' | 'low' | 'loaded' | 'unknown';
export type RateAction = 'hold' | 'raise' | 'cut' | 'decay';

export interface AdaptiveDirectionResult {
  rateBps: number;
  load: LoadClass;
  action: RateAction;
  /** Capacity estimate (delivered rate at the last cut, raised by what is delivered without bloat). */
  capacityBps: number;
}

export interface AdaptiveResult {
  /** Median RTT of the answering good reflectors, ms (null: none answered). */
  rttMs: number | null;
  /** Median delay over the reflectors' baselines, ms (null: none answered). */
  delayMs: number | null;
  /** Baseline of the median-delay reflector... the mean of the good reflectors' baselines, ms. */
  baselineMs: number | null;
  replies: number;
  bloat: boolean;
  /** Bit i set: reflector slot i is bad (silent or off the others); the probe layer should replace it. */
  badReflectors: number;
  /**
   * The bad slots that are bad for silence (no answer for `reflectorSilentS`); the others in
   * `badReflectors` are off the others' median. Every slot silent is an outage, not bad reflectors.
   */
  silentReflectors: number;
  dl: AdaptiveDirectionResult;
  ul: AdaptiveDirectionResult;
  /** The write to perform now (reused object), or null. */
  write: WriteRequest | null;
  routerOk: boolean;
}

class DirectionState {
  rate: number;
  capacity: number;
  /** What the link carried before recent cuts (decays towards `capacity`): a fade or a cut as a bystander passes. */
  recall: number;
  achieved = Number.NaN;
  lastCutS = Number.NEGATIVE_INFINITY;
  idleSinceS = Number.NaN;
  /** Last cycle the direction was loaded (filled its rate). */
  loadedAtS = Number.NEGATIVE_INFINITY;
  /** Start of the current loaded run (gaps under LOADED_GAP_S do not end it); NaN when not loaded. */
  loadedSinceS = Number.NaN;
  /** After a cut for a line that fell (severe): probe at full speed, not in turns, until the next cut. */
  rebound = false;
  /** Smoothed bytes in the shaper's own queue (NaN: unknown). */
  queued = Number.NaN;
  readonly out: AdaptiveDirectionResult;
  constructor(readonly p: AdaptiveDirectionParams) {
    this.rate = p.ceilingBps;
    this.capacity = p.ceilingBps;
    this.recall = 0;
    this.out = { rateBps: this.rate, load: 'unknown', action: 'hold', capacityBps: this.capacity };
  }
}

export class AdaptiveController {
  readonly params: Readonly<AdaptiveParams>;
  readonly writePolicy: WritePolicy;
  private readonly dl: DirectionState;
  private readonly ul: DirectionState;
  // Reflectors.
  private readonly smooth = new Float64Array(MAX_REFLECTORS).fill(Number.NaN);
  private readonly bucketMin = new Float64Array(MAX_REFLECTORS * BUCKETS).fill(Number.POSITIVE_INFINITY);
  private readonly lastSeenS = new Float64Array(MAX_REFLECTORS).fill(Number.NaN);
  private readonly outlierSinceS = new Float64Array(MAX_REFLECTORS).fill(Number.NaN);
  /** Last |delay - the others' median| per slot, ms (NaN: not known). */
  private readonly offMs = new Float64Array(MAX_REFLECTORS).fill(Number.NaN);
  private readonly sampleNow = new Float64Array(MAX_REFLECTORS);
  private readonly deltaNow = new Float64Array(MAX_REFLECTORS);
  private readonly scratch = new Float64Array(MAX_REFLECTORS);
  private bad = 0;
  private bucketIndex = -1;
  private readonly bucketS: number;
  // Detection ring.
  private readonly ring: Float64Array;
  private ringPos = 0;
  private ringFilled = 0;
  private lastCycleS = Number.NaN;
  private lastCutS = Number.NEGATIVE_INFINITY;
  private delayAtCut = 0;
  private bloatSinceS = Number.NaN;
  private thrMs = 0;
  /** This cycle's delay is over `severeDelayFactor` × the threshold (set in cycle()). */
  private severe = false;
  /** Whose turn it is to probe above its capacity estimate when both directions are loaded. */
  private turnUl = false;
  private turnSinceS = 0;
  private readonly result: AdaptiveResult;

  constructor(params: AdaptiveParams) {
    this.params = validateAdaptiveParams({ ...params, writePolicy: { ...params.writePolicy } });
    this.writePolicy = new WritePolicy(this.params.writePolicy);
    this.dl = new DirectionState(this.params.download);
    this.ul = new DirectionState(this.params.upload);
    this.ring = new Float64Array(this.params.detectWindow);
    this.bucketS = this.params.baselineWindowS / BUCKETS;
    this.result = {
      rttMs: null,
      delayMs: null,
      baselineMs: null,
      replies: 0,
      bloat: false,
      badReflectors: 0,
      silentReflectors: 0,
      dl: this.dl.out,
      ul: this.ul.out,
      write: null,
      routerOk: true,
    };
  }

  /** The last cycle's result (the object `cycle()` returns, reused). */
  get lastResult(): Readonly<AdaptiveResult> {
    return this.result;
  }

  /** Decided rates (what the law wants the router to hold). */
  get rates(): { dlBps: number; ulBps: number } {
    return { dlBps: this.dl.rate, ulBps: this.ul.rate };
  }

  /** Forget the baseline and health of `slot` (a reflector back after a long silence starts afresh). */
  resetReflector(slot: number): void {
    if (!(slot >= 0 && slot < MAX_REFLECTORS)) return;
    this.smooth[slot] = Number.NaN;
    this.bucketMin.fill(Number.POSITIVE_INFINITY, slot * BUCKETS, slot * BUCKETS + BUCKETS);
    this.lastSeenS[slot] = Number.NaN;
    this.outlierSinceS[slot] = Number.NaN;
    this.offMs[slot] = Number.NaN;
    this.bad &= ~(1 << slot);
  }

  /**
   * The probe layer put a new reflector in `slot` at `nowS`: its baseline, outlier and silence
   * state start afresh, and its silence counts from `nowS` (not from the start: a new reflector
   * that has not answered yet is not bad until `reflectorSilentS` after the swap). No allocation.
   */
  replaceReflector(slot: number, nowS: number): void {
    if (!(slot >= 0 && slot < MAX_REFLECTORS)) return;
    this.resetReflector(slot);
    this.lastSeenS[slot] = nowS;
  }

  /** Seconds `slot` has been silent at `nowS` (since its last answer, its replacement or the start). */
  reflectorSilenceS(slot: number, nowS: number): number {
    const seen = this.lastSeenS[slot];
    return seen === undefined ? Number.NaN : Number.isNaN(seen) ? nowS : nowS - seen;
  }

  /** How far `slot`'s delay was from the others' median when it last answered, ms (NaN: unknown). */
  reflectorOffsetMs(slot: number): number {
    return this.offMs[slot] ?? Number.NaN;
  }

  /** Outcome of the write last returned in a result (daemon mode). */
  writeCompleted(ok: boolean): boolean {
    return this.writePolicy.completed(ok);
  }

  /** One cycle at time `nowS` (seconds, monotonic). The result object is reused. */
  cycle(input: AdaptiveInput, nowS: number): AdaptiveResult {
    const p = this.params;
    const r = this.result;
    const dtS = Number.isNaN(this.lastCycleS) ? p.intervalSeconds : Math.max(0, nowS - this.lastCycleS);
    this.lastCycleS = nowS;
    this.measure(input, nowS);

    // Detection over the last detectWindow delays (a cycle without a delay counts as not delayed).
    const delay = r.delayMs;
    this.ring[this.ringPos] = delay === null ? Number.NaN : delay;
    this.ringPos = (this.ringPos + 1) % this.ring.length;
    if (this.ringFilled < this.ring.length) this.ringFilled++;
    let over = 0;
    let sum = 0;
    let n = 0;
    // Threshold: the configured one (at least minThresholdMs) plus the wait behind one packet in
    // each shaper at the router's rates (a ping queues behind it even with no standing queue).
    const rDl = this.writePolicy.routerDlBps ?? this.dl.rate;
    const rUl = this.writePolicy.routerUlBps ?? this.ul.rate;
    const thr = Math.max(p.thresholdMs, p.minThresholdMs) + (PACKET_BITS / rDl + PACKET_BITS / rUl) * 1000;
    this.thrMs = thr;
    for (let i = 0; i < this.ringFilled; i++) {
      const v = this.ring[i]!;
      if (Number.isNaN(v)) continue;
      n++;
      sum += v;
      if (v > thr) over++;
    }
    const meanDelay = n > 0 ? sum / n : 0;
    const bloat = over >= p.detectCount;
    r.bloat = bloat;
    if (!bloat) this.bloatSinceS = Number.NaN;
    else if (Number.isNaN(this.bloatSinceS)) this.bloatSinceS = nowS;

    const achDl = finiteOrNaN(input.dl_achieved_bps);
    const achUl = finiteOrNaN(input.ul_achieved_bps);
    this.updateAchieved(this.dl, achDl);
    this.updateAchieved(this.ul, achUl);
    updateQueued(this.dl, input.dl_queued_bytes);
    updateQueued(this.ul, input.ul_queued_bytes);
    const routerDl = this.writePolicy.routerDlBps ?? this.dl.rate;
    const routerUl = this.writePolicy.routerUlBps ?? this.ul.rate;
    this.classify(this.dl, routerDl, nowS);
    this.classify(this.ul, routerUl, nowS);

    // Attribution (an RTT does not say which queue grew): a loaded direction (filling its rate)
    // is cut first; a direction with some traffic that does not fill its rate is cut only when
    // no direction is loaded, or when the delay has not fallen `escalateS` after the last cut.
    // An idle direction is never cut.
    const dlLoad = this.dl.out.load;
    const ulLoad = this.ul.out.load;
    // Growth of the delay over the window, s/s (negative: draining; NaN-free: 0 when unknown).
    let rawSlope = 0;
    if (this.ringFilled === this.ring.length && this.ring.length > 1) {
      const newest = this.ring[(this.ringPos + this.ring.length - 1) % this.ring.length]!;
      const oldest = this.ring[this.ringPos]!;
      if (!Number.isNaN(newest) && !Number.isNaN(oldest))
        rawSlope = (newest - oldest) / 1000 / ((this.ring.length - 1) * p.intervalSeconds);
    }
    let cutDl = false;
    let cutUl = false;
    let escalating = false;
    this.severe = false;
    if (bloat) {
      const anyLoaded =
        dlLoad === 'loaded' || dlLoad === 'unknown' || ulLoad === 'loaded' || ulLoad === 'unknown';
      const sinceAnyCut = nowS - this.lastCutS;
      // A delay far over the threshold is no probe's overshoot (a probe is a few per cent over
      // the estimate): the line itself fell (only under a load that has lasted: at a load's
      // start the flows' slow start overshoots any rate, and the ramp-up rule below decides).
      const severe =
        delay !== null &&
        delay > p.severeDelayFactor * thr &&
        (nowS - this.dl.loadedSinceS >= ONSET_S || nowS - this.ul.loadedSinceS >= ONSET_S);
      this.severe = severe;
      // The line fell: a severe delay that is no echo of a cut, because it came in a new bloat
      // episode (the delay went under the threshold since the last cut) or grew by another
      // threshold since this episode's cut. It cuts refractory time or not (the testbed's step
      // came 0.3 s after a probe's cut: waiting out the refractory time let the delay rise from
      // 19 to 45 ms before anything was cut; in the same episode the download, exonerated at
      // its estimate, ran at 38 Mbit/s into a 20 Mbit/s line for two cycles more).
      const newEpisode = this.lastCutS < this.bloatSinceS;
      const fallen = severe && (newEpisode || (delay !== null && delay > this.delayAtCut + thr));
      // Escalate only within one bloat episode: a cut made in it did not bring the delay down.
      const escalate =
        !newEpisode &&
        delay !== null &&
        // (a delay that is falling is draining: the cut was right, it only takes time)
        rawSlope >= 0 &&
        (fallen ||
          // (by the refractory time at the latest: a second cut of the same direction must not
          // keep postponing the escalation; counted in cycles, half a cycle early: the
          // simulator's cycle times, summed in floating point, fell a hair short of 0.2 s and
          // the escalation came a cycle late)
          (sinceAnyCut + 0.5 * p.intervalSeconds >= Math.min(p.escalateS, p.refractoryS) &&
            delay > p.escalateFraction * this.delayAtCut));
      // Right after a cut the window still holds the delays that caused it: only an escalation
      // or a fall in a new episode may cut within the refractory time.
      const fresh = sinceAnyCut >= p.refractoryS || (fallen && newEpisode);
      escalating = escalate || (fallen && newEpisode);
      cutDl =
        ((dlLoad === 'loaded' || dlLoad === 'unknown' || (dlLoad === 'low' && !anyLoaded)) && fresh) ||
        (dlLoad !== 'idle' && escalate);
      cutUl =
        ((ulLoad === 'loaded' || ulLoad === 'unknown' || (ulLoad === 'low' && !anyLoaded)) && fresh) ||
        (ulLoad !== 'idle' && escalate);
      // Both loaded: only the direction whose turn it is probes above its capacity estimate, so
      // the other one (at or under its estimate) did not cause this; it is cut only on escalation.
      // With a severe delay the line itself fell, both estimates are wrong, and both are cut (the
      // testbed's capacity step: the upload, exonerated at its estimate, ran at 9.5 Mbit/s into
      // a 5 Mbit/s line for 0.3 s more).
      // Where the queues are, when the shapers say: a loaded direction whose own shaper holds a
      // queue is limited there, not by the line, so the line's queue is the other one's.
      if (cutDl && cutUl && dlLoad === 'loaded' && ulLoad === 'loaded' && !escalate && !severe) {
        if (this.dl.queued >= QUEUED_BYTES && this.ul.queued < EMPTY_BYTES) cutDl = false;
        else if (this.ul.queued >= QUEUED_BYTES && this.dl.queued < EMPTY_BYTES) cutUl = false;
        else if (this.turnUl && this.dl.rate <= 1.005 * this.dl.capacity) cutDl = false;
        else if (!this.turnUl && this.ul.rate <= 1.005 * this.ul.capacity) cutUl = false;
      }
      // The start of a load (neither direction loaded in the last ONSET_S; flows ramping up):
      // the one nearer to filling its rate is cut, the other only on escalation. Cutting both to
      // what they delivered while ramping threw away most of the download (the demo: 915 -> 231
      // Mbit/s on an 870 Mbit/s line, for the upload's queue) and took ten seconds to win back.
      // After a capacity drop under load both are cut as before (the one whose line fell fills
      // its rate least).
      if (
        cutDl &&
        cutUl &&
        dlLoad === 'low' &&
        ulLoad === 'low' &&
        !escalate &&
        nowS - this.dl.loadedAtS >= ONSET_S &&
        nowS - this.ul.loadedAtS >= ONSET_S
      ) {
        if (this.ul.achieved / routerUl > this.dl.achieved / routerDl) cutDl = false;
        else cutUl = false;
      }
      // A direction already at its lowest rate cannot take a cut (the floor is a bound): the
      // delay is then the other direction's to fix, whatever its fill says (a rate far above
      // what a collapsed link delivers looks 'low').
      if (cutUl && !cutDl && this.ul.rate <= this.ul.p.minBps && dlLoad !== 'idle') cutDl = true;
      else if (cutDl && !cutUl && this.dl.rate <= this.dl.p.minBps && ulLoad !== 'idle') cutUl = true;
    }
    const bothLoaded = dlLoad === 'loaded' && ulLoad === 'loaded';
    if (nowS - this.turnSinceS >= p.turnS) this.passTurn(nowS);
    // How fast the delay grows says how far over the capacity the input is: C = achieved / (1 + slope).
    const slope = Math.max(0, rawSlope);
    const dlCut = this.decide(
      this.dl,
      routerDl,
      cutDl,
      escalating,
      slope,
      meanDelay,
      nowS,
      dtS,
      bothLoaded && this.turnUl,
    );
    const ulCut = this.decide(
      this.ul,
      routerUl,
      cutUl,
      escalating,
      slope,
      meanDelay,
      nowS,
      dtS,
      bothLoaded && !this.turnUl,
    );
    if ((dlCut && !this.turnUl) || (ulCut && this.turnUl)) this.passTurn(nowS);
    if (dlCut || ulCut) {
      this.lastCutS = nowS;
      this.delayAtCut = delay ?? meanDelay;
    }

    // Write policy.
    r.routerOk = true;
    r.write = this.writePolicy.offer(this.dl.rate, this.ul.rate, nowS);
    if (r.write !== null && input.router_ok !== undefined) {
      this.writePolicy.completed(input.router_ok);
      r.routerOk = input.router_ok;
    }
    return r;
  }

  private passTurn(nowS: number): void {
    this.turnUl = !this.turnUl;
    this.turnSinceS = nowS;
  }

  private updateAchieved(s: DirectionState, a: number): void {
    if (Number.isNaN(a)) {
      s.achieved = Number.NaN;
      return;
    }
    // Light smoothing (packet granularity at low rates), but follow a fall at once.
    s.achieved = Number.isNaN(s.achieved) || a < s.achieved ? a : 0.5 * s.achieved + 0.5 * a;
  }

  private classify(s: DirectionState, routerRate: number, nowS: number): void {
    const p = this.params;
    const a = s.achieved;
    let load: LoadClass;
    if (Number.isNaN(a)) load = 'unknown';
    else if (a >= p.loadedFraction * routerRate) load = 'loaded';
    else if (a < p.idleFraction * routerRate && a < 0.5 * s.p.minBps) load = 'idle';
    else load = 'low';
    if (load === 'idle') {
      if (Number.isNaN(s.idleSinceS)) s.idleSinceS = nowS;
    } else s.idleSinceS = Number.NaN;
    if (load === 'loaded') {
      if (Number.isNaN(s.loadedSinceS) || nowS - s.loadedAtS > LOADED_GAP_S) s.loadedSinceS = nowS;
      s.loadedAtS = nowS;
    } else if (nowS - s.loadedAtS > LOADED_GAP_S) s.loadedSinceS = Number.NaN;
    s.out.load = load;
  }

  private decide(
    s: DirectionState,
    routerRate: number,
    cut: boolean,
    escalating: boolean,
    slope: number,
    meanDelay: number,
    nowS: number,
    dtS: number,
    capAtEstimate: boolean,
  ): boolean {
    const p = this.params;
    const d = s.p;
    const sinceCut = nowS - s.lastCutS;
    // The memory of the pre-cut capacity fades within `recallS`, and is never under the estimate.
    s.recall = Math.max(s.capacity, s.recall - (s.recall - s.capacity) * Math.min(1, dtS / p.recallS));
    let action: RateAction = 'hold';
    let rate = s.rate;
    let measuredCut = false;
    // Deeper with more standing delay: drain it in about `drainS`; at once as deep as it goes when
    // the line itself fell (the delivered rate still counts the faster line for a read or two).
    // (as deep as it goes only while the delivered rate may still count the faster line: the
    // direction still fills its rate; one that no longer does delivers what the new line carries)
    const f =
      this.severe && !(s.achieved < p.loadedFraction * routerRate)
        ? p.cutFactorSevere
        : Math.max(p.cutFactorSevere, p.cutFactor * (1 - meanDelay / 1000 / p.drainS));
    // A cut waits out the refractory time, unless the delay did not drain after the last cut.
    if (cut && (sinceCut >= p.refractoryS || escalating)) {
      let target: number;
      s.rebound = false;
      if (Number.isNaN(s.achieved)) {
        target = Math.min(rate, routerRate) * p.blindCutFactor * (f / p.cutFactor);
      } else {
        const delivered = s.achieved / (1 + slope);
        target = delivered * f;
        // What the link carried before this cut is remembered, to climb back to. When the line
        // itself fell (a severe delay) the delivered rate still counts the faster line for a read
        // or two: the estimate is the cut rate, and nothing is recalled (the testbed's step 40 ->
        // 20 Mbit/s: an estimate and a recall of 29 Mbit/s kept both directions climbing past the
        // new line, and each cut the other's estimate with it).
        if (this.severe) {
          s.capacity = Math.max(d.minBps, Math.min(d.ceilingBps, target, rate, routerRate));
          s.recall = s.capacity;
          // where the new line is, only probing finds: both directions probe at full speed, not
          // in turns, until their next cut
          s.rebound = true;
        } else {
          const before = Math.max(s.recall, s.capacity);
          s.capacity = Math.max(d.minBps, Math.min(d.ceilingBps, delivered));
          s.recall = Math.max(before, s.capacity);
        }
        measuredCut = true;
      }
      rate = Math.min(rate, routerRate, target);
      s.lastCutS = nowS;
      action = 'cut';
    } else if (!cut && sinceCut >= p.refractoryS && (s.out.load === 'loaded' || s.out.load === 'unknown')) {
      // (a shaper delivers no more than its rate: a reading above it is counter noise, and
      // taking it would ratchet the estimate up past the line)
      if (s.out.load === 'loaded' && s.achieved > s.capacity)
        s.capacity = Math.min(d.ceilingBps, s.achieved, routerRate);
      // Taper: full speed under a third of the threshold, none at the threshold.
      const g = clamp01((this.thrMs - meanDelay) / ((2 / 3) * this.thrMs));
      if (g > 0) {
        const ramp = s.rebound ? 1 : clamp01((sinceCut - p.refractoryS) / p.probeRampS);
        const perS = p.probeMinPerS + (p.probeMaxPerS - p.probeMinPerS) * ramp * ramp;
        // Relative to the rate, but not slower than relative to a tenth of the ceiling (low rates).
        let next = rate + perS * g * dtS * Math.max(rate, 0.1 * d.ceilingBps);
        // Under what the link carried before the recent cuts: climb at the fastest probe rate.
        if (rate < RECALL_SHARE * s.recall) next = Math.max(next, rate + p.probeMaxPerS * g * dtS * rate);
        // Back to just under the known capacity quickly.
        const known = 0.95 * s.capacity;
        if (s.out.load === 'loaded' && next < known) next = Math.max(next, rate + (known - rate) * 0.3 * g);
        // Not this direction's turn to probe: stay at the estimate.
        // (back up to what the link carried before recent cuts is known ground, not a probe)
        if (capAtEstimate && !s.rebound)
          next = Math.min(next, Math.max(rate, s.capacity, RECALL_SHARE * s.recall));
        // Never far above what it delivers: more rate only helps once the delivered rate follows,
        // and a rate the link cannot fill would leave the direction looking 'low' (not blamed).
        if (s.out.load === 'loaded')
          next = Math.min(next, Math.max(rate, s.achieved * (1 + p.probeHeadroom)));
        rate = next;
        action = 'raise';
      }
    } else if (s.out.load === 'idle' && nowS - s.idleSinceS >= 1) {
      const base = Math.max(d.baseBps, Math.min(d.ceilingBps, 0.9 * s.capacity));
      if (rate > base) {
        rate = Math.max(base, rate * (1 - p.idleDecayPerS * dtS));
        action = 'decay';
      } else if (rate < base) {
        rate = Math.min(base, rate * (1 + p.idleDecayPerS * dtS));
        action = 'decay';
      }
    }
    // Under the configured floor only by a cut to what the link delivered (then on the way back up).
    const lowest = measuredCut ? d.minBps : Math.max(d.minBps, Math.min(d.floorBps, s.rate));
    rate = Math.round(Math.min(d.ceilingBps, Math.max(lowest, rate)));
    s.rate = rate;
    s.out.rateBps = rate;
    s.out.action = action;
    s.out.capacityBps = s.capacity;
    return action === 'cut';
  }

  /** Per-reflector baselines and the cycle's median delay; sets rttMs/delayMs/baselineMs/replies. */
  private measure(input: AdaptiveInput, nowS: number): void {
    const r = this.result;
    const p = this.params;
    const arr = input.rtts_ms;
    let slots = 0;
    if (arr !== null && arr !== undefined) {
      slots = Math.min(arr.length, MAX_REFLECTORS);
      for (let i = 0; i < slots; i++) this.sampleNow[i] = validOrNaN(arr[i]);
    } else if (input.rtt_ms !== undefined) {
      slots = 1;
      this.sampleNow[0] = validOrNaN(input.rtt_ms);
    }
    // Advance the baseline buckets.
    const bi = Math.floor(nowS / this.bucketS);
    if (bi !== this.bucketIndex) {
      const steps = this.bucketIndex < 0 ? BUCKETS : Math.min(BUCKETS, bi - this.bucketIndex);
      for (let k = 1; k <= steps; k++) {
        const b = (((bi - steps + k) % BUCKETS) + BUCKETS) % BUCKETS;
        for (let s = 0; s < MAX_REFLECTORS; s++) this.bucketMin[s * BUCKETS + b] = Number.POSITIVE_INFINITY;
      }
      this.bucketIndex = bi;
    }
    const cur = ((bi % BUCKETS) + BUCKETS) % BUCKETS;
    let replies = 0;
    for (let i = 0; i < slots; i++) {
      const v = this.sampleNow[i]!;
      if (Number.isNaN(v)) {
        this.deltaNow[i] = Number.NaN;
        continue;
      }
      replies++;
      // A reflector back after a silence longer than the window starts afresh.
      if (!Number.isNaN(this.lastSeenS[i]!) && nowS - this.lastSeenS[i]! > p.baselineWindowS)
        this.resetReflector(i);
      this.lastSeenS[i] = nowS;
      const sm = Number.isNaN(this.smooth[i]!) ? v : 0.5 * this.smooth[i]! + 0.5 * v;
      this.smooth[i] = sm;
      const o = i * BUCKETS;
      if (sm < this.bucketMin[o + cur]!) this.bucketMin[o + cur] = sm;
      let base = Number.POSITIVE_INFINITY;
      for (let b = 0; b < BUCKETS; b++) base = Math.min(base, this.bucketMin[o + b]!);
      this.deltaNow[i] = Math.max(0, v - base);
      this.scratch[i] = base;
    }
    r.replies = replies;
    // Health: silent slots, and slots far off the others' median delay for a while.
    let bad = 0;
    let silent = 0;
    const med = this.medianDelay(slots, 0);
    for (let i = 0; i < slots; i++) {
      const seen = this.lastSeenS[i]!;
      if (Number.isNaN(seen) ? nowS >= p.reflectorSilentS : nowS - seen >= p.reflectorSilentS) {
        bad |= 1 << i;
        silent |= 1 << i;
        continue;
      }
      const dlt = this.deltaNow[i]!;
      if (!Number.isNaN(dlt) && med !== null) this.offMs[i] = Math.abs(dlt - med);
      if (!Number.isNaN(dlt) && med !== null && replies >= 3 && Math.abs(dlt - med) > p.reflectorOutlierMs) {
        if (Number.isNaN(this.outlierSinceS[i]!)) this.outlierSinceS[i] = nowS;
      } else if (!Number.isNaN(dlt)) this.outlierSinceS[i] = Number.NaN;
      if (!Number.isNaN(this.outlierSinceS[i]!) && nowS - this.outlierSinceS[i]! >= p.reflectorOutlierS)
        bad |= 1 << i;
    }
    this.bad = bad;
    r.badReflectors = bad;
    r.silentReflectors = silent;
    // Aggregate over the good answering reflectors (all answering ones if none is good).
    let useMask = bad;
    let goodReplies = 0;
    for (let i = 0; i < slots; i++) if (!Number.isNaN(this.deltaNow[i]!) && !(bad & (1 << i))) goodReplies++;
    if (goodReplies === 0) useMask = 0;
    const delay = this.medianDelay(slots, useMask);
    r.delayMs = delay;
    if (delay === null) {
      r.rttMs = null;
      r.baselineMs = null;
      return;
    }
    let bsum = 0;
    let rsum = 0;
    let k = 0;
    for (let i = 0; i < slots; i++) {
      if (Number.isNaN(this.deltaNow[i]!) || useMask & (1 << i)) continue;
      bsum += this.scratch[i]!;
      rsum += this.sampleNow[i]!;
      k++;
    }
    r.baselineMs = bsum / k;
    r.rttMs = rsum / k;
  }

  /** Median of deltaNow over answering slots not in `skip`; null when none. Uses no allocation. */
  private medianDelay(slots: number, skip: number): number | null {
    // Insertion sort of at most MAX_REFLECTORS values into a fixed buffer.
    const buf = this.sortBuf;
    let n = 0;
    for (let i = 0; i < slots; i++) {
      const v = this.deltaNow[i]!;
      if (Number.isNaN(v) || skip & (1 << i)) continue;
      let j = n++;
      while (j > 0 && buf[j - 1]! > v) {
        buf[j] = buf[j - 1]!;
        j--;
      }
      buf[j] = v;
    }
    if (n === 0) return null;
    return n % 2 === 1 ? buf[(n - 1) >> 1]! : 0.5 * (buf[n / 2 - 1]! + buf[n / 2]!);
  }
  private readonly sortBuf = new Float64Array(MAX_REFLECTORS);
}

/** A load starts when neither direction has been loaded for this long, s. */
const ONSET_S = 2;

/** A shaper holds a queue (smoothed) of at least this many bytes: about one full packet. */
const QUEUED_BYTES = 1500;
/** … and holds none under this. */
const EMPTY_BYTES = 500;

/** Smooths a shaper's queued bytes over a few cycles (a TCP sawtooth empties it now and then). */
function updateQueued(s: DirectionState, v: number | null | undefined): void {
  if (v === null || v === undefined || !(Number.isFinite(v) && v >= 0)) {
    s.queued = Number.NaN;
    return;
  }
  s.queued = Number.isNaN(s.queued) ? v : 0.7 * s.queued + 0.3 * v;
}

/** A loaded run survives gaps this short (a reading under the loaded share), s. */
const LOADED_GAP_S = 0.5;

/** Share of the pre-cut capacity a direction returns to at the fastest probe rate. */
const RECALL_SHARE = 0.9;

function clamp01(x: number): number {
  return x < 0 ? 0 : Math.min(x, 1);
}

function finiteOrNaN(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : Number.NaN;
}

function validOrNaN(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : Number.NaN;
}
