/**
 * Opening a store file: for writing (create, migrate, move a damaged file aside) and for
 * reading (read-only, never creates or changes anything).
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  errorCode,
  errorMessage,
  HistoryCorruptError,
  HistoryNotFoundError,
  HistoryUnavailableError,
  isCorruption,
} from './errors.js';
import { CREATE_SQL, SCHEMA_VERSION } from './schema.js';

export type Db = Database.Database;
/** A prepared statement taking positional parameters. */
export type Stmt = Database.Statement<unknown[]>;

/** What the daemon writing a store is. */
export type StoreKind = 'autorate' | 'steering';

/** The identity a store carries in its `meta` table. */
export interface StoreMeta {
  wan: string;
  kind: StoreKind | string;
  schemaVersion: number;
}

/** A store file that was damaged and moved aside when it was opened. */
export interface Recovery {
  /** Where the damaged file now is. */
  movedTo: string;
  /** Why it was moved (the SQLite error). */
  reason: string;
  /** Unix ms. */
  at: number;
}

/** Result of {@link openForWriting}. */
export interface OpenedStore {
  db: Db;
  /** Set when the file was damaged (or of another schema version) and was moved aside. */
  recovery: Recovery | null;
}

function applyPragmas(db: Db): void {
  // must come first: it takes effect only on a file with no tables yet, before the WAL switch
  db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('journal_mode = WAL');
  // WAL + NORMAL: a power cut may lose the last transactions, never corrupt the file.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 200');
  // checkpoints are run by the recorder's maintenance, in small steps
  db.pragma('wal_autocheckpoint = 256');
  db.pragma('journal_size_limit = 4194304');
  db.pragma('cache_size = -2000');
}

function readMeta(db: Db): Map<string, string> {
  const rows = db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>;
  return new Map(rows.map((r) => [r.key, r.value]));
}

/** Moves `file` (and its -wal / -shm companions) aside as `<file>.corrupt-<stamp>`; returns the new name. */
export function moveAside(file: string, now: number, suffix = 'corrupt'): string {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  const to = `${file}.${suffix}-${stamp}`;
  renameSync(file, to);
  for (const ext of ['-wal', '-shm']) {
    if (existsSync(file + ext)) {
      try {
        renameSync(file + ext, to + ext);
      } catch {
        // a stale -shm is rebuilt by SQLite; nothing else to do
      }
    }
  }
  return to;
}

function tryOpen(file: string, meta: StoreMeta): Db {
  const db = new Database(file, { timeout: 200 });
  try {
    applyPragmas(db);
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as {
      n: number;
    };
    if (tables.n === 0) {
      for (const sql of CREATE_SQL) db.exec(sql);
      const put = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
      db.transaction(() => {
        put.run('schema_version', String(SCHEMA_VERSION));
        put.run('wan', meta.wan);
        put.run('kind', meta.kind);
        put.run('created', String(Date.now()));
      })();
    } else {
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') {
        const err = new Error(`quick_check: ${String(check)}`) as Error & { code: string };
        err.code = 'SQLITE_CORRUPT';
        throw err;
      }
      const m = readMeta(db);
      const v = Number(m.get('schema_version'));
      if (v !== SCHEMA_VERSION) {
        const err = new Error(
          `schema version ${m.get('schema_version')} is not ${SCHEMA_VERSION}`,
        ) as Error & {
          code: string;
        };
        err.code = 'WANCTL_HISTORY_SCHEMA';
        throw err;
      }
      for (const sql of CREATE_SQL) db.exec(sql);
    }
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Opens (creating it and its directory if needed) the store `file` for writing. A damaged file,
 * or one of another schema version, is moved aside (`<file>.corrupt-<time>`) and a new one is
 * created; the result says so. Throws (SQLite or errno error) when the file cannot be opened or
 * created at all (read-only directory, full disk): the recorder then runs degraded.
 */
export function openForWriting(file: string, meta: StoreMeta, now: number = Date.now()): OpenedStore {
  mkdirSync(dirname(file), { recursive: true, mode: 0o750 });
  try {
    return { db: tryOpen(file, meta), recovery: null };
  } catch (e) {
    const schema = errorCode(e) === 'WANCTL_HISTORY_SCHEMA';
    if (!isCorruption(e) && !schema) throw e;
    const movedTo = moveAside(file, now, schema ? 'old' : 'corrupt');
    const db = tryOpen(file, meta);
    return { db, recovery: { movedTo, reason: `${errorCode(e)}: ${errorMessage(e)}`, at: now } };
  }
}

/**
 * Opens the store `file` read-only (it must exist; nothing is created or changed).
 * @throws {HistoryNotFoundError} no such file
 * @throws {HistoryCorruptError} not a store, or damaged
 * @throws {HistoryUnavailableError} cannot be opened (permissions, I/O)
 */
export function openForReading(file: string): { db: Db; meta: StoreMeta } {
  if (!existsSync(file)) throw new HistoryNotFoundError(file);
  let db: Db;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 1000 });
  } catch (e) {
    throw new HistoryUnavailableError(file, errorMessage(e), { cause: e });
  }
  try {
    const m = readMeta(db);
    return {
      db,
      meta: {
        wan: m.get('wan') ?? '',
        kind: m.get('kind') ?? '',
        schemaVersion: Number(m.get('schema_version')),
      },
    };
  } catch (e) {
    db.close();
    if (isCorruption(e) || /no such table/.test(errorMessage(e)))
      throw new HistoryCorruptError(file, errorMessage(e));
    throw new HistoryUnavailableError(file, errorMessage(e), { cause: e });
  }
}
