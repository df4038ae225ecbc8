/** Typed errors of the steering daemon shell (the control law has its own in control/errors.ts). */

/** Bad arguments or a bad config: exit status 2. The message names the file, the key and what was expected. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The daemon cannot start (lock held, port in use, probe unavailable): exit status 1. */
export class DaemonStartError extends Error {
  override readonly name = 'DaemonStartError';
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** The mangle rule's state read back after a toggle is not the state asked for (D7). */
export class RuleVerifyError extends Error {
  override readonly name = 'RuleVerifyError';
  constructor(
    readonly comment: string,
    readonly wanted: boolean,
    readonly found: boolean | null,
  ) {
    super(
      found === null
        ? `mangle rule with comment "${comment}" not found on the router (create it, or fix mangle_rule.comment)`
        : `mangle rule with comment "${comment}" reads back ${found ? 'enabled' : 'disabled'} after ${wanted ? 'enable' : 'disable'}`,
    );
  }
}
