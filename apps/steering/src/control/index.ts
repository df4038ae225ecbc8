export {
  assessCongestionState,
  type CongestionState,
  DEFAULT_STATE_THRESHOLDS,
  makeStateThresholds,
  type StateThresholds,
} from './assessment.js';
export { type CakeDelta, CakeDeltaTracker, type CakeSnapshot, checkCakeSnapshot } from './cake.js';
export {
  type CakeStateName,
  ConfidenceController,
  type ConfidenceDecision,
  type ConfidenceEvaluation,
  type ConfidenceParams,
  type ConfidenceScore,
  type ConfidenceSignals,
  type ConfidenceTimerState,
  computeConfidence,
  DEFAULT_CONFIDENCE_PARAMS,
  WAN_ZONE_RTT_EVIDENCE_MS,
  WAN_ZONE_WEIGHTS,
} from './confidence.js';
export {
  type ActionSource,
  CAKE_STATE_HISTORY_LEN,
  type CycleEvent,
  type CycleInput,
  type CycleMeasurements,
  LEGACY_GOOD_NAMES,
  type PendingCycle,
  type RestoreReport,
  type RuleAction,
  SteeringController,
  type SteeringCycleResult,
  type SteeringStateFile,
  type TransitionRecord,
} from './controller.js';
export {
  ControllerUsageError,
  EwmaError,
  ReplayInputError,
  StateThresholdsError,
  SteeringParamsError,
} from './errors.js';
export {
  calculateDelta,
  type EwmaPair,
  type EwmaSmoothingResult,
  ewmaUpdate,
  QUEUE_EWMA_MAX_PACKETS,
  RTT_EWMA_MAX_MS,
  updateEwmaSmoothing,
} from './ewma.js';
export { BASELINE_CHANGE_THRESHOLD_MS } from './measure.js';
export {
  resolveSteeringParams,
  type SteeringParams,
  type SteeringParamsInput,
  stateNames,
  steeringParamsFromV13Config,
} from './params.js';
export { pyFixed, pyFloatRepr } from './pyfmt.js';
export {
  parseReplayInput,
  pickRtt,
  type ReplayConfidenceFields,
  type ReplayInputLine,
  type ReplayOptions,
  type ReplayOutputLine,
  ROUTER_CALL_DISABLE,
  ROUTER_CALL_ENABLE,
  RTT_MAX_ATTEMPTS,
  replaySteering,
  replaySteeringJsonl,
  SteeringReplay,
  toReplayInput,
} from './replay.js';
export {
  type AutorateCongestion,
  DEFAULT_WAN_STATE_PARAMS,
  type DirectionCongestion,
  type WanEvaluation,
  type WanInputStatus,
  WanStateGate,
  type WanStateParams,
} from './wan-state.js';
