/**
 * One WAN's control law: measurement -> EWMAs -> spike detector -> download/upload state
 * machines -> write decision under the write budget. Pure: time and measurements are inputs, the
 * router write is a decision handed back to the caller, who reports its outcome.
 */
import { type BaselineOutcome, type EwmaState, updateEwmas } from './ewma.js';
import {
  type ConnectivityResult,
  type FallbackDecision,
  type FallbackFailReason,
  handleIcmpFailure,
  isValidRtt,
  medianOfValid,
  verifyConnectivityFallback,
} from './measure.js';
import { type ControlParams, validateControlParams } from './params.js';
import { DownloadController, UploadController, type Zone } from './queue.js';
import { RateLimiter } from './rate.js';

/** One cycle's measurements (field names as in the replay/golden input lines). */
export interface CycleInput {
  /** Single-host mode: the reply's RTT, or null when the ping failed. */
  rtt_ms?: number | null | undefined;
  /** Median-of-three mode: the replies that arrived ([] = all failed). */
  rtts_ms?: ArrayLike<number | null> | null | undefined;
  /** Gateway ping result, consulted only after all ICMP probes failed. */
  gateway_ok?: boolean | undefined;
  /** One entry per TCP target (null = connect failed), consulted only after ICMP failed. */
  tcp_rtts_ms?: ArrayLike<number | null> | null | undefined;
  /**
   * Synchronous write mode (replay, golden vectors): if a write is issued this cycle it is taken as
   * done at once with this outcome. Leave undefined in the daemon: the write stays in flight until
   * {@link WanController.writeCompleted} is called.
   */
  router_ok?: boolean | undefined;
}

/** Where this cycle's sample came from. */
export type SampleSource = 'icmp' | 'tcp' | 'last_load';

/** Why a cycle failed (ok false). */
export type CycleFailure = FallbackFailReason | 'router_write_failed';

/** A router write the caller must perform: both queues' max-limit in one batched call. */
export interface WriteRequest {
  dlBps: number;
  ulBps: number;
}

/**
 * Decisions and state after one cycle. The controller reuses one instance: copy what you keep.
 */
export interface CycleResult {
  /** v1.3 semantics: false on total connectivity loss, fallback exhausted/disabled/unknown mode, or a failed synchronous write. */
  ok: boolean;
  failure: CycleFailure | null;
  /** Fallback freeze: nothing but the ICMP counter moved this cycle (zones/rates are null). */
  frozen: boolean;
  /** The sample was not a fresh ICMP measurement (re-fed load EWMA) or the cycle froze/failed (a cycle with no reply is never presented as a fresh one). */
  stale: boolean;
  sampleSource: SampleSource | null;
  /** Valid ICMP replies this cycle (the quorum, exposed so that 0 of 3 is visibly stale). */
  replies: number;
  /** Entries dropped as invalid (NaN, negative, non-numeric) this cycle (docs/decisions.md#d12). */
  invalidSamples: number;
  /** The sample exceeded baseline + maxRttDeltaMs and was clamped (docs/decisions.md#d12). */
  clamped: boolean;
  /** ICMP came back after fallback cycles this cycle (v1.3 logs "ICMP recovered"). */
  icmpRecovered: boolean;
  icmpUnavailableCycles: number;
  /** The value fed to the EWMAs (null when frozen or failed). */
  measuredRttMs: number | null;
  loadRttMs: number;
  baselineRttMs: number;
  /** load - baseline after the update (null when frozen or failed). */
  deltaMs: number | null;
  baselineOutcome: BaselineOutcome | null;
  /** Load-EWMA jump above accel threshold this cycle. */
  accelSpike: boolean;
  /** Consecutive spikes so far. */
  spikeStreak: number;
  /** docs/decisions.md#d4: spikeStreak reached accelConfirmCycles, download forced to RED. */
  forcedRed: boolean;
  dlZone: Zone | null;
  dlRateBps: number | null;
  ulZone: Zone | null;
  ulRateBps: number | null;
  dlGreenStreak: number;
  dlSoftRedStreak: number;
  dlRedStreak: number;
  ulGreenStreak: number;
  ulSoftRedStreak: number;
  ulRedStreak: number;
  /** The write to perform now, or null. Reused object: valid until the next write is issued. */
  write: WriteRequest | null;
  /** A decrease (or first write) issued although the budget is spent (docs/decisions.md#d3). */
  writeOverBudget: boolean;
  /** Outcome of a synchronous write (input.router_ok given), else null. */
  routerOk: boolean | null;
  /** Rates differ from the router's but the write is withheld (budget, or one already in flight). */
  throttled: boolean;
  /** Router's rates as last confirmed (null until the first successful write). */
  lastAppliedDlBps: number | null;
  lastAppliedUlBps: number | null;
  /** Something the state file carries changed in a way worth persisting (rate, zone, last applied). */
  persistDirty: boolean;
}

/** What the state file persists (v1.3 state file sections, same key names). */
export interface ControllerSnapshot {
  download: { green_streak: number; soft_red_streak: number; red_streak: number; current_rate: number };
  upload: { green_streak: number; soft_red_streak: number; red_streak: number; current_rate: number };
  ewma: { baseline_rtt: number; load_rtt: number };
  last_applied: { dl_rate: number | null; ul_rate: number | null };
}

export interface RestoreReport {
  /** Dotted paths of values that were missing or invalid and left at their defaults. */
  ignored: string[];
}

function newResult(): CycleResult {
  return {
    ok: true,
    failure: null,
    frozen: false,
    stale: false,
    sampleSource: null,
    replies: 0,
    invalidSamples: 0,
    clamped: false,
    icmpRecovered: false,
    icmpUnavailableCycles: 0,
    measuredRttMs: null,
    loadRttMs: 0,
    baselineRttMs: 0,
    deltaMs: null,
    baselineOutcome: null,
    accelSpike: false,
    spikeStreak: 0,
    forcedRed: false,
    dlZone: null,
    dlRateBps: null,
    ulZone: null,
    ulRateBps: null,
    dlGreenStreak: 0,
    dlSoftRedStreak: 0,
    dlRedStreak: 0,
    ulGreenStreak: 0,
    ulSoftRedStreak: 0,
    ulRedStreak: 0,
    write: null,
    writeOverBudget: false,
    routerOk: null,
    throttled: false,
    lastAppliedDlBps: null,
    lastAppliedUlBps: null,
    persistDirty: false,
  };
}

export class WanController {
  readonly params: ControlParams;
  private readonly dl: DownloadController;
  private readonly ul: UploadController;
  private readonly ewma: EwmaState;
  private previousLoadRttMs: number;
  private icmpUnavailable = 0;
  private spikeStreak = 0;
  private readonly limiter: RateLimiter;
  private lastAppliedDl: number | null = null;
  private lastAppliedUl: number | null = null;
  private inFlight = false;
  private inFlightDl = 0;
  private inFlightUl = 0;
  private inFlightT = 0;
  private lastDlZone: Zone | null = null;
  private lastUlZone: Zone | null = null;
  private lastDlRate = 0;
  private lastUlRate = 0;
  // reused per-cycle scratch
  private readonly result: CycleResult = newResult();
  private readonly writeReq: WriteRequest = { dlBps: 0, ulBps: 0 };
  private readonly scratch: number[] = [];
  private readonly counts = { invalid: 0 };
  private readonly conn: ConnectivityResult = { connected: false, gatewayOk: false, tcpRttMs: null };
  private readonly fb: FallbackDecision = {
    action: 'fail',
    rttMs: null,
    source: null,
    reason: null,
    icmpUnavailableCycles: 0,
  };

  /** Throws ControlParamsError when params are inconsistent. The params are copied. */
  constructor(params: ControlParams) {
    params = validateControlParams(structuredClone(params));
    this.params = params;
    this.dl = new DownloadController(params.download);
    this.ul = new UploadController(params.upload);
    this.ewma = { loadRttMs: params.baselineRttInitialMs, baselineRttMs: params.baselineRttInitialMs };
    this.previousLoadRttMs = params.baselineRttInitialMs;
    this.limiter = new RateLimiter(params.writeBudget.maxWrites, params.writeBudget.windowSeconds);
    this.lastDlRate = this.dl.currentRateBps;
    this.lastUlRate = this.ul.currentRateBps;
  }

  /**
   * Runs one control cycle at time `nowSeconds` (monotonic seconds). Measurements of any shape are
   * tolerated (invalid ones are dropped and counted); a non-finite time is a caller bug and throws
   * a RangeError before anything changes.
   */
  cycle(input: CycleInput, nowSeconds: number): CycleResult {
    if (!Number.isFinite(nowSeconds))
      throw new RangeError(`cycle: nowSeconds must be finite, got ${nowSeconds}`);
    const p = this.params;
    const r = this.result;
    r.ok = true;
    r.failure = null;
    r.frozen = false;
    r.stale = false;
    r.sampleSource = null;
    r.clamped = false;
    r.icmpRecovered = false;
    r.measuredRttMs = null;
    r.deltaMs = null;
    r.baselineOutcome = null;
    r.accelSpike = false;
    r.forcedRed = false;
    r.dlZone = null;
    r.dlRateBps = null;
    r.ulZone = null;
    r.ulRateBps = null;
    r.write = null;
    r.writeOverBudget = false;
    r.routerOk = null;
    r.throttled = false;
    r.persistDirty = false;

    // 1. RTT aggregation: several replies -> median (2 -> mean, 1 -> itself); none -> failure path.
    let measured: number | null = null;
    let invalid = 0;
    const rtts = input.rtts_ms;
    if (rtts !== undefined && rtts !== null) {
      measured = medianOfValid(rtts, this.scratch, this.counts);
      invalid = this.counts.invalid;
      r.replies = this.scratch.length;
    } else {
      const one = input.rtt_ms;
      if (isValidRtt(one)) {
        measured = one;
        r.replies = 1;
      } else {
        r.replies = 0;
        if (one !== undefined && one !== null) invalid = 1;
      }
    }
    r.invalidSamples = invalid;

    if (measured === null) {
      // 2. ICMP failure: gateway / TCP fallback.
      verifyConnectivityFallback(
        p.fallback,
        input.gateway_ok,
        input.tcp_rtts_ms ?? undefined,
        this.conn,
        this.scratch,
      );
      const d = handleIcmpFailure(p.fallback, this.conn, this.icmpUnavailable, this.ewma.loadRttMs, this.fb);
      this.icmpUnavailable = d.icmpUnavailableCycles;
      r.stale = true;
      if (d.action === 'fail') {
        r.ok = false;
        r.failure = d.reason;
        return this.finishIdle(nowSeconds, input.router_ok);
      }
      if (d.action === 'freeze') {
        r.frozen = true;
        return this.finishIdle(nowSeconds, input.router_ok);
      }
      measured = d.rttMs as number;
      r.sampleSource = d.source;
      r.stale = d.source === 'last_load';
    } else {
      r.sampleSource = 'icmp';
      if (this.icmpUnavailable > 0) {
        r.icmpRecovered = true;
        this.icmpUnavailable = 0;
      }
    }

    // docs/decisions.md#d12: an absurd sample is clamped (and flagged), never fed raw into the EWMAs.
    const maxSample = this.ewma.baselineRttMs + p.maxRttDeltaMs;
    if (measured > maxSample) {
      measured = maxSample;
      r.clamped = true;
    }
    r.measuredRttMs = measured;

    // 3. EWMAs.
    const t = p.thresholds;
    r.baselineOutcome = updateEwmas(
      this.ewma,
      measured,
      t.alphaLoad,
      t.alphaBaseline,
      t.baselineUpdateThresholdMs,
      t.baselineRttMinMs,
      t.baselineRttMaxMs,
    );
    const load = this.ewma.loadRttMs;
    const baseline = this.ewma.baselineRttMs;

    // 4. Spike detector. v1.3 resets the download streaks on every spike (kept for parity);
    // docs/decisions.md#d4: accelConfirmCycles consecutive spikes force RED.
    const accel = load - this.previousLoadRttMs;
    if (accel > t.accelThresholdMs) {
      r.accelSpike = true;
      this.spikeStreak++;
      this.dl.redStreak = 1;
      this.dl.greenStreak = 0;
      this.dl.softRedStreak = 0;
    } else {
      this.spikeStreak = 0;
    }
    const forceRed = this.spikeStreak >= t.accelConfirmCycles;
    r.forcedRed = forceRed;
    this.previousLoadRttMs = load;

    // 5. State machines.
    const dlZone = this.dl.adjust(baseline, load, t.targetBloatMs, t.warnBloatMs, t.hardRedBloatMs, forceRed);
    const ulZone = this.ul.adjust(baseline, load, t.targetBloatMs, t.warnBloatMs);
    r.dlZone = dlZone;
    r.ulZone = ulZone;
    r.dlRateBps = this.dl.currentRateBps;
    r.ulRateBps = this.ul.currentRateBps;
    r.deltaMs = load - baseline;
    if (dlZone !== this.lastDlZone || ulZone !== this.lastUlZone) r.persistDirty = true;
    this.lastDlZone = dlZone;
    this.lastUlZone = ulZone;

    // 6. Write decision.
    this.decideWrite(nowSeconds, input.router_ok);
    return this.fill();
  }

  /** A frozen or failed cycle: no new rates, but a pending write still goes out (docs/decisions.md#d3). */
  private finishIdle(now: number, routerOk: boolean | undefined): CycleResult {
    this.decideWrite(now, routerOk);
    return this.fill();
  }

  private decideWrite(now: number, routerOk: boolean | undefined): void {
    const r = this.result;
    const dl = this.dl.currentRateBps;
    const ul = this.ul.currentRateBps;
    if (dl !== this.lastDlRate || ul !== this.lastUlRate) r.persistDirty = true;
    this.lastDlRate = dl;
    this.lastUlRate = ul;
    // flash-wear protection: nothing to do when the router already has these rates
    if (dl === this.lastAppliedDl && ul === this.lastAppliedUl) return;
    if (this.inFlight) {
      r.throttled = true; // never queued twice; the latest rate goes out after completion
      return;
    }
    const lastDl = this.lastAppliedDl;
    const lastUl = this.lastAppliedUl;
    const urgent = lastDl === null || lastUl === null || dl < lastDl || ul < lastUl;
    const allowed = this.limiter.canChange(now);
    if (!allowed && !urgent) {
      r.throttled = true; // an increase waits for the budget, coalesced into the latest rate
      return;
    }
    this.inFlight = true;
    this.inFlightDl = dl;
    this.inFlightUl = ul;
    this.inFlightT = now;
    this.writeReq.dlBps = dl;
    this.writeReq.ulBps = ul;
    r.write = this.writeReq;
    r.writeOverBudget = !allowed;
    if (routerOk !== undefined) {
      this.writeCompleted(routerOk);
      r.routerOk = routerOk;
      if (!routerOk) {
        r.ok = false;
        if (r.failure === null) r.failure = 'router_write_failed';
      }
    }
  }

  private fill(): CycleResult {
    const r = this.result;
    r.icmpUnavailableCycles = this.icmpUnavailable;
    r.spikeStreak = this.spikeStreak;
    r.loadRttMs = this.ewma.loadRttMs;
    r.baselineRttMs = this.ewma.baselineRttMs;
    r.dlGreenStreak = this.dl.greenStreak;
    r.dlSoftRedStreak = this.dl.softRedStreak;
    r.dlRedStreak = this.dl.redStreak;
    r.ulGreenStreak = this.ul.greenStreak;
    r.ulSoftRedStreak = this.ul.softRedStreak;
    r.ulRedStreak = this.ul.redStreak;
    r.lastAppliedDlBps = this.lastAppliedDl;
    r.lastAppliedUlBps = this.lastAppliedUl;
    return r;
  }

  /**
   * Reports the outcome of the write last issued in `CycleResult.write`. Success makes it the
   * router's rate and spends one unit of budget (at the issuing cycle's time); failure leaves the
   * last-applied rate unchanged, so the next cycle issues the latest rate again.
   * Returns false (and changes nothing) when no write is in flight.
   */
  writeCompleted(ok: boolean): boolean {
    if (!this.inFlight) return false;
    this.inFlight = false;
    if (ok) {
      if (this.inFlightDl !== this.lastAppliedDl || this.inFlightUl !== this.lastAppliedUl) {
        this.result.persistDirty = true;
      }
      this.lastAppliedDl = this.inFlightDl;
      this.lastAppliedUl = this.inFlightUl;
      this.limiter.recordChange(this.inFlightT);
    }
    return true;
  }

  /** True while a write issued by `cycle` awaits {@link writeCompleted}. */
  get writeInFlight(): boolean {
    return this.inFlight;
  }

  /** The controller's current rates (what it wants the router to have). */
  get controllerRates(): { dlBps: number; ulBps: number } {
    return { dlBps: this.dl.currentRateBps, ulBps: this.ul.currentRateBps };
  }

  /** The router's rates as last confirmed (null before the first successful write). */
  get routerRates(): { dlBps: number | null; ulBps: number | null } {
    return { dlBps: this.lastAppliedDl, ulBps: this.lastAppliedUl };
  }

  /** The baseline RTT EWMA (ms). */
  get baselineRttMs(): number {
    return this.ewma.baselineRttMs;
  }

  /** Write budget left at `nowSeconds`. */
  writesRemaining(nowSeconds: number): number {
    return this.limiter.changesRemaining(nowSeconds);
  }

  /** Everything the state file must carry (v1.3 layout). A fresh object. */
  snapshot(): ControllerSnapshot {
    return {
      download: {
        green_streak: this.dl.greenStreak,
        soft_red_streak: this.dl.softRedStreak,
        red_streak: this.dl.redStreak,
        current_rate: this.dl.currentRateBps,
      },
      upload: {
        green_streak: this.ul.greenStreak,
        soft_red_streak: this.ul.softRedStreak,
        red_streak: this.ul.redStreak,
        current_rate: this.ul.currentRateBps,
      },
      ewma: { baseline_rtt: this.ewma.baselineRttMs, load_rtt: this.ewma.loadRttMs },
      last_applied: { dl_rate: this.lastAppliedDl, ul_rate: this.lastAppliedUl },
    };
  }

  /**
   * Restores a snapshot (e.g. parsed from the state file). Like v1.3, each key is taken on its own
   * and a missing key keeps its default; unlike v1.3, a value of the wrong type or a non-finite or
   * negative number is ignored (reported) instead of breaking every later cycle. Rates are taken as
   * they are and clamped by the first cycle. Restoring is a cold boundary: the write in flight,
   * spike streak, ICMP counter and write budget are reset (a cold start keeps no derived state:
   * after v1.3, state kept across a re-enable drove decisions from stale snapshots).
   */
  restore(state: unknown): RestoreReport {
    const ignored: string[] = [];
    const obj = isRecord(state) ? state : {};
    if (!isRecord(state)) ignored.push('(root)');
    const dl = section(obj, 'download', ignored);
    const ul = section(obj, 'upload', ignored);
    const ew = section(obj, 'ewma', ignored);
    const la = section(obj, 'last_applied', ignored);
    const count = (o: Record<string, unknown> | null, path: string, key: string, def: number): number => {
      if (o === null || !(key in o)) return def;
      const v = o[key];
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
      ignored.push(`${path}.${key}`);
      return def;
    };
    const num = (o: Record<string, unknown> | null, path: string, key: string, def: number): number => {
      if (o === null || !(key in o)) return def;
      const v = o[key];
      if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
      ignored.push(`${path}.${key}`);
      return def;
    };
    const nullableRate = (o: Record<string, unknown> | null, path: string, key: string): number | null => {
      if (o === null || !(key in o)) return null;
      const v = o[key];
      if (v === null) return null;
      if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
      ignored.push(`${path}.${key}`);
      return null;
    };
    this.dl.greenStreak = count(dl, 'download', 'green_streak', 0);
    this.dl.softRedStreak = count(dl, 'download', 'soft_red_streak', 0);
    this.dl.redStreak = count(dl, 'download', 'red_streak', 0);
    this.dl.currentRateBps = num(dl, 'download', 'current_rate', this.params.download.ceilingBps);
    this.ul.greenStreak = count(ul, 'upload', 'green_streak', 0);
    this.ul.softRedStreak = count(ul, 'upload', 'soft_red_streak', 0);
    this.ul.redStreak = count(ul, 'upload', 'red_streak', 0);
    this.ul.currentRateBps = num(ul, 'upload', 'current_rate', this.params.upload.ceilingBps);
    this.ewma.baselineRttMs = num(ew, 'ewma', 'baseline_rtt', this.ewma.baselineRttMs);
    this.ewma.loadRttMs = num(ew, 'ewma', 'load_rtt', this.ewma.loadRttMs);
    this.lastAppliedDl = nullableRate(la, 'last_applied', 'dl_rate');
    this.lastAppliedUl = nullableRate(la, 'last_applied', 'ul_rate');
    this.previousLoadRttMs = this.ewma.loadRttMs;
    this.inFlight = false;
    this.spikeStreak = 0;
    this.icmpUnavailable = 0;
    this.limiter.reset();
    this.lastDlZone = null;
    this.lastUlZone = null;
    this.lastDlRate = this.dl.currentRateBps;
    this.lastUlRate = this.ul.currentRateBps;
    return { ignored };
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function section(
  obj: Record<string, unknown>,
  key: string,
  ignored: string[],
): Record<string, unknown> | null {
  if (!(key in obj)) return null;
  const v = obj[key];
  if (isRecord(v)) return v;
  ignored.push(key);
  return null;
}
