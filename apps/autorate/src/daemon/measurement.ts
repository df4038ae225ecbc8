/**
 * One WAN's measurement, beside the control loop: a background RTT probe (fping stream or UDP
 * echo), plus the v1.3 fallback checks (gateway ping, TCP connects) run in the background while
 * ICMP is failing. `sample()` is what a cycle calls: it never waits, it only reads what arrived.
 */
import type { ReflectorHealth, RttProbe, TcpFallbackResult } from '@wanctl/rtt-probe';
import type { CycleInput } from '../control/index.js';

/** The fallback checks, injectable for tests. */
export interface FallbackChecks {
  gateway(host: string, timeoutMs: number): Promise<number | null>;
  tcp(targets: ReadonlyArray<readonly [string, number]>, timeoutMs: number): Promise<TcpFallbackResult>;
}

export interface MeasurementOptions {
  probe: RttProbe;
  /** Probe kind shown in health. */
  probeKind: 'fping' | 'udp';
  /** v1.3 median-of-three (use the first three reflectors), else the first reflector alone. */
  medianOfThree: boolean;
  /**
   * A reply stays usable for this long after it arrived (ms): the probe runs at the cycle rate,
   * so a cycle may fall between two replies (see `replyHoldMs`).
   */
  holdMs: number;
  fallback: {
    enabled: boolean;
    checkGateway: boolean;
    checkTcp: boolean;
    gatewayIp: string | null;
    tcpTargets: ReadonlyArray<readonly [string, number]>;
  };
  /** Per-probe timeout (timeouts.ping), ms: the gateway check's deadline. */
  pingTimeoutMs: number;
  /** TCP connect deadline per target, ms (v1.3: 500). */
  tcpTimeoutMs?: number;
  /** A fallback result is used by cycles for this long, then re-checked (ms). Default 1000. */
  fallbackMaxAgeMs?: number;
  checks: FallbackChecks;
  /**
   * After the probe starts, cycles wait this long (ms) for its first reply before a cycle without
   * one counts as an ICMP failure (the first cycle runs at once, before any reply can have come
   * back; v1.3 pinged inside the cycle and so always had one). Default 0: no grace. The daemon
   * uses the per-probe timeout (`timeouts.ping`).
   */
  startupGraceMs?: number;
  /** Monotonic ms. */
  now: () => number;
  /** Something worth logging (check failures). */
  onProblem?: (message: string) => void;
}

/** What the last cycle's sample looked like (health, logs). */
export interface SampleInfo {
  /** Valid replies used this cycle (quorum). */
  replies: number;
  /** Consecutive cycles without any usable reply. */
  staleCycles: number;
  /** A fallback check is running. */
  checking: boolean;
  /**
   * The probe has not answered yet since it started and the startup grace has not run out: the
   * cycle has nothing to measure and is not a failure (see `startupGraceMs`).
   */
  warmingUp: boolean;
}

interface Held {
  rttMs: number;
  at: number;
}

/**
 * Turns probe replies into the control law's {@link CycleInput}. The returned input object is
 * reused between calls.
 */
export class WanMeasurement {
  readonly probe: RttProbe;
  /** The reflectors in use, by slot (the adaptive law's `rtts_ms`); a replacement changes one. */
  private readonly usedList: string[];
  private readonly held: (Held | null)[];
  private readonly index = new Map<string, number>();
  private readonly input: CycleInput = {};
  private readonly rtts: number[] = [];
  private readonly info: SampleInfo = { replies: 0, staleCycles: 0, checking: false, warmingUp: false };
  /** Monotonic ms the grace for the first reply started (start(), else the first sample); NaN before. */
  private graceFrom = Number.NaN;
  private everReplied = false;
  private checkRunning = false;
  private checkResult: { at: number; gatewayOk: boolean; tcp: (number | null)[] } | null = null;
  private started = false;
  /** Fallback check rounds run so far. */
  checksRun = 0;

  constructor(private readonly opts: MeasurementOptions) {
    this.probe = opts.probe;
    const refl = opts.probe.reflectors;
    this.usedList = opts.medianOfThree ? refl.slice(0, 3) : refl.slice(0, 1);
    this.held = this.usedList.map(() => null);
    this.usedList.forEach((r, i) => {
      this.index.set(r, i);
    });
  }

  /** The reflectors in use, by slot. */
  get used(): readonly string[] {
    return this.usedList;
  }

  /**
   * Slot `slot` probes `reflector` from now on (a bad one replaced by a spare): the reply held
   * for the slot is dropped, replies are taken for the new name at once, and the probe swaps it
   * in (fping restarts its child). If the probe refuses (an unresolvable name), the slot goes
   * back to its reflector and the error is rethrown.
   * @throws {RangeError} no such slot
   */
  async replaceReflector(slot: number, reflector: string): Promise<void> {
    const old = this.usedList[slot];
    if (old === undefined) throw new RangeError(`no reflector slot ${slot}`);
    this.setSlot(slot, old, reflector);
    try {
      await this.opts.probe.replaceReflector(old, reflector);
    } catch (err) {
      if (this.usedList[slot] === reflector) this.setSlot(slot, reflector, old);
      throw err;
    }
  }

  private setSlot(slot: number, from: string, to: string): void {
    this.index.delete(from);
    this.index.set(to, slot);
    this.usedList[slot] = to;
    this.held[slot] = null;
  }

  /** Starts the probe (ProbeUnavailableError if it cannot run). */
  async start(): Promise<void> {
    await this.opts.probe.start();
    this.started = true;
    this.graceFrom = this.opts.now();
    this.everReplied = false;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.opts.probe.stop();
  }

  /** The inputs of this cycle. Never waits. */
  sample(): CycleInput {
    const now = this.opts.now();
    const round = this.opts.probe.latest();
    for (const s of round.samples) {
      const i = this.index.get(s.reflector);
      if (i === undefined) continue;
      const h = this.held[i];
      if (h) {
        h.rttMs = s.rttMs;
        h.at = s.at;
      } else this.held[i] = { rttMs: s.rttMs, at: s.at };
    }
    const rtts = this.rtts;
    rtts.length = 0;
    for (const h of this.held) {
      if (h !== null && now - h.at <= this.opts.holdMs) rtts.push(h.rttMs);
    }
    const inp = this.input;
    inp.gateway_ok = undefined;
    inp.tcp_rtts_ms = undefined;
    if (this.opts.medianOfThree) {
      inp.rtts_ms = rtts;
      inp.rtt_ms = undefined;
    } else {
      inp.rtts_ms = undefined;
      inp.rtt_ms = rtts.length > 0 ? (rtts[0] as number) : null;
    }
    this.info.replies = rtts.length;
    if (rtts.length > 0) {
      this.everReplied = true;
      this.info.warmingUp = false;
      this.info.staleCycles = 0;
      this.checkResult = null; // the next ICMP failure gets fresh checks
    } else if (this.waitingForFirstReply(now)) {
      this.info.warmingUp = true; // nothing could have come back yet: not stale, no checks
    } else {
      this.info.warmingUp = false;
      this.info.staleCycles++;
      this.fallbackInputs(now);
    }
    this.info.checking = this.checkRunning;
    return inp;
  }

  /** No reply since the probe started, and the startup grace has not run out. */
  private waitingForFirstReply(now: number): boolean {
    const grace = this.opts.startupGraceMs ?? 0;
    if (this.everReplied || grace <= 0) return false;
    if (Number.isNaN(this.graceFrom)) this.graceFrom = now;
    return now - this.graceFrom < grace;
  }

  get lastInfo(): Readonly<SampleInfo> {
    return this.info;
  }

  /** Per reflector health from the probe. */
  reflectorHealth(): ReflectorHealth[] {
    return this.opts.probe.health();
  }

  private fallbackInputs(now: number): void {
    const fb = this.opts.fallback;
    if (!fb.enabled || (!fb.checkGateway && !fb.checkTcp)) return;
    const maxAge = this.opts.fallbackMaxAgeMs ?? 1000;
    const r = this.checkResult;
    if (r !== null && now - r.at <= maxAge) {
      if (fb.checkGateway) this.input.gateway_ok = r.gatewayOk;
      if (fb.checkTcp) this.input.tcp_rtts_ms = r.tcp;
    }
    if (!this.checkRunning && (r === null || now - r.at > maxAge / 2)) void this.runChecks();
  }

  private async runChecks(): Promise<void> {
    const fb = this.opts.fallback;
    this.checkRunning = true;
    this.checksRun++;
    try {
      const gw =
        fb.checkGateway && fb.gatewayIp !== null
          ? this.opts.checks.gateway(fb.gatewayIp, this.opts.pingTimeoutMs).catch((e: unknown) => {
              this.opts.onProblem?.(`gateway check failed to run: ${(e as Error).message}`);
              return null;
            })
          : Promise.resolve(null);
      const tcp = fb.checkTcp
        ? this.opts.checks.tcp(fb.tcpTargets, this.opts.tcpTimeoutMs ?? 500).catch((e: unknown) => {
            this.opts.onProblem?.(`TCP check failed to run: ${(e as Error).message}`);
            return { ok: false, rttMs: null, results: fb.tcpTargets.map(() => null) } as TcpFallbackResult;
          })
        : Promise.resolve(null);
      const [g, t] = await Promise.all([gw, tcp]);
      this.checkResult = { at: this.opts.now(), gatewayOk: g !== null, tcp: t ? t.results : [] };
    } finally {
      this.checkRunning = false;
    }
  }

  /**
   * Per reflector slot (the reflectors in use, in order): the RTT held and still usable now, or
   * null. The adaptive law's `rtts_ms` (it keeps a baseline per slot). Reused array.
   */
  slotRtts(): ArrayLike<number | null> {
    const now = this.opts.now();
    const out = this.slots;
    out.length = this.held.length;
    for (let i = 0; i < this.held.length; i++) {
      const h = this.held[i];
      out[i] = h !== null && h !== undefined && now - h.at <= this.opts.holdMs ? h.rttMs : null;
    }
    return out;
  }

  private readonly slots: Array<number | null> = [];
}
