/**
 * Typed errors of the steering daemon shell; the app's base class {@link SteeringError} and the
 * control law's errors are in control/errors.ts.
 */
import { SteeringError } from './control/errors.js';

export { SteeringError };

/** The mangle rule's state read back after a toggle is not the state asked for (D7). */
export class RuleVerifyError extends SteeringError {
  override name = 'RuleVerifyError';
  constructor(
    readonly comment: string,
    readonly wanted: boolean,
    readonly found: boolean | null,
  ) {
    super(
      found === null ? 'WANCTL_STEERING_RULE_MISSING' : 'WANCTL_STEERING_RULE_VERIFY',
      found === null
        ? `mangle rule with comment "${comment}" not found on the router (create it, or fix mangle_rule.comment)`
        : `mangle rule with comment "${comment}" reads back ${found ? 'enabled' : 'disabled'} after ${wanted ? 'enable' : 'disable'}`,
    );
  }
}
