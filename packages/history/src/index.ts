/**
 * @wanctl/history: the embedded history store of a wanctl daemon (one SQLite file per WAN),
 * its recorder (called each control cycle), its queries, the dashboard and `wanctl-history`.
 * @packageDocumentation
 */

export { main as historyCliMain } from './cli-main.js';
export {
  createDashboardServer,
  type DashboardOptions,
  type DashboardServer,
  type DashboardServerOptions,
  DashboardStores,
  dashboardRoutes,
} from './dashboard.js';
export {
  errorCode,
  HistoryCorruptError,
  HistoryError,
  type HistoryErrorCode,
  HistoryNotFoundError,
  HistoryUnavailableError,
  HistoryUsageError,
} from './errors.js';
export { DEFAULT_MAX_SIZE_MB, DEFAULT_RETENTION, Maintenance, type Retention } from './maintenance.js';
export { HISTORY_DEGRADED_METRIC, registerHistoryMetrics } from './metrics.js';
export { HistoryReader, type SeriesOptions, type SeriesResult } from './reader.js';
export {
  type CycleSample,
  type HistoryHealth,
  HistoryRecorder,
  logHistoryStatus,
  type RecorderOptions,
  type ZoneLike,
  zoneNumber,
} from './recorder.js';
export {
  EVENT_KINDS,
  type EventKind,
  type HistoryEvent,
  type Resolution,
  SAMPLE_COLUMNS,
  type SampleColumn,
  type SampleRow,
  TIERS,
  ZONE,
  ZONE_NAMES,
} from './schema.js';
export {
  moveAside,
  openForReading,
  openForWriting,
  type Recovery,
  type StoreKind,
  type StoreMeta,
} from './store.js';
export {
  type EveningOptions,
  type EveningSummary,
  isSteeredState,
  steeredMinutes,
  summarizeEvenings,
} from './summary.js';
export { parseWhen, WHEN_HELP } from './when.js';
