/**
 * State files: atomic JSON writes with a backup of the previous good file, recovery from a
 * corrupt or truncated file, and a {@link StateStore} that persists only on change (or at a slow
 * forced interval) without ever blocking the caller.
 */
import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  fsync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { chmod, copyFile, mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** Mode of the directories wanctl creates (state, lock, log): owner rwx, group r-x, others nothing. */
export const DIR_MODE = 0o750;

/** The directories `mkdir -p` created: from `dir` up to and including `first` (its return value). */
function createdDirs(dir: string, first: string | undefined): string[] {
  if (first === undefined) return [];
  const top = resolve(first);
  const out: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    out.push(d);
    if (d === top || dirname(d) === d) break;
  }
  return out;
}

/**
 * Creates `dir` and its missing parents with `mode` whatever the process umask (a directory made
 * under umask 000 would otherwise be 0777): each directory it creates is chmod-ed after mkdir.
 * Directories that already exist are left as they are.
 */
export function ensureDirSync(dir: string, mode: number = DIR_MODE): void {
  for (const d of createdDirs(dir, mkdirSync(dir, { recursive: true, mode }))) chmodSync(d, mode);
}

/** {@link ensureDirSync}, asynchronously. */
export async function ensureDir(dir: string, mode: number = DIR_MODE): Promise<void> {
  for (const d of createdDirs(dir, await mkdir(dir, { recursive: true, mode }))) await chmod(d, mode);
}

/** Options of {@link writeJsonAtomic}. */
export interface WriteJsonOptions {
  /** Keep the previous good file as `<path>.bak` (hard link, no copy). Default `true`. */
  backup?: boolean;
  /** File mode of the new file. Default `0o644` (readable by the other daemon and by people). */
  mode?: number;
  /** Indentation for JSON.stringify. Default: compact. */
  indent?: number;
  /**
   * Checks a primary file this process did not write before it becomes `<path>.bak` (throw to
   * refuse). Default: any valid JSON. Pass the daemon's full state validation, so a file holding
   * impossible values (a restored 0.5 ms baseline) is never kept as the backup.
   */
  validateBackup?: (raw: unknown) => unknown;
}

/** A write of a state file failed (disk full, permission, missing parent not creatable). */
export class StateWriteError extends Error {
  override readonly name = 'StateWriteError';
  constructor(
    readonly path: string,
    override readonly cause: unknown,
  ) {
    super(`cannot write state file ${path}: ${(cause as Error)?.message ?? String(cause)}`);
  }
}

/**
 * Paths whose current primary file this process wrote itself (complete, and made from the state
 * it holds, which it has validated): such a file may become the backup without another check.
 */
const knownGood = new Set<string>();

/** Backup path used by {@link writeJsonAtomic} and {@link readJsonWithRecovery}. */
export function backupPath(path: string): string {
  return `${path}.bak`;
}

/** fsync(2) on libuv's pool: the one step of a state write that may wait for the disk. */
function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
}

function isValidJsonFile(path: string, validate?: (raw: unknown) => unknown): boolean {
  try {
    const raw: unknown = JSON.parse(readFileSync(path, 'utf8'));
    validate?.(raw);
    return true;
  } catch {
    return false;
  }
}

let tmpCounter = 0;

/**
 * Write `value` as JSON to `path` atomically: a temporary file in the same directory is written
 * and fsynced, the previous good file is kept as `<path>.bak` (when `backup`), the temporary file
 * is renamed over `path`, and the directory is fsynced. A reader sees either the old or the new
 * complete file, never a partial one and never no file. The parent directory is created if
 * missing (mode {@link DIR_MODE}, 0750, whatever the umask).
 *
 * The two fsyncs, which may wait for the disk, run on libuv's pool; the other steps (create,
 * write a few hundred bytes into the page cache, link, rename, close) are synchronous system
 * calls of microseconds. A daemon writing its state once a second used to take ten pool round
 * trips per write, each a wake-up of its event loop (issue 12's CPU budget); now two.
 *
 * @throws {StateWriteError} when the file cannot be written (the old file stays in place).
 */
export async function writeJsonAtomic(
  path: string,
  value: unknown,
  options: WriteJsonOptions = {},
): Promise<void> {
  const dir = dirname(path);
  const text = JSON.stringify(value, null, options.indent);
  if (text === undefined) throw new StateWriteError(path, new Error('value is not JSON-serialisable'));
  tmpCounter = (tmpCounter + 1) % 1_000_000;
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${tmpCounter}.tmp`);
  let fd: number | null = null;
  try {
    ensureDirSync(dir);
    fd = openSync(tmp, 'w', options.mode ?? 0o644);
    const buf = Buffer.from(`${text}\n`, 'utf8');
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
    await fsyncFd(fd);
    closeSync(fd);
    fd = null;
    if (options.backup !== false) keepBackup(path, dir, options.validateBackup);
    renameSync(tmp, path);
    knownGood.add(path);
    await fsyncDir(dir);
  } catch (err) {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {}
    }
    try {
      unlinkSync(tmp);
    } catch {}
    throw err instanceof StateWriteError ? err : new StateWriteError(path, err);
  }
}

/** fsync of a directory (the rename's entry); a filesystem that refuses it is not an error. */
async function fsyncDir(dir: string): Promise<void> {
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch {
    return;
  }
  try {
    await fsyncFd(fd);
  } catch {
    // as before: some filesystems do not fsync directories
  } finally {
    closeSync(fd);
  }
}

/** Make `<path>.bak` the current primary if that one is good (hard link swapped in atomically). */
function keepBackup(path: string, dir: string, validate: ((raw: unknown) => unknown) | undefined): void {
  if (!knownGood.has(path)) {
    // First write in this process: only back up a primary that is valid JSON and passes the
    // validation, so a corrupt or implausible primary never replaces a good backup.
    if (!isValidJsonFile(path, validate)) return;
  }
  const bak = backupPath(path);
  const bakTmp = join(dir, `.${basename(bak)}.${process.pid}.${tmpCounter}.tmp`);
  try {
    linkSync(path, bakTmp);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    // Filesystems without hard links: fall back to a copy.
    copyFileSync(path, bakTmp);
  }
  renameSync(bakTmp, bak);
}

/** Where {@link readJsonWithRecovery} took its value from. */
export type RecoverySource = 'primary' | 'backup' | 'default';

/** Result of {@link readJsonWithRecovery}. */
export interface RecoveredJson<T> {
  value: T;
  source: RecoverySource;
  /** What was wrong, one sentence each (empty when the primary was fine or simply absent). */
  problems: string[];
}

/**
 * A validator: returns the typed value or throws an Error whose message says what is wrong
 * (e.g. `"download.current_rate: expected a number"`).
 */
export type JsonValidator<T> = (raw: unknown) => T;

async function tryRead<T>(
  path: string,
  validate: JsonValidator<T>,
): Promise<{ ok: true; value: T } | { ok: false; missing: boolean; problem: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return { ok: false, missing: true, problem: `${path}: missing` };
    return { ok: false, missing: false, problem: `${path}: cannot read (${e.code ?? e.message})` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const what = text.trim() === '' ? 'empty file' : `invalid JSON (${(err as Error).message})`;
    return { ok: false, missing: false, problem: `${path}: ${what}` };
  }
  try {
    return { ok: true, value: validate(raw) };
  } catch (err) {
    return { ok: false, missing: false, problem: `${path}: invalid content (${(err as Error).message})` };
  }
}

/**
 * Read a JSON state file, recovering from damage: the primary file; if it is missing, corrupt,
 * truncated or fails `validate`, the backup `<path>.bak`; else `defaults`. A damaged primary is
 * copied to `<path>.corrupt` for inspection. Never throws on bad or unreadable content: each
 * problem found is returned as a sentence in `problems` (log them).
 *
 * @param path the state file
 * @param validate returns the typed value or throws with a message naming what is wrong
 * @param defaults value (or factory) used when neither file is usable
 */
export async function readJsonWithRecovery<T>(
  path: string,
  validate: JsonValidator<T>,
  defaults: T | (() => T),
): Promise<RecoveredJson<T>> {
  const problems: string[] = [];
  const primary = await tryRead(path, validate);
  if (primary.ok) {
    return { value: primary.value, source: 'primary', problems };
  }
  if (!primary.missing) {
    problems.push(primary.problem);
    await copyFile(path, `${path}.corrupt`).catch(() => {});
  }
  const backup = await tryRead(backupPath(path), validate);
  if (backup.ok) {
    if (primary.missing) problems.push(primary.problem);
    problems.push(`using backup ${backupPath(path)}`);
    return { value: backup.value, source: 'backup', problems };
  }
  if (!backup.missing || !primary.missing) {
    if (!backup.missing) problems.push(backup.problem);
    problems.push('using defaults');
  }
  const value = typeof defaults === 'function' ? (defaults as () => T)() : defaults;
  return { value, source: 'default', problems };
}

/** Options of {@link StateStore}. */
export interface StateStoreOptions<T> {
  path: string;
  /**
   * Turns the value into the JSON object written. Default: the value itself.
   * (Add a timestamp here: it is not part of change detection.)
   */
  serialize?: (value: T) => unknown;
  /**
   * The part of the value that counts as "changed". Default: `JSON.stringify(value)`.
   * Round fast-moving floats here (e.g. load RTT to 0.1 ms) to avoid a write every cycle.
   */
  changeKey?: (value: T) => string;
  /** A write happens at least this often while updates arrive, even without change. Default 60 000 ms. */
  forceIntervalMs?: number;
  /** Two writes are at least this far apart (changes in between are coalesced). Default 1000 ms. */
  minIntervalMs?: number;
  /** Options for {@link writeJsonAtomic}. */
  write?: WriteJsonOptions;
  /** Called with each failed write (log a warning); the store keeps going. */
  onError?: (err: StateWriteError) => void;
  /** Monotonic milliseconds (tests inject a fake clock). Default `performance.now()`. */
  now?: () => number;
  /** Timer used for delayed writes (fake clocks). Default global `setTimeout`/`clearTimeout`. */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/** Counters of a {@link StateStore}. */
export interface StateStoreStats {
  writes: number;
  errors: number;
  /** Updates that needed no write (unchanged, or coalesced into a later write). */
  skipped: number;
  lastError: string | null;
  /** Monotonic time of the last successful write, or null. */
  lastWriteAt: number | null;
  /** Writes that failed since the last successful one (0 while saving works). */
  consecutiveFailures: number;
  /** Monotonic time of the first failure of the current run of failures, or null. */
  failingSince: number | null;
}

/** What {@link StateStore.failure} says while saving fails. */
export interface StateStoreFailure {
  /** Writes that failed in a row. */
  consecutiveFailures: number;
  /** The latest failure, e.g. `cannot write state file /var/lib/wanctl/wan1.json: ENOSPC: ...`. */
  lastError: string;
  /** Monotonic ms since the first failure of this run (the store's clock). */
  forMs: number;
}

/**
 * Persists a daemon's state without blocking its cycle. Call {@link StateStore.update} every
 * cycle; the store writes (atomically, with backup) when the change key differs from the last
 * written one or when `forceIntervalMs` has passed, at most once per `minIntervalMs`. At most one
 * write is in flight; updates arriving meanwhile replace the pending value (latest wins).
 * Call {@link StateStore.flush} at shutdown.
 */
export class StateStore<T> {
  readonly stats: StateStoreStats = {
    writes: 0,
    errors: 0,
    skipped: 0,
    lastError: null,
    lastWriteAt: null,
    consecutiveFailures: 0,
    failingSince: null,
  };
  private pending: T | undefined;
  private hasPending = false;
  private pendingKey = '';
  private lastKey: string | null = null;
  /** Key of the write in progress, or null. */
  private writingKey: string | null = null;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | null = null;
  private timer: unknown = null;
  private flushing = 0;
  private readonly now: () => number;
  private readonly forceMs: number;
  private readonly minMs: number;

  constructor(private readonly opts: StateStoreOptions<T>) {
    this.now = opts.now ?? (() => performance.now());
    this.forceMs = opts.forceIntervalMs ?? 60_000;
    this.minMs = opts.minIntervalMs ?? 1_000;
  }

  /**
   * Tell the store the current state. Returns at once; a write is scheduled if needed.
   * @returns true if this value will be written (now or after the minimum interval)
   */
  update(value: T): boolean {
    const key = this.opts.changeKey ? this.opts.changeKey(value) : JSON.stringify(value);
    const now = this.now();
    // compared with what the file will hold once the write in flight (if any) lands
    const changed = key !== (this.writingKey ?? this.lastKey);
    const due = now - (this.stats.lastWriteAt ?? Number.NEGATIVE_INFINITY) >= this.forceMs;
    if (!changed && !due) {
      this.stats.skipped++;
      if (this.hasPending) {
        // a change undone before it was written: the file already says this
        this.stats.skipped++;
        this.cancelTimer();
        this.hasPending = false;
        this.pending = undefined;
      }
      return false;
    }
    if (this.hasPending) this.stats.skipped++;
    this.pending = value;
    this.pendingKey = key;
    this.hasPending = true;
    this.schedule();
    return true;
  }

  /** Mark the current file content as written (e.g. after loading it), so an equal value is not rewritten. */
  markPersisted(value: T): void {
    this.lastKey = this.opts.changeKey ? this.opts.changeKey(value) : JSON.stringify(value);
    this.stats.lastWriteAt = this.now();
  }

  /**
   * Write `value` (or the pending value) now, waiting for any write in flight first.
   * Resolves when it is on disk; rejects with {@link StateWriteError} if that write failed.
   */
  async flush(value?: T): Promise<void> {
    if (value !== undefined) {
      this.pending = value;
      this.pendingKey = this.opts.changeKey ? this.opts.changeKey(value) : JSON.stringify(value);
      this.hasPending = true;
    }
    this.cancelTimer();
    this.flushing++;
    try {
      while (this.inFlight) await this.inFlight;
      if (!this.hasPending) return;
      const v = this.pending as T;
      const key = this.pendingKey;
      this.hasPending = false;
      this.pending = undefined;
      await this.writeNow(v, key, true);
    } finally {
      this.flushing--;
    }
  }

  /**
   * Null while saving works; while writes fail (disk full, read-only directory, descriptors used
   * up), how many in a row and the latest error. A daemon reports itself degraded with this as
   * the reason: its state would be lost on restart.
   */
  get failure(): StateStoreFailure | null {
    if (this.stats.consecutiveFailures === 0) return null;
    return {
      consecutiveFailures: this.stats.consecutiveFailures,
      lastError: this.stats.lastError ?? 'unknown error',
      forMs: Math.max(0, this.now() - (this.stats.failingSince ?? this.now())),
    };
  }

  /** True while a write is in progress. */
  get writing(): boolean {
    return this.inFlight !== null;
  }

  /** Stop the delayed-write timer (pending data is dropped unless you {@link flush} first). */
  close(): void {
    this.cancelTimer();
    this.hasPending = false;
    this.pending = undefined;
  }

  private cancelTimer(): void {
    if (this.timer !== null) {
      (this.opts.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout)))(this.timer);
      this.timer = null;
    }
  }

  private schedule(): void {
    if (this.flushing > 0) return; // flush() writes the pending value itself
    if (this.inFlight || this.timer !== null) return; // picked up when the write finishes / timer fires
    const wait = this.lastAttemptAt + this.minMs - this.now();
    if (wait > 0) {
      const set = this.opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms).unref());
      this.timer = set(() => {
        this.timer = null;
        this.startWrite();
      }, wait);
      return;
    }
    this.startWrite();
  }

  private startWrite(): void {
    if (!this.hasPending || this.inFlight) return;
    const v = this.pending as T;
    const key = this.pendingKey;
    this.hasPending = false;
    this.pending = undefined;
    this.inFlight = this.writeNow(v, key, false)
      .catch(() => {})
      .finally(() => {
        this.inFlight = null;
        if (this.hasPending) this.schedule();
      });
  }

  private async writeNow(value: T, key: string, rethrow: boolean): Promise<void> {
    this.lastAttemptAt = this.now();
    const body = this.opts.serialize ? this.opts.serialize(value) : value;
    this.writingKey = key;
    try {
      await writeJsonAtomic(this.opts.path, body, this.opts.write);
      this.lastKey = key;
      this.stats.writes++;
      this.stats.lastWriteAt = this.now();
      this.stats.consecutiveFailures = 0;
      this.stats.failingSince = null;
    } catch (err) {
      const e = err instanceof StateWriteError ? err : new StateWriteError(this.opts.path, err);
      this.stats.errors++;
      this.stats.lastError = e.message;
      if (this.stats.consecutiveFailures++ === 0) this.stats.failingSince = this.lastAttemptAt;
      this.opts.onError?.(e);
      if (rethrow) throw e;
    } finally {
      this.writingKey = null;
    }
  }
}
