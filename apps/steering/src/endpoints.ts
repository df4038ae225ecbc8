/**
 * The health and metrics endpoints of a daemon, started the v1.3 way: a port that cannot be bound
 * (typically two WAN processes of the systemd template both on the default 9101) is a WARNING and
 * the daemon runs on without that endpoint (autorate-v1.3.md §5.1, §9 item 10). The warning names
 * the config key to change; the systemd STATUS= line carries it too (see {@link Endpoints.notes}).
 * A running server never takes the daemon down (later socket errors are absorbed by the runtime).
 * (The same module as autorate's src/daemon/endpoints.ts: a candidate for @wanctl/runtime.)
 */
import type { EndpointConfig } from '@wanctl/config';
import {
  type HealthBody,
  HealthServer,
  HttpBindError,
  type RunningHttpServer,
  startMetricsServer,
} from '@wanctl/runtime';
import type { Registry } from 'prom-client';

export interface EndpointsOptions {
  /** Config file, named in the warning. */
  file: string;
  /** `health_check`. */
  health: EndpointConfig;
  provider: () => HealthBody | Promise<HealthBody>;
  /** `metrics`. */
  metrics: EndpointConfig;
  /** Needed when metrics are enabled. */
  registry: Registry | null;
  /** Also serve `/metrics` on the health port (steering). */
  metricsOnHealthPort?: boolean;
  log: {
    info(msg: string, fields?: Record<string, unknown>): void;
    warn(msg: string, fields?: Record<string, unknown>): void;
  };
}

export interface Endpoints {
  health: HealthServer | null;
  metrics: RunningHttpServer | null;
  /** One short sentence per endpoint that could not be served (for STATUS= and /health). */
  notes: string[];
  close(): Promise<void>;
}

/** Starts what the config enables; never throws (a port that cannot be bound is a warning). */
export async function startEndpoints(o: EndpointsOptions): Promise<Endpoints> {
  const notes: string[] = [];
  const unbound = (what: string, key: string, ep: EndpointConfig, e: unknown): void => {
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
