/** @wanctl/autorate: the control law, the daemon and its command line. */

export * from './config-params.js';
export * from './control/index.js';
export { AutorateDaemon, type DaemonOptions, startAutorateDaemon, VERSION } from './daemon/daemon.js';
export {
  type FallbackChecks,
  type MeasurementOptions,
  type SampleInfo,
  WanMeasurement,
} from './daemon/measurement.js';
export { AutorateMetrics, type WanMetrics } from './daemon/metrics.js';
export { Recorder } from './daemon/recorder.js';
export {
  type MeasurementSource,
  type RateWriter,
  WanRunner,
  type WanRunnerOptions,
} from './daemon/wan-runner.js';
export { main, normaliseArgv } from './main.js';
export { type ReplayRunOptions, runReplay } from './replay-cli.js';
