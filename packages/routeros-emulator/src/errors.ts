/**
 * Errors of the emulator. One base, `EmulatorError`, with a stable `code` (`WANCTL_EMULATOR_*`,
 * table in the README). `RouterOsError` carries the exact text RouterOS prints (CLI) or puts into
 * `detail` (REST), plus the HTTP status the REST face answers with: it is what the emulated
 * router answers, not a failure of the emulator.
 */
export class EmulatorError extends Error {
  readonly code: string = 'WANCTL_EMULATOR_ERROR';
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class RouterOsError extends EmulatorError {
  override readonly code: string = 'WANCTL_EMULATOR_ROUTEROS';
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
  override readonly code: string = 'WANCTL_EMULATOR_NO_SUCH_ITEM';
  constructor(readonly ref: string) {
    super('no such item', 404);
    this.name = 'NoSuchItemError';
  }
}

/** A user whose group lacks the `write` policy tried to change something. */
export class PermissionError extends RouterOsError {
  override readonly code: string = 'WANCTL_EMULATOR_PERMISSION';
  constructor() {
    super('not enough permissions (9)', 500);
    this.name = 'PermissionError';
  }
}

/** Bad emulator configuration or fixture (not a RouterOS error): names what to fix. */
export class EmulatorConfigError extends EmulatorError {
  override readonly code: string = 'WANCTL_EMULATOR_CONFIG_INVALID';
}

/** Fault settings that make no sense (unknown fault, wrong type); the admin endpoint answers 400. */
export class FaultSettingsError extends EmulatorError {
  override readonly code: string = 'WANCTL_EMULATOR_FAULT_INVALID';
}
