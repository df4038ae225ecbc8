/**
 * Reading a store: samples at the finest resolution that fits the range, events, and the
 * per-evening summary. Read-only; safe while the daemon writes (WAL).
 */
import { errorMessage, HistoryUnavailableError } from './errors.js';
import { type HistoryEvent, type Resolution, SAMPLE_COLUMNS, type SampleRow, TIERS } from './schema.js';
import { type Db, openForReading, type StoreMeta } from './store.js';

/** Samples of a range in columns (one array per column, same length). */
export interface SeriesResult {
  wan: string;
  /** Seconds per row of the rows returned (the finest tier that fits; coarser where the finer one was pruned). */
  resolution: Resolution;
  from: number;
  to: number;
  columns: { [K in (typeof SAMPLE_COLUMNS)[number]]: Array<number | null> };
}

export interface SeriesOptions {
  /** Most rows wanted (default 4000): decides the resolution. */
  maxPoints?: number;
  /** Force a resolution. */
  resolution?: Resolution;
}

/** Read access to one store file. */
export class HistoryReader {
  readonly wan: string;
  readonly kind: string;

  private constructor(
    private readonly db: Db,
    readonly file: string,
    meta: StoreMeta,
  ) {
    this.wan = meta.wan;
    this.kind = meta.kind;
  }

  /**
   * @throws {HistoryNotFoundError} | {HistoryCorruptError} | {HistoryUnavailableError}
   */
  static open(file: string): HistoryReader {
    const { db, meta } = openForReading(file);
    return new HistoryReader(db, file, meta);
  }

  private q<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw new HistoryUnavailableError(this.file, errorMessage(e), { cause: e });
    }
  }

  /** Earliest and latest sample time (Unix s) over all tiers, or null when empty. */
  extent(): { first: number; last: number } | null {
    return this.q(() => {
      let first = Number.POSITIVE_INFINITY;
      let last = Number.NEGATIVE_INFINITY;
      for (const t of TIERS) {
        const r = this.db.prepare(`SELECT MIN(t) AS a, MAX(t) AS b FROM ${t.table}`).get() as {
          a: number | null;
          b: number | null;
        };
        if (r.a !== null && r.a < first) first = r.a;
        if (r.b !== null && r.b + t.step - 1 > last) last = r.b;
      }
      return Number.isFinite(first) ? { first, last } : null;
    });
  }

  /** Rows of one tier in [from, to) (Unix s), oldest first. */
  rows(resolution: Resolution, from: number, to: number): SampleRow[] {
    const tier = TIERS.find((t) => t.step === resolution);
    if (!tier) throw new Error(`no tier ${resolution}`);
    return this.q(
      () =>
        this.db
          .prepare(`SELECT ${SAMPLE_COLUMNS.join(', ')} FROM ${tier.table} WHERE t >= ? AND t < ? ORDER BY t`)
          .all(from, to) as SampleRow[],
    );
  }

  private firstT(table: string): number | null {
    return this.db.prepare(`SELECT MIN(t) FROM ${table}`).pluck().get() as number | null;
  }

  /**
   * The samples of [from, to) (Unix s) at the finest resolution giving at most `maxPoints` rows.
   * Where that tier has already been pruned (retention), the older part comes from the next
   * coarser tier, so any past range shows what is kept.
   */
  series(from: number, to: number, options: SeriesOptions = {}): SeriesResult {
    const maxPoints = options.maxPoints ?? 4000;
    const span = Math.max(1, to - from);
    const start = options.resolution
      ? TIERS.findIndex((t) => t.step === options.resolution)
      : Math.max(
          0,
          TIERS.findIndex((t) => span / t.step <= maxPoints),
        );
    const idx = start === -1 ? TIERS.length - 1 : start;
    return this.q(() => {
      const parts: SampleRow[][] = [];
      let upTo = to;
      let resolution: Resolution | null = null;
      for (let i = idx; i < TIERS.length && upTo > from; i++) {
        const tier = TIERS[i] as (typeof TIERS)[number];
        const first = this.firstT(tier.table);
        if (first === null) continue;
        const rows = this.rows(tier.step, from, upTo);
        if (rows.length > 0) {
          parts.unshift(rows);
          resolution ??= tier.step;
        }
        if (first <= from || options.resolution) break;
        upTo = Math.min(upTo, first);
      }
      resolution ??= (TIERS[idx] as (typeof TIERS)[number]).step;
      const columns = Object.fromEntries(
        SAMPLE_COLUMNS.map((c) => [c, [] as Array<number | null>]),
      ) as SeriesResult['columns'];
      for (const part of parts)
        for (const row of part) for (const c of SAMPLE_COLUMNS) columns[c].push(row[c] as number | null);
      return { wan: this.wan, resolution, from, to, columns };
    });
  }

  /** Events in [fromMs, toMs), oldest first, optionally of some kinds only. */
  events(fromMs: number, toMs: number, kinds?: readonly string[]): HistoryEvent[] {
    return this.q(() => {
      const where = kinds && kinds.length > 0 ? ` AND kind IN (${kinds.map(() => '?').join(', ')})` : '';
      return this.db
        .prepare(
          `SELECT t, kind, dir, from_state AS "from", to_state AS "to", detail FROM events WHERE t >= ? AND t < ?${where} ORDER BY t, id LIMIT 100000`,
        )
        .all(fromMs, toMs, ...(kinds ?? [])) as HistoryEvent[];
    });
  }

  /** The last event of `kind` before `tMs` (e.g. the steering state at the start of a range). */
  lastEventBefore(kind: string, tMs: number): HistoryEvent | null {
    return this.q(
      () =>
        (this.db
          .prepare(
            'SELECT t, kind, dir, from_state AS "from", to_state AS "to", detail FROM events WHERE kind = ? AND t < ? ORDER BY t DESC, id DESC LIMIT 1',
          )
          .get(kind, tMs) as HistoryEvent | undefined) ?? null,
    );
  }

  close(): void {
    this.db.close();
  }
}
