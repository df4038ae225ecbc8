/**
 * Admin HTTP endpoint (JSON, no auth, loopback by default) so tests in other processes can switch
 * faults, read the request log and inspect/seed state:
 *   GET    /faults                 → {rest: {...}, ssh: {...}}
 *   PUT    /faults/rest|ssh        body FaultSettings (merged; false/0/null clears a key)
 *   DELETE /faults[/rest|ssh]      clear
 *   GET    /requests[?face=rest|ssh]   DELETE /requests
 *   GET    /state/<menu path>      items (e.g. /state/queue/tree)
 *   PUT    /traffic/<queue name>   body partial counters for the static traffic model
 *   POST   /state/<menu path>/insert   body {props, position?}: add an item at a print position → {id}
 *   POST   /state/<menu path>/renumber reassign `.id`s in print order → {old id: new id}
 *   POST   /reboot                 body {maxLimits?: {queue name: rate}, renumber?}: see RouterState.reboot
 */
import http from 'node:http';
import { EmulatorConfigError } from './errors.js';
import type { Face, Faults } from './faults.js';
import { ManagedListener } from './listener.js';
import type { RequestLog } from './requests.js';
import type { RouterState } from './state.js';

export interface AdminFaceOptions {
  state: RouterState;
  faults: Faults;
  log: RequestLog;
  host: string;
}

export class AdminFace {
  private readonly listener: ManagedListener;

  constructor(private readonly o: AdminFaceOptions) {
    const server = http.createServer((req, res) => {
      this.handle(req)
        .then(({ status, body }) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        })
        .catch((e: unknown) => {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: e instanceof Error ? e.message : String(e) }));
        });
    });
    this.listener = new ManagedListener(server, o.host, () => undefined);
  }

  listen(port: number): Promise<number> {
    return this.listener.listen(port);
  }

  stop(): Promise<void> {
    return this.listener.close();
  }

  private async handle(req: http.IncomingMessage): Promise<{ status: number; body: unknown }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body: unknown = text ? JSON.parse(text) : undefined;
    const url = new URL(req.url ?? '/', 'http://admin');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const { faults, log, state } = this.o;
    const face = parts[1] as Face | undefined;
    if (parts[0] === 'faults') {
      if (method === 'GET')
        return { status: 200, body: { rest: faults.get('rest'), ssh: faults.get('ssh') } };
      if (method === 'DELETE') {
        await faults.clear(face);
        return { status: 200, body: { rest: faults.get('rest'), ssh: faults.get('ssh') } };
      }
      if ((method === 'PUT' || method === 'POST') && face) {
        await faults.set(face, (body ?? {}) as Record<string, never>);
        return { status: 200, body: faults.get(face) };
      }
    }
    if (parts[0] === 'requests') {
      if (method === 'DELETE') {
        log.clear();
        return { status: 200, body: [] };
      }
      const f = url.searchParams.get('face');
      return { status: 200, body: f === 'rest' ? log.rest() : f === 'ssh' ? log.ssh() : log.all() };
    }
    if (parts[0] === 'state' && method === 'POST' && parts.length >= 3) {
      const verb = parts[parts.length - 1];
      const path = `/${parts.slice(1, -1).join('/')}`;
      if (verb === 'insert') {
        const b = (body ?? {}) as { props?: Record<string, string>; position?: number };
        if (!b.props || typeof b.props !== 'object')
          throw new EmulatorConfigError('insert needs {props: {...}, position?}');
        return { status: 200, body: { id: state.insert(path, b.props, b.position ?? 0) } };
      }
      if (verb === 'renumber') return { status: 200, body: state.renumber(path) };
    }
    if (parts[0] === 'reboot' && method === 'POST') {
      state.reboot((body ?? {}) as { maxLimits?: Record<string, string>; renumber?: boolean });
      return { status: 200, body: { rebooted: true } };
    }
    if (parts[0] === 'state' && method === 'GET') {
      const path = `/${parts.slice(1).join('/')}`;
      const def = state.menu(path);
      return { status: 200, body: def.singleton ? state.get(path) : state.list(path) };
    }
    if (parts[0] === 'traffic' && parts[1] && (method === 'PUT' || method === 'POST')) {
      state.staticTraffic.set(parts[1], (body ?? {}) as Record<string, number>);
      return { status: 200, body: state.staticTraffic.counters({ name: parts[1] } as never) };
    }
    return { status: 404, body: { error: `no admin route ${method} ${url.pathname}` } };
  }
}
