/**
 * PID lock files: one running instance per WAN. A lock left by a dead process (or by a PID now
 * reused by an unrelated program) is detected as stale and replaced; a lock whose content is not
 * a PID (empty, garbage) counts as held until it is older than `lock_timeout`.
 */
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ensureDirSync } from './state-file.js';

/**
 * Another live wanctl process holds the lock, or the lock names no PID and is younger than
 * `lock_timeout` (`holderPid` null: an instance may be starting).
 */
export class LockHeldError extends Error {
  override readonly name = 'LockHeldError';
  constructor(
    readonly path: string,
    readonly holderPid: number | null,
    /** For a lock without a PID: its age and the age after which it is taken over (ms). */
    readonly unreadable?: { ageMs: number; staleAfterMs: number },
  ) {
    super(
      holderPid !== null
        ? `lock file ${path} is held by running process ${holderPid}; another instance is running ` +
            `(stop it first, or remove the file if PID ${holderPid} is not wanctl)`
        : `lock file ${path} holds no PID and is ${secs(unreadable?.ageMs ?? 0)} s old; it counts as held ` +
            `until it is ${secs(unreadable?.staleAfterMs ?? 0)} s old (lock_timeout) ` +
            '(another instance may be starting; remove the file if none is)',
    );
  }
}

function secs(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

/** Default age after which a lock without a PID is stale: 300 s (the configs' usual lock_timeout). */
export const DEFAULT_LOCK_STALE_MS = 300_000;

/** The lock file could not be created or inspected (permissions, read-only filesystem). */
export class LockError extends Error {
  override readonly name = 'LockError';
  constructor(
    readonly path: string,
    override readonly cause: unknown,
  ) {
    super(`cannot take lock file ${path}: ${(cause as Error)?.message ?? String(cause)}`);
  }
}

/** A held lock. */
export interface PidLock {
  readonly path: string;
  readonly pid: number;
  /** Remove the lock file (only if it still names this process). Idempotent. */
  release(): void;
}

/** Options of {@link acquirePidLock}. */
export interface AcquireLockOptions {
  /**
   * Decides whether a live PID is one of ours. Default: its /proc cmdline mentions `node` or
   * `wanctl` (if /proc is unreadable the holder is assumed to be ours).
   */
  isOurProcess?: (pid: number) => boolean;
  /** PID written into the lock (tests). Default `process.pid`. */
  pid?: number;
  /**
   * A lock file whose content is not a PID (empty, garbage) counts as held until its mtime is this
   * old (ms); pass the config's `lock_timeout` × 1000. Default {@link DEFAULT_LOCK_STALE_MS}.
   */
  staleAfterMs?: number;
  /** Told one line each time an existing lock is taken over (log it as a warning). */
  onTakeover?: (message: string) => void;
  /** Wall-clock milliseconds, compared with the lock file's mtime (tests). Default `Date.now()`. */
  now?: () => number;
}

/** True if `pid` names a live, non-zombie process. */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: exists but belongs to someone else.
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
  } catch {
    // no /proc: trust kill(0)
  }
  return true;
}

function defaultIsOurProcess(pid: number): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return /node|wanctl/i.test(cmd);
  } catch {
    return true;
  }
}

const held = new Map<string, PidLock>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const l of [...held.values()]) l.release();
  });
}

/**
 * Take the PID lock at `path` (parent directory created if missing). The file contains the PID
 * and a newline; it is created complete in one step (written to a temporary file, then hard
 * linked into place), so no other process ever sees an empty lock.
 *
 * A lock whose PID is dead, a zombie, this very process's PID (a container restart reuses PIDs),
 * or a live process that is not node/wanctl is stale and replaced. A lock whose content is not a
 * PID (empty, garbage) is held until its mtime is `staleAfterMs` old, then replaced. Each
 * replacement is told to `onTakeover`. The directory is created 0750 if missing.
 * The lock is released automatically when the process exits normally.
 *
 * @throws {LockHeldError} if a live wanctl process holds it (its PID is in the error)
 * @throws {LockError} if the file cannot be created or read
 */
export function acquirePidLock(path: string, options: AcquireLockOptions = {}): PidLock {
  const pid = options.pid ?? process.pid;
  const isOurs = options.isOurProcess ?? defaultIsOurProcess;
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_LOCK_STALE_MS;
  const now = options.now ?? Date.now;
  const existing = held.get(path);
  if (existing) return existing;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${pid}.${Date.now()}.tmp`);
  try {
    ensureDirSync(dir);
    writeFileSync(tmp, `${pid}\n`, { mode: 0o644 });
  } catch (err) {
    throw new LockError(path, err);
  }
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(tmp, path);
        const lock: PidLock = {
          path,
          pid,
          release: () => {
            if (held.get(path) !== lock) return;
            held.delete(path);
            try {
              if (readFileSync(path, 'utf8').trim() === String(pid)) unlinkSync(path);
            } catch {
              // already gone
            }
          },
        };
        held.set(path, lock);
        installExitHook();
        return lock;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new LockError(path, err);
      }
      let content: string;
      try {
        content = readFileSync(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // vanished: retry
        throw new LockError(path, err);
      }
      const holder = /^\s*(\d+)\s*$/.test(content) ? Number(content.trim()) : Number.NaN;
      let why: string;
      if (!Number.isFinite(holder)) {
        // Not a PID: an instance may be between creating and writing it (other tools, v1.3), so
        // it is held until lock_timeout has passed since it was last written.
        let mtimeMs: number;
        try {
          mtimeMs = statSync(path).mtimeMs;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw new LockError(path, err);
        }
        const ageMs = Math.max(0, now() - mtimeMs);
        if (ageMs < staleAfterMs) throw new LockHeldError(path, null, { ageMs, staleAfterMs });
        why = `holds no PID (${content.trim() === '' ? 'empty' : `${JSON.stringify(content.slice(0, 40))}`}) and is ${secs(ageMs)} s old (lock_timeout ${secs(staleAfterMs)} s)`;
      } else if (holder === pid) {
        why = `names this process's PID ${holder} (left by an earlier run)`;
      } else if (!isPidAlive(holder)) {
        why = `names PID ${holder}, which is not running`;
      } else if (!isOurs(holder)) {
        why = `names PID ${holder}, which is not a wanctl process`;
      } else {
        throw new LockHeldError(path, holder);
      }
      options.onTakeover?.(`lock file ${path} ${why}: taking it over`);
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new LockError(path, err);
      }
    }
    throw new LockError(path, new Error('lock kept changing while it was being taken'));
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // ignore
    }
  }
}
