/**
 * A reflector that goes bad is dropped and replaced: the adaptive law reports bad reflector slots
 * (silent for `reflectorSilentS`, or off the others' median delay by `reflectorOutlierMs` for
 * `reflectorOutlierS`) and leaves them out; this pool puts the next spare in such a slot, and
 * the replaced reflector goes to the back of the spares (it may come back later).
 *
 * - A slot is replaced once the law has reported it bad without a break for `confirmMs` (1 s: the
 *   law has applied its own silence/outlier durations already; this only rides out a slot flagged
 *   a cycle or two before the others at the start of an outage).
 * - At most one replacement per `minIntervalMs` (30 s) per WAN, and none while the previous one is
 *   still being swapped in by the probe.
 * - Every slot silent is an outage (the WAN, not the reflectors): nothing is replaced, and the
 *   confirmation starts over when replies are back. With one reflector in use a silent one cannot
 *   be told from an outage, so it is never replaced.
 * - No spare: nothing is replaced, one warning line (per WAN and run).
 *
 * `update()` runs every cycle after the law; it allocates nothing unless it replaces.
 */
import type { Logger } from '@wanctl/runtime';
import { MAX_REFLECTORS } from '../control/index.js';

/** What the pool needs from the adaptive law. */
export interface ReflectorLaw {
  /** A new reflector is in `slot` from `nowS`: its baseline and health start afresh. */
  replaceReflector(slot: number, nowS: number): void;
  reflectorSilenceS(slot: number, nowS: number): number;
  reflectorOffsetMs(slot: number): number;
}

/** What the pool needs from the measurement (WanMeasurement): the slots and the swap. */
export interface ReflectorSlots {
  /** The reflectors in use, by slot (the law's `rtts_ms`), as the probe names them. */
  readonly used: readonly string[];
  /** Probe `reflector` in `slot` from now on; rejects (and keeps the old one) if the probe refuses. */
  replaceReflector(slot: number, reflector: string): Promise<void>;
}

/** One replacement (health). */
export interface ReflectorReplacement {
  /** Wall-clock time, ISO 8601 UTC. */
  at: string;
  slot: number;
  from: string;
  to: string;
  /** Why `from` was bad: `silent 3.1 s` or `off the others' median by 42 ms`. */
  reason: string;
}

export interface ReflectorPoolOptions {
  slots: ReflectorSlots;
  /** Spare reflectors in order, named as the probe names them (see `reflectorName`). */
  spares: readonly string[];
  log: Pick<Logger, 'info' | 'warn'>;
  /** Wall-clock ms (health, history). Default Date.now. */
  wallNow?: () => number;
  /** A slot is replaced once reported bad for this long without a break, ms. Default 1000. */
  confirmMs?: number;
  /** Least time between two replacements, ms. Default 30 000. */
  minIntervalMs?: number;
  /** Counts replacements (`wanctl_reflector_replacements_total`). */
  metric?: { inc(): void } | null;
  /** Records each replacement as a history event. */
  history?: { reflectorReplaced(from: string, to: string, reason: string, tMs?: number): void } | null;
}

/** Replacements kept for health. */
const RECENT = 8;

export class ReflectorPool {
  /** Replacements since start. */
  replacements = 0;
  /** Swaps the probe refused (the reflector stayed). */
  failures = 0;
  /** The last replacements, oldest first. */
  readonly recent: ReflectorReplacement[] = [];
  private readonly spares: string[];
  private readonly badSince = new Float64Array(MAX_REFLECTORS).fill(Number.NaN);
  private tracking = false;
  private lastReplaceAt = Number.NEGATIVE_INFINITY;
  private swapping = false;
  private warnedNoSpare = false;
  private readonly confirmMs: number;
  private readonly minIntervalMs: number;

  constructor(private readonly o: ReflectorPoolOptions) {
    const used = new Set(o.slots.used);
    this.spares = [...new Set(o.spares)].filter((s) => !used.has(s));
    this.confirmMs = o.confirmMs ?? 1000;
    this.minIntervalMs = o.minIntervalMs ?? 30_000;
  }

  /** The spares, in the order they will be used. */
  get spareList(): readonly string[] {
    return this.spares;
  }

  /**
   * After each adaptive cycle: `bad` and `silent` are the law's `badReflectors` and
   * `silentReflectors` (bit per slot), `nowMs` the cycle's monotonic time (the law's `nowS` × 1000).
   */
  update(law: ReflectorLaw, bad: number, silent: number, nowMs: number): void {
    if (bad === 0) {
      if (this.tracking) this.clear();
      return;
    }
    const n = Math.min(this.o.slots.used.length, MAX_REFLECTORS);
    const all = (1 << n) - 1; // n <= MAX_REFLECTORS (16)
    if ((silent & all) === all) {
      // every reflector silent: an outage, not bad reflectors
      if (this.tracking) this.clear();
      return;
    }
    this.tracking = true;
    let pick = -1;
    for (let i = 0; i < n; i++) {
      if ((bad & (1 << i)) === 0) {
        this.badSince[i] = Number.NaN;
        continue;
      }
      if (Number.isNaN(this.badSince[i] as number)) this.badSince[i] = nowMs;
      const since = this.badSince[i] as number;
      if (nowMs - since >= this.confirmMs && (pick < 0 || since < (this.badSince[pick] as number))) pick = i;
    }
    if (pick < 0 || this.swapping || nowMs - this.lastReplaceAt < this.minIntervalMs) return;
    if (this.spares.length === 0 && this.warnedNoSpare) return; // said once; nothing to build per cycle
    const nowS = nowMs / 1000;
    const reason =
      (silent & (1 << pick)) !== 0
        ? `silent ${law.reflectorSilenceS(pick, nowS).toFixed(1)} s`
        : `off the others' median by ${Math.round(law.reflectorOffsetMs(pick))} ms`;
    const from = this.o.slots.used[pick] as string;
    const to = this.spares.shift();
    if (to === undefined) {
      if (!this.warnedNoSpare) {
        this.warnedNoSpare = true;
        this.o.log.warn(
          `reflector ${from} is bad (${reason}) and there is no spare to replace it (continuous_monitoring.spare_ping_hosts); it stays left out`,
          { slot: pick, reflector: from },
        );
      }
      return;
    }
    this.replace(law, pick, from, to, reason, nowMs);
  }

  private replace(
    law: ReflectorLaw,
    slot: number,
    from: string,
    to: string,
    reason: string,
    nowMs: number,
  ): void {
    this.lastReplaceAt = nowMs;
    this.badSince[slot] = Number.NaN;
    this.spares.push(from);
    law.replaceReflector(slot, nowMs / 1000);
    const wall = this.o.wallNow ? this.o.wallNow() : Date.now();
    this.replacements++;
    this.recent.push({ at: new Date(wall).toISOString(), slot, from, to, reason });
    if (this.recent.length > RECENT) this.recent.shift();
    this.o.metric?.inc();
    this.o.history?.reflectorReplaced(from, to, reason, wall);
    this.o.log.warn(`reflector ${from} replaced by ${to}: ${reason}`, {
      slot,
      from,
      to,
      reason,
      spares: this.spares.length,
    });
    this.swapping = true;
    this.o.slots.replaceReflector(slot, to).then(
      () => {
        this.swapping = false;
      },
      (err: unknown) => {
        // the probe refused the spare (e.g. a name that does not resolve): the old one stays in
        // the slot; the spare goes to the back
        this.swapping = false;
        this.failures++;
        const i = this.spares.lastIndexOf(from);
        if (i >= 0) this.spares.splice(i, 1);
        this.spares.push(to);
        this.o.log.warn(`could not probe spare reflector ${to}; ${from} stays: ${(err as Error).message}`, {
          slot,
        });
      },
    );
  }

  private clear(): void {
    this.badSince.fill(Number.NaN);
    this.tracking = false;
  }

  /** For /health: the reflectors in use, the spares in order, the replacements. */
  health(): {
    in_use: string[];
    spares: string[];
    replacements: number;
    failed_swaps: number;
    recent: ReflectorReplacement[];
  } {
    return {
      in_use: [...this.o.slots.used],
      spares: [...this.spares],
      replacements: this.replacements,
      failed_swaps: this.failures,
      recent: this.recent.map((r) => ({ ...r })),
    };
  }
}
