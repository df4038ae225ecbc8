/**
 * One WAN inside the daemon: takes the newest measurement, runs the pure control law, starts the
 * router write in the background (one in flight, with a deadline), and keeps what health,
 * metrics, the state file, the recorder and the logs need. `runCycle()` is synchronous and never
 * waits on I/O.
 */

import type { CycleSample, HistoryRecorder } from '@wanctl/history';
import type { CallOptions, QueueLimit } from '@wanctl/router-client';
import type { ReflectorHealth } from '@wanctl/rtt-probe';
import type { Logger, StateStore } from '@wanctl/runtime';
import { LatencyStats, LogThrottle, zoneValue } from '@wanctl/runtime';
import {
  AdaptiveController,
  type AdaptiveInput,
  type AdaptiveParams,
  type AdaptiveResult,
  type ControllerSnapshot,
  type ControlParams,
  type CycleInput,
  WanController,
  type WriteRequest,
} from '../control/index.js';
import type { WanMetrics } from './metrics.js';
import type { QueueReader } from './queue-reader.js';
import type { Recorder } from './recorder.js';

/** What the runner needs from the router client. */
export interface RateWriter {
  readonly activeTransport: string;
  setQueueLimits(limits: readonly QueueLimit[], opts?: CallOptions): Promise<void>;
  /** Each transport's last known state (health), when the client keeps it. */
  transportStates?(): ReadonlyArray<object>;
}

/** What the runner needs from the measurement. */
export interface MeasurementSource {
  sample(): CycleInput;
  readonly lastInfo: Readonly<{
    replies: number;
    staleCycles: number;
    checking: boolean;
    /** The probe just started and has not answered yet (within its grace): nothing to decide. */
    warmingUp?: boolean;
  }>;
  reflectorHealth(): ReflectorHealth[];
  /** Per reflector slot: the RTT usable this cycle, or null (the adaptive law's `rtts_ms`). */
  slotRtts?(): ArrayLike<number | null>;
}

export interface WanRunnerOptions {
  /** wan_name as configured. */
  name: string;
  params: ControlParams;
  /**
   * `adaptive`: the adaptive law decides the rates (with its write policy); the v1.3 controller
   * still runs beside it on the same RTTs for the state file's EWMAs (steering reads the
   * baseline) and the zones. Default `v1.3` (the v1.3 law alone, as before).
   */
  law?: 'v1.3' | 'adaptive';
  /** Adaptive parameters (law `adaptive`). */
  adaptive?: AdaptiveParams;
  /**
   * Reads the queues beside the loop: achieved rates for the adaptive law, the router's
   * max-limits for reconciliation (docs/decisions.md#d15), and reachability for health.
   */
  reader?: QueueReader | null;
  /** Least time between two corrections of the router's max-limit, ms. Default 1000. */
  correctionIntervalMs?: number;
  queues: { download: string; upload: string };
  measurement: MeasurementSource;
  probeKind: string;
  /** How the probe was chosen (health: probe_method, probe_source, udp_port). */
  probeInfo?: { method: string; source: string; udp_port: number | null };
  router: RateWriter;
  /** Deadline of one router write, ms. */
  writeDeadlineMs: number;
  logger: Logger;
  /** Monotonic ms. */
  now: () => number;
  store?: StateStore<WanRunner> | null;
  recorder?: Recorder | null;
  /** The history store's recorder (`history.enabled`): one summary per cycle, write failures, switches. */
  history?: HistoryRecorder | null;
  /** Wall-clock ms for history rows (default Date.now). */
  wallNow?: () => number;
  metrics?: WanMetrics | null;
  /** Consecutive failed cycles before the WAN counts as degraded (v1.3: 3). */
  failureThreshold?: number;
  /** Consecutive cycles without a usable reply before the WAN counts as degraded. Default 3. */
  staleThreshold?: number;
  /** Periodic INFO summary interval, ms. Default 60 000. */
  summaryIntervalMs?: number;
  /** Called when the WAN enters or leaves the degraded state. */
  onDegradedChange?: (degraded: boolean, reasons: readonly string[]) => void;
}

interface Completion {
  ok: boolean;
  latencyMs: number;
  error: string | null;
  /** A reconciliation write (not the law's: the law is not told about it). */
  correction: boolean;
  /** Monotonic ms when the answer arrived. */
  at: number;
}

const mbps = (bps: number | null): number | null => (bps === null ? null : Math.round(bps / 1e5) / 10);
const r2 = (x: number): number => Math.round(x * 100) / 100;

/** One direction of the `congestion` report in the state file (docs/decisions.md#d14). */
export interface DirectionCongestionReport {
  zone: string | null;
  /** The rate is at (or under) the lowest configured floor. */
  at_floor: boolean;
  /**
   * The rate is under the lowest floor: the adaptive law cut it to what the link delivered, less
   * than the floor (docs/decisions.md#d16). Congestion for steering, whatever the RTT now.
   */
  below_floor: boolean;
  rtt_delta_ms: number;
  /** How long the direction has been RED without a break (s; 0 when not RED). */
  red_for_sec: number;
}

/** The state file's `congestion` key: what steering reads besides the baseline. */
export interface CongestionReport {
  /** UTC ISO time of the values. */
  at: string;
  download: DirectionCongestionReport;
  upload: DirectionCongestionReport;
}

/** The v1.3 state file content: the controller's snapshot plus a local naive ISO timestamp. */
function stateFileBody(s: ControllerSnapshot, date = new Date()): ControllerSnapshot & { timestamp: string } {
  return { ...s, timestamp: localIsoTimestamp(date) };
}

/** `2026-01-21T09:46:43.123000` (local time, no zone, microseconds as v1.3's isoformat()). */
function localIsoTimestamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:` +
    `${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}000`
  );
}

export class WanRunner {
  readonly name: string;
  readonly controller: WanController;
  /** The adaptive law (null with `v1.3`). */
  readonly adaptive: AdaptiveController | null;
  readonly law: 'v1.3' | 'adaptive';
  private readonly reader: QueueReader | null;
  private readonly ain: AdaptiveInput = {
    rtts_ms: null,
    rtt_ms: null,
    dl_achieved_bps: null,
    ul_achieved_bps: null,
  };
  private lastAdaptive: AdaptiveResult | null = null;
  /** The law's write held while a correction is in flight (started when it completes). */
  private pending: WriteRequest | null = null;
  private pendingCopy: WriteRequest = { dlBps: 0, ulBps: 0 };
  private correcting = false;
  /** Monotonic ms of the last completed write (either kind). */
  private lastWriteDoneAt = Number.NEGATIVE_INFINITY;
  private lastCorrectionAt = Number.NEGATIVE_INFINITY;
  private checkedReadAt = Number.NaN;
  corrections = 0;
  correctionsDl = 0;
  correctionsUl = 0;
  lastCorrection: Record<string, unknown> | null = null;
  readonly work = new LatencyStats(1200);
  private readonly o: WanRunnerOptions;
  private readonly log: Logger;
  private readonly throttle: LogThrottle;
  private readonly limits: [QueueLimit, QueueLimit];
  private readonly callOpts: CallOptions;
  private completion: Completion | null = null;
  private writing: Promise<void> | null = null;
  private recordLine: Record<string, unknown> | null = null;
  private recordWrite = false;
  private lastSummaryAt: number;
  private prevDlRate: number;
  private prevUlRate: number;
  private prevDlZone: string | null = null;
  private prevUlZone: string | null = null;
  private degradedReasons: string[] = [];
  /** The last two zone transitions (log text), newest first: a flap repeats one of them. */
  private readonly recentZoneLines: [string | null, string | null] = [null, null];
  /** The one history sample, reused every cycle (no allocation on the 20 Hz path). */
  private readonly hs: CycleSample = {
    shapedDlBps: 0,
    shapedUlBps: 0,
    achievedDlBps: Number.NaN,
    achievedUlBps: Number.NaN,
    rttMs: Number.NaN,
    baselineMs: Number.NaN,
    deltaMs: Number.NaN,
    zoneDl: 'GREEN',
    zoneUl: 'GREEN',
    overrun: false,
  };
  /** The ticker reports an overrun after the cycle: it is recorded with the next one. */
  private overrunPending = false;
  /** When the last write failure went to history (monotonic ms). */
  private historyFailAt = Number.NEGATIVE_INFINITY;
  private routerDownSince: number | null = null;
  // state change key (rates, last applied, baseline to 0.1 ms; not load RTT, not streaks),
  // rebuilt only when one of its parts changed
  private keyDl = Number.NaN;
  private keyUl = Number.NaN;
  private keyLastDl: number | null = Number.NaN;
  private keyLastUl: number | null = Number.NaN;
  private keyBaseline = Number.NaN;
  private key = '';
  // the D14 part of the change key: rebuilt only when zones, floor flags or the second change
  private fullKey = '';
  private fullKeyBase = '';
  private fullKeyZoneDl: string | null = null;
  private fullKeyZoneUl: string | null = null;
  private fullKeyFloors = -1;
  private fullKeySecond = -1;

  // counters (health)
  cycles = 0;
  /** Cycles that waited for the probe's first reply after the start (not counted in `cycles`). */
  warmupCycles = 0;
  failedCycles = 0;
  consecutiveFailures = 0;
  routerFailing = false;
  consecutiveWriteFailures = 0;
  writesOk = 0;
  writesFailed = 0;
  throttledCycles = 0;
  coalescedChanges = 0;
  failovers = 0;
  overruns = 0;
  lastWriteLatencyMs: number | null = null;
  lastWriteError: string | null = null;
  lastOk = true;
  lastZones: { dl: string | null; ul: string | null } = { dl: null, ul: null };
  lastMeasuredMs: number | null = null;
  clampedSamples = 0;
  invalidSamples = 0;

  constructor(opts: WanRunnerOptions) {
    this.o = opts;
    this.name = opts.name;
    this.log = opts.logger;
    this.controller = new WanController(opts.params);
    this.law = opts.law ?? 'v1.3';
    this.reader = opts.reader ?? null;
    if (this.law === 'adaptive') {
      if (!opts.adaptive) throw new Error('law adaptive needs adaptive parameters');
      this.adaptive = new AdaptiveController(opts.adaptive);
    } else this.adaptive = null;
    this.throttle = new LogThrottle(60_000, opts.now, { burst: 5 });
    const wan = opts.name.toLowerCase();
    this.limits = [
      { name: opts.queues.download, maxLimitBps: 0, queueType: `cake-down-${wan}` },
      { name: opts.queues.upload, maxLimitBps: 0, queueType: `cake-up-${wan}` },
    ];
    this.callOpts = { deadlineMs: opts.writeDeadlineMs };
    this.lastSummaryAt = opts.now();
    const rates = this.controller.controllerRates;
    this.prevDlRate = rates.dlBps;
    this.prevUlRate = rates.ulBps;
  }

  /** The rates the law decided (the state file's current rates). */
  private lawRates(): { dlBps: number; ulBps: number } {
    return this.adaptive ? this.adaptive.rates : this.controller.controllerRates;
  }

  /** The rates the daemon last wrote and the router confirmed (null: none yet). */
  private heldRates(): { dlBps: number | null; ulBps: number | null } {
    if (this.adaptive) {
      const w = this.adaptive.writePolicy;
      return { dlBps: w.routerDlBps, ulBps: w.routerUlBps };
    }
    return this.controller.routerRates;
  }

  /** The controller's snapshot; with the adaptive law its rates (same v1.3 keys). */
  private snapshot(): ControllerSnapshot {
    const s = this.controller.snapshot();
    if (!this.adaptive) return s;
    const r = this.adaptive.rates;
    const h = this.heldRates();
    return {
      ...s,
      download: { ...s.download, current_rate: r.dlBps },
      upload: { ...s.upload, current_rate: r.ulBps },
      last_applied: { dl_rate: h.dlBps, ul_rate: h.ulBps },
    };
  }

  /** True while a router write awaits its answer. */
  get writeInFlight(): boolean {
    return this.writing !== null;
  }

  /** Degraded: v1.3's 3 consecutive failed cycles, or no usable RTT reply for 3 cycles. */
  get degraded(): boolean {
    return this.degradedReasons.length > 0;
  }

  get reasons(): readonly string[] {
    return this.degradedReasons;
  }

  /** Restores a parsed state file (v1.3 layout); returns the keys that were ignored. */
  restore(state: unknown): string[] {
    const rep = this.controller.restore(state);
    const rates = this.controller.controllerRates;
    this.prevDlRate = rates.dlBps;
    this.prevUlRate = rates.ulBps;
    return rep.ignored;
  }

  /**
   * The state file body now: v1.3's keys unchanged, plus `congestion` (docs/decisions.md#d14),
   * what wanctl-steering needs to tell congestion the shaper cannot fix: per direction the zone
   * (null before the first cycle), whether the rate sits at its lowest floor, the RTT delta
   * (load - baseline EWMA, ms) and how long it has been RED; `at` is the wall-clock time (UTC ISO) the values are from.
   */
  stateBody(): ControllerSnapshot & { timestamp: string; congestion: CongestionReport } {
    const now = new Date();
    const snap = this.snapshot();
    const delta = r2(Math.max(0, snap.ewma.load_rtt - snap.ewma.baseline_rtt));
    const f = this.floorState();
    return {
      ...stateFileBody(snap, now),
      congestion: {
        at: now.toISOString(),
        download: {
          zone: this.lastZones.dl,
          at_floor: f.dl,
          below_floor: f.dlBelow,
          rtt_delta_ms: delta,
          red_for_sec: r2(snap.download.red_streak * this.o.params.intervalSeconds),
        },
        upload: {
          zone: this.lastZones.ul,
          at_floor: f.ul,
          below_floor: f.ulBelow,
          rtt_delta_ms: delta,
          red_for_sec: r2(snap.upload.red_streak * this.o.params.intervalSeconds),
        },
      },
    };
  }

  /** Whether each direction's rate sits at (or under) its lowest configured floor, and under it. */
  private floorState(): { dl: boolean; ul: boolean; dlBelow: boolean; ulBelow: boolean } {
    const f = this.floorBits();
    return { dl: (f & 1) !== 0, ul: (f & 2) !== 0, dlBelow: (f & 4) !== 0, ulBelow: (f & 8) !== 0 };
  }

  /**
   * floorState() as bits (1: download at its floor, 2: upload at its floor, 4: download under it,
   * 8: upload under it), without allocating (the per-cycle path).
   */
  private floorBits(): number {
    const p = this.o.params;
    const d = p.download;
    const u = p.upload;
    const dlFloor = Math.min(d.floorRedBps, d.floorSoftRedBps, d.floorYellowBps, d.floorGreenBps);
    const ulFloor = Math.min(
      u.floorRedBps,
      u.floorYellowBps ?? u.floorRedBps,
      u.floorGreenBps ?? u.floorRedBps,
    );
    const rates = this.lawRates();
    return (
      (rates.dlBps <= dlFloor ? 1 : 0) |
      (rates.ulBps <= ulFloor ? 2 : 0) |
      (rates.dlBps < dlFloor ? 4 : 0) |
      (rates.ulBps < ulFloor ? 8 : 0)
    );
  }

  /**
   * The state file's change key now: `dl|ul|applied dl|applied ul|baseline (0.1 ms)` of the controller's snapshot,
   * without building a snapshot; the string is rebuilt only when one of its parts changed. Then the
   * zones and floor flags, and a seconds counter while the WAN is not calm (D14).
   */
  stateChangeKey(): string {
    const c = this.controller;
    const rates = this.lawRates();
    const ra = this.heldRates();
    const b = c.baselineRttMs;
    if (
      rates.dlBps !== this.keyDl ||
      rates.ulBps !== this.keyUl ||
      ra.dlBps !== this.keyLastDl ||
      ra.ulBps !== this.keyLastUl ||
      b !== this.keyBaseline
    ) {
      this.keyDl = rates.dlBps;
      this.keyUl = rates.ulBps;
      this.keyLastDl = ra.dlBps;
      this.keyLastUl = ra.ulBps;
      this.keyBaseline = b;
      this.key = `${rates.dlBps}|${rates.ulBps}|${ra.dlBps}|${ra.ulBps}|${b.toFixed(1)}`;
    }
    // docs/decisions.md#d14: a zone or floor change is written, and while a direction is not
    // GREEN or sits at its floor the file is refreshed every second (steering treats a
    // congestion report older than a few seconds as unknown); an idle GREEN WAN stays quiet.
    const z = this.lastZones;
    const floors = this.floorBits();
    const calm = (z.dl === null || z.dl === 'GREEN') && (z.ul === null || z.ul === 'GREEN') && floors === 0;
    const second = calm ? -1 : Math.floor(this.o.now() / 1000);
    if (
      this.key !== this.fullKeyBase ||
      z.dl !== this.fullKeyZoneDl ||
      z.ul !== this.fullKeyZoneUl ||
      floors !== this.fullKeyFloors ||
      second !== this.fullKeySecond
    ) {
      this.fullKeyBase = this.key;
      this.fullKeyZoneDl = z.dl;
      this.fullKeyZoneUl = z.ul;
      this.fullKeyFloors = floors;
      this.fullKeySecond = second;
      this.fullKey = `${this.key}|${z.dl}|${z.ul}|${floors}${second < 0 ? '' : `|${second}`}`;
    }
    return this.fullKey;
  }

  /** A cycle that took longer than its interval (from the daemon's ticker). */
  countOverrun(): void {
    this.overruns++;
    this.overrunPending = true;
    this.o.metrics?.overruns.inc();
  }

  /** A router transport switch (from the failover client, which has logged it already). */
  onTransportSwitch(ev: { from: string; to: string; reason: string; recovered: boolean }): void {
    this.failovers++;
    this.o.metrics?.failover(ev.to);
    const h = this.o.history;
    if (h) {
      if (ev.recovered) h.failback(ev.from, ev.to);
      else h.failover(ev.from, ev.to, ev.reason);
    }
  }

  /** Applies a write outcome that arrived since the last cycle (deterministic point for record/replay). */
  private consumeCompletion(): void {
    const c = this.completion;
    if (c === null) return;
    this.completion = null;
    this.lastWriteDoneAt = c.at;
    if (c.correction) this.correcting = false;
    else {
      if (this.adaptive) this.adaptive.writeCompleted(c.ok);
      else this.controller.writeCompleted(c.ok);
      if (this.recordLine !== null && this.recordWrite) this.recordLine['router_ok'] = c.ok;
    }
    const m = this.o.metrics;
    if (c.ok) {
      this.writesOk++;
      this.consecutiveWriteFailures = 0;
      this.routerAnswered('writes resume');
      m?.routerUpdates.inc();
      m?.writeOk.observe(c.latencyMs / 1000);
    } else {
      this.writesFailed++;
      this.consecutiveWriteFailures++;
      if (!this.routerFailing) this.routerDownSince = this.o.now();
      this.routerFailing = true;
      this.lastWriteError = c.error;
      m?.writeFailures.inc();
      m?.writeFailed.observe(c.latencyMs / 1000);
      // history: at most one write failure a minute (a refused connection fails every cycle:
      // 20 a second would fill the events table during an outage)
      const h = this.o.history;
      if (h && c.at - this.historyFailAt >= 60_000) {
        this.historyFailAt = c.at;
        h.writeFailure(
          this.consecutiveWriteFailures === 1
            ? (c.error ?? 'router write failed')
            : `${this.consecutiveWriteFailures} failed writes in a row: ${c.error ?? 'router write failed'}`,
        );
      }
      const n = this.throttle.allow('write-failed');
      if (n !== false)
        this.log.error('router write failed; the latest rate is retried next cycle', {
          error: c.error,
          consecutive: this.consecutiveWriteFailures,
          ...(n > 0 ? { suppressed: n } : {}),
        });
    }
    const ra = this.heldRates();
    m?.routerDlMbps.set((ra.dlBps ?? 0) / 1e6);
    m?.routerUlMbps.set((ra.ulBps ?? 0) / 1e6);
    // the law's write held back by a correction goes now
    const p = this.pending;
    if (p !== null && this.writing === null) {
      this.pending = null;
      this.startWrite(p.dlBps, p.ulBps, false);
    }
  }

  /** The router answered (a write or a read): it is reachable now (issue 16.4). */
  private routerAnswered(what: string): void {
    if (this.routerFailing) {
      const downMs = this.routerDownSince === null ? 0 : this.o.now() - this.routerDownSince;
      this.log.info(`router reachable again; ${what}`, {
        down_s: Math.round(downMs / 100) / 10,
        transport: this.o.router.activeTransport,
      });
    }
    this.routerFailing = false;
    this.routerDownSince = null;
  }

  /** Consumes the queue reader's answer and starts its next read (never waits). */
  private pollReader(): void {
    const rd = this.reader;
    if (rd === null) return;
    const outcome = rd.poll();
    if (outcome === 'ok') {
      this.consecutiveWriteFailures = 0;
      this.routerAnswered('a queue read answered');
    } else if (outcome === 'failed') {
      // reads fail while both transports are down even when no write is due: health shows it
      if (rd.consecutiveFailures >= 3 && !this.routerFailing) {
        this.routerFailing = true;
        this.routerDownSince = this.o.now();
        const n = this.throttle.allow('read-failed');
        if (n !== false)
          this.log.error('router queue reads failing', {
            error: rd.lastError,
            consecutive: rd.consecutiveFailures,
            ...(n > 0 ? { suppressed: n } : {}),
          });
      }
    }
  }

  /**
   * Reconciliation (docs/decisions.md#d15): when the newest reading, taken after the last write
   * completed and with no write in flight, shows a max-limit other than the rate the daemon last
   * wrote, that rate is written again at once.
   */
  private reconcile(now: number): void {
    const rd = this.reader?.last ?? null;
    if (rd === null || rd.answeredAt === this.checkedReadAt) return;
    if (this.writing !== null || this.pending !== null) return;
    if (rd.startedAt <= this.lastWriteDoneAt) return; // the reading may predate the last write
    this.checkedReadAt = rd.answeredAt;
    const md = rd.dlMaxLimitBps;
    const mu = rd.ulMaxLimitBps;
    if (md === undefined || mu === undefined) return; // a transport that does not print max-limit
    const h = this.heldRates();
    if (h.dlBps === null || h.ulBps === null) return; // nothing written yet: the law writes first
    // tc (linux-cake) keeps rates in bytes/s and may print them rounded: a difference that small is
    // the same rate; an operator's or a reset's value differs by far more
    const dlOff = differs(md, h.dlBps);
    const ulOff = differs(mu, h.ulBps);
    if (!dlOff && !ulOff) return;
    if (now - this.lastCorrectionAt < (this.o.correctionIntervalMs ?? 1000)) return;
    this.lastCorrectionAt = now;
    this.corrections++;
    const m = this.o.metrics;
    if (dlOff) {
      this.correctionsDl++;
      m?.correctionsDl.inc();
    }
    if (ulOff) {
      this.correctionsUl++;
      m?.correctionsUl.inc();
    }
    this.lastCorrection = {
      router_dl_bps: md,
      router_ul_bps: mu,
      written_dl_bps: h.dlBps,
      written_ul_bps: h.ulBps,
      transport: this.o.router.activeTransport,
    };
    const n = this.throttle.allow('correction');
    if (n !== false)
      this.log.warn('router held another max-limit than the daemon wrote; rewritten (D15)', {
        ...this.lastCorrection,
        ...(n > 0 ? { suppressed: n } : {}),
      });
    this.correcting = true;
    this.startWrite(h.dlBps, h.ulBps, true);
  }

  private flushRecord(): void {
    if (this.recordLine === null) return;
    const line = this.recordLine;
    this.recordLine = null;
    if (this.recordWrite && !('router_ok' in line)) line['late_write'] = true;
    this.o.recorder?.write(line);
  }

  private startWrite(dl: number, ul: number, correction: boolean): void {
    const l = this.limits;
    l[0].maxLimitBps = dl;
    l[1].maxLimitBps = ul;
    const t0 = this.o.now();
    const done = (ok: boolean, error: string | null) => {
      const at = this.o.now();
      this.completion = { ok, latencyMs: at - t0, error, correction, at };
      this.lastWriteLatencyMs = this.completion.latencyMs;
      this.writing = null;
    };
    this.writing = this.o.router.setQueueLimits(l, this.callOpts).then(
      () => done(true, null),
      (err: unknown) => done(false, err instanceof Error ? `${err.name}: ${err.message}` : String(err)),
    );
    if (this.log.isDebugEnabled())
      this.log.debug('router write', { dl_bps: dl, ul_bps: ul, transport: this.o.router.activeTransport });
  }

  /** One cycle. Synchronous; never waits on I/O. */
  runCycle(): void {
    const o = this.o;
    const t0 = o.now();
    this.consumeCompletion();
    this.flushRecord();
    this.pollReader();

    const input = o.measurement.sample();
    const info = o.measurement.lastInfo;
    if (info.warmingUp === true) {
      // the probe has just started and nothing can have come back yet: nothing is measured, so
      // nothing is decided or written, and it is not a failed cycle (every start used to log
      // "cycle failed: fallback_disabled" for the first cycle)
      this.warmupCycles++;
      this.work.record(o.now() - t0);
      return;
    }
    const nowS = t0 / 1000;
    const rd = this.reader;
    if (o.recorder) {
      this.recordLine = o.recorder.inputLine(input, nowS);
      if (rd !== null && rd.dlAchievedBps !== null)
        this.recordLine['dl_achieved_bps'] = Math.round(rd.dlAchievedBps);
      if (rd !== null && rd.ulAchievedBps !== null)
        this.recordLine['ul_achieved_bps'] = Math.round(rd.ulAchievedBps);
    }
    let write: WriteRequest | null = null;
    const ad = this.adaptive;
    if (ad !== null) {
      // the v1.3 controller beside it, writes taken as done: its EWMAs and zones (state file, health)
      input.router_ok = true;
      const ain = this.ain;
      const slots = o.measurement.slotRtts?.();
      if (slots !== undefined) {
        ain.rtts_ms = slots;
        ain.rtt_ms = null;
      } else {
        ain.rtts_ms = input.rtts_ms ?? null;
        ain.rtt_ms = input.rtt_ms ?? null;
      }
      ain.dl_achieved_bps = rd?.dlAchievedBps ?? null;
      ain.ul_achieved_bps = rd?.ulAchievedBps ?? null;
      const a = ad.cycle(ain, nowS);
      this.lastAdaptive = a;
      write = a.write;
    }
    const r = this.controller.cycle(input, nowS);
    if (ad === null) write = r.write;
    this.cycles++;
    this.lastOk = r.ok;
    this.lastMeasuredMs = r.measuredRttMs;
    this.recordWrite = false;
    const w = write;
    if (w !== null) {
      this.recordWrite = true;
      if (this.correcting) {
        // a correction is in flight: the law's write follows it (never two writes at once)
        this.pendingCopy.dlBps = w.dlBps;
        this.pendingCopy.ulBps = w.ulBps;
        this.pending = this.pendingCopy;
      } else this.startWrite(w.dlBps, w.ulBps, false);
    }
    this.reconcile(t0);

    // failure accounting (v1.3: a failed cycle; ours also counts a router that is not answering)
    const unhealthy = !r.ok || this.routerFailing;
    if (unhealthy) {
      this.failedCycles++;
      this.consecutiveFailures++;
    } else this.consecutiveFailures = 0;

    const rates = this.lawRates();
    if (r.throttled && ad === null) {
      this.throttledCycles++;
      if (rates.dlBps !== this.prevDlRate || rates.ulBps !== this.prevUlRate) {
        this.coalescedChanges++;
        o.metrics?.coalesced.inc();
      }
    }
    if (r.clamped) {
      this.clampedSamples++;
      const n = this.throttle.allow('clamped');
      if (n !== false)
        this.log.warn('RTT sample out of range; clamped (D12)', {
          clamped_to_ms: r.measuredRttMs,
          ...(n > 0 ? { suppressed: n } : {}),
        });
    }
    if (r.invalidSamples > 0) {
      this.invalidSamples += r.invalidSamples;
      const n = this.throttle.allow('invalid');
      if (n !== false) this.log.warn('invalid RTT sample dropped', { ...(n > 0 ? { suppressed: n } : {}) });
    }
    if (r.icmpRecovered) this.log.info('ICMP replies are back; fallback ended');

    if (r.dlZone !== null && (r.dlZone !== this.prevDlZone || r.ulZone !== this.prevUlZone)) {
      if (this.prevDlZone !== null) {
        const text = `zone ${this.prevDlZone}/${this.prevUlZone} -> ${r.dlZone}/${r.ulZone}`;
        const n = this.zoneLineAllowed(text);
        if (n !== false)
          this.log.info(text, {
            rtt_ms: r.measuredRttMs === null ? null : r2(r.measuredRttMs),
            load_ms: r2(r.loadRttMs),
            baseline_ms: r2(r.baselineRttMs),
            dl_mbps: mbps(rates.dlBps),
            ul_mbps: mbps(rates.ulBps),
            ...(n > 0 ? { suppressed: n } : {}),
          });
      }
      this.prevDlZone = r.dlZone;
      this.prevUlZone = r.ulZone;
    }
    if (r.dlZone !== null) {
      this.lastZones.dl = r.dlZone;
      this.lastZones.ul = r.ulZone;
    }
    if (!r.ok) {
      const n = this.throttle.allow(`fail:${r.failure}`);
      if (n !== false)
        this.log.warn(`cycle failed: ${r.failure}`, {
          consecutive: this.consecutiveFailures,
          ...(n > 0 ? { suppressed: n } : {}),
        });
    }
    this.prevDlRate = rates.dlBps;
    this.prevUlRate = rates.ulBps;

    // degraded state (edge-logged)
    this.updateDegraded(info.staleCycles, info.replies);

    // per-cycle debug line (v1.3's INFO decision line, only with --debug)
    if (this.log.isDebugEnabled() && r.dlZone !== null) {
      this.log.debug(
        `[${r.dlZone}/${r.ulZone}] RTT=${(r.measuredRttMs ?? 0).toFixed(1)}ms, load_ewma=${r.loadRttMs.toFixed(1)}ms, baseline=${r.baselineRttMs.toFixed(1)}ms, delta=${(r.deltaMs ?? 0).toFixed(1)}ms | DL=${(rates.dlBps / 1e6).toFixed(0)}M, UL=${(rates.ulBps / 1e6).toFixed(0)}M`,
      );
    }

    o.store?.update(this);

    const m = o.metrics;
    if (m) {
      if (info.replies === 0) m.pingFailures.inc();
      if (r.throttled && ad === null) {
        m.throttled.inc();
        m.rateLimitEvents.inc();
      }
      m.replies.set(info.replies);
      if (r.dlZone !== null) {
        m.dlMbps.set(rates.dlBps / 1e6);
        m.ulMbps.set(rates.ulBps / 1e6);
        m.baseline.set(r.baselineRttMs);
        m.load.set(r.loadRttMs);
        m.delta.set(Math.max(0, r.loadRttMs - r.baselineRttMs));
        m.dlState.set(zoneValue(r.dlZone));
        m.ulState.set(zoneValue(r.ulZone));
        m.cycles.inc();
      }
    }

    const h = o.history;
    if (h && r.dlZone !== null) {
      // one reused object; the recorder copies the numbers into its one-second bucket
      const hs = this.hs;
      hs.shapedDlBps = rates.dlBps;
      hs.shapedUlBps = rates.ulBps;
      hs.achievedDlBps = rd?.dlAchievedBps ?? Number.NaN;
      hs.achievedUlBps = rd?.ulAchievedBps ?? Number.NaN;
      const measured = r.measuredRttMs !== null;
      hs.rttMs = measured ? r.loadRttMs : Number.NaN;
      hs.baselineMs = r.baselineRttMs;
      hs.deltaMs = r.deltaMs ?? Number.NaN;
      hs.zoneDl = r.dlZone;
      hs.zoneUl = r.ulZone ?? r.dlZone;
      hs.overrun = this.overrunPending;
      this.overrunPending = false;
      h.cycle(o.wallNow ? o.wallNow() : Date.now(), hs);
    }

    if (t0 - this.lastSummaryAt >= (o.summaryIntervalMs ?? 60_000)) this.summary(t0);

    const workMs = o.now() - t0;
    this.work.record(workMs);
    if (m) {
      m.cycleDuration.set(workMs / 1000);
      m.cycleSeconds.observe(workMs / 1000);
    }
  }

  /**
   * Whether a zone transition is logged (the number of its repeats left out since its last line),
   * or false. A transition is never held back by other lines or other transitions (a shared
   * budget once let a GREEN/YELLOW flap hide a RED episode): it is logged unless it repeats one of
   * the two transitions just before it (a zone flapping between two states), and such repeats are
   * limited per transition (5 a minute), the next line telling how many were left out.
   */
  private zoneLineAllowed(text: string): number | false {
    const repeat = text === this.recentZoneLines[0] || text === this.recentZoneLines[1];
    this.recentZoneLines[1] = this.recentZoneLines[0];
    this.recentZoneLines[0] = text;
    const key = `zone:${text}`;
    if (repeat) return this.throttle.allow(key);
    const n = this.throttle.pending(key);
    this.throttle.reset(key);
    this.throttle.allow(key);
    return n;
  }

  private updateDegraded(staleCycles: number, replies: number): void {
    const failing = this.consecutiveFailures >= (this.o.failureThreshold ?? 3);
    const stale = staleCycles >= (this.o.staleThreshold ?? 3);
    if (!failing && !stale && this.degradedReasons.length === 0) return; // healthy, unchanged
    const reasons: string[] = [];
    if (failing) {
      reasons.push(
        this.routerFailing
          ? `router unreachable (${this.consecutiveWriteFailures} failed writes)`
          : `${this.consecutiveFailures} consecutive failed cycles`,
      );
    }
    if (stale) reasons.push(`no RTT reply for ${staleCycles} cycles`);
    const was = this.degradedReasons.length > 0;
    const is = reasons.length > 0;
    const changed = was !== is || (is && reasons.length !== this.degradedReasons.length);
    this.degradedReasons = reasons;
    if (!changed) return;
    if (is) this.log.warn(`degraded: ${reasons.join('; ')}`, { replies });
    else this.log.info('healthy again');
    this.o.onDegradedChange?.(is, reasons);
  }

  private summary(now: number): void {
    this.lastSummaryAt = now;
    const rates = this.lawRates();
    const ra = this.heldRates();
    this.log.info('summary', {
      cycles: this.cycles,
      failed: this.failedCycles,
      zone: `${this.lastZones.dl}/${this.lastZones.ul}`,
      dl_mbps: mbps(rates.dlBps),
      ul_mbps: mbps(rates.ulBps),
      router_dl_mbps: mbps(ra.dlBps),
      router_ul_mbps: mbps(ra.ulBps),
      writes_ok: this.writesOk,
      writes_failed: this.writesFailed,
      throttled: this.throttledCycles,
      ...(this.reader
        ? {
            dl_achieved_mbps: mbps(this.reader.dlAchievedBps),
            ul_achieved_mbps: mbps(this.reader.ulAchievedBps),
          }
        : {}),
      ...(this.corrections > 0 ? { corrections: this.corrections } : {}),
      cycle_p50_ms: r3(this.work.p50()),
      cycle_p99_ms: r3(this.work.p99()),
      transport: this.o.router.activeTransport,
      ...(this.throttle.totalPending() > 0 ? { suppressed_lines: this.throttle.totalPending() } : {}),
    });
  }

  /** Waits (bounded) for a write in flight, then applies its outcome. For shutdown and --once. */
  async settle(timeoutMs: number): Promise<void> {
    const w = this.writing;
    if (w !== null) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        w,
        new Promise<void>((res) => {
          timer = setTimeout(res, timeoutMs);
        }),
      ]);
      if (timer) clearTimeout(timer);
    }
    this.consumeCompletion();
    this.flushRecord();
    await this.reader?.settle(Math.min(timeoutMs, 500));
  }

  /** Per-WAN health (v1.3 fields first, then ours). */
  health(): Record<string, unknown> {
    const s = this.controller.snapshot();
    const rates = this.lawRates();
    const ra = this.heldRates();
    const info = this.o.measurement.lastInfo;
    const rd = this.reader;
    const a = this.lastAdaptive;
    const reflectors = this.o.measurement.reflectorHealth().map((h) => ({
      reflector: h.reflector,
      alive: h.alive,
      last_rtt_ms: h.lastRttMs === null ? null : r2(h.lastRttMs),
      last_reply_age_ms: h.lastReplyAgeMs === null ? null : Math.round(h.lastReplyAgeMs),
      loss_pct: r2(h.lossPct),
      replies: h.replies,
    }));
    return {
      name: this.name,
      control_law: this.law,
      baseline_rtt_ms: r2(s.ewma.baseline_rtt),
      load_rtt_ms: r2(s.ewma.load_rtt),
      download: {
        current_rate_mbps: mbps(rates.dlBps),
        state: this.lastZones.dl ?? streakState(s.download),
        router_rate_mbps: mbps(ra.dlBps),
        achieved_mbps: rd === null ? null : mbps(rd.dlAchievedBps),
        ...(a !== null
          ? { load: a.dl.load, action: a.dl.action, capacity_mbps: mbps(a.dl.capacityBps) }
          : {}),
      },
      upload: {
        current_rate_mbps: mbps(rates.ulBps),
        state: this.lastZones.ul ?? streakState(s.upload),
        router_rate_mbps: mbps(ra.ulBps),
        achieved_mbps: rd === null ? null : mbps(rd.ulAchievedBps),
        ...(a !== null
          ? { load: a.ul.load, action: a.ul.action, capacity_mbps: mbps(a.ul.capacityBps) }
          : {}),
      },
      status: this.degraded ? 'degraded' : 'healthy',
      degraded_reasons: this.degradedReasons,
      consecutive_failures: this.consecutiveFailures,
      controller: { download_bps: rates.dlBps, upload_bps: rates.ulBps },
      router: {
        download_bps: ra.dlBps,
        upload_bps: ra.ulBps,
        transport: this.o.router.activeTransport,
        reachable: !this.routerFailing,
        write_in_flight: this.writing !== null,
        writes_ok: this.writesOk,
        writes_failed: this.writesFailed,
        consecutive_write_failures: this.consecutiveWriteFailures,
        last_write_latency_ms: r3(this.lastWriteLatencyMs),
        last_write_error: this.lastWriteError,
        throttled_cycles: this.throttledCycles,
        coalesced_changes: this.coalescedChanges,
        failovers: this.failovers,
        writes_remaining: this.adaptive
          ? Math.floor(this.adaptive.writePolicy.tokensAt(this.o.now() / 1000))
          : this.controller.writesRemaining(this.o.now() / 1000),
        corrections: this.corrections,
        corrections_download: this.correctionsDl,
        corrections_upload: this.correctionsUl,
        last_correction: this.lastCorrection,
        reads_ok: rd?.reads ?? 0,
        reads_failed: rd?.readsFailed ?? 0,
        last_read_latency_ms: r3(rd?.lastLatencyMs ?? null),
        last_read_error: rd?.lastError ?? null,
        transports: this.o.router.transportStates?.() ?? null,
      },
      ...(a !== null
        ? {
            adaptive: {
              delay_ms: a.delayMs === null ? null : r2(a.delayMs),
              bloat: a.bloat,
              bad_reflectors: a.badReflectors,
            },
          }
        : {}),
      measurement: {
        probe: this.o.probeKind,
        probe_method: this.o.probeInfo?.method ?? (this.o.probeKind === 'udp' ? 'udp' : 'icmp'),
        probe_source: this.o.probeInfo?.source ?? 'config',
        udp_port: this.o.probeInfo?.udp_port ?? null,
        replies: info.replies,
        stale_cycles: info.staleCycles,
        warming_up: info.warmingUp === true,
        warmup_cycles: this.warmupCycles,
        fallback_check_running: info.checking,
        last_measured_rtt_ms: this.lastMeasuredMs === null ? null : r2(this.lastMeasuredMs),
        clamped_samples: this.clampedSamples,
        invalid_samples: this.invalidSamples,
        reflectors,
      },
      cycles: this.cycles,
      failed_cycles: this.failedCycles,
      overruns: this.overruns,
      cycle_work_ms: { p50: r3(this.work.p50()), p99: r3(this.work.p99()), max: r3(this.work.max()) },
      state_file: this.o.store
        ? {
            writes: this.o.store.stats.writes,
            errors: this.o.store.stats.errors,
            last_error: this.o.store.stats.lastError,
          }
        : null,
    };
  }
}

/** A max-limit read back differs from the one written (beyond tc's byte rounding: 0.1 %, at least 64 bit/s). */
function differs(read: number, written: number): boolean {
  return Math.abs(read - written) > Math.max(64, written * 1e-3);
}

/** Rounded to µs; an empty window (null) or a non-number stays null in health, never a made-up 0. */
function r3(x: number | null): number | null {
  return x !== null && Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null;
}

/** v1.3's health state inferred from streaks (used before the first cycle). */
function streakState(d: { green_streak: number; soft_red_streak: number; red_streak: number }): string {
  if (d.red_streak > 0) return 'RED';
  if (d.soft_red_streak >= 1) return 'SOFT_RED';
  if (d.green_streak > 0) return 'GREEN';
  return 'YELLOW';
}
