/**
 * Typed errors of the steering app. Each says what was wrong and what to change, and carries a
 * stable `code` (`WANCTL_STEERING_*`, or `WANCTL_CONFIG_*` for a bad parameter: exit status 2).
 * {@link SteeringError} is the app's one base class; it lives here so the pure control law needs
 * nothing from the daemon shell.
 */

/** The base class of the steering app's errors. */
export class SteeringError extends Error {
  override name = 'SteeringError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** `ewmaUpdate` rejected its input (v1.3 raised ValueError with the same message). */
export class EwmaError extends SteeringError {
  override name = 'EwmaError';
  constructor(
    readonly kind: 'alpha_out_of_range' | 'input_not_finite' | 'input_out_of_bounds' | 'result_not_finite',
    message: string,
  ) {
    super('WANCTL_STEERING_EWMA_INPUT', message);
  }
}

/** A StateThresholds cross-field check failed (v1.3 used `assert`, which vanished under python -O). */
export class StateThresholdsError extends SteeringError {
  override name = 'StateThresholdsError';
  constructor(
    /** The config keys involved, e.g. ['thresholds.green_rtt_ms', 'thresholds.yellow_rtt_ms']. */
    readonly keys: readonly string[],
    message: string,
  ) {
    super('WANCTL_CONFIG_STEERING_THRESHOLDS', message);
  }
}

/** A steering parameter is missing, of the wrong type or out of range. */
export class SteeringParamsError extends SteeringError {
  override name = 'SteeringParamsError';
  constructor(
    /** Dotted v1.3 config key path, e.g. 'confidence.recovery_threshold'. */
    readonly key: string,
    message: string,
  ) {
    super('WANCTL_CONFIG_STEERING_PARAMS', `${key}: ${message}`);
  }
}

/** The controller was driven out of order (programming error in the daemon shell). */
export class ControllerUsageError extends SteeringError {
  override name = 'ControllerUsageError';
  constructor(message: string) {
    super('WANCTL_STEERING_CONTROLLER_USAGE', message);
  }
}

/** A replay input line could not be used. */
export class ReplayInputError extends SteeringError {
  override name = 'ReplayInputError';
  constructor(
    /** 1-based line number in the input file. */
    readonly line: number,
    message: string,
  ) {
    super('WANCTL_REPLAY_INPUT', `input line ${line}: ${message}`);
  }
}
