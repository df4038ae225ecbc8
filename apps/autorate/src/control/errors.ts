/**
 * Base class of the control law's errors. Each carries a stable `code` (`WANCTL_<AREA>_<WHAT>`);
 * the exit status derives from it (`WANCTL_CONFIG_*` -> 2, others -> 1; see @wanctl/runtime).
 *
 * | code | class | meaning |
 * |---|---|---|
 * | `WANCTL_CONFIG_CONTROL_PARAMS` | ControlParamsError | a control parameter (from the config) is out of range |
 * | `WANCTL_CONFIG_RATE_BOUNDS` | RateBoundsError | a floor is above its ceiling |
 * | `WANCTL_REPLAY_INPUT_INVALID` | ReplayInputError | a replay input line is not usable |
 */
export abstract class ControlError extends Error {
  abstract readonly code: string;
}
