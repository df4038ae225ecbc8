/** Typed errors of the steering daemon shell (the control law has its own in control/errors.ts). */

/**
 * Bad arguments or a bad config (exit 2), and a daemon that cannot start (exit 1): shared with
 * autorate through @wanctl/runtime, re-exported here for this app's modules and users.
 */
export { DaemonStartError, UsageError } from '@wanctl/runtime';

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
