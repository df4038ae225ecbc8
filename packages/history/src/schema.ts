/**
 * The store's tables. One file per daemon (per WAN); three sample tables of the same shape at
 * one-second, one-minute and one-hour resolution, and one events table.
 */

/** Zone numbers as stored (and as the `wanctl_state` metric encodes them). */
export const ZONE = { GREEN: 1, YELLOW: 2, SOFT_RED: 3, RED: 4 } as const;
/** Zone names by number (index 0 = unknown). */
export const ZONE_NAMES = ['', 'GREEN', 'YELLOW', 'SOFT_RED', 'RED'] as const;

/** The columns of a sample row, in table order (all but `t` nullable numbers). */
export const SAMPLE_COLUMNS = [
  /** Start of the interval, Unix seconds. */
  't',
  /** Seconds of data the row covers (1 for a one-second row). */
  'n',
  /** Control cycles in the interval. */
  'cycles',
  /** Cycles that overran their interval. */
  'overruns',
  /** Shaped (controller) rate, download / upload, bps: mean over the cycles. */
  'shaped_dl',
  'shaped_ul',
  /** Achieved throughput, download / upload, bps: mean over the cycles that measured it. */
  'achieved_dl',
  'achieved_ul',
  /** Highest achieved throughput seen in the interval ("capacity seen"), bps. */
  'peak_dl',
  'peak_ul',
  /** Load RTT (ms): mean over the cycles that had one. */
  'rtt',
  /** Baseline RTT (ms): mean. */
  'baseline',
  /** RTT delta (load − baseline, ms): min, mean, max. */
  'dmin',
  'dmean',
  'dmax',
  /** Worst zone of the interval per direction (1 GREEN … 4 RED). */
  'zone_dl',
  'zone_ul',
  /** Cycles in each download zone. */
  'dl_green',
  'dl_yellow',
  'dl_soft_red',
  'dl_red',
  /** Cycles in each upload zone (upload has no SOFT_RED). */
  'ul_green',
  'ul_yellow',
  'ul_red',
] as const;

export type SampleColumn = (typeof SAMPLE_COLUMNS)[number];

/** A sample row as read back (nulls where the interval had no value). */
export type SampleRow = { [K in SampleColumn]: K extends 't' ? number : number | null };

/** The sample tables by resolution in seconds. */
export const TIERS = [
  { table: 'samples_1s', step: 1 },
  { table: 'samples_1m', step: 60 },
  { table: 'samples_1h', step: 3600 },
] as const;

export type Resolution = 1 | 60 | 3600;

/** Event kinds. */
export const EVENT_KINDS = [
  /** A zone change (`dir`, `from`, `to`). */
  'zone',
  /** A router write failed (`detail`: the error code and message). */
  'write_failure',
  /** The router transport failed over (`from` → `to`). */
  'failover',
  /** The router transport returned to the primary (`from` → `to`). */
  'failback',
  /** A steering transition (`from` → `to`, `detail`: the reason). */
  'steering',
  /** The daemon started (`detail`: version, pid). */
  'restart',
  /** A bad RTT reflector was replaced by a spare (`from` → `to`, `detail`: why it was bad). */
  'reflector',
] as const;

export type EventKind = (typeof EVENT_KINDS)[number];

/** An event as stored and read back. */
export interface HistoryEvent {
  /** Unix milliseconds. */
  t: number;
  kind: EventKind | (string & {});
  /** `dl` / `ul` for zone events, else null. */
  dir: string | null;
  from: string | null;
  to: string | null;
  detail: string | null;
}

const sampleTableSql = (table: string): string =>
  `CREATE TABLE IF NOT EXISTS ${table} (t INTEGER PRIMARY KEY, ${SAMPLE_COLUMNS.slice(1)
    .map((c) => `${c} REAL`)
    .join(', ')})`;

/** Bumped when the layout changes; a file with another version is moved aside and recreated. */
export const SCHEMA_VERSION = 1;

/** DDL of a new store (auto_vacuum = INCREMENTAL is set before it, see store.ts). */
export const CREATE_SQL = [
  'CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID',
  ...TIERS.map((t) => sampleTableSql(t.table)),
  'CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, t INTEGER NOT NULL, kind TEXT NOT NULL, dir TEXT, from_state TEXT, to_state TEXT, detail TEXT)',
  'CREATE INDEX IF NOT EXISTS events_t ON events (t)',
];
