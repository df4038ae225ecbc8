/**
 * Logging for wanctl daemons, built on winston.
 *
 * One line per event, in `text` or `json` format, to a main file, an optional debug file and the
 * console (stderr). A redaction guard removes every value registered with {@link registerSecret}
 * and every value stored under a secret-looking key (`password`, `token`, ...) before a line is
 * formatted, so a secret never reaches a log. {@link Logger.reopen} reopens the files after
 * logrotate renamed them (call it from SIGHUP).
 */
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { RuntimeError } from './errors.js';
import { ensureDirSync } from './state-file.js';

/** Log levels, most severe first. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
/** Line format: human text or one compact JSON object per line. */
export type LogFormat = 'text' | 'json';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Shown in every line (text: `[name]`, JSON: `logger`), e.g. the WAN name. */
  name: string;
  /** Minimum level for the main file and the console. Default `info`. */
  level?: LogLevel;
  /** Default: `WANCTL_LOG_FORMAT` (`json` or `text`), else `text`. */
  format?: LogFormat;
  /** Main log file (created with its directory if missing), receives `level` and above. */
  file?: string;
  /** Debug log file, receives every level (v1.3's `debug_log`). */
  debugFile?: string;
  /** Log to stderr (journald under systemd). Default `true` when no file is given, else `false`. */
  console?: boolean;
  /** Level for the console. Default: `level`. */
  consoleLevel?: LogLevel;
  /** Extra sink (tests): receives each formatted line without its newline. */
  sink?: (line: string) => void;
}

/** Structured fields of one event (all values are redacted before output). */
export type LogFields = Record<string, unknown>;

/** A logger. Each call writes exactly one line per sink. */
export interface Logger {
  readonly name: string;
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  /** True if a `debug` call would be written anywhere (guard expensive debug lines). */
  isDebugEnabled(): boolean;
  /**
   * Reopen the log files (after logrotate moved them away). Call from SIGHUP. A file that cannot
   * be reopened keeps its old handle; the errors are returned (and logged to the other sinks).
   */
  reopen(): LogFileError[];
  /** Flush and close all files. */
  close(): Promise<void>;
}

const REDACTED = '***';
const secrets = new Set<string>();
let secretList: string[] = [];
const SECRET_KEY =
  /pass(word|wd|phrase)?$|^pass|secret|token|api[-_]?key|authorization|credential|private[-_]?key/i;

/**
 * Register a secret value (a router password, a token). From now on the value is replaced by
 * `***` wherever it appears in a log line of any logger. Values shorter than 3 characters are
 * ignored (they would redact ordinary text).
 */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== 'string' || value.length < 3 || secrets.has(value)) return;
  secrets.add(value);
  // Longest first, so a secret containing another one is removed whole.
  secretList = [...secrets].sort((a, b) => b.length - a.length);
}

/** Remove every registered secret from a string. */
export function redactText(text: string): string {
  let out = text;
  for (const s of secretList) {
    if (out.includes(s)) out = out.split(s).join(REDACTED);
  }
  return out;
}

/**
 * Deep copy of `value` with registered secrets removed from strings and the values of
 * secret-looking keys (`password`, `token`, `api_key`, ...) replaced by `***`. Errors become
 * `{name, message}`; bigint becomes a string; cycles become `"[Circular]"`.
 */
export function redactValue(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'function' || typeof value === 'symbol') return String(value);
    return value;
  }
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (value instanceof Error) {
    return { name: value.name, message: redactText(value.message) };
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      SECRET_KEY.test(k) && v !== null && v !== undefined && v !== '' ? REDACTED : redactValue(v, seen);
  }
  return out;
}

/** Resolve the line format from `WANCTL_LOG_FORMAT` (anything but `json` means text). */
export function logFormatFromEnv(env: NodeJS.ProcessEnv = process.env): LogFormat {
  return env['WANCTL_LOG_FORMAT']?.trim().toLowerCase() === 'json' ? 'json' : 'text';
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Local time `YYYY-MM-DD HH:MM:SS,mmm` (as v1.3's text lines). */
function localStamp(d: Date): string {
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())},${pad(d.getMilliseconds(), 3)}`
  );
}

function textValue(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  return JSON.stringify(v) ?? String(v);
}

const MESSAGE = Symbol.for('message');
const SPLAT_KEYS = new Set(['level', 'message', 'fields']);

function lineFormat(name: string, format: LogFormat) {
  return winston.format((info) => {
    const message = redactText(String(info.message)).replace(/\r?\n/g, '\\n');
    const fields = (info['fields'] as LogFields | undefined) ?? undefined;
    const clean = fields ? (redactValue(fields) as Record<string, unknown>) : undefined;
    const now = new Date();
    let line: string;
    if (format === 'json') {
      const obj: Record<string, unknown> = {
        timestamp: now.toISOString(),
        level: info.level.toUpperCase(),
        logger: name,
        message,
      };
      if (clean) {
        for (const [k, v] of Object.entries(clean)) if (!(k in obj)) obj[k] = v;
      }
      line = JSON.stringify(obj);
    } else {
      line = `${localStamp(now)} [${name}] [${info.level.toUpperCase()}] ${message}`;
      if (clean) {
        for (const [k, v] of Object.entries(clean)) {
          if (!SPLAT_KEYS.has(k)) line += ` ${k}=${textValue(v)}`;
        }
      }
    }
    (info as unknown as Record<symbol, unknown>)[MESSAGE] = line;
    return info;
  })();
}

/** Why a log file (or its directory) could not be created, in words. */
function logFileReason(path: string, cause: unknown): string {
  const e = cause as NodeJS.ErrnoException;
  const where = e?.path && e.path !== path ? ` (${e.path})` : '';
  switch (e?.code) {
    case 'EACCES':
    case 'EPERM':
      return `permission denied${where}`;
    case 'EROFS':
      return `read-only file system${where}`;
    case 'ENOTDIR':
    case 'EEXIST':
      return `a part of the path is a file, not a directory${where}`;
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOSPC':
      return `no space left on device${where}`;
    default:
      return e?.message ?? String(cause);
  }
}

/** A log file cannot be created or opened (directory not creatable, permission denied). */
export class LogFileError extends RuntimeError {
  override name = 'LogFileError';
  constructor(
    readonly path: string,
    override readonly cause: unknown,
  ) {
    super(
      'WANCTL_LOG_FILE',
      `cannot open log file ${path}: ${logFileReason(path, cause)} ` +
        '(check logging.main_log / logging.debug_log and that the directory is writable by the daemon user)',
    );
  }
}

/** A writable that forwards to a file stream which can be swapped (reopen after rotation). */
class ReopenableFile extends Writable {
  private stream: WriteStream;
  constructor(readonly path: string) {
    super();
    try {
      ensureDirSync(dirname(path));
    } catch (err) {
      throw new LogFileError(path, err);
    }
    this.stream = this.open();
  }
  /** Opens synchronously, so a bad path is a typed error at start, not a silently empty log. */
  private open(): WriteStream {
    let fd: number;
    try {
      fd = openSync(this.path, 'a', 0o644);
    } catch (err) {
      throw new LogFileError(this.path, err);
    }
    const s = createWriteStream(this.path, { fd });
    // A failing disk must never crash the daemon: drop lines instead.
    s.on('error', () => {});
    return s;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.stream.write(chunk);
    cb();
  }
  /** Reopen the path; if that fails, keep writing to the old file and return the error. */
  reopen(): LogFileError | null {
    let next: WriteStream;
    try {
      next = this.open();
    } catch (err) {
      return err as LogFileError;
    }
    const old = this.stream;
    this.stream = next;
    old.end();
    return null;
  }
  closeFile(): Promise<void> {
    return new Promise((resolve) => {
      this.stream.end(() => resolve());
    });
  }
}

class SinkStream extends Writable {
  constructor(private readonly fn: (line: string) => void) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.fn(chunk.toString('utf8').replace(/\r?\n$/, ''));
    cb();
  }
}

const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/**
 * Create a logger. See {@link LoggerOptions}.
 *
 * @throws {LogFileError} if a log file cannot be created or opened
 * @example
 * const log = createLogger({ name: 'wan1', file: '/var/log/wanctl/wan1.log' });
 * registerSecret(process.env.ROUTER_PASSWORD);
 * log.info('rate changed', { dl_mbps: 800, zone: 'GREEN' });
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? 'info';
  const format = options.format ?? logFormatFromEnv();
  const files: ReopenableFile[] = [];
  const transports: winston.transport[] = [];
  let maxLevel = LEVELS[level];
  const useConsole = options.console ?? (options.file === undefined && options.sink === undefined);

  if (options.file !== undefined) {
    const f = new ReopenableFile(options.file);
    files.push(f);
    transports.push(new winston.transports.Stream({ stream: f, level }));
  }
  if (options.debugFile !== undefined) {
    const f = new ReopenableFile(options.debugFile);
    files.push(f);
    transports.push(new winston.transports.Stream({ stream: f, level: 'debug' }));
    maxLevel = LEVELS.debug;
  }
  if (useConsole) {
    const cl = options.consoleLevel ?? level;
    maxLevel = Math.max(maxLevel, LEVELS[cl]);
    transports.push(new winston.transports.Stream({ stream: process.stderr, level: cl }));
  }
  if (options.sink) {
    transports.push(new winston.transports.Stream({ stream: new SinkStream(options.sink), level }));
  }
  const levelName = (Object.keys(LEVELS) as LogLevel[]).find((k) => LEVELS[k] === maxLevel) ?? 'info';
  const w = winston.createLogger({
    levels: LEVELS,
    level: levelName,
    format: lineFormat(options.name, format),
    transports,
    exitOnError: false,
  });
  // Never let a transport error escape as an unhandled 'error' event.
  w.on('error', () => {});

  const log = (lvl: LogLevel, message: string, fields?: LogFields): void => {
    if (LEVELS[lvl] > maxLevel) return;
    w.log(lvl, message, fields === undefined ? {} : { fields });
  };
  return {
    name: options.name,
    error: (m, f) => log('error', m, f),
    warn: (m, f) => log('warn', m, f),
    info: (m, f) => log('info', m, f),
    debug: (m, f) => log('debug', m, f),
    isDebugEnabled: () => maxLevel >= LEVELS.debug,
    reopen: () => {
      const errors: LogFileError[] = [];
      for (const f of files) {
        const e = f.reopen();
        if (e) errors.push(e);
      }
      for (const e of errors) log('error', e.message);
      return errors;
    },
    close: async () => {
      await Promise.all(files.map((f) => f.closeFile()));
      w.close();
    },
  };
}

/** Options of {@link LogThrottle}. */
export interface LogThrottleOptions {
  /**
   * Lines allowed per key in each window of `intervalMs` (a whole number, at least 1). Default 1:
   * one line per interval. A window starts at the first line allowed after the previous window ended.
   */
  burst?: number;
}

/**
 * Limits repeated log lines (20 identical warnings a second hide everything
 * else). Per key, at most `burst` events (default 1) are allowed in each window of `intervalMs`,
 * the first event always; the next allowed call learns how many were suppressed in between.
 *
 * @example
 * const throttle = new LogThrottle(60_000);
 * const n = throttle.allow('ping-failed');
 * if (n !== false) log.warn(`all pings failed${n ? ` (${n} more suppressed)` : ''}`);
 *
 * // up to 5 lines a minute per key
 * const bursty = new LogThrottle(60_000, () => performance.now(), { burst: 5 });
 */
export class LogThrottle {
  private readonly keys = new Map<string, { start: number; count: number; suppressed: number }>();
  /** Lines allowed per key and window. */
  readonly burst: number;

  /** @throws {RangeError} if `burst` is not a whole number of at least 1 */
  constructor(
    readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
    options: LogThrottleOptions = {},
  ) {
    const burst = options.burst ?? 1;
    if (!Number.isInteger(burst) || burst < 1)
      throw new RangeError(`LogThrottle burst must be a whole number of at least 1, got ${burst}`);
    this.burst = burst;
  }

  /** `false` to suppress, else the number of events suppressed since the last allowed one. */
  allow(key: string): number | false {
    const t = this.now();
    let e = this.keys.get(key);
    if (e === undefined) {
      e = { start: t, count: 0, suppressed: 0 };
      this.keys.set(key, e);
    } else if (t - e.start >= this.intervalMs) {
      e.start = t;
      e.count = 0;
    }
    if (e.count >= this.burst) {
      e.suppressed++;
      return false;
    }
    e.count++;
    const n = e.suppressed;
    e.suppressed = 0;
    return n;
  }

  /** Events suppressed for a key and not yet reported by an allowed call. */
  pending(key: string): number {
    return this.keys.get(key)?.suppressed ?? 0;
  }

  /** Events suppressed and not yet reported, over every key. */
  totalPending(): number {
    let n = 0;
    for (const e of this.keys.values()) n += e.suppressed;
    return n;
  }

  /** Forget a key (e.g. when the condition cleared), so its next event is logged at once. */
  reset(key: string): void {
    this.keys.delete(key);
  }
}
