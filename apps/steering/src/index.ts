/**
 * @wanctl/steering — the wanctl-steering daemon: the pure control law (./control) and the shell
 * around it (daemon, CLI, replay).
 * @packageDocumentation
 */

export {
  type BaselineReading,
  type BaselineStatus,
  DEFAULT_BASELINE_STALE_MS,
  readAutorateBaseline,
} from './baseline.js';
export { routerClientOptions, steeringParamsFromConfig } from './config-params.js';
export * from './control/index.js';
export {
  FAILED_CYCLES_DEGRADED,
  RULE_CHECK_PERIOD_MS,
  STALE_DECISION_MS,
  SteeringDaemon,
  type SteeringDaemonOptions,
} from './daemon.js';
export { DaemonStartError, RuleVerifyError, UsageError } from './errors.js';
export { loadConfig, main, normaliseArgv, reportFatal, validationSummary } from './main.js';
export { CONGESTION_STATE_VALUE, SteeringMetrics } from './metrics.js';
export { openInput, type ReplayRunOptions, runReplayStream } from './replay-cli.js';
export { type RttMeasurement, RttMeasurer, type RttMeasurerOptions, retryPlan } from './rtt.js';
export { type RuleObservation, type RuleState, SteeringRule } from './rule.js';
export { VERSION } from './version.js';
