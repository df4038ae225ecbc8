/**
 * The health and metrics endpoints of a daemon, started the v1.3 way: a port that cannot be bound
 * (typically two WAN processes of the systemd template both on the default 9101) is a WARNING and
 * the daemon runs on without that endpoint (v1.3's `health_check.py` did the same). The warning names
 * the config key to change; the systemd STATUS= line carries it too (see {@link Endpoints.notes}).
 * A running server never takes the daemon down (later socket errors are absorbed by the server).
 * Shared by both daemons (autorate and steering).
 */
import type { Registry } from 'prom-client';
import {
  type HealthBody,
  HealthServer,
  HttpBindError,
  type RunningHttpServer,
  startMetricsServer,
} from './http.js';

/** One endpoint's settings, as in the config's `health_check` / `metrics` sections. */
export interface EndpointSettings {
  enabled: boolean;
  host: string;
  port: number;
}

export interface EndpointsOptions {
  /** Config file, named in the warning. */
  file: string;
  /** `health_check`. */
  health: EndpointSettings;
  /** The body of `/health` (200 when `status === 'healthy'`, else 503). */
  provider: () => HealthBody | Promise<HealthBody>;
  /** `metrics`. */
  metrics: EndpointSettings;
  /** Needed when metrics are enabled (no registry: metrics are not served). */
  registry: Registry | null;
  /** Also serve `/metrics` on the health port (steering). */
  metricsOnHealthPort?: boolean;
  log: {
    info(msg: string, fields?: Record<string, unknown>): void;
    warn(msg: string, fields?: Record<string, unknown>): void;
  };
}

export interface Endpoints {
  /** The health server, or null when disabled or not bound. */
  health: HealthServer | null;
  /** The metrics server, or null when disabled, without a registry or not bound. */
  metrics: RunningHttpServer | null;
  /** One short sentence per endpoint that could not be served (for STATUS= and /health). */
  notes: string[];
  /** Closes whatever was started; never rejects. */
  close(): Promise<void>;
}

/**
 * Starts the metrics server (when `metrics.enabled` and a registry is given), then the health
 * server (when `health.enabled`). Never throws: an endpoint that cannot be started is logged as a
 * warning naming the config key (`metrics.port` / `health_check.port`) and the file, noted in
 * {@link Endpoints.notes}, and left null.
 *
 * @example
 * const ep = await startEndpoints({ file, health: cfg.healthCheck, metrics: cfg.metrics, registry,
 *   provider: () => ({ status: 'healthy' }), log });
 * if (ep.notes.length) await notify.status(`Running; ${ep.notes.join('; ')}`);
 * // at shutdown
 * await ep.close();
 */
export async function startEndpoints(o: EndpointsOptions): Promise<Endpoints> {
  const notes: string[] = [];
  const unbound = (what: string, key: string, ep: EndpointSettings, e: unknown): void => {
    notes.push(`${what} not served (${ep.host}:${ep.port} unavailable)`);
    o.log.warn(
      `${what} endpoint NOT served: ${e instanceof HttpBindError ? e.message : `cannot start it: ${(e as Error)?.message ?? String(e)}`}; the daemon runs without it (as v1.3). ` +
        `To serve it, set ${key} in ${o.file} to a free port (each WAN process needs its own).`,
      { key, port: ep.port },
    );
  };
  let health: HealthServer | null = null;
  let metrics: RunningHttpServer | null = null;
  if (o.metrics.enabled && o.registry) {
    try {
      metrics = await startMetricsServer({
        host: o.metrics.host,
        port: o.metrics.port,
        registry: o.registry,
      });
      o.log.info(`metrics at http://${o.metrics.host}:${metrics.port}/metrics`);
    } catch (e) {
      unbound('metrics', 'metrics.port', o.metrics, e);
    }
  }
  if (o.health.enabled) {
    try {
      health = await HealthServer.start({
        host: o.health.host,
        port: o.health.port,
        provider: o.provider,
        ...(o.metricsOnHealthPort && o.metrics.enabled && o.registry ? { registry: o.registry } : {}),
      });
      o.log.info(`health at http://${o.health.host}:${health.port}/health`);
    } catch (e) {
      unbound('health', 'health_check.port', o.health, e);
    }
  }
  return {
    health,
    metrics,
    notes,
    close: async () => {
      await Promise.allSettled([health?.close(), metrics?.close()]);
    },
  };
}
