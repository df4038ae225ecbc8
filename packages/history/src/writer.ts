/**
 * The write side of a store: takes batches of finished one-second rows and events, writes each
 * batch in one transaction, runs maintenance once a minute, and keeps (bounded) what it could not
 * write. Runs in the recorder's worker thread (default) or inline. Never throws.
 */
import { statSync } from 'node:fs';
import { errorCode, errorMessage, isCorruption } from './errors.js';
import { DEFAULT_MAX_SIZE_MB, DEFAULT_RETENTION, Maintenance, type Retention } from './maintenance.js';
import { SAMPLE_COLUMNS } from './schema.js';
import { type Db, moveAside, openForWriting, type Recovery, type Stmt, type StoreKind } from './store.js';

/** Columns per row in a batch (the order of {@link SAMPLE_COLUMNS}); NaN is NULL. */
export const NCOL = SAMPLE_COLUMNS.length;

/** An event waiting to be written. */
export interface PendingEvent {
  t: number;
  kind: string;
  dir: string | null;
  from: string | null;
  to: string | null;
  detail: string | null;
}

/** Settings of a writer (plain data: they cross to the worker thread). */
export interface WriterSettings {
  file: string;
  wan: string;
  kind: StoreKind;
  retention: Retention;
  maxSizeMb: number;
  maintenanceIntervalMs: number;
  retryIntervalMs: number;
  /** Most rows kept while the store cannot be written. */
  bufferSeconds: number;
  /** SQLite `max_page_count` (pages of 4 KiB): a hard file-size limit that makes SQLite answer SQLITE_FULL, as a full disk does. */
  maxPageCount?: number;
}

export const DEFAULT_WRITER_SETTINGS = {
  retention: DEFAULT_RETENTION,
  maxSizeMb: DEFAULT_MAX_SIZE_MB,
  maintenanceIntervalMs: 60_000,
  retryIntervalMs: 30_000,
  bufferSeconds: 900,
};

/** The writer's part of the recorder's health. */
export interface WriterHealth {
  degraded: boolean;
  reason: string | null;
  code: string | null;
  since: number | null;
  recovery: Recovery | null;
  pendingSeconds: number;
  rowsWritten: number;
  rowsDropped: number;
  eventsWritten: number;
  eventsDropped: number;
  sizeBytes: number;
  lastFlushMs: number;
  maxFlushMs: number;
  lastMaintenanceMs: number;
  maxMaintenanceMs: number;
}

export class StoreWriter {
  private db: Db | null = null;
  private insertSample: Stmt | null = null;
  private insertEvent: Stmt | null = null;
  private maintenance: Maintenance | null = null;
  private retryAt = 0;
  /** Inode of the open file: another file in its place (deleted, replaced) is reopened. */
  private ino = -1;
  private lastMaintenance = Number.NEGATIVE_INFINITY;
  /** Rows not yet written, oldest first (each NCOL numbers). */
  private rows: Float64Array[] = [];
  private rowCount = 0;
  private events: PendingEvent[] = [];
  private readonly params: Array<number | null> = new Array(NCOL).fill(null);
  readonly state: WriterHealth = {
    degraded: false,
    reason: null,
    code: null,
    since: null,
    recovery: null,
    pendingSeconds: 0,
    rowsWritten: 0,
    rowsDropped: 0,
    eventsWritten: 0,
    eventsDropped: 0,
    sizeBytes: 0,
    lastFlushMs: 0,
    maxFlushMs: 0,
    lastMaintenanceMs: 0,
    maxMaintenanceMs: 0,
  };

  constructor(
    private readonly s: WriterSettings,
    now: number,
  ) {
    this.tryOpen(now);
  }

  private tryOpen(now: number): void {
    try {
      const opened = openForWriting(
        this.s.file,
        { wan: this.s.wan, kind: this.s.kind, schemaVersion: 1 },
        now,
      );
      const db = opened.db;
      if (this.s.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.floor(this.s.maxPageCount)}`);
      const cols = SAMPLE_COLUMNS;
      this.insertSample = db.prepare(
        `INSERT OR REPLACE INTO samples_1s (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
      );
      this.insertEvent = db.prepare(
        'INSERT INTO events (t, kind, dir, from_state, to_state, detail) VALUES (?, ?, ?, ?, ?, ?)',
      );
      this.maintenance = new Maintenance(db, this.s.file);
      this.db = db;
      this.ino = statSync(this.s.file).ino;
      if (opened.recovery) this.state.recovery = opened.recovery;
      this.state.sizeBytes = this.maintenance.sizeBytes();
      this.setOk();
    } catch (e) {
      this.detach();
      this.setDegraded(e, now);
      this.retryAt = now + this.s.retryIntervalMs;
    }
  }

  private detach(): void {
    try {
      this.db?.close();
    } catch {
      // a broken handle
    }
    this.db = null;
    this.insertSample = null;
    this.insertEvent = null;
    this.maintenance = null;
  }

  private setOk(): void {
    this.state.degraded = false;
    this.state.reason = null;
    this.state.code = null;
    this.state.since = null;
  }

  private setDegraded(e: unknown, now: number): void {
    const code = errorCode(e);
    if (!this.state.degraded) this.state.since = now;
    this.state.degraded = true;
    this.state.code = code;
    this.state.reason = `${code}: ${errorMessage(e)}`;
  }

  /**
   * Takes `n` rows packed in `rows` (n × NCOL numbers) and `events`, then writes everything
   * pending in one transaction (and runs maintenance when it is due).
   */
  submit(rows: Float64Array, n: number, events: PendingEvent[], now: number): void {
    if (n > 0) {
      this.rows.push(n * NCOL === rows.length ? rows : rows.slice(0, n * NCOL));
      this.rowCount += n;
    }
    for (const e of events) this.events.push(e);
    this.bound();
    this.write(now);
    this.state.pendingSeconds = this.rowCount;
  }

  /** Drops the oldest rows and events beyond the buffer. */
  private bound(): void {
    while (this.rowCount > this.s.bufferSeconds && this.rows.length > 0) {
      const first = this.rows[0] as Float64Array;
      const extra = this.rowCount - this.s.bufferSeconds;
      const inFirst = first.length / NCOL;
      if (inFirst <= extra) {
        this.rows.shift();
        this.rowCount -= inFirst;
        this.state.rowsDropped += inFirst;
      } else {
        this.rows[0] = first.slice(extra * NCOL);
        this.rowCount -= extra;
        this.state.rowsDropped += extra;
      }
    }
    const maxEvents = this.s.bufferSeconds * 4;
    if (this.events.length > maxEvents) {
      const extra = this.events.length - maxEvents;
      this.events.splice(0, extra);
      this.state.eventsDropped += extra;
    }
  }

  /** True when the path no longer names the file that is open (deleted, or replaced by another). */
  private replaced(): boolean {
    try {
      return statSync(this.s.file).ino !== this.ino;
    } catch {
      return true;
    }
  }

  private write(now: number): void {
    if (this.db !== null && this.replaced()) {
      // writing on would go to a file nobody can read: open (or create) what is there now
      this.detach();
      this.retryAt = now;
    }
    if (this.db === null) {
      if (now < this.retryAt) return;
      this.tryOpen(now);
      if (this.db === null) return;
    }
    const db = this.db;
    const ins = this.insertSample as Stmt;
    const insE = this.insertEvent as Stmt;
    const t0 = performance.now();
    const rows = this.rows;
    const events = this.events;
    try {
      db.transaction(() => {
        const p = this.params;
        for (const chunk of rows) {
          for (let o = 0; o < chunk.length; o += NCOL) {
            for (let c = 0; c < NCOL; c++) {
              const v = chunk[o + c] as number;
              p[c] = Number.isNaN(v) ? null : v;
            }
            ins.run(p);
          }
        }
        for (const e of events) insE.run(e.t, e.kind, e.dir, e.from, e.to, e.detail);
      })();
    } catch (e) {
      this.failed(e, now);
      return;
    }
    this.state.rowsWritten += this.rowCount;
    this.state.eventsWritten += events.length;
    this.rows = [];
    this.rowCount = 0;
    this.events = [];
    const ms = performance.now() - t0;
    this.state.lastFlushMs = ms;
    if (ms > this.state.maxFlushMs) this.state.maxFlushMs = ms;
    if (this.state.degraded) this.setOk();
    if (now - this.lastMaintenance >= this.s.maintenanceIntervalMs) this.maintain(now);
  }

  /** Downsampling, retention by age and the size cap, in bounded steps. */
  maintain(now: number): void {
    const m = this.maintenance;
    if (m === null) return;
    this.lastMaintenance = now;
    const t0 = performance.now();
    try {
      const nowSec = Math.floor(now / 1000);
      m.downsample(nowSec);
      m.retention(nowSec, this.s.retention);
      m.checkpoint();
      this.state.sizeBytes = m.sizeBytes();
      const maxBytes = this.s.maxSizeMb * 1024 * 1024;
      if (this.state.sizeBytes > maxBytes) {
        m.enforceSizeCap(maxBytes);
        this.state.sizeBytes = m.sizeBytes();
      }
    } catch (e) {
      this.failed(e, now);
      return;
    }
    const ms = performance.now() - t0;
    this.state.lastMaintenanceMs = ms;
    if (ms > this.state.maxMaintenanceMs) this.state.maxMaintenanceMs = ms;
  }

  private failed(e: unknown, now: number): void {
    this.setDegraded(e, now);
    if (isCorruption(e)) {
      // the file is damaged: move it aside; a new one is created at the next write
      this.detach();
      try {
        const movedTo = moveAside(this.s.file, now);
        this.state.recovery = { movedTo, reason: this.state.reason ?? '', at: now };
      } catch {
        // cannot rename: retried like any other failure
      }
      this.retryAt = now;
      return;
    }
    const code = errorCode(e);
    if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_IOERR')) {
      this.detach();
      this.retryAt = now + this.s.retryIntervalMs;
    }
    // SQLITE_FULL, SQLITE_BUSY and the like: the rows stay pending and the next batch tries again
  }

  /** Writes what is pending (one last try) and closes the file. */
  close(now: number): void {
    this.retryAt = 0;
    this.write(now);
    this.state.pendingSeconds = this.rowCount;
    this.detach();
  }
}
