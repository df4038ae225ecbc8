/**
 * Error codes (convention of the wanctl packages): every error class carries a stable
 * `code` of the form `WANCTL_<AREA>_<WHAT>`; the exit status of a command is derived from that
 * code alone ({@link exitStatusForCode}), never from `instanceof` chains.
 *
 * {@link RuntimeError} is this package's base class. Errors of other packages that do not carry
 * a `WANCTL_` code yet are recognised by their class name in {@link CODE_BY_CLASS_NAME}, the one
 * table to shrink as those packages give their classes codes.
 */

/** The base class of this package's errors: a message for the user and a stable `code`. */
export class RuntimeError extends Error {
  override name = 'RuntimeError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Bad arguments or a bad config: exit status 2. The message names the file, the key and what was expected. */
export class UsageError extends RuntimeError {
  override name = 'UsageError';
  constructor(message: string) {
    super('WANCTL_USAGE', message);
  }
}

/** The daemon cannot start (probe unavailable, router unusable, ...): exit status 1. */
export class DaemonStartError extends RuntimeError {
  override name = 'DaemonStartError';
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super('WANCTL_DAEMON_START', message);
  }
}

/**
 * Codes of error classes (by class name) that do not carry a `WANCTL_` code on this branch:
 * this package's lock, HTTP and state-file errors (their files are being reworked elsewhere),
 * and the errors of config, router-client, cake-stats, rtt-probe and the apps' pure control
 * laws. An error whose own `code` starts with `WANCTL_` wins over this table.
 */
export const CODE_BY_CLASS_NAME: Readonly<Record<string, string>> = {
  // @wanctl/runtime (lock.ts, http.ts, state-file.ts, logger.ts, sd-notify.ts)
  LockHeldError: 'WANCTL_LOCK_HELD',
  LockError: 'WANCTL_LOCK_FAILED',
  HttpBindError: 'WANCTL_HTTP_BIND',
  StateWriteError: 'WANCTL_STATE_WRITE',
  LogFileError: 'WANCTL_LOG_FILE',
  SdNotifyError: 'WANCTL_SD_NOTIFY',
  // @wanctl/config
  ConfigError: 'WANCTL_CONFIG_INVALID',
  ConfigReadError: 'WANCTL_CONFIG_READ',
  // @wanctl/rtt-probe
  ProbeConfigError: 'WANCTL_CONFIG_PROBE',
  ProbeUnavailableError: 'WANCTL_PROBE_UNAVAILABLE',
  // @wanctl/router-client
  RouterError: 'WANCTL_ROUTER_ERROR',
  RouterConnectionError: 'WANCTL_ROUTER_CONNECTION',
  RouterUnavailableError: 'WANCTL_ROUTER_UNAVAILABLE',
  RouterHostVerificationError: 'WANCTL_ROUTER_HOST_KEY',
  RouterTimeoutError: 'WANCTL_ROUTER_TIMEOUT',
  RouterAuthError: 'WANCTL_ROUTER_AUTH',
  RouterCommandError: 'WANCTL_ROUTER_COMMAND',
  RouterNotFoundError: 'WANCTL_ROUTER_NOT_FOUND',
  CommandSyntaxError: 'WANCTL_ROUTER_SYNTAX',
  // @wanctl/cake-stats
  InvalidQueueNameError: 'WANCTL_CAKE_QUEUE_NAME',
  // @wanctl/autorate control law (apps/autorate/src/control)
  ControlParamsError: 'WANCTL_CONFIG_CONTROL_PARAMS',
  RateBoundsError: 'WANCTL_AUTORATE_RATE_BOUNDS',
  ReplayInputError: 'WANCTL_REPLAY_INPUT',
};

/** Words put before the message of an error with this code when it ends a command. */
export const FATAL_LABEL_BY_CODE: Readonly<Record<string, string>> = {
  WANCTL_LOCK_HELD: 'another instance is running, refusing to start',
  WANCTL_CONFIG_PROBE: 'bad reflector',
  WANCTL_PROBE_UNAVAILABLE: 'cannot probe RTT',
};

const CODE_FORM = /^WANCTL_[A-Z0-9_]+$/;

/**
 * The `WANCTL_` code of an error: its own `code` when it has that form, else its class name
 * looked up in {@link CODE_BY_CLASS_NAME} (the nearest named ancestor counts); undefined for
 * anything else (an unexpected error).
 */
export function errorCode(e: unknown): string | undefined {
  if (e === null || typeof e !== 'object') return undefined;
  const own = (e as { code?: unknown }).code;
  if (typeof own === 'string' && CODE_FORM.test(own)) return own;
  const named = (e as { name?: unknown }).name;
  if (typeof named === 'string' && Object.hasOwn(CODE_BY_CLASS_NAME, named)) return CODE_BY_CLASS_NAME[named];
  for (let p = Object.getPrototypeOf(e); p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const n = (p as { constructor?: { name?: string } }).constructor?.name;
    if (n !== undefined && Object.hasOwn(CODE_BY_CLASS_NAME, n)) return CODE_BY_CLASS_NAME[n];
  }
  return undefined;
}

/** The exit status for an error code: `WANCTL_USAGE` and `WANCTL_CONFIG_*` → 2, anything else → 1. */
export function exitStatusForCode(code: string | undefined): 1 | 2 {
  return code === 'WANCTL_USAGE' || (code?.startsWith('WANCTL_CONFIG_') ?? false) ? 2 : 1;
}
