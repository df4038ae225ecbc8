/**
 * @wanctl/steering — the wanctl-steering daemon: the pure control law (./control) and the shell
 * around it (daemon/, CLI, replay).
 * @packageDocumentation
 */

export { routerClientOptions, steeringParamsFromConfig } from './config-params.js';
export * from './control/index.js';
export {
  type BaselineReading,
  type BaselineStatus,
  DEFAULT_BASELINE_STALE_MS,
  readAutorateBaseline,
} from './daemon/baseline.js';
export {
  RULE_CHECK_PERIOD_MS,
  SteeringDaemon,
  type SteeringDaemonOptions,
  startSteeringDaemon,
} from './daemon/daemon.js';
export { FAILED_CYCLES_DEGRADED } from './daemon/health.js';
export { SteeringMetrics } from './daemon/metrics.js';
export { STALE_DECISION_MS } from './daemon/restore.js';
export { type RttMeasurement, RttMeasurer, type RttMeasurerOptions } from './daemon/rtt.js';
export { type RuleObservation, type RuleState, SteeringRule } from './daemon/rule.js';
export { RuleSync } from './daemon/rule-sync.js';
export { RuleVerifyError, SteeringError } from './errors.js';
export { loadConfig, main, normaliseArgv, validationSummary } from './main.js';
export { type ReplayRunOptions, runReplay } from './replay-cli.js';
export { VERSION } from './version.js';
