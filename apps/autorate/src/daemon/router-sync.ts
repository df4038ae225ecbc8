/**
 * A WAN's side of the router: the one write in flight (with its deadline), the completions applied
 * at a deterministic point of the cycle, reconciliation against the max-limits the queue reader
 * read back (docs/decisions.md#d15), and reachability (writes and reads). Split out of
 * wan-runner.ts; allocation-light like the cycle that calls it (one completion object per write).
 */

import type { HistoryRecorder } from '@wanctl/history';
import type { CallOptions, QueueLimit } from '@wanctl/router-client';
import type { Logger, LogThrottle } from '@wanctl/runtime';
import type { WriteRequest } from '../control/index.js';
import type { WanMetrics } from './metrics.js';
import type { QueueReader } from './queue-reader.js';

/** What the runner needs from the router client. */
export interface RateWriter {
  readonly activeTransport: string;
  setQueueLimits(limits: readonly QueueLimit[], opts?: CallOptions): Promise<void>;
  /** Each transport's last known state (health), when the client keeps it. */
  transportStates?(): ReadonlyArray<object>;
}

/** The rates the daemon last wrote and the router confirmed (null: none yet). */
export interface HeldRates {
  dlBps: number | null;
  ulBps: number | null;
}

/** The law whose writes go through RouterSync (v1.3's controller or the adaptive law). */
export interface WritingLaw {
  /** Tells the law how its write ended. */
  writeCompleted(ok: boolean): void;
  /** The rates the law's confirmed writes left on the router. */
  heldRates(): HeldRates;
}

export interface RouterSyncOptions {
  /** wan_name as configured (the queue types are `cake-down-<wan>`, `cake-up-<wan>`). */
  name: string;
  queues: { download: string; upload: string };
  router: RateWriter;
  /** Deadline of one router write, ms. */
  writeDeadlineMs: number;
  /** Least time between two corrections of the router's max-limit, ms. Default 1000. */
  correctionIntervalMs?: number | undefined;
  reader: QueueReader | null;
  law: WritingLaw;
  logger: Logger;
  /** Shared with the runner's other rate-limited lines (the summary counts what it suppressed). */
  throttle: LogThrottle;
  /** Monotonic ms. */
  now: () => number;
  metrics?: WanMetrics | null | undefined;
  history?: HistoryRecorder | null | undefined;
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

export class RouterSync {
  private readonly o: RouterSyncOptions;
  private readonly limits: [QueueLimit, QueueLimit];
  private readonly callOpts: CallOptions;
  private completion: Completion | null = null;
  private writing: Promise<void> | null = null;
  /** The law's write held while a correction is in flight (started when it completes). */
  private pending: WriteRequest | null = null;
  private readonly pendingCopy: WriteRequest = { dlBps: 0, ulBps: 0 };
  private correcting = false;
  /** Monotonic ms of the last completed write (either kind). */
  private lastWriteDoneAt = Number.NEGATIVE_INFINITY;
  private lastCorrectionAt = Number.NEGATIVE_INFINITY;
  private checkedReadAt = Number.NaN;
  /** When the last write failure went to history (monotonic ms). */
  private historyFailAt = Number.NEGATIVE_INFINITY;
  private routerDownSince: number | null = null;

  // counters (health)
  corrections = 0;
  correctionsDl = 0;
  correctionsUl = 0;
  lastCorrection: Record<string, unknown> | null = null;
  routerFailing = false;
  consecutiveWriteFailures = 0;
  writesOk = 0;
  writesFailed = 0;
  lastWriteLatencyMs: number | null = null;
  lastWriteError: string | null = null;

  constructor(opts: RouterSyncOptions) {
    this.o = opts;
    const wan = opts.name.toLowerCase();
    this.limits = [
      { name: opts.queues.download, maxLimitBps: 0, queueType: `cake-down-${wan}` },
      { name: opts.queues.upload, maxLimitBps: 0, queueType: `cake-up-${wan}` },
    ];
    this.callOpts = { deadlineMs: opts.writeDeadlineMs };
  }

  /** True while a router write awaits its answer. */
  get writeInFlight(): boolean {
    return this.writing !== null;
  }

  /** Waits (bounded) for a write in flight; its outcome is applied by consumeCompletion(). */
  async waitWrite(timeoutMs: number): Promise<void> {
    const w = this.writing;
    if (w === null) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      w,
      new Promise<void>((res) => {
        timer = setTimeout(res, timeoutMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
  }

  /**
   * Applies a write outcome that arrived since the last cycle (deterministic point for
   * record/replay). Returns the outcome of the law's write when one completed (the recorder notes
   * it), else null.
   */
  consumeCompletion(): boolean | null {
    const c = this.completion;
    if (c === null) return null;
    this.completion = null;
    this.lastWriteDoneAt = c.at;
    if (c.correction) this.correcting = false;
    else this.o.law.writeCompleted(c.ok);
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
      const n = this.o.throttle.allow('write-failed');
      if (n !== false)
        this.o.logger.error('router write failed; the latest rate is retried next cycle', {
          error: c.error,
          consecutive: this.consecutiveWriteFailures,
          ...(n > 0 ? { suppressed: n } : {}),
        });
    }
    const ra = this.o.law.heldRates();
    m?.routerDlMbps.set((ra.dlBps ?? 0) / 1e6);
    m?.routerUlMbps.set((ra.ulBps ?? 0) / 1e6);
    // the law's write held back by a correction goes now
    const p = this.pending;
    if (p !== null && this.writing === null) {
      this.pending = null;
      this.startWrite(p.dlBps, p.ulBps, false);
    }
    return c.correction ? null : c.ok;
  }

  /** The law's write: started now, or after the correction in flight (never two writes at once). */
  submit(w: WriteRequest): void {
    if (this.correcting) {
      this.pendingCopy.dlBps = w.dlBps;
      this.pendingCopy.ulBps = w.ulBps;
      this.pending = this.pendingCopy;
    } else this.startWrite(w.dlBps, w.ulBps, false);
  }

  /** The router answered (a write or a read): it is reachable now (issue 16.4). */
  private routerAnswered(what: string): void {
    if (this.routerFailing) {
      const downMs = this.routerDownSince === null ? 0 : this.o.now() - this.routerDownSince;
      this.o.logger.info(`router reachable again; ${what}`, {
        down_s: Math.round(downMs / 100) / 10,
        transport: this.o.router.activeTransport,
      });
    }
    this.routerFailing = false;
    this.routerDownSince = null;
  }

  /** Consumes the queue reader's answer and starts its next read (never waits). */
  pollReader(): void {
    const rd = this.o.reader;
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
        const n = this.o.throttle.allow('read-failed');
        if (n !== false)
          this.o.logger.error('router queue reads failing', {
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
  reconcile(now: number): void {
    const rd = this.o.reader?.last ?? null;
    if (rd === null || rd.answeredAt === this.checkedReadAt) return;
    if (this.writing !== null || this.pending !== null) return;
    if (rd.startedAt <= this.lastWriteDoneAt) return; // the reading may predate the last write
    this.checkedReadAt = rd.answeredAt;
    const md = rd.dlMaxLimitBps;
    const mu = rd.ulMaxLimitBps;
    if (md === undefined || mu === undefined) return; // a transport that does not print max-limit
    const h = this.o.law.heldRates();
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
    const n = this.o.throttle.allow('correction');
    if (n !== false)
      this.o.logger.warn('router held another max-limit than the daemon wrote; rewritten (D15)', {
        ...this.lastCorrection,
        ...(n > 0 ? { suppressed: n } : {}),
      });
    this.correcting = true;
    this.startWrite(h.dlBps, h.ulBps, true);
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
    if (this.o.logger.isDebugEnabled())
      this.o.logger.debug('router write', {
        dl_bps: dl,
        ul_bps: ul,
        transport: this.o.router.activeTransport,
      });
  }
}

/** A max-limit read back differs from the one written (beyond tc's byte rounding: 0.1 %, at least 64 bit/s). */
function differs(read: number, written: number): boolean {
  return Math.abs(read - written) > Math.max(64, written * 1e-3);
}
