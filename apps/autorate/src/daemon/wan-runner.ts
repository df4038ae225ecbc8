/**
 * One WAN inside the daemon: takes the newest measurement, runs the pure control law, starts the
 * router write in the background (one in flight, with a deadline), and keeps what health,
 * metrics, the state file, the recorder and the logs need. `runCycle()` is synchronous and never
 * waits on I/O.
 */
import type { CallOptions, QueueLimit } from '@wanctl/router-client';
import type { ReflectorHealth } from '@wanctl/rtt-probe';
import type { Logger, StateStore } from '@wanctl/runtime';
import { LatencyStats, LogThrottle, zoneValue } from '@wanctl/runtime';
import {
  type ControllerSnapshot,
  type ControlParams,
  type CycleInput,
  WanController,
} from '../control/index.js';
import type { WanMetrics } from './metrics.js';
import type { Recorder } from './recorder.js';

/** What the runner needs from the router client. */
export interface RateWriter {
  readonly activeTransport: string;
  setQueueLimits(limits: readonly QueueLimit[], opts?: CallOptions): Promise<void>;
}

/** What the runner needs from the measurement. */
export interface MeasurementSource {
  sample(): CycleInput;
  readonly lastInfo: Readonly<{ replies: number; staleCycles: number; checking: boolean }>;
  reflectorHealth(): ReflectorHealth[];
}

export interface WanRunnerOptions {
  /** wan_name as configured. */
  name: string;
  params: ControlParams;
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
}

const mbps = (bps: number | null): number | null => (bps === null ? null : Math.round(bps / 1e5) / 10);
const r2 = (x: number): number => Math.round(x * 100) / 100;

/** One direction of the `congestion` report in the state file (docs/decisions.md#d14). */
export interface DirectionCongestionReport {
  zone: string | null;
  at_floor: boolean;
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
  private routerDownSince: number | null = null;
  // state change key (rates, last applied, baseline to 0.1 ms; not load RTT, not streaks),
  // rebuilt only when one of its parts changed
  private keyDl = Number.NaN;
  private keyUl = Number.NaN;
  private keyLastDl: number | null = Number.NaN;
  private keyLastUl: number | null = Number.NaN;
  private keyBaseline = Number.NaN;
  private key = '';

  // counters (health)
  cycles = 0;
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
    const snap = this.controller.snapshot();
    const delta = r2(Math.max(0, snap.ewma.load_rtt - snap.ewma.baseline_rtt));
    const f = this.floorState();
    return {
      ...stateFileBody(snap, now),
      congestion: {
        at: now.toISOString(),
        download: {
          zone: this.lastZones.dl,
          at_floor: f.dl,
          rtt_delta_ms: delta,
          red_for_sec: r2(snap.download.red_streak * this.o.params.intervalSeconds),
        },
        upload: {
          zone: this.lastZones.ul,
          at_floor: f.ul,
          rtt_delta_ms: delta,
          red_for_sec: r2(snap.upload.red_streak * this.o.params.intervalSeconds),
        },
      },
    };
  }

  /** Whether each direction's rate sits at its lowest configured floor. */
  private floorState(): { dl: boolean; ul: boolean } {
    const p = this.o.params;
    const d = p.download;
    const u = p.upload;
    const dlFloor = Math.min(d.floorRedBps, d.floorSoftRedBps, d.floorYellowBps, d.floorGreenBps);
    const ulFloor = Math.min(
      u.floorRedBps,
      u.floorYellowBps ?? u.floorRedBps,
      u.floorGreenBps ?? u.floorRedBps,
    );
    const rates = this.controller.controllerRates;
    return { dl: rates.dlBps <= dlFloor, ul: rates.ulBps <= ulFloor };
  }

  /**
   * The state file's change key now: `dl|ul|applied dl|applied ul|baseline (0.1 ms)` of the controller's snapshot,
   * without building a snapshot; the string is rebuilt only when one of its parts changed. Then the
   * zones and floor flags, and a seconds counter while the WAN is not calm (D14).
   */
  stateChangeKey(): string {
    const c = this.controller;
    const rates = c.controllerRates;
    const ra = c.routerRates;
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
    const f = this.floorState();
    const calm = (z.dl === null || z.dl === 'GREEN') && (z.ul === null || z.ul === 'GREEN') && !f.dl && !f.ul;
    return `${this.key}|${z.dl}|${z.ul}|${f.dl ? 1 : 0}${f.ul ? 1 : 0}${calm ? '' : `|${Math.floor(this.o.now() / 1000)}`}`;
  }

  /** A cycle that took longer than its interval (from the daemon's ticker). */
  countOverrun(): void {
    this.overruns++;
    this.o.metrics?.overruns.inc();
  }

  /** A router transport switch (from the failover client, which has logged it already). */
  onTransportSwitch(ev: { from: string; to: string; reason: string; recovered: boolean }): void {
    this.failovers++;
    this.o.metrics?.failover(ev.to);
  }

  /** Applies a write outcome that arrived since the last cycle (deterministic point for record/replay). */
  private consumeCompletion(): void {
    const c = this.completion;
    if (c === null) return;
    this.completion = null;
    this.controller.writeCompleted(c.ok);
    if (this.recordLine !== null && this.recordWrite) this.recordLine['router_ok'] = c.ok;
    const m = this.o.metrics;
    if (c.ok) {
      this.writesOk++;
      this.consecutiveWriteFailures = 0;
      if (this.routerFailing) {
        const downMs = this.routerDownSince === null ? 0 : this.o.now() - this.routerDownSince;
        this.log.info('router reachable again; writes resume', {
          down_s: Math.round(downMs / 100) / 10,
          transport: this.o.router.activeTransport,
        });
      }
      this.routerFailing = false;
      this.routerDownSince = null;
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
      const n = this.throttle.allow('write-failed');
      if (n !== false)
        this.log.error('router write failed; the latest rate is retried next cycle', {
          error: c.error,
          consecutive: this.consecutiveWriteFailures,
          ...(n > 0 ? { suppressed: n } : {}),
        });
    }
    const ra = this.controller.routerRates;
    m?.routerDlMbps.set((ra.dlBps ?? 0) / 1e6);
    m?.routerUlMbps.set((ra.ulBps ?? 0) / 1e6);
  }

  private flushRecord(): void {
    if (this.recordLine === null) return;
    const line = this.recordLine;
    this.recordLine = null;
    if (this.recordWrite && !('router_ok' in line)) line['late_write'] = true;
    this.o.recorder?.write(line);
  }

  private startWrite(dl: number, ul: number): void {
    const l = this.limits;
    l[0].maxLimitBps = dl;
    l[1].maxLimitBps = ul;
    const t0 = this.o.now();
    const done = (ok: boolean, error: string | null) => {
      this.completion = { ok, latencyMs: this.o.now() - t0, error };
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

    const input = o.measurement.sample();
    const info = o.measurement.lastInfo;
    const nowS = t0 / 1000;
    if (o.recorder) this.recordLine = o.recorder.inputLine(input, nowS);
    const r = this.controller.cycle(input, nowS);
    this.cycles++;
    this.lastOk = r.ok;
    this.lastMeasuredMs = r.measuredRttMs;
    this.recordWrite = false;
    if (r.write !== null) {
      this.recordWrite = true;
      this.startWrite(r.write.dlBps, r.write.ulBps);
    }

    // failure accounting (v1.3: a failed cycle; ours also counts a router that is not answering)
    const unhealthy = !r.ok || this.routerFailing;
    if (unhealthy) {
      this.failedCycles++;
      this.consecutiveFailures++;
    } else this.consecutiveFailures = 0;

    const rates = this.controller.controllerRates;
    if (r.throttled) {
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

    // zone changes: one line per change (rate limited)
    if (r.dlZone !== null && (r.dlZone !== this.prevDlZone || r.ulZone !== this.prevUlZone)) {
      if (this.prevDlZone !== null) {
        const n = this.throttle.allow('zone');
        if (n !== false)
          this.log.info(`zone ${this.prevDlZone}/${this.prevUlZone} -> ${r.dlZone}/${r.ulZone}`, {
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
      if (r.throttled) {
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

    if (t0 - this.lastSummaryAt >= (o.summaryIntervalMs ?? 60_000)) this.summary(t0);

    const workMs = o.now() - t0;
    this.work.record(workMs);
    if (m) {
      m.cycleDuration.set(workMs / 1000);
      m.cycleSeconds.observe(workMs / 1000);
    }
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
    const rates = this.controller.controllerRates;
    const ra = this.controller.routerRates;
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
  }

  /** Per-WAN health (v1.3 fields first, then ours). */
  health(): Record<string, unknown> {
    const s = this.controller.snapshot();
    const rates = this.controller.controllerRates;
    const ra = this.controller.routerRates;
    const info = this.o.measurement.lastInfo;
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
      baseline_rtt_ms: r2(s.ewma.baseline_rtt),
      load_rtt_ms: r2(s.ewma.load_rtt),
      download: {
        current_rate_mbps: mbps(rates.dlBps),
        state: this.lastZones.dl ?? streakState(s.download),
        router_rate_mbps: mbps(ra.dlBps),
      },
      upload: {
        current_rate_mbps: mbps(rates.ulBps),
        state: this.lastZones.ul ?? streakState(s.upload),
        router_rate_mbps: mbps(ra.ulBps),
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
        last_write_latency_ms: this.lastWriteLatencyMs === null ? null : r3(this.lastWriteLatencyMs),
        last_write_error: this.lastWriteError,
        throttled_cycles: this.throttledCycles,
        coalesced_changes: this.coalescedChanges,
        failovers: this.failovers,
        writes_remaining: this.controller.writesRemaining(this.o.now() / 1000),
      },
      measurement: {
        probe: this.o.probeKind,
        probe_method: this.o.probeInfo?.method ?? (this.o.probeKind === 'udp' ? 'udp' : 'icmp'),
        probe_source: this.o.probeInfo?.source ?? 'config',
        udp_port: this.o.probeInfo?.udp_port ?? null,
        replies: info.replies,
        stale_cycles: info.staleCycles,
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

function r3(x: number | null): number {
  return x !== null && Number.isFinite(x) ? Math.round(x * 1000) / 1000 : 0;
}

/** v1.3's health state inferred from streaks (used before the first cycle). */
function streakState(d: { green_streak: number; soft_red_streak: number; red_streak: number }): string {
  if (d.red_streak > 0) return 'RED';
  if (d.soft_red_streak >= 1) return 'SOFT_RED';
  if (d.green_streak > 0) return 'GREEN';
  return 'YELLOW';
}
