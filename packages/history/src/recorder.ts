/**
 * The daemon side of history: {@link HistoryRecorder.cycle} accumulates each control cycle into a
 * preallocated one-second bucket (no allocation, no I/O); finished seconds wait in a bounded ring
 * and are written in one transaction every few seconds by a timer; downsampling, retention and
 * the size cap run once a minute in bounded steps. Any failure of the store (full disk, read-only
 * directory, damaged file) makes history *degraded* — {@link HistoryRecorder.health} says so — and
 * never throws into the caller.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DEFAULT_MAX_SIZE_MB, DEFAULT_RETENTION, type Retention } from './maintenance.js';
import { type EventKind, SAMPLE_COLUMNS, ZONE_NAMES } from './schema.js';
import type { Recovery, StoreKind } from './store.js';
import { type PendingEvent, StoreWriter, type WriterHealth, type WriterSettings } from './writer.js';

/** A zone as the control law names it, or its number (1 GREEN … 4 RED); anything else is unknown. */
export type ZoneLike = string | number;

/**
 * One control cycle as the recorder takes it. The caller may reuse one object for every cycle
 * (the recorder copies the numbers). NaN means "not measured this cycle".
 */
export interface CycleSample {
  /** Rate the controller wants, download / upload (bps). */
  shapedDlBps: number;
  shapedUlBps: number;
  /** Throughput achieved (e.g. from the queue counters), bps; NaN when not measured. */
  achievedDlBps: number;
  achievedUlBps: number;
  /** Load RTT (ms); NaN when the cycle had no RTT. */
  rttMs: number;
  /** Baseline RTT (ms). */
  baselineMs: number;
  /** RTT delta, load − baseline (ms); NaN when the cycle had no RTT. */
  deltaMs: number;
  /** Zone per direction. */
  zoneDl: ZoneLike;
  zoneUl: ZoneLike;
  /** The cycle overran its interval. */
  overrun: boolean;
}

/** Options of {@link HistoryRecorder.open}. */
export interface RecorderOptions {
  /** The SQLite file (created with its directory if missing). */
  file: string;
  /** WAN name stored in the file (the dashboard and the CLI show it). */
  wan: string;
  /** Which daemon writes it. */
  kind: StoreKind;
  /** Retention by age (default 48 h / 30 d / 400 d). */
  retention?: Partial<Retention>;
  /** Size cap in MB (default 256). */
  maxSizeMb?: number;
  /** Milliseconds between batched writes (default 5000). */
  flushIntervalMs?: number;
  /** Milliseconds between maintenance passes (default 60 000). */
  maintenanceIntervalMs?: number;
  /** Milliseconds between attempts to reopen a store that could not be opened (default 30 000). */
  retryIntervalMs?: number;
  /** Finished seconds kept while the store cannot be written (default 900; older ones are dropped). */
  bufferSeconds?: number;
  /** At most this many events per second are kept (default 20; the rest are counted as dropped). */
  maxEventsPerSecond?: number;
  /** Start the flush timer (default true; tests call {@link HistoryRecorder.flush} themselves). */
  timers?: boolean;
  /**
   * Where SQLite runs: `worker` (default) a worker thread, so writes, checkpoints and maintenance
   * never block the caller's event loop; `inline` on the caller's thread (tests, tools).
   */
  thread?: 'worker' | 'inline';
  /** SQLite `max_page_count` (4 KiB pages): a hard size limit answered with SQLITE_FULL like a full disk (tests). */
  maxPageCount?: number;
  /** Wall clock in Unix ms (default `Date.now`). */
  now?: () => number;
  /** Called when history becomes degraded or healthy again, and when a damaged file was moved aside. */
  onStatus?: (health: HistoryHealth) => void;
}

/** What {@link HistoryRecorder.health} reports (for /health and the `wanctl_history_degraded` gauge). */
export interface HistoryHealth {
  /** `ok`; `degraded` while the store cannot be written (data is buffered, then dropped); `closed`. */
  status: 'ok' | 'degraded' | 'closed';
  /** status === 'degraded' (the value of the `wanctl_history_degraded` gauge). */
  degraded: boolean;
  file: string;
  /** Why it is degraded, with the error code (null when ok). */
  reason: string | null;
  code: string | null;
  /** Unix ms since when it is degraded (null when ok). */
  since: number | null;
  /** The last damaged file that was moved aside (null if none). */
  recovery: Recovery | null;
  /** Finished seconds waiting to be written. */
  pendingSeconds: number;
  rowsWritten: number;
  /** Seconds lost because the buffer was full while the store could not be written. */
  rowsDropped: number;
  eventsWritten: number;
  /** Events lost (rate limit or buffer full). */
  eventsDropped: number;
  /** Size of the file and its WAL (bytes), as of the last maintenance. */
  sizeBytes: number;
  /** Duration of the last / longest batched write (ms). */
  lastFlushMs: number;
  maxFlushMs: number;
  /** Duration of the last / longest maintenance pass (ms). */
  lastMaintenanceMs: number;
  maxMaintenanceMs: number;
}

/** Zone-change events kept per second (the one-second rows carry the zones anyway). */
const ZONE_EVENTS_PER_SECOND = 4;

// accumulator slots
const A_CYCLES = 0;
const A_OVERRUNS = 1;
/** sum/count pairs of the mean fields, in MEAN_FIELDS order, start here */
const A_MEANS = 2;
const MEAN_COUNT = 7; // shaped dl/ul, achieved dl/ul, rtt, baseline, delta
const A_PEAK_DL = A_MEANS + 2 * MEAN_COUNT;
const A_PEAK_UL = A_PEAK_DL + 1;
const A_DMIN = A_PEAK_UL + 1;
const A_DMAX = A_DMIN + 1;
const A_ZONE_DL = A_DMAX + 1;
const A_ZONE_UL = A_ZONE_DL + 1;
/** counts of dl green..red (4) then ul green, yellow, red (3) */
const A_ZCOUNT = A_ZONE_UL + 1;
const A_SIZE = A_ZCOUNT + 7;

const NCOL = SAMPLE_COLUMNS.length;
const col = (name: (typeof SAMPLE_COLUMNS)[number]): number => SAMPLE_COLUMNS.indexOf(name);
const C_T = col('t');
const C_N = col('n');
const C_CYCLES = col('cycles');
const C_OVERRUNS = col('overruns');
const C_MEAN = [
  col('shaped_dl'),
  col('shaped_ul'),
  col('achieved_dl'),
  col('achieved_ul'),
  col('rtt'),
  col('baseline'),
  col('dmean'),
];
const C_PEAK_DL = col('peak_dl');
const C_PEAK_UL = col('peak_ul');
const C_DMIN = col('dmin');
const C_DMAX = col('dmax');
const C_ZONE_DL = col('zone_dl');
const C_ZONE_UL = col('zone_ul');
const C_ZCOUNT = col('dl_green');

/** Zone number 1–4 of a zone name or number, 0 when unknown. No allocation. */
export function zoneNumber(z: ZoneLike): number {
  if (typeof z === 'number') return z >= 1 && z <= 4 ? Math.floor(z) : 0;
  switch (z) {
    case 'GREEN':
      return 1;
    case 'YELLOW':
      return 2;
    case 'SOFT_RED':
      return 3;
    case 'RED':
      return 4;
    default:
      return 0;
  }
}

/** The worker's compiled file (dist/worker.js), also when this module runs from src/ (tests). */
function workerFile(): string {
  const here = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(here)) return here;
  return fileURLToPath(new URL('../dist/worker.js', import.meta.url));
}

export class HistoryRecorder {
  private readonly acc = new Float64Array(A_SIZE);
  private curSec = -1;
  private readonly ring: Float64Array;
  private readonly ringCap: number;
  private ringLen = 0;
  private events: PendingEvent[] = [];
  private eventSec = -1;
  private eventsThisSec = 0;
  private zoneEventsThisSec = 0;
  private lastZoneDl = 0;
  private lastZoneUl = 0;
  private rowsDroppedHere = 0;
  private eventsDroppedHere = 0;

  private writer: StoreWriter | null = null;
  private worker: Worker | null = null;
  private workerHealth: WriterHealth | null = null;
  private workerError: string | null = null;
  private lastReported: { degraded: boolean; recoveryAt: number | null } = {
    degraded: false,
    recoveryAt: null,
  };
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;

  private readonly settings: WriterSettings;
  private readonly flushIntervalMs: number;
  private readonly maxEventsPerSecond: number;
  private readonly now: () => number;

  private constructor(private readonly options: RecorderOptions) {
    this.flushIntervalMs = options.flushIntervalMs ?? 5000;
    this.maxEventsPerSecond = options.maxEventsPerSecond ?? 20;
    this.now = options.now ?? Date.now;
    this.settings = {
      file: options.file,
      wan: options.wan,
      kind: options.kind,
      retention: { ...DEFAULT_RETENTION, ...(options.retention ?? {}) },
      maxSizeMb: options.maxSizeMb ?? DEFAULT_MAX_SIZE_MB,
      maintenanceIntervalMs: options.maintenanceIntervalMs ?? 60_000,
      retryIntervalMs: options.retryIntervalMs ?? 30_000,
      bufferSeconds: Math.max(10, options.bufferSeconds ?? 900),
      ...(options.maxPageCount !== undefined ? { maxPageCount: options.maxPageCount } : {}),
    };
    // the caller's side holds at most a few flush intervals; the writer keeps the long buffer
    this.ringCap = Math.max(10, Math.ceil(this.flushIntervalMs / 1000) * 4 + 4);
    this.ring = new Float64Array(this.ringCap * NCOL);
    this.resetAcc();
  }

  /**
   * Opens (or creates) the store and starts the flush timer. Never throws: a store that cannot
   * be opened leaves the recorder degraded, retrying every `retryIntervalMs`.
   */
  static open(options: RecorderOptions): HistoryRecorder {
    const r = new HistoryRecorder(options);
    if (options.thread === 'inline') {
      r.writer = new StoreWriter(r.settings, r.now());
      r.report();
    } else {
      r.startWorker();
    }
    if (options.timers !== false) {
      r.timer = setInterval(() => r.flush(), r.flushIntervalMs);
      r.timer.unref();
    }
    return r;
  }

  private startWorker(): void {
    try {
      const w = new Worker(workerFile(), { workerData: this.settings });
      w.unref();
      w.on('message', (m: { type: string; health: WriterHealth }) => {
        this.workerHealth = m.health;
        this.report();
      });
      w.on('error', (e) => {
        this.workerError = `WANCTL_HISTORY_WORKER: ${e instanceof Error ? e.message : String(e)}`;
        this.worker = null;
        this.report();
      });
      w.on('exit', () => {
        if (!this.closed && this.worker === w) {
          this.workerError ??= 'WANCTL_HISTORY_WORKER: the history worker stopped';
          this.worker = null;
          this.report();
        }
      });
      this.worker = w;
    } catch (e) {
      this.workerError = `WANCTL_HISTORY_WORKER: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  /** Tells `onStatus` about a change of the degraded flag or a new recovery. */
  private report(): void {
    const cb = this.options.onStatus;
    if (!cb) return;
    const h = this.health();
    const recoveryAt = h.recovery?.at ?? null;
    if (h.degraded !== this.lastReported.degraded || recoveryAt !== this.lastReported.recoveryAt) {
      this.lastReported = { degraded: h.degraded, recoveryAt };
      try {
        cb(h);
      } catch {
        // the callback's own problem
      }
    }
  }

  /**
   * Adds one control cycle (at wall-clock time `nowMs`, Unix ms) to the current one-second
   * bucket. Allocation-free except when a zone changes (an event). Never throws.
   */
  cycle(nowMs: number, s: CycleSample): void {
    const sec = Math.floor(nowMs / 1000);
    if (sec !== this.curSec) this.roll(sec);
    const a = this.acc;
    a[A_CYCLES] = (a[A_CYCLES] as number) + 1;
    if (s.overrun) a[A_OVERRUNS] = (a[A_OVERRUNS] as number) + 1;
    this.addMean(0, s.shapedDlBps);
    this.addMean(1, s.shapedUlBps);
    this.addMean(2, s.achievedDlBps);
    this.addMean(3, s.achievedUlBps);
    this.addMean(4, s.rttMs);
    this.addMean(5, s.baselineMs);
    this.addMean(6, s.deltaMs);
    const adl = s.achievedDlBps;
    if (adl > (a[A_PEAK_DL] as number)) a[A_PEAK_DL] = adl;
    const aul = s.achievedUlBps;
    if (aul > (a[A_PEAK_UL] as number)) a[A_PEAK_UL] = aul;
    const d = s.deltaMs;
    if (d < (a[A_DMIN] as number)) a[A_DMIN] = d;
    if (d > (a[A_DMAX] as number)) a[A_DMAX] = d;
    const zd = zoneNumber(s.zoneDl);
    const zu = zoneNumber(s.zoneUl);
    if (zd > 0) {
      if (zd > (a[A_ZONE_DL] as number)) a[A_ZONE_DL] = zd;
      a[A_ZCOUNT + zd - 1] = (a[A_ZCOUNT + zd - 1] as number) + 1;
    }
    if (zu > 0) {
      if (zu > (a[A_ZONE_UL] as number)) a[A_ZONE_UL] = zu;
      // upload: GREEN, YELLOW, RED (a SOFT_RED upload counts as YELLOW)
      const i = zu === 1 ? 4 : zu === 4 ? 6 : 5;
      a[A_ZCOUNT + i] = (a[A_ZCOUNT + i] as number) + 1;
    }
    if (zd !== this.lastZoneDl) {
      if (this.lastZoneDl !== 0 && zd !== 0) this.zoneEvent(nowMs, 'dl', this.lastZoneDl, zd);
      this.lastZoneDl = zd;
    }
    if (zu !== this.lastZoneUl) {
      if (this.lastZoneUl !== 0 && zu !== 0) this.zoneEvent(nowMs, 'ul', this.lastZoneUl, zu);
      this.lastZoneUl = zu;
    }
  }

  private addMean(i: number, v: number): void {
    if (!Number.isNaN(v)) {
      const k = A_MEANS + 2 * i;
      this.acc[k] = (this.acc[k] as number) + v;
      this.acc[k + 1] = (this.acc[k + 1] as number) + 1;
    }
  }

  /** Zone changes: at most ZONE_EVENTS_PER_SECOND a second (a flapping zone is in the rows anyway). */
  private zoneEvent(t: number, dir: 'dl' | 'ul', from: number, to: number): void {
    const sec = Math.floor(t / 1000);
    if (sec !== this.eventSec) {
      this.eventSec = sec;
      this.eventsThisSec = 0;
      this.zoneEventsThisSec = 0;
    }
    if (this.zoneEventsThisSec >= ZONE_EVENTS_PER_SECOND) {
      this.eventsDroppedHere++;
      return;
    }
    this.zoneEventsThisSec++;
    this.event('zone', { dir, from: ZONE_NAMES[from] ?? null, to: ZONE_NAMES[to] ?? null }, t);
  }

  /**
   * Records an event (a router write failure, a transport failover or return, a steering
   * transition with its reason, a restart). Zone changes are recorded by {@link cycle} itself.
   * At most `maxEventsPerSecond` are kept per second. Never throws.
   */
  event(
    kind: EventKind | (string & {}),
    fields: { dir?: string | null; from?: string | null; to?: string | null; detail?: string | null } = {},
    tMs: number = this.now(),
  ): void {
    if (this.closed) return;
    const sec = Math.floor(tMs / 1000);
    if (sec !== this.eventSec) {
      this.eventSec = sec;
      this.eventsThisSec = 0;
      this.zoneEventsThisSec = 0;
    }
    if (this.eventsThisSec >= this.maxEventsPerSecond || this.events.length >= this.ringCap * 20) {
      this.eventsDroppedHere++;
      return;
    }
    this.eventsThisSec++;
    this.events.push({
      t: Math.round(tMs),
      kind,
      dir: fields.dir ?? null,
      from: fields.from ?? null,
      to: fields.to ?? null,
      detail:
        fields.detail === undefined || fields.detail === null ? null : String(fields.detail).slice(0, 500),
    });
  }

  /** A failed router write (`detail`: its error code and message). */
  writeFailure(detail: string, tMs?: number): void {
    this.event('write_failure', { detail }, tMs);
  }

  /** The router transport failed over from `from` to `to`. */
  failover(from: string, to: string, detail?: string, tMs?: number): void {
    this.event('failover', { from, to, detail: detail ?? null }, tMs);
  }

  /** The router transport returned from `from` to the primary `to`. */
  failback(from: string, to: string, tMs?: number): void {
    this.event('failback', { from, to }, tMs);
  }

  /** A steering transition and its reason. */
  steering(from: string, to: string, reason: string, tMs?: number): void {
    this.event('steering', { from, to, detail: reason }, tMs);
  }

  /** A bad RTT reflector was replaced by a spare (`reason`: silent for how long, or how far off). */
  reflectorReplaced(from: string, to: string, reason: string, tMs?: number): void {
    this.event('reflector', { from, to, detail: reason }, tMs);
  }

  /** The daemon (re)started. */
  restart(detail: string, tMs?: number): void {
    this.event('restart', { detail }, tMs);
  }

  private resetAcc(): void {
    const a = this.acc;
    a.fill(0);
    a[A_PEAK_DL] = Number.NEGATIVE_INFINITY;
    a[A_PEAK_UL] = Number.NEGATIVE_INFINITY;
    a[A_DMIN] = Number.POSITIVE_INFINITY;
    a[A_DMAX] = Number.NEGATIVE_INFINITY;
  }

  /** Moves the current bucket (if it has cycles) into the ring and starts the bucket of `sec`. */
  private roll(sec: number): void {
    const a = this.acc;
    if (this.curSec >= 0 && (a[A_CYCLES] as number) > 0) {
      if (this.ringLen === this.ringCap) {
        // flush() has not run for a long while (a stalled timer): hand the ring over now
        this.handOver(sec * 1000);
      }
      const o = this.ringLen * NCOL;
      const r = this.ring;
      r[o + C_T] = this.curSec;
      r[o + C_N] = 1;
      r[o + C_CYCLES] = a[A_CYCLES] as number;
      r[o + C_OVERRUNS] = a[A_OVERRUNS] as number;
      for (let i = 0; i < MEAN_COUNT; i++) {
        const cnt = a[A_MEANS + 2 * i + 1] as number;
        r[o + (C_MEAN[i] as number)] = cnt > 0 ? (a[A_MEANS + 2 * i] as number) / cnt : Number.NaN;
      }
      r[o + C_PEAK_DL] = finite(a[A_PEAK_DL] as number);
      r[o + C_PEAK_UL] = finite(a[A_PEAK_UL] as number);
      r[o + C_DMIN] = finite(a[A_DMIN] as number);
      r[o + C_DMAX] = finite(a[A_DMAX] as number);
      r[o + C_ZONE_DL] = (a[A_ZONE_DL] as number) > 0 ? (a[A_ZONE_DL] as number) : Number.NaN;
      r[o + C_ZONE_UL] = (a[A_ZONE_UL] as number) > 0 ? (a[A_ZONE_UL] as number) : Number.NaN;
      for (let i = 0; i < 7; i++) r[o + C_ZCOUNT + i] = a[A_ZCOUNT + i] as number;
      this.ringLen++;
    }
    this.curSec = sec;
    this.resetAcc();
  }

  /** Gives the finished seconds and the events to the writer (worker or inline). */
  private handOver(nowMs: number): void {
    const n = this.ringLen;
    const rows = this.ring.slice(0, n * NCOL);
    const events = this.events;
    this.ringLen = 0;
    this.events = [];
    if (this.writer) {
      this.writer.submit(rows, n, events, nowMs);
      this.report();
    } else if (this.worker) {
      this.worker.postMessage({ type: 'batch', rows, n, events, now: nowMs }, [rows.buffer]);
    } else {
      // no worker (it failed): the rows are lost, and health says why
      this.rowsDroppedHere += n;
      this.eventsDroppedHere += events.length;
    }
  }

  /**
   * Hands the finished seconds and events over to be written in one transaction (the writer
   * runs maintenance once a minute). Called by the timer every `flushIntervalMs`; callable
   * directly (tests, tools). `nowMs` closes the current second if it is over. Never throws.
   */
  flush(nowMs: number = this.now()): void {
    if (this.closed) return;
    const sec = Math.floor(nowMs / 1000);
    if (this.curSec >= 0 && sec > this.curSec) this.roll(sec);
    this.handOver(nowMs);
  }

  /** Runs a maintenance pass now (downsampling, retention, size cap). */
  maintain(nowMs: number = this.now()): void {
    if (this.writer) {
      this.writer.maintain(nowMs);
      this.report();
    } else this.worker?.postMessage({ type: 'maintain', now: nowMs });
  }

  /** The store's health (see {@link HistoryHealth}); in worker mode as of the worker's last answer. */
  health(): HistoryHealth {
    const w = this.writer?.state ?? this.workerHealth;
    const degradedByWorker = this.workerError !== null;
    const degraded = degradedByWorker || (w?.degraded ?? false);
    return {
      status: this.closed ? 'closed' : degraded ? 'degraded' : 'ok',
      degraded: !this.closed && degraded,
      file: this.options.file,
      reason: degradedByWorker ? this.workerError : (w?.reason ?? null),
      code: degradedByWorker ? 'WANCTL_HISTORY_WORKER' : (w?.code ?? null),
      since: w?.since ?? null,
      recovery: w?.recovery ?? null,
      pendingSeconds: this.ringLen + (w?.pendingSeconds ?? 0),
      rowsWritten: w?.rowsWritten ?? 0,
      rowsDropped: this.rowsDroppedHere + (w?.rowsDropped ?? 0),
      eventsWritten: w?.eventsWritten ?? 0,
      eventsDropped: this.eventsDroppedHere + (w?.eventsDropped ?? 0),
      sizeBytes: w?.sizeBytes ?? 0,
      lastFlushMs: w?.lastFlushMs ?? 0,
      maxFlushMs: w?.maxFlushMs ?? 0,
      lastMaintenanceMs: w?.lastMaintenanceMs ?? 0,
      maxMaintenanceMs: w?.maxMaintenanceMs ?? 0,
    };
  }

  /**
   * Writes what is buffered (including the current second) and closes the file; resolves when
   * done (at most `timeoutMs`, default 3000, in worker mode). Never rejects.
   */
  close(timeoutMs = 3000): Promise<void> {
    if (this.closing) return this.closing;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const end = Math.max(this.now(), (this.curSec + 1) * 1000);
    if (this.curSec >= 0) this.roll(this.curSec + 1);
    this.handOver(end);
    this.closing = new Promise<void>((resolve) => {
      if (this.writer) {
        this.writer.close(end);
        this.closed = true;
        resolve();
        return;
      }
      const w = this.worker;
      if (!w) {
        this.closed = true;
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        void w.terminate();
        this.closed = true;
        resolve();
      }, timeoutMs);
      w.on('message', (m: { type: string }) => {
        if (m.type !== 'closed') return;
        clearTimeout(timer);
        this.closed = true;
        void w.terminate().then(() => resolve());
      });
      w.postMessage({ type: 'close', now: end });
    });
    return this.closing;
  }
}

function finite(v: number): number {
  return Number.isFinite(v) ? v : Number.NaN;
}

/**
 * An `onStatus` that logs history's status changes the way both daemons do: degraded and a
 * damaged file moved aside as warnings, written again as info.
 */
export function logHistoryStatus(log: {
  warn(msg: string, meta?: Record<string, unknown>): void;
  info(msg: string, meta?: Record<string, unknown>): void;
}): (s: HistoryHealth) => void {
  return (s) => {
    if (s.degraded) log.warn(`history degraded: ${s.reason}`, { file: s.file, code: s.code });
    else if (s.recovery) log.warn('history: damaged file moved aside', { recovery: s.recovery });
    else log.info('history written again', { file: s.file });
  };
}
