/**
 * Typed errors of the linux-cake backend. Every class carries a stable `code`
 * (`WANCTL_TC_*`); the autorate daemon treats them like router errors (log, retry next cycle),
 * and a start-up failure stops the daemon with exit status 1.
 */

export interface TcErrorContext {
  /** The `tc` command line (without the binary) that failed, when there was one. */
  command?: string | undefined;
  /** The interface concerned. */
  iface?: string | undefined;
  cause?: unknown;
}

/** Base class: something went wrong driving the kernel shaper. */
export class TcError extends Error {
  readonly code: string = 'WANCTL_TC_ERROR';
  readonly command: string | undefined;
  readonly iface: string | undefined;
  constructor(message: string, ctx: TcErrorContext = {}) {
    super(message, ctx.cause === undefined ? undefined : { cause: ctx.cause });
    this.name = new.target.name;
    this.command = ctx.command;
    this.iface = ctx.iface;
  }
}

/** `tc` refused a command; `tcMessage` is its own text (e.g. `Error: Specified qdisc kind is unknown.`). */
export class TcCommandError extends TcError {
  override readonly code = 'WANCTL_TC_FAILED';
  readonly tcMessage: string;
  constructor(message: string, tcMessage: string, ctx: TcErrorContext = {}) {
    super(message, ctx);
    this.tcMessage = tcMessage;
  }
}

/** The interface, or the qdisc wanctl expects on it, does not exist. */
export class TcNotFoundError extends TcError {
  override readonly code = 'WANCTL_TC_NOT_FOUND';
}

/** `tc` did not answer within the call's deadline (the child is restarted). */
export class TcTimeoutError extends TcError {
  override readonly code = 'WANCTL_TC_TIMEOUT';
  readonly deadlineMs: number;
  constructor(message: string, deadlineMs: number, ctx: TcErrorContext = {}) {
    super(message, ctx);
    this.deadlineMs = deadlineMs;
  }
}

/** `tc` could not be started, or exited while calls were pending. */
export class TcUnavailableError extends TcError {
  override readonly code = 'WANCTL_TC_UNAVAILABLE';
}

/** `tc` printed something that is not the JSON expected. */
export class TcOutputError extends TcError {
  override readonly code = 'WANCTL_TC_BAD_OUTPUT';
}

/** One difference between what the config asks for and what the kernel holds. */
export interface QdiscMismatch {
  iface: string;
  /** Option name as tc prints it in JSON (`kind`, `diffserv`, `overhead`...). */
  option: string;
  expected: unknown;
  found: unknown;
}

/** The qdisc read back differs from the config (another kind, wrong overhead, diffserv...). */
export class TcMismatchError extends TcError {
  override readonly code = 'WANCTL_TC_MISMATCH';
  readonly mismatches: QdiscMismatch[];
  constructor(mismatches: QdiscMismatch[], ctx: TcErrorContext = {}) {
    super(
      `the kernel holds a different qdisc than cake_params asks for: ${mismatches
        .map(
          (m) =>
            `${m.iface} ${m.option} is ${JSON.stringify(m.found)}, expected ${JSON.stringify(m.expected)}`,
        )
        .join('; ')}`,
      ctx,
    );
    this.mismatches = mismatches;
  }
}

/** A queue name that is neither the configured download nor upload queue. */
export class TcUnknownQueueError extends TcError {
  override readonly code = 'WANCTL_TC_UNKNOWN_QUEUE';
}
