/**
 * Errors raised by the emulator's state model. `RouterOsError` carries the exact text RouterOS
 * prints (CLI) or puts into `detail` (REST), plus the HTTP status the REST face answers with.
 */
export class RouterOsError extends Error {
  /** HTTP status the REST face uses for this error (400, 404, 406, 500). */
  readonly status: number;
  /** RouterOS text, e.g. `no such item`, `input does not match any value of queue`. */
  readonly detail: string;
  /** True for errors detected while parsing a command (printed without the exec suffix). */
  readonly syntax: boolean;

  constructor(detail: string, status = 400, syntax = false) {
    super(detail);
    this.name = 'RouterOsError';
    this.status = status;
    this.detail = detail;
    this.syntax = syntax;
  }
}

/** `.id` (or name) that names no item: REST answers 404 without `detail`; CLI prints `no such item`. */
export class NoSuchItemError extends RouterOsError {
  constructor(readonly ref: string) {
    super('no such item', 404);
    this.name = 'NoSuchItemError';
  }
}

/** A user whose group lacks the `write` policy tried to change something. */
export class PermissionError extends RouterOsError {
  constructor() {
    super('not enough permissions (9)', 500);
    this.name = 'PermissionError';
  }
}

/** Bad emulator configuration or fixture (not a RouterOS error): names what to fix. */
export class EmulatorConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmulatorConfigError';
  }
}
