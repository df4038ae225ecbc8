/**
 * The `history` section, the same for both config kinds: the embedded per-WAN history store
 * (`@wanctl/history`) and its dashboard. Kept in its own file so the two kinds share it.
 */
import { boolAt, numAt, strAt } from './context.js';
import type { JsonSchema } from './schemas.js';
import type { HistoryConfig } from './types.js';

export type { HistoryConfig };

/** Default of `history.file`: `/var/lib/wanctl/<wan_name>_history.db`. */
export const historyFileDefault = (wanName: string): string => `/var/lib/wanctl/${wanName}_history.db`;

const n = (type: 'number' | 'integer', description: string, extra: Record<string, unknown>): JsonSchema => ({
  type,
  description,
  ...extra,
});

/** JSON Schema of the `history` section (`dashboardPort`: the default dashboard port of this kind). */
export function historySchema(dashboardPort: number): JsonSchema {
  return {
    type: 'object',
    description:
      'History (one SQLite file per WAN): one-second summaries and events, downsampled to minutes and hours, bounded by age and size. Written off the control path; a broken or full store degrades history, never the control loop.',
    additionalProperties: false,
    properties: {
      enabled: { type: 'boolean', description: 'Record history.', default: true },
      file: {
        type: 'string',
        minLength: 1,
        description: 'SQLite file of this daemon. Default: /var/lib/wanctl/<wan_name>_history.db.',
      },
      flush_interval_sec: n('number', 'Seconds between batched writes (one transaction each).', {
        minimum: 1,
        maximum: 60,
        default: 5,
      }),
      retention: {
        type: 'object',
        description: 'How long each resolution is kept (by age).',
        additionalProperties: false,
        properties: {
          raw_hours: n('number', 'Hours of one-second rows kept.', { minimum: 1, maximum: 720, default: 48 }),
          minute_days: n('number', 'Days of one-minute rows kept.', {
            minimum: 1,
            maximum: 366,
            default: 30,
          }),
          hour_days: n('number', 'Days of one-hour rows (and events) kept.', {
            minimum: 1,
            maximum: 3660,
            default: 400,
          }),
        },
      },
      max_size_mb: n('number', 'Size cap of the file in MB: the oldest rows go first when it is exceeded.', {
        minimum: 4,
        maximum: 100000,
        default: 256,
      }),
      dashboard: {
        type: 'object',
        description: 'The history dashboard page served by the daemon (loopback by default).',
        additionalProperties: false,
        properties: {
          enabled: { type: 'boolean', description: 'Serve the dashboard.', default: false },
          host: { type: 'string', minLength: 1, description: 'Address to listen on.', default: '127.0.0.1' },
          port: n('integer', 'TCP port to listen on.', {
            minimum: 1,
            maximum: 65535,
            default: dashboardPort,
          }),
        },
      },
    },
  };
}

/** The normalised `history` section. */
export function historyConfig(data: unknown, wanName: string, dashboardPort: number): HistoryConfig {
  return {
    enabled: boolAt(data, 'history.enabled') ?? true,
    file: strAt(data, 'history.file') ?? historyFileDefault(wanName),
    flushIntervalSec: numAt(data, 'history.flush_interval_sec') ?? 5,
    retention: {
      rawHours: numAt(data, 'history.retention.raw_hours') ?? 48,
      minuteDays: numAt(data, 'history.retention.minute_days') ?? 30,
      hourDays: numAt(data, 'history.retention.hour_days') ?? 400,
    },
    maxSizeMb: numAt(data, 'history.max_size_mb') ?? 256,
    dashboard: {
      enabled: boolAt(data, 'history.dashboard.enabled') ?? false,
      host: strAt(data, 'history.dashboard.host') ?? '127.0.0.1',
      port: numAt(data, 'history.dashboard.port') ?? dashboardPort,
    },
  };
}
