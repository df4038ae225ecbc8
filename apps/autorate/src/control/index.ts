/** Public API of the pure autorate control law. */

export {
  ADAPTIVE_DEFAULTS,
  AdaptiveController,
  type AdaptiveDirectionParams,
  type AdaptiveDirectionResult,
  type AdaptiveInput,
  type AdaptiveParams,
  type AdaptiveResult,
  adaptiveParamsFromControl,
  type LoadClass,
  MAX_REFLECTORS,
  MIN_RATE_FRACTION,
  type RateAction,
  validateAdaptiveParams,
} from './adaptive.js';
export { ControlError } from './errors.js';
export {
  type BaselineOutcome,
  type EwmaState,
  ewmaStep,
  idleBaselineStep,
  isBaselineInBounds,
  rttDelta,
  updateEwmas,
} from './ewma.js';
export {
  type ConnectivityResult,
  type FallbackAction,
  type FallbackDecision,
  type FallbackFailReason,
  handleIcmpFailure,
  isValidRtt,
  medianOfValid,
  verifyConnectivityFallback,
} from './measure.js';
export {
  CONTROL_DEFAULTS,
  type ControlParams,
  ControlParamsError,
  type DownloadParams,
  type FallbackMode,
  type FallbackParams,
  lowestDownloadFloorBps,
  lowestUploadFloorBps,
  type ThresholdParams,
  type UploadParams,
  validateControlParams,
  type WriteBudgetParams,
} from './params.js';
export { DownloadController, type StreakState, UploadController, type Zone } from './queue.js';
export { enforceRateBounds, RateBoundsError, RateLimiter } from './rate.js';
export {
  type ControlLawName,
  parseReplayInput,
  type ReplayInput,
  ReplayInputError,
  type ReplayOptions,
  type ReplayOutputLine,
  ReplaySession,
  replay,
  replaySync,
} from './replay.js';
export {
  type ControllerSnapshot,
  type CycleFailure,
  type CycleInput,
  type CycleResult,
  type RestoreReport,
  type SampleSource,
  WanController,
  type WriteRequest,
} from './wan-controller.js';
export {
  validateWritePolicy,
  WRITE_POLICY_DEFAULTS,
  WritePolicy,
  type WritePolicyParams,
} from './write-policy.js';
