/**
 * Downsampling (1 s → 1 min → 1 h), retention by age, and the size cap. Each step is bounded
 * (a few thousand rows at most) so that one maintenance pass stays short on the daemon's thread.
 */
import { statSync } from 'node:fs';
import { SAMPLE_COLUMNS, TIERS } from './schema.js';
import type { Db, Stmt } from './store.js';

/** Retention by age. */
export interface Retention {
  /** Hours of one-second rows (default 48). */
  rawHours: number;
  /** Days of one-minute rows (default 30). */
  minuteDays: number;
  /** Days of one-hour rows and of events (default 400). */
  hourDays: number;
}

export const DEFAULT_RETENTION: Retention = { rawHours: 48, minuteDays: 30, hourDays: 400 };
export const DEFAULT_MAX_SIZE_MB = 256;

const MEANS = ['shaped_dl', 'shaped_ul', 'achieved_dl', 'achieved_ul', 'rtt', 'baseline', 'dmean'];
const MAXES = ['peak_dl', 'peak_ul', 'dmax', 'zone_dl', 'zone_ul'];
const MINS = ['dmin'];
const SUMS = [
  'n',
  'cycles',
  'overruns',
  'dl_green',
  'dl_yellow',
  'dl_soft_red',
  'dl_red',
  'ul_green',
  'ul_yellow',
  'ul_red',
];

function aggregateExpr(col: string): string {
  if (MEANS.includes(col))
    return `SUM(${col} * cycles) / NULLIF(SUM(CASE WHEN ${col} IS NOT NULL THEN cycles END), 0)`;
  if (MAXES.includes(col)) return `MAX(${col})`;
  if (MINS.includes(col)) return `MIN(${col})`;
  if (SUMS.includes(col)) return `SUM(${col})`;
  throw new Error(`no aggregate for ${col}`);
}

/**
 * `INSERT OR REPLACE` of the coarser rows aggregated from the finer table over [from, to).
 * Means are weighted by cycles (over the rows that have the value), maxima/minima/counts exact.
 */
function downsampleSql(fine: string, coarse: string, step: number): string {
  const cols = SAMPLE_COLUMNS.slice(1);
  return `INSERT OR REPLACE INTO ${coarse} (t, ${cols.join(', ')})
    SELECT (t / ${step}) * ${step} AS bucket, ${cols.map(aggregateExpr).join(', ')}
    FROM ${fine} WHERE t >= ? AND t < ? GROUP BY bucket`;
}

/** Most coarse buckets recomputed per pass and tier (a store closed for a while catches up over passes). */
const MAX_BUCKETS_PER_PASS = { 60: 240, 3600: 48 } as const;
/** Coarse buckets before the mark recomputed each pass (late rows from a buffer flushed after a degraded spell). */
const LOOKBACK = { 60: 12, 3600: 3 } as const;
/** Rows deleted per statement (retention and size cap). */
const DELETE_CHUNK = 5000;

export interface MaintenanceReport {
  downsampled: number;
  deletedByAge: number;
  deletedBySize: number;
  sizeBytes: number;
}

/** Prepared statements of the maintenance pass for one open store. */
export class Maintenance {
  private readonly down: Array<{ stmt: Stmt; step: 60 | 3600; key: string; fine: string }>;
  private readonly getMeta: Stmt;
  private readonly putMeta: Stmt;

  constructor(
    private readonly db: Db,
    private readonly file: string,
  ) {
    this.down = [
      {
        stmt: db.prepare(downsampleSql('samples_1s', 'samples_1m', 60)),
        step: 60,
        key: 'ds_1m',
        fine: 'samples_1s',
      },
      {
        stmt: db.prepare(downsampleSql('samples_1m', 'samples_1h', 3600)),
        step: 3600,
        key: 'ds_1h',
        fine: 'samples_1m',
      },
    ];
    this.getMeta = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
    this.putMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  }

  /**
   * Aggregates the finished minutes (and hours) up to `nowSec`. The last few coarse buckets
   * before the mark are recomputed, so rows that arrived late (written after a degraded spell)
   * are counted.
   */
  downsample(nowSec: number): number {
    let n = 0;
    for (const d of this.down) {
      const done = Number(this.getMeta.get(d.key) ?? Number.NaN);
      const end = Math.floor(nowSec / d.step) * d.step;
      let start: number;
      if (Number.isFinite(done)) start = done - LOOKBACK[d.step] * d.step;
      else {
        const first = this.db.prepare(`SELECT MIN(t) FROM ${d.fine}`).pluck().get() as number | null;
        if (first === null) continue;
        start = Math.floor(first / d.step) * d.step;
      }
      const stop = Math.min(end, start + MAX_BUCKETS_PER_PASS[d.step] * d.step);
      if (stop <= start) continue;
      n += this.db.transaction(() => {
        const r = d.stmt.run(start, stop).changes;
        this.putMeta.run(d.key, String(Math.max(stop, Number.isFinite(done) ? done : stop)));
        return r;
      })();
    }
    return n;
  }

  /** Deletes rows older than the retention (at most a few chunks per table and pass). */
  retention(nowSec: number, r: Retention): number {
    const cut = [nowSec - r.rawHours * 3600, nowSec - r.minuteDays * 86400, nowSec - r.hourDays * 86400];
    let n = 0;
    TIERS.forEach((tier, i) => {
      n += this.deleteBefore(tier.table, 't', cut[i] as number);
    });
    n += this.deleteBefore('events', 't', (cut[2] as number) * 1000);
    return n;
  }

  private deleteBefore(table: string, col: string, before: number): number {
    const stmt = this.db.prepare(
      `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${col} < ? ORDER BY ${col} LIMIT ${DELETE_CHUNK})`,
    );
    let n = 0;
    for (let i = 0; i < 4; i++) {
      const c = stmt.run(before).changes;
      n += c;
      if (c < DELETE_CHUNK) break;
    }
    return n;
  }

  /** Bytes the store takes on disk: the database file and its WAL. */
  sizeBytes(): number {
    let size = 0;
    for (const f of [this.file, `${this.file}-wal`]) {
      try {
        size += statSync(f).size;
      } catch {
        // no WAL yet
      }
    }
    return size;
  }

  /**
   * Keeps the file under `maxBytes`: while it is larger than 90 % of it, the oldest one-second rows go first (in
   * chunks), then the oldest minute rows, then events, then hour rows; freed pages are given back
   * to the file system. Returns the rows deleted.
   */
  enforceSizeCap(maxBytes: number): number {
    // trim to 90 % so that the rows written until the next pass fit under the cap
    const target = Math.floor(maxBytes * 0.9);
    const order = ['samples_1s', 'samples_1m', 'events', 'samples_1h'];
    const deleted = this.db.transaction(() => {
      let n = 0;
      for (let pass = 0; pass < 20 && this.usedBytes() > target; pass++) {
        const table = order.find(
          (t) => (this.db.prepare(`SELECT EXISTS (SELECT 1 FROM ${t})`).pluck().get() as number) === 1,
        );
        if (table === undefined) break;
        const total = this.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
        // a tenth of the table per step (at least 100 rows, at most DELETE_CHUNK)
        const chunk = Math.max(100, Math.min(DELETE_CHUNK, Math.ceil(total / 10)));
        n += this.db
          .prepare(
            `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} ORDER BY t LIMIT ${chunk})`,
          )
          .run().changes;
      }
      return n;
    })();
    // give the freed pages back to the file system, then fold the WAL into the file
    this.db.pragma('incremental_vacuum');
    this.checkpoint();
    return deleted;
  }

  /** Bytes of the pages in use (the file less its free pages). */
  usedBytes(): number {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * pageSize;
  }

  /** Moves the WAL into the database file and truncates it. */
  checkpoint(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }
}
