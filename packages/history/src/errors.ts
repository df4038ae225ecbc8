/**
 * Errors of @wanctl/history. Every one is a {@link HistoryError} with a stable `code`
 * (`WANCTL_HISTORY_*`, or `WANCTL_USAGE` for bad command-line arguments).
 */

export type HistoryErrorCode =
  | 'WANCTL_USAGE'
  | 'WANCTL_HISTORY_UNAVAILABLE'
  | 'WANCTL_HISTORY_CORRUPT'
  | 'WANCTL_HISTORY_NOT_FOUND';

/** Base class: `code` tells what happened, the message what to do. */
export class HistoryError extends Error {
  override readonly name: string = 'HistoryError';
  constructor(
    readonly code: HistoryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Bad arguments to `wanctl-history` (exit status 2). */
export class HistoryUsageError extends HistoryError {
  override readonly name = 'HistoryUsageError';
  constructor(message: string) {
    super('WANCTL_USAGE', message);
  }
}

/** A store file that does not exist (reading only; the recorder creates its file). */
export class HistoryNotFoundError extends HistoryError {
  override readonly name = 'HistoryNotFoundError';
  constructor(readonly file: string) {
    super(
      'WANCTL_HISTORY_NOT_FOUND',
      `history file ${file} does not exist (is history.enabled on and has the daemon run? check history.file in the config)`,
    );
  }
}

/** A store that cannot be opened or read (permissions, not an SQLite file, I/O error). */
export class HistoryUnavailableError extends HistoryError {
  override readonly name = 'HistoryUnavailableError';
  constructor(
    readonly file: string,
    why: string,
    options?: { cause?: unknown },
  ) {
    super('WANCTL_HISTORY_UNAVAILABLE', `history file ${file}: ${why}`, options);
  }
}

/** A store file that is damaged (reading only; the recorder moves such a file aside). */
export class HistoryCorruptError extends HistoryError {
  override readonly name = 'HistoryCorruptError';
  constructor(
    readonly file: string,
    why: string,
  ) {
    super(
      'WANCTL_HISTORY_CORRUPT',
      `history file ${file} is damaged (${why}); the daemon moves it aside and starts a new one at its next flush`,
    );
  }
}

/** SQLite error codes that mean the file itself is damaged or is not a store. */
export function isCorruption(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return (
    code === 'SQLITE_CORRUPT' ||
    code === 'SQLITE_NOTADB' ||
    (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT'))
  );
}

/** `code` of an error (SQLite or errno), for health reports. */
export function errorCode(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'ERROR';
}

/** The message of an error. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
