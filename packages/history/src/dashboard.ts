/**
 * The dashboard: a page (assets/ of this package, no CDN) and a small JSON API over one or more
 * store files. Served by `wanctl-history serve`, or mounted by a daemon on its own loopback port
 * ({@link dashboardRoutes} fits `startHttpServer`'s `routes`).
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import { jsonResponse, type RouteHandler, type RunningHttpServer, startHttpServer } from '@wanctl/runtime';
import { errorMessage, HistoryError, HistoryNotFoundError } from './errors.js';
import { HistoryReader } from './reader.js';
import type { Resolution } from './schema.js';
import { summarizeEvenings } from './summary.js';

/** The store files a dashboard shows, opened on first use (a daemon's file may not exist yet). */
export class DashboardStores {
  private readonly readers = new Map<string, HistoryReader>();
  constructor(readonly files: readonly string[]) {}

  /** Readers of the files that can be opened now, and the problems of the others. */
  open(): { readers: HistoryReader[]; problems: Array<{ file: string; code: string; error: string }> } {
    const readers: HistoryReader[] = [];
    const problems: Array<{ file: string; code: string; error: string }> = [];
    for (const f of this.files) {
      let r = this.readers.get(f);
      if (!r) {
        try {
          r = HistoryReader.open(f);
          this.readers.set(f, r);
        } catch (e) {
          problems.push({
            file: f,
            code: e instanceof HistoryError ? e.code : 'WANCTL_HISTORY_UNAVAILABLE',
            error: errorMessage(e),
          });
          continue;
        }
      }
      readers.push(r);
    }
    return { readers, problems };
  }

  /** Forgets a reader that failed (the file may have been moved aside and recreated). */
  drop(r: HistoryReader): void {
    try {
      r.close();
    } catch {
      // already broken
    }
    this.readers.delete(r.file);
  }

  close(): void {
    for (const r of this.readers.values()) r.close();
    this.readers.clear();
  }
}

function assetsDir(): string {
  return fileURLToPath(new URL('../assets/', import.meta.url));
}

const ASSETS: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/app.css': 'app.css',
};
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

class BadRequest extends Error {}

function query(req: IncomingMessage): URLSearchParams {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
}

function num(q: URLSearchParams, key: string, dflt?: number): number {
  const v = q.get(key);
  if (v === null || v === '') {
    if (dflt === undefined) throw new BadRequest(`missing query parameter ${key}`);
    return dflt;
  }
  const n = Number(v);
  if (!Number.isFinite(n)) throw new BadRequest(`query parameter ${key}: "${v}" is not a number`);
  return n;
}

/** The range of a request: `from`, `to` in Unix seconds (default: the last hour). */
function range(q: URLSearchParams): { from: number; to: number } {
  const now = Math.floor(Date.now() / 1000);
  const to = num(q, 'to', now);
  const from = num(q, 'from', to - 3600);
  if (from >= to) throw new BadRequest('from must be before to');
  if (to - from > 3660 * 86400) throw new BadRequest('a range is at most 10 years');
  return { from, to };
}

/** Options of {@link dashboardRoutes}. */
export interface DashboardOptions {
  /** Page title (default "wanctl history"). */
  title?: string;
}

/**
 * The dashboard's routes: `/` (page), `/app.js`, `/app.css`, `/api/meta`, `/api/series`,
 * `/api/events`, `/api/summary`. For a daemon:
 * `startHttpServer({ host, port, routes: dashboardRoutes(new DashboardStores([historyFile])) })`.
 */
export function dashboardRoutes(
  stores: DashboardStores,
  options: DashboardOptions = {},
): Record<string, RouteHandler> {
  const dir = assetsDir();
  const files = new Map<string, Buffer>();
  for (const f of new Set(Object.values(ASSETS))) {
    let body = readFileSync(dir + f);
    if (f === 'index.html' && options.title)
      body = Buffer.from(body.toString('utf8').replaceAll('wanctl history', escapeHtml(options.title)));
    files.set(f, body);
  }
  const routes: Record<string, RouteHandler> = {};
  for (const [path, f] of Object.entries(ASSETS)) {
    routes[path] = () => ({
      status: 200,
      body: files.get(f) as Buffer,
      contentType: TYPES[f.split('.').pop() as string] as string,
    });
  }
  const api =
    (fn: (q: URLSearchParams) => unknown): RouteHandler =>
    (req) => {
      try {
        return jsonResponse(200, fn(query(req)));
      } catch (e) {
        if (e instanceof BadRequest) return jsonResponse(400, { error: e.message });
        if (e instanceof HistoryError && !(e instanceof HistoryNotFoundError))
          return jsonResponse(503, { error: e.message, code: e.code });
        throw e;
      }
    };
  const withReaders = <T>(fn: (readers: HistoryReader[]) => T): T => {
    const { readers } = stores.open();
    try {
      return fn(readers);
    } catch (e) {
      // a file replaced under us (moved aside and recreated): reopen next time
      for (const r of readers) stores.drop(r);
      throw e;
    }
  };
  routes['/api/meta'] = api(() => {
    const { readers, problems } = stores.open();
    return {
      now: Date.now(),
      stores: readers.map((r) => ({ wan: r.wan, kind: r.kind, file: r.file, extent: r.extent() })),
      problems,
    };
  });
  routes['/api/series'] = api((q) => {
    const { from, to } = range(q);
    const wan = q.get('wan');
    const points = Math.min(20_000, Math.max(10, num(q, 'points', 2000)));
    const res = q.get('resolution');
    if (res !== null && !['1', '60', '3600'].includes(res))
      throw new BadRequest('resolution is 1, 60 or 3600');
    return withReaders((readers) => ({
      series: readers
        .filter((r) => r.kind !== 'steering' && (wan === null || r.wan === wan))
        .map((r) =>
          r.series(from, to, {
            maxPoints: points,
            ...(res ? { resolution: Number(res) as Resolution } : {}),
          }),
        ),
    }));
  });
  routes['/api/events'] = api((q) => {
    const { from, to } = range(q);
    const kinds = q.get('kinds')?.split(',').filter(Boolean);
    return withReaders((readers) => ({
      events: readers
        .flatMap((r) =>
          r.events(from * 1000, to * 1000, kinds).map((e) => ({ ...e, wan: r.wan, store: r.kind })),
        )
        .sort((a, b) => a.t - b.t),
      steeringAtStart: readers
        .filter((r) => r.kind === 'steering')
        .map((r) => ({ wan: r.wan, state: r.lastEventBefore('steering', from * 1000)?.to ?? null })),
    }));
  });
  routes['/api/summary'] = api((q) => {
    const { from, to } = range(q);
    const startHour = num(q, 'start_hour', 18);
    const endHour = num(q, 'end_hour', 24);
    return withReaders((readers) => ({
      evenings: summarizeEvenings(readers, from * 1000, to * 1000, { startHour, endHour }),
    }));
  });
  return routes;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Options of {@link createDashboardServer}. */
export interface DashboardServerOptions extends DashboardOptions {
  /** Store files to show. */
  files: readonly string[];
  /** Default 127.0.0.1 (loopback). */
  host?: string;
  /** 0 picks a free port. */
  port: number;
}

/** A running dashboard server. */
export interface DashboardServer extends RunningHttpServer {
  readonly stores: DashboardStores;
}

/**
 * Serves the dashboard over HTTP (GET only; loopback by default).
 * @throws {HttpBindError} when the port cannot be bound
 */
export async function createDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const stores = new DashboardStores(options.files);
  const server = await startHttpServer({
    host: options.host ?? '127.0.0.1',
    port: options.port,
    routes: dashboardRoutes(stores, options),
  });
  return {
    get host() {
      return server.host;
    },
    get port() {
      return server.port;
    },
    get url() {
      return server.url;
    },
    get connections() {
      return server.connections;
    },
    stores,
    close: async () => {
      await server.close();
      stores.close();
    },
  };
}
