/** Typed errors of the steering control law. Each says what was wrong and what to change. */

/** `ewmaUpdate` rejected its input (v1.3 raised ValueError with the same message). */
export class EwmaError extends Error {
  override readonly name = 'EwmaError';
  constructor(
    readonly kind: 'alpha_out_of_range' | 'input_not_finite' | 'input_out_of_bounds' | 'result_not_finite',
    message: string,
  ) {
    super(message);
  }
}

/** A StateThresholds cross-field check failed (v1.3 used `assert`, which vanished under python -O). */
export class StateThresholdsError extends Error {
  override readonly name = 'StateThresholdsError';
  constructor(
    /** The config keys involved, e.g. ['thresholds.green_rtt_ms', 'thresholds.yellow_rtt_ms']. */
    readonly keys: readonly string[],
    message: string,
  ) {
    super(message);
  }
}

/** A steering parameter is missing, of the wrong type or out of range. */
export class SteeringParamsError extends Error {
  override readonly name = 'SteeringParamsError';
  constructor(
    /** Dotted v1.3 config key path, e.g. 'confidence.recovery_threshold'. */
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
  }
}

/** The controller was driven out of order (programming error in the daemon shell). */
export class ControllerUsageError extends Error {
  override readonly name = 'ControllerUsageError';
}

/** A replay input line could not be used. */
export class ReplayInputError extends Error {
  override readonly name = 'ReplayInputError';
  constructor(
    /** 1-based line number in the input file. */
    readonly line: number,
    message: string,
  ) {
    super(`input line ${line}: ${message}`);
  }
}
