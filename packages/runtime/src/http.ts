/**
 * Health and metrics over HTTP on node:http (GET only, loopback by default).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** What a route returns. */
export interface HttpResponse {
  status: number;
  body: string | Buffer;
  /** Default `application/json`. */
  contentType?: string;
}

/** A route: path (exact match, query string ignored) -> handler. */
export type RouteHandler = (req: IncomingMessage) => HttpResponse | Promise<HttpResponse>;

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions {
  /** Default `127.0.0.1`. */
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
  routes: Record<string, RouteHandler>;
  /**
   * Most connections open at once (default {@link DEFAULT_MAX_CONNECTIONS}). A connection beyond
   * it closes the oldest connection that has no request in progress (or, if every one is busy,
   * is itself closed), so an idle or slow client can neither exhaust the daemon's file
   * descriptors nor lock the health check out.
   */
  maxConnections?: number;
  /**
   * A connection with no traffic for this long is closed; the request headers must arrive within
   * it as well (default {@link DEFAULT_IDLE_TIMEOUT_MS}).
   */
  idleTimeoutMs?: number;
}

/** Default cap on simultaneous connections of a health or metrics server. */
export const DEFAULT_MAX_CONNECTIONS = 32;
/** Default idle / header timeout of a health or metrics connection (ms). */
export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;

/** A listening server. */
export interface RunningHttpServer {
  readonly host: string;
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  /** Connections open now (never more than `maxConnections`). */
  readonly connections: number;
  /** Stop listening and close idle keep-alive connections. */
  close(): Promise<void>;
}

/** The server could not listen (port in use, permission, bad address). */
export class HttpBindError extends Error {
  override readonly name = 'HttpBindError';
  constructor(
    readonly host: string,
    readonly port: number,
    readonly code: string,
  ) {
    const why =
      code === 'EADDRINUSE'
        ? 'the port is already in use (another wanctl instance or another program); choose another port in the config'
        : code === 'EACCES'
          ? 'permission denied (ports below 1024 need privileges)'
          : code === 'EADDRNOTAVAIL'
            ? 'the address is not configured on this host'
            : code;
    super(`cannot listen on ${host}:${port}: ${why} (${code})`);
  }
}

/** JSON response helper. */
export function jsonResponse(status: number, body: unknown): HttpResponse {
  return { status, body: safeJson(body), contentType: 'application/json' };
}

function safeJson(body: unknown): string {
  return JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

/**
 * Start an HTTP server serving `routes` for GET and HEAD. Unknown paths get 404
 * `{"error":"Not found"}`, other methods 405; a handler that throws gets 500 with the error
 * message (the server never crashes).
 *
 * @throws {HttpBindError} if it cannot listen
 */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const host = options.host ?? '127.0.0.1';
  const routes = new Map(Object.entries(options.routes));
  const maxConnections = Math.max(1, options.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
  const idleMs = Math.max(100, options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
  /** Open sockets, oldest first; the value is true while a request on it is in progress. */
  const open = new Map<Socket, boolean>();
  const server: Server = createServer(
    {
      // a client must send its headers (and the whole request) promptly; checked every second
      headersTimeout: idleMs,
      requestTimeout: idleMs,
      connectionsCheckingInterval: Math.min(1000, idleMs),
    },
    (req, res) => {
      open.set(req.socket, true);
      res.once('close', () => {
        if (open.has(req.socket)) open.set(req.socket, false);
      });
      const send = (r: HttpResponse) => {
        const body = typeof r.body === 'string' ? Buffer.from(r.body, 'utf8') : r.body;
        res.writeHead(r.status, {
          'Content-Type': r.contentType ?? 'application/json',
          'Content-Length': body.length,
          'Cache-Control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        send(jsonResponse(405, { error: 'Method not allowed' }));
        return;
      }
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const handler = routes.get(q === -1 ? url : url.slice(0, q));
      if (!handler) {
        send(jsonResponse(404, { error: 'Not found' }));
        return;
      }
      Promise.resolve()
        .then(() => handler(req))
        .then(send, (err: unknown) =>
          send(jsonResponse(500, { error: (err as Error)?.message ?? String(err) })),
        )
        .catch(() => res.destroy());
    },
  );
  server.keepAliveTimeout = Math.min(5_000, idleMs);
  server.timeout = idleMs; // socket inactivity: closed (no 'timeout' listener)
  server.on('connection', (socket: Socket) => {
    open.set(socket, false);
    socket.once('close', () => open.delete(socket));
    if (open.size <= maxConnections) return;
    // over the cap: make room by closing the oldest connection that is not serving a request
    for (const [s, busy] of open) {
      if (!busy && s !== socket) {
        open.delete(s);
        s.destroy();
        return;
      }
    }
    open.delete(socket);
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(new HttpBindError(host, options.port, err.code ?? err.message));
    };
    server.once('error', onError);
    server.listen(options.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', () => {});
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    url: `http://${urlHost}:${port}`,
    get connections() {
      return open.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

/** Options of {@link createMetricsRegistry}. */
export interface MetricsRegistryOptions {
  /** Also collect prom-client's process metrics (CPU, memory, event loop lag). Default `true`. */
  defaultMetrics?: boolean;
  /**
   * Prefix of the default metrics. Default none: their standard names (`process_*`, `nodejs_*`),
   * which stock Node.js dashboards and alerts expect.
   */
  prefix?: string;
  /** Labels added to every series (e.g. `{daemon: 'autorate'}`). */
  labels?: Record<string, string>;
  /**
   * How often the event-loop lag is sampled (ms). Each sample is a timer that wakes the process,
   * so a daemon that is otherwise idle for seconds should use a coarse period (e.g. 100).
   * Default 10 (prom-client's).
   */
  eventLoopPrecisionMs?: number;
}

/**
 * A fresh prom-client Registry for one daemon (never the global one, so tests can run several).
 * Register metrics on it with `new Gauge({name, help, registers: [registry]})`.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.labels) registry.setDefaultLabels(options.labels);
  if (options.defaultMetrics !== false) {
    collectDefaultMetrics({
      register: registry,
      prefix: options.prefix ?? '',
      ...(options.eventLoopPrecisionMs !== undefined
        ? { eventLoopMonitoringPrecision: options.eventLoopPrecisionMs }
        : {}),
    });
  }
  return registry;
}

/** A route serving `registry` in the Prometheus text format. */
export function metricsRoute(registry: Registry): RouteHandler {
  return async () => ({
    status: 200,
    body: await registry.metrics(),
    contentType: registry.contentType,
  });
}

/** A health document: `status` decides the HTTP code (200 for `healthy`, else 503). */
export interface HealthBody {
  status: 'healthy' | 'degraded' | (string & {});
  [key: string]: unknown;
}

/** Options of {@link HealthServer.start}. */
export interface HealthServerOptions {
  /** Default `127.0.0.1`. */
  host?: string;
  port: number;
  /** Builds the health document on each request. If it throws, the answer is 503 with the error. */
  provider: () => HealthBody | Promise<HealthBody>;
  /** Also serve `/metrics` from this registry on the same port. */
  registry?: Registry;
  /** Extra routes. */
  routes?: Record<string, RouteHandler>;
}

/**
 * Health endpoint: `GET /` and `GET /health` answer the provider's JSON with 200 when
 * `status === 'healthy'`, else 503. Optional `/metrics`.
 */
export class HealthServer {
  private constructor(private readonly server: RunningHttpServer) {}

  /** @throws {HttpBindError} if the port cannot be bound */
  static async start(options: HealthServerOptions): Promise<HealthServer> {
    const health: RouteHandler = async () => {
      try {
        const body = await options.provider();
        return jsonResponse(body.status === 'healthy' ? 200 : 503, body);
      } catch (err) {
        return jsonResponse(503, { status: 'error', error: (err as Error)?.message ?? String(err) });
      }
    };
    const routes: Record<string, RouteHandler> = { ...options.routes, '/': health, '/health': health };
    if (options.registry) routes['/metrics'] = metricsRoute(options.registry);
    const server = await startHttpServer({ host: options.host ?? '127.0.0.1', port: options.port, routes });
    return new HealthServer(server);
  }

  get port(): number {
    return this.server.port;
  }
  get url(): string {
    return this.server.url;
  }
  close(): Promise<void> {
    return this.server.close();
  }
}

/** Serve only `/metrics` (autorate's separate metrics port, 9100 by default). */
export function startMetricsServer(options: {
  host?: string;
  port: number;
  registry: Registry;
}): Promise<RunningHttpServer> {
  return startHttpServer({
    host: options.host ?? '127.0.0.1',
    port: options.port,
    routes: {
      '/metrics': metricsRoute(options.registry),
      '/health': () => ({ status: 200, body: 'OK\n', contentType: 'text/plain' }),
    },
  });
}
