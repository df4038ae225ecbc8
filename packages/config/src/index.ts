/**
 * @wanctl/config: loads wanctl YAML configs into validated, typed, fully defaulted and
 * normalised objects, or fails with every problem at once.
 *
 * @packageDocumentation
 */
export { describe as describeValue, isValidHost } from './context.js';
export { expandEnv } from './env.js';
export {
  ConfigAliasLimitError,
  ConfigError,
  type ConfigErrorCode,
  type ConfigProblem,
  ConfigReadError,
  ConfigTooLargeError,
  formatProblem,
  MAX_ALIAS_EXPANSION,
  MAX_CONFIG_BYTES,
} from './errors.js';
export { type HistoryConfig, historyFileDefault } from './history.js';
export {
  detectConfigKind,
  type HistorySettings,
  loadAutorateConfig,
  loadConfigFile,
  loadHistorySettings,
  loadSteeringConfig,
  parseAutorateConfig,
  parseConfigText,
  parseHistorySettings,
  parseSteeringConfig,
} from './load.js';
export { type ReferenceRow, referenceRows } from './reference.js';
export {
  autorateSchema,
  COMMENT_PATTERN,
  IDENTIFIER_PATTERN,
  type JsonSchema,
  SSH_FINGERPRINT_PATTERN,
  schemaAt,
  schemaKeyPaths,
  steeringSchema,
  TLS_FINGERPRINT_PATTERN,
} from './schemas.js';
export { REDACTED_TEXT, Secret } from './secret.js';
export { levenshtein, suggest } from './suggest.js';
export type {
  AutorateConfig,
  AutorateThresholds,
  CakeDiffserv,
  CakeOptions,
  CakeParamsConfig,
  CommonConfig,
  ConfidenceConfig,
  ConfigKind,
  EndpointConfig,
  FallbackConfig,
  LinuxQdiscKind,
  LoadedConfig,
  LoadOptions,
  ParseOptions,
  ProbeConfig,
  QueueLimits,
  RouterConfig,
  RouterTransport,
  SteeringConfig,
  SteeringThresholds,
  Transport,
  WanStateConfig,
} from './types.js';
