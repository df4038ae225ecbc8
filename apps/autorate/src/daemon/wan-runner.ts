/**
 * One WAN inside the daemon: takes the newest measurement, runs the pure control law, starts the
 * router write in the background (one in flight, with a deadline), and keeps what health,
 * metrics, the state file, the recorder and the logs need. `runCycle()` is synchronous and never
 * waits on I/O. Its parts: runner-options.ts (what it is given), router-sync.ts (writes,
 * completions, reconciliation, reachability), state-report.ts (state file body, change key),
 * cycle-log.ts (cycle lines, summary), cycle-outputs.ts (metrics, history sample),
 * runner-health.ts (the /health body), round.ts (rounding of the figures).
 */

import { LatencyStats, LogThrottle } from '@wanctl/runtime';
import {
  AdaptiveController,
  type AdaptiveInput,
  type AdaptiveResult,
  type CycleInput,
  type CycleResult,
  WanController,
  type WriteRequest,
} from '../control/index.js';
import { CycleLog } from './cycle-log.js';
import { HistorySampler, publishCycleMetrics } from './cycle-outputs.js';
import type { QueueReader } from './queue-reader.js';
import { type HeldRates, RouterSync, type WritingLaw } from './router-sync.js';
import { runnerHealth } from './runner-health.js';
import type { WanRunnerOptions } from './runner-options.js';
import { floorBits, lawSnapshot, type StateBody, StateChangeKey, stateBody } from './state-report.js';

export type { RateWriter } from './router-sync.js';
export type { MeasurementSource, WanRunnerOptions } from './runner-options.js';
export type { CongestionReport, DirectionCongestionReport } from './state-report.js';

export class WanRunner {
  readonly name: string;
  readonly controller: WanController;
  /** The adaptive law (null with `v1.3`). */
  readonly adaptive: AdaptiveController | null;
  readonly law: 'v1.3' | 'adaptive';
  readonly work = new LatencyStats(1200);
  private readonly o: WanRunnerOptions;
  private readonly reader: QueueReader | null;
  /** The deciding law as RouterSync sees it (completions, held rates). */
  private readonly writingLaw: WritingLaw;
  private readonly sync: RouterSync;
  private readonly cycleLog: CycleLog;
  private readonly changeKey = new StateChangeKey();
  private readonly historySampler = new HistorySampler();
  private readonly ain: AdaptiveInput = {
    rtts_ms: null,
    rtt_ms: null,
    dl_achieved_bps: null,
    ul_achieved_bps: null,
    dl_queued_bytes: null,
    ul_queued_bytes: null,
  };
  private lastAdaptive: AdaptiveResult | null = null;
  /** The write the deciding law asked for this cycle (set by decide()). */
  private write: WriteRequest | null = null;
  private recordLine: Record<string, unknown> | null = null;
  private recordWrite = false;
  private prevDlRate: number;
  private prevUlRate: number;
  private degradedReasons: string[] = [];

  // counters (health)
  cycles = 0;
  /** Cycles that waited for the probe's first reply after the start (not counted in `cycles`). */
  warmupCycles = 0;
  failedCycles = 0;
  consecutiveFailures = 0;
  throttledCycles = 0;
  coalescedChanges = 0;
  failovers = 0;
  overruns = 0;
  lastOk = true;
  lastZones: { dl: string | null; ul: string | null } = { dl: null, ul: null };
  lastMeasuredMs: number | null = null;
  clampedSamples = 0;
  invalidSamples = 0;

  constructor(opts: WanRunnerOptions) {
    this.o = opts;
    this.name = opts.name;
    this.controller = new WanController(opts.params);
    this.law = opts.law ?? 'v1.3';
    this.reader = opts.reader ?? null;
    if (this.law === 'adaptive') {
      if (!opts.adaptive) throw new Error('law adaptive needs adaptive parameters');
      this.adaptive = new AdaptiveController(opts.adaptive);
    } else this.adaptive = null;
    this.writingLaw = writingLaw(this.controller, this.adaptive);
    const throttle = new LogThrottle(60_000, opts.now, { burst: 5 });
    this.sync = new RouterSync({
      name: opts.name,
      queues: opts.queues,
      router: opts.router,
      writeDeadlineMs: opts.writeDeadlineMs,
      correctionIntervalMs: opts.correctionIntervalMs,
      reader: this.reader,
      law: this.writingLaw,
      logger: opts.logger,
      throttle,
      now: opts.now,
      metrics: opts.metrics,
      history: opts.history,
    });
    this.cycleLog = new CycleLog(opts.logger, throttle, opts.now());
    const rates = this.controller.controllerRates;
    this.prevDlRate = rates.dlBps;
    this.prevUlRate = rates.ulBps;
  }

  /** The rates the law decided (the state file's current rates). */
  private lawRates(): { dlBps: number; ulBps: number } {
    return this.adaptive ? this.adaptive.rates : this.controller.controllerRates;
  }

  // the router side's counters (health)
  get corrections(): number {
    return this.sync.corrections;
  }
  get correctionsDl(): number {
    return this.sync.correctionsDl;
  }
  get correctionsUl(): number {
    return this.sync.correctionsUl;
  }
  get lastCorrection(): Record<string, unknown> | null {
    return this.sync.lastCorrection;
  }
  get routerFailing(): boolean {
    return this.sync.routerFailing;
  }
  get consecutiveWriteFailures(): number {
    return this.sync.consecutiveWriteFailures;
  }
  get writesOk(): number {
    return this.sync.writesOk;
  }
  get writesFailed(): number {
    return this.sync.writesFailed;
  }
  get lastWriteLatencyMs(): number | null {
    return this.sync.lastWriteLatencyMs;
  }
  get lastWriteError(): string | null {
    return this.sync.lastWriteError;
  }

  /** True while a router write awaits its answer. */
  get writeInFlight(): boolean {
    return this.sync.writeInFlight;
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

  /** The state file body now: v1.3's keys unchanged, plus `congestion` (docs/decisions.md#d14). */
  stateBody(): StateBody {
    const snap = lawSnapshot(this.controller, this.adaptive, this.writingLaw);
    return stateBody(
      snap,
      this.lastZones,
      floorBits(this.o.params, this.lawRates()),
      this.o.params.intervalSeconds,
    );
  }

  /** The state file's change key now (state-report.ts: StateChangeKey); checked every cycle. */
  stateChangeKey(): string {
    const rates = this.lawRates();
    const floors = floorBits(this.o.params, rates);
    const held = this.writingLaw.heldRates();
    return this.changeKey.compute(
      rates,
      held,
      this.controller.baselineRttMs,
      this.lastZones,
      floors,
      this.o.now,
    );
  }

  /** A cycle that took longer than its interval (from the daemon's ticker). */
  countOverrun(): void {
    this.overruns++;
    this.historySampler.overrun();
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

  /** One cycle. Synchronous; never waits on I/O. */
  runCycle(): void {
    const o = this.o;
    const t0 = o.now();
    this.consumeCompletion();
    this.flushRecord();
    this.sync.pollReader();

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
    this.recordInput(input, nowS);
    const r = this.decide(input, nowS);
    this.cycles++;
    this.lastOk = r.ok;
    this.lastMeasuredMs = r.measuredRttMs;
    const w = this.write;
    this.recordWrite = w !== null;
    if (w !== null) this.sync.submit(w);
    this.sync.reconcile(t0);

    const rates = this.lawRates();
    this.count(r, rates);
    this.cycleLog.cycle(r, rates, this.consecutiveFailures);
    if (r.dlZone !== null) {
      this.lastZones.dl = r.dlZone;
      this.lastZones.ul = r.ulZone;
    }
    this.prevDlRate = rates.dlBps;
    this.prevUlRate = rates.ulBps;
    this.updateDegraded(info.staleCycles, info.replies);
    this.cycleLog.debug(r, rates);

    o.store?.update(this);
    const m = o.metrics;
    if (m) publishCycleMetrics(m, r, rates, info.replies, r.throttled && this.adaptive === null);
    const h = o.history;
    if (h && r.dlZone !== null)
      this.historySampler.record(h, o.wallNow ? o.wallNow() : Date.now(), r, rates, this.reader);
    const interval = o.summaryIntervalMs ?? 60_000;
    if (this.cycleLog.summaryDue(t0, interval))
      this.cycleLog.summary(t0, this, o, this.sync, this.lawRates(), this.writingLaw.heldRates());

    const workMs = o.now() - t0;
    this.work.record(workMs);
    if (m) {
      m.cycleDuration.set(workMs / 1000);
      m.cycleSeconds.observe(workMs / 1000);
    }
  }

  /** The recorder's input line of the cycle (with the achieved rates the reader has). */
  private recordInput(input: CycleInput, nowS: number): void {
    const rec = this.o.recorder;
    if (!rec) return;
    const rd = this.reader;
    this.recordLine = rec.inputLine(input, nowS);
    if (rd !== null && rd.dlAchievedBps !== null)
      this.recordLine['dl_achieved_bps'] = Math.round(rd.dlAchievedBps);
    if (rd !== null && rd.ulAchievedBps !== null)
      this.recordLine['ul_achieved_bps'] = Math.round(rd.ulAchievedBps);
    if (rd !== null && rd.dlQueuedBytes !== null) this.recordLine['dl_queued_bytes'] = rd.dlQueuedBytes;
    if (rd !== null && rd.ulQueuedBytes !== null) this.recordLine['ul_queued_bytes'] = rd.ulQueuedBytes;
  }

  /**
   * Runs the law(s) on the cycle's input and leaves the deciding law's write in `write`. With
   * `adaptive` the v1.3 controller runs beside it, its writes taken as done: its EWMAs and zones
   * (state file, health).
   */
  private decide(input: CycleInput, nowS: number): CycleResult {
    const ad = this.adaptive;
    this.write = null;
    if (ad !== null) {
      input.router_ok = true;
      const ain = this.ain;
      const slots = this.o.measurement.slotRtts?.();
      if (slots !== undefined) {
        ain.rtts_ms = slots;
        ain.rtt_ms = null;
      } else {
        ain.rtts_ms = input.rtts_ms ?? null;
        ain.rtt_ms = input.rtt_ms ?? null;
      }
      const rd = this.reader;
      ain.dl_achieved_bps = rd?.dlAchievedBps ?? null;
      ain.ul_achieved_bps = rd?.ulAchievedBps ?? null;
      ain.dl_queued_bytes = rd?.dlQueuedBytes ?? null;
      ain.ul_queued_bytes = rd?.ulQueuedBytes ?? null;
      const a = ad.cycle(ain, nowS);
      this.lastAdaptive = a;
      this.write = a.write;
    }
    const r = this.controller.cycle(input, nowS);
    if (ad === null) this.write = r.write;
    return r;
  }

  /** The cycle's counters: failed cycles (v1.3's, plus a router not answering), coalesced changes, samples. */
  private count(r: CycleResult, rates: { dlBps: number; ulBps: number }): void {
    const unhealthy = !r.ok || this.sync.routerFailing;
    if (unhealthy) {
      this.failedCycles++;
      this.consecutiveFailures++;
    } else this.consecutiveFailures = 0;
    if (r.throttled && this.adaptive === null) {
      this.throttledCycles++;
      if (rates.dlBps !== this.prevDlRate || rates.ulBps !== this.prevUlRate) {
        this.coalescedChanges++;
        this.o.metrics?.coalesced.inc();
      }
    }
    if (r.clamped) this.clampedSamples++;
    if (r.invalidSamples > 0) this.invalidSamples += r.invalidSamples;
  }

  private updateDegraded(staleCycles: number, replies: number): void {
    const failing = this.consecutiveFailures >= (this.o.failureThreshold ?? 3);
    const stale = staleCycles >= (this.o.staleThreshold ?? 3);
    if (!failing && !stale && this.degradedReasons.length === 0) return; // healthy, unchanged
    const reasons: string[] = [];
    if (failing) {
      reasons.push(
        this.sync.routerFailing
          ? `router unreachable (${this.sync.consecutiveWriteFailures} failed writes)`
          : `${this.consecutiveFailures} consecutive failed cycles`,
      );
    }
    if (stale) reasons.push(`no RTT reply for ${staleCycles} cycles`);
    const was = this.degradedReasons.length > 0;
    const is = reasons.length > 0;
    const changed = was !== is || (is && reasons.length !== this.degradedReasons.length);
    this.degradedReasons = reasons;
    if (!changed) return;
    if (is) this.o.logger.warn(`degraded: ${reasons.join('; ')}`, { replies });
    else this.o.logger.info('healthy again');
    this.o.onDegradedChange?.(is, reasons);
  }

  /** Applies a write outcome that arrived since the last cycle; the recorder notes the law's. */
  private consumeCompletion(): void {
    const ok = this.sync.consumeCompletion();
    if (ok !== null && this.recordLine !== null && this.recordWrite) this.recordLine['router_ok'] = ok;
  }

  private flushRecord(): void {
    if (this.recordLine === null) return;
    const line = this.recordLine;
    this.recordLine = null;
    if (this.recordWrite && !('router_ok' in line)) line['late_write'] = true;
    this.o.recorder?.write(line);
  }

  /** Waits (bounded) for a write in flight, then applies its outcome. For shutdown and --once. */
  async settle(timeoutMs: number): Promise<void> {
    if (this.sync.writeInFlight) await this.sync.waitWrite(timeoutMs);
    this.consumeCompletion();
    this.flushRecord();
    await this.reader?.settle(Math.min(timeoutMs, 500));
  }

  /** Per-WAN health (v1.3 fields first, then ours). */
  health(): Record<string, unknown> {
    return runnerHealth(this, {
      opts: this.o,
      sync: this.sync,
      lastAdaptive: this.lastAdaptive,
      rates: this.lawRates(),
      held: this.writingLaw.heldRates(),
    });
  }
}

/** The deciding law (adaptive, else v1.3's controller) as RouterSync sees it. */
function writingLaw(controller: WanController, adaptive: AdaptiveController | null): WritingLaw {
  if (adaptive !== null)
    return {
      writeCompleted: (ok) => adaptive.writeCompleted(ok),
      heldRates: (): HeldRates => {
        const w = adaptive.writePolicy;
        return { dlBps: w.routerDlBps, ulBps: w.routerUlBps };
      },
    };
  return {
    writeCompleted: (ok) => controller.writeCompleted(ok),
    heldRates: () => controller.routerRates,
  };
}
