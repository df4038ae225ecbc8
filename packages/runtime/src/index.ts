/**
 * @wanctl/runtime — what the wanctl daemons share at run time: logging, state and lock files,
 * health/metrics HTTP, systemd notify and watchdog, signals, and the cycle scheduler.
 * @packageDocumentation
 */

export { type JsonLinesOptions, replayProblem, runCommand, runJsonLines } from './cli.js';
export {
  type EndpointSettings,
  type Endpoints,
  type EndpointsOptions,
  startEndpoints,
} from './endpoints.js';
export {
  CODE_BY_CLASS_NAME,
  DaemonStartError,
  errorCode,
  exitStatusForCode,
  FATAL_LABEL_BY_CODE,
  RuntimeError,
  UsageError,
} from './errors.js';
export {
  type CliIo,
  commanderExitCode,
  EXIT_STATUS_HELP,
  type ExitCode,
  exitCodeFor,
  type FatalKind,
  fatalKind,
  guardBrokenPipes,
  isBrokenPipe,
  processIo,
  type RunCliHooks,
  reportFatal,
  runCli,
} from './exit.js';
export {
  DaemonHost,
  type DaemonHostOptions,
  type HostContext,
  type HostedDaemon,
  type HostedEndpoints,
  startDaemon,
} from './host.js';
export {
  createMetricsRegistry,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  type HealthBody,
  HealthServer,
  type HealthServerOptions,
  HttpBindError,
  type HttpResponse,
  type HttpServerOptions,
  jsonResponse,
  type MetricsRegistryOptions,
  metricsRoute,
  type RouteHandler,
  type RunningHttpServer,
  startHttpServer,
  startMetricsServer,
} from './http.js';
export {
  type AcquireLockOptions,
  acquirePidLock,
  DEFAULT_LOCK_STALE_MS,
  isPidAlive,
  LockError,
  LockHeldError,
  type PidLock,
} from './lock.js';
export {
  createLogger,
  type LogFields,
  LogFileError,
  type LogFormat,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  LogThrottle,
  type LogThrottleOptions,
  logFormatFromEnv,
  redactText,
  redactValue,
  registerSecret,
} from './logger.js';
export {
  createSdNotify,
  type NotifyTransport,
  type SdNotify,
  SdNotifyError,
  type SdNotifyOptions,
  type SdNotifyStats,
  systemdNotifyTransport,
  Watchdog,
  type WatchdogOptions,
} from './sd-notify.js';
export { type HandledSignal, installSignalHandlers, type SignalHandlerOptions } from './signals.js';
export {
  backupPath,
  DIR_MODE,
  ensureDir,
  ensureDirSync,
  type JsonValidator,
  type RecoveredJson,
  type RecoverySource,
  readJsonWithRecovery,
  StateStore,
  type StateStoreFailure,
  type StateStoreOptions,
  type StateStoreStats,
  StateWriteError,
  type WriteJsonOptions,
  writeJsonAtomic,
} from './state-file.js';
export { type RestoredState, readStateObject } from './state-restore.js';
export {
  type Clock,
  createTicker,
  LatencyStats,
  systemClock,
  type Ticker,
  type TickerOptions,
  type TickerStats,
  type TickInfo,
} from './ticker.js';
export { ZONE_VALUE, type ZoneName, zoneValue } from './zones.js';
