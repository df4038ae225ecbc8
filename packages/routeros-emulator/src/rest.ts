/**
 * The REST face: `/rest/<menu path>` over node:http or node:https with Basic auth.
 * Sources (EMULATION.md): REF-B.2, B.3, B.8 (MikroTik's REST API and Queues pages); routeros-samples/rest/*.json and
 * README "REST" 1–8.
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { TLSSocket } from 'node:tls';
import { NoSuchItemError, RouterOsError } from './errors.js';
import type { Faults } from './faults.js';
import { ManagedListener } from './listener.js';
import type { RequestLog, RestRequestEntry } from './requests.js';
import { MENU_DIRS, type MenuDef, menuDef } from './schema.js';
import { type ItemRecord, matchesExact, type RouterState, sortKeys } from './state.js';

export interface EmulatorUser {
  name: string;
  /** Password for REST Basic auth and SSH password auth. Omit to allow keys only. */
  password?: string;
  /** `full` (default) and `write` may change state; `read` gets RouterOS's permission error. */
  group?: 'full' | 'write' | 'read';
  /** OpenSSH public keys (`ssh-ed25519 AAAA… comment`) accepted for SSH public-key auth. */
  authorizedKeys?: string[];
}

export interface RestFaceOptions {
  state: RouterState;
  users: EmulatorUser[];
  faults: Faults;
  log: RequestLog;
  host: string;
  tls?: { key: string; cert: string };
  /** 401 body: `empty` (default, B.2 field report) or `json` (`{"error":401,"message":"Unauthorized"}`). */
  unauthorizedBody?: 'empty' | 'json';
  now: () => number;
  /** GET `?comment=` with special characters: see CommentQueryQuirk. Default `ignore`. */
  commentQuery?: CommentQueryQuirk;
  /** How long a command may run before RouterOS answers `Session closed` (documented: 60 s). */
  commandTimeoutMs?: number;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  406: 'Not Acceptable',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

interface Reply {
  status: number;
  body: string;
}

function json(status: number, value: unknown): Reply {
  return { status, body: JSON.stringify(value) };
}

/** RouterOS error envelope; keys sorted as recorded bodies show them. 404 carries no `detail`. */
export function errorEnvelope(status: number, detail?: string): Reply {
  const message = REASONS[status] ?? http.STATUS_CODES[status] ?? 'Error';
  if (status === 404 || detail === undefined) return json(status, { error: status, message });
  return json(status, { detail, error: status, message });
}

function fromError(err: unknown): Reply {
  if (err instanceof NoSuchItemError) return errorEnvelope(404);
  if (err instanceof RouterOsError) return errorEnvelope(err.status, err.detail);
  throw err;
}

/** JSON body value → RouterOS input string (numbers decimal, booleans true/false). */
function toInput(key: string, v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  throw new RouterOsError(`invalid value for argument ${key}`, 400);
}

function proplistOf(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v.map(String);
  return String(v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function project(rec: ItemRecord, props: string[] | undefined): ItemRecord {
  if (!props) return rec;
  const out: Record<string, string> = {};
  for (const k of props) if (rec[k] !== undefined) out[k] = rec[k] as string;
  return sortKeys(out);
}

/** Evaluates an API query stack (`name=value`, `?name`, `?-name`, `?<a=1`, `#|`, `#&`, `#!`). */
export function evalQuery(menu: MenuDef, rec: ItemRecord, words: string[]): boolean {
  const stack: boolean[] = [];
  for (const raw of words) {
    if (raw.startsWith('#')) {
      for (const op of raw.slice(1)) {
        if (op === '|' || op === '&') {
          const b = stack.pop() ?? true;
          const a = stack.pop() ?? true;
          stack.push(op === '|' ? a || b : a && b);
        } else if (op === '!') {
          stack.push(!(stack.pop() ?? true));
        } else if (op === '.') {
          stack.push(stack[stack.length - 1] ?? true);
        } else {
          throw new RouterOsError(`unknown query operation ${raw}`, 400);
        }
      }
      continue;
    }
    const w = raw.startsWith('?') ? raw.slice(1) : raw;
    if (w.startsWith('-')) {
      stack.push(rec[w.slice(1)] === undefined);
      continue;
    }
    const cmp = /^([<>])(.*?)=(.*)$/.exec(w);
    if (cmp) {
      const have = Number(rec[cmp[2] as string]);
      const want = Number(cmp[3]);
      stack.push(cmp[1] === '<' ? have < want : have > want);
      continue;
    }
    const eq = w.indexOf('=');
    if (eq < 0) {
      stack.push(rec[w] !== undefined);
      continue;
    }
    stack.push(matchesExact(menu, rec, { [w.slice(0, eq)]: w.slice(eq + 1) }));
  }
  return stack.every(Boolean);
}

/**
 * How a GET query filter on `comment` behaves when the comment has special characters:
 * `ignore` (default) drops that filter, `empty` answers `[]`, `exact` filters normally.
 */
export type CommentQueryQuirk = 'ignore' | 'empty' | 'exact';

const SPECIAL_COMMENT = /[^A-Za-z0-9 _.-]/;

interface Route {
  menu: MenuDef;
  rest: string[];
}

function route(segments: string[]): Route {
  let dir = '';
  let i = 0;
  let menu: MenuDef | undefined;
  for (; i < segments.length; i++) {
    const next = `${dir}/${segments[i]}`;
    if (menuDef(next)) {
      menu = menuDef(next);
      dir = next;
      continue;
    }
    if (MENU_DIRS.has(next)) {
      dir = next;
      continue;
    }
    break;
  }
  if (!menu || dir !== menu.path) {
    throw new RouterOsError(
      `no such command or directory (${segments[i] ?? segments[segments.length - 1] ?? ''})`,
    );
  }
  const rest = segments.slice(i);
  if (rest.length > 1) throw new RouterOsError(`no such command or directory (${rest[0]})`);
  return { menu, rest };
}

function idsOf(state: RouterState, menu: MenuDef, body: Record<string, unknown>): string[] {
  const raw = body['.id'] ?? body['numbers'];
  if (raw === undefined) throw new RouterOsError('missing value(s) of argument(s) numbers', 400);
  return String(raw)
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean)
    .map((ref) => {
      const rec = state.get(menu.path, ref);
      if (!rec) throw new NoSuchItemError(ref);
      return rec['.id'] as string;
    });
}

function propsOf(body: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === '.id' || k === 'numbers' || k.startsWith('.')) continue;
    out[k] = toInput(k, v);
  }
  return out;
}

function requireWrite(user: EmulatorUser): void {
  if ((user.group ?? 'full') === 'read') throw new RouterOsError('not enough permissions (9)', 500);
}

/** Runs one authenticated REST request against the state. */
export function handleRest(
  state: RouterState,
  user: EmulatorUser,
  method: string,
  segments: string[],
  query: URLSearchParams,
  body: unknown,
  commentQuery: CommentQueryQuirk = 'ignore',
): Reply {
  try {
    const { menu, rest } = route(segments);
    const obj = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<
      string,
      unknown
    >;
    if (rest.length === 0) {
      switch (method) {
        case 'GET': {
          const props = proplistOf(query.get('.proplist') ?? undefined);
          if (menu.singleton) return json(200, project(state.get(menu.path) as ItemRecord, props));
          const filter: Record<string, string> = {};
          for (const [k, v] of query) {
            if (k.startsWith('.') && k !== '.id') continue;
            if (k === 'comment' && commentQuery !== 'exact' && SPECIAL_COMMENT.test(v)) {
              // Field report by wanctl's authors after v1.3 (their fix 20b5c5ee): RouterOS REST
              // does not filter on comments with special characters such as ':'.
              if (commentQuery === 'empty') return json(200, []);
              continue;
            }
            filter[k] = v;
          }
          return json(
            200,
            state.find(menu.path, filter).map((r) => project(r, props)),
          );
        }
        case 'PUT': {
          requireWrite(user);
          const id = state.add(menu.path, propsOf(obj));
          return json(200, state.get(menu.path, id));
        }
        case 'PATCH':
          if (menu.singleton) {
            requireWrite(user);
            return json(200, state.set(menu.path, undefined, propsOf(obj)));
          }
          return errorEnvelope(400, 'no such command or directory');
        default:
          return errorEnvelope(400, `no such command or directory (${method.toLowerCase()})`);
      }
    }
    const word = rest[0] as string;
    if (method === 'POST') return command(state, user, menu, word, obj);
    if (menu.singleton) return errorEnvelope(404);
    const rec = state.get(menu.path, word);
    if (!rec) return errorEnvelope(404);
    const id = rec['.id'] as string;
    switch (method) {
      case 'GET':
        return json(200, project(rec, proplistOf(query.get('.proplist') ?? undefined)));
      case 'PATCH':
        requireWrite(user);
        return json(200, state.set(menu.path, id, propsOf(obj)));
      case 'DELETE':
        requireWrite(user);
        state.remove(menu.path, id);
        return { status: 204, body: '' };
      default:
        return errorEnvelope(400, `no such command or directory (${method.toLowerCase()})`);
    }
  } catch (err) {
    return fromError(err);
  }
}

function command(
  state: RouterState,
  user: EmulatorUser,
  menu: MenuDef,
  word: string,
  body: Record<string, unknown>,
): Reply {
  if (word === 'print') {
    const props = proplistOf(body['.proplist']);
    const q = body['.query'];
    const words = q === undefined ? [] : Array.isArray(q) ? q.map(String) : [String(q)];
    if (menu.singleton) return json(200, [project(state.get(menu.path) as ItemRecord, props)]);
    const filter = propsOf(body);
    return json(
      200,
      state
        .list(menu.path)
        .filter((r) => matchesExact(menu, r, filter) && evalQuery(menu, r, words))
        .map((r) => project(r, props)),
    );
  }
  if (!menu.commands.includes(word)) return errorEnvelope(406, `no such command or directory (${word})`);
  requireWrite(user);
  switch (word) {
    case 'add': {
      const id = state.add(menu.path, propsOf(body));
      return json(200, { ret: id });
    }
    case 'set':
      if (menu.singleton) state.set(menu.path, undefined, propsOf(body));
      else for (const id of idsOf(state, menu, body)) state.set(menu.path, id, propsOf(body));
      return json(200, []);
    case 'remove':
      for (const id of idsOf(state, menu, body)) state.remove(menu.path, id);
      return json(200, []);
    case 'enable':
    case 'disable':
      for (const id of idsOf(state, menu, body)) {
        state.set(menu.path, id, { disabled: word === 'disable' ? 'true' : 'false' });
      }
      return json(200, []);
    case 'reset-counters':
      for (const id of idsOf(state, menu, body)) state.resetCounters(menu.path, id);
      return json(200, []);
    case 'reset-counters-all':
      for (const r of state.list(menu.path)) state.resetCounters(menu.path, r['.id'] as string);
      return json(200, []);
    default:
      return errorEnvelope(406, `no such command or directory (${word})`);
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function authenticate(users: EmulatorUser[], header: string | undefined): EmulatorUser | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const name = decoded.slice(0, colon);
  const pass = decoded.slice(colon + 1);
  return users.find((u) => u.name === name && u.password !== undefined && safeEqual(u.password, pass));
}

const MAX_BODY = 1 << 20;
/** How much of an oversized upload is read and discarded before the connection is cut. */
const MAX_DRAIN = 64 << 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The request body, or null when it exceeds MAX_BODY (the remainder is then drained in the
 * background, up to MAX_DRAIN, after which the socket is destroyed).
 */
function readBody(req: http.IncomingMessage): Promise<Buffer[] | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (over) {
        if (size > MAX_DRAIN) req.destroy();
        return;
      }
      if (size > MAX_BODY) {
        over = true;
        chunks.length = 0;
        resolve(null);
        return;
      }
      chunks.push(c);
    });
    req.once('end', () => {
      if (!over) resolve(chunks);
    });
    req.once('error', (e) => {
      if (!over) reject(e);
    });
  });
}

/** A 200 JSON array of about `bytes` bytes, chunked, written as fast as the client reads it. */
async function streamOversize(res: http.ServerResponse, bytes: number): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/json' });
  const item = `{".id":"*1","name":"${'x'.repeat(1000)}"}`;
  const chunk = Buffer.from(`${item},`.repeat(Math.max(1, Math.floor(65536 / (item.length + 1)))));
  res.write('[');
  let sent = 1;
  while (sent < bytes && !res.destroyed) {
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
    }
    sent += chunk.length;
  }
  if (!res.destroyed) res.end(`${item}]`);
}

/** The REST server: a ManagedListener over http or https. */
export class RestFace {
  readonly listener: ManagedListener;
  readonly protocol: 'http' | 'https';
  private readonly hung = new Set<http.ServerResponse>();
  private stopped = false;

  constructor(private readonly o: RestFaceOptions) {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.onRequest(req, res).catch((err) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ detail: String(err), error: 500, message: 'Internal Server Error' }));
        } else res.destroy();
      });
    };
    this.protocol = o.tls ? 'https' : 'http';
    const server = o.tls
      ? https.createServer({ key: o.tls.key, cert: o.tls.cert }, handler)
      : http.createServer(handler);
    server.keepAliveTimeout = 30_000;
    this.listener = new ManagedListener(server, o.host, () => o.faults.get('rest').maxSessions);
    o.faults.registerDownHook('rest', async (down) => {
      if (down) {
        this.releaseHung();
        await this.listener.close();
      } else if (!this.stopped) await this.listener.reopen();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.releaseHung();
    await this.listener.close();
  }

  private releaseHung(): void {
    for (const r of this.hung) r.destroy();
    this.hung.clear();
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks = await readBody(req);
    if (chunks === null) {
      // No RouterOS command takes a body this large: refuse rather than buffer it. The rest of
      // the upload is read and discarded (up to MAX_DRAIN) so that the client reads this 413
      // instead of a reset; then the connection is closed.
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ detail: 'request body too large', error: 413, message: 'Payload Too Large' }));
      return;
    }
    const bodyText = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://emulator');
    let parsed: unknown;
    let parseOk = bodyText === '';
    if (bodyText !== '') {
      try {
        parsed = JSON.parse(bodyText);
        parseOk = true;
      } catch {
        parseOk = false;
      }
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = String(v);
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      path = url.pathname;
    }
    const entry: RestRequestEntry = this.o.log.push({
      face: 'rest',
      seq: this.o.log.nextSeq(),
      time: this.o.now(),
      method: req.method ?? 'GET',
      path,
      url: req.url ?? '/',
      query: Object.fromEntries(url.searchParams),
      headers,
      body: bodyText,
      ...(parseOk && bodyText !== '' ? { json: parsed } : {}),
    });
    const faults = this.o.faults;
    const latency = faults.get('rest').latencyMs;
    if (latency) {
      const downs = faults.downCount('rest');
      await sleep(latency);
      if (faults.downCount('rest') !== downs) {
        // the face went down during the delay: the connection is gone and the request not run
        entry.fault = 'dropped';
        res.destroy();
        return;
      }
    }
    if (faults.take('rest', 'hang')) {
      entry.fault = 'hang';
      this.hung.add(res);
      res.on('close', () => this.hung.delete(res));
      return;
    }
    if (faults.take('rest', 'sessionClosed')) {
      entry.fault = 'session-closed';
      this.hung.add(res);
      const timer = setTimeout(() => {
        this.hung.delete(res);
        const reply = errorEnvelope(400, 'Session closed');
        entry.status = 400;
        res.writeHead(400, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(reply.body),
        });
        res.end(reply.body);
      }, this.o.commandTimeoutMs ?? 60_000);
      res.on('close', () => {
        clearTimeout(timer);
        this.hung.delete(res);
      });
      return;
    }
    const oversize = faults.takeOversize('rest');
    if (oversize !== undefined) {
      entry.fault = 'oversize';
      entry.status = 200;
      await streamOversize(res, oversize);
      return;
    }
    const errStatus = faults.takeHttpError();
    let reply: Reply;
    if (errStatus !== undefined) {
      entry.fault = `http-${errStatus}`;
      reply = errorEnvelope(errStatus, 'emulated fault');
    } else {
      const user = authenticate(this.o.users, req.headers.authorization);
      if (!user) {
        reply = this.o.unauthorizedBody === 'json' ? errorEnvelope(401) : { status: 401, body: '' };
      } else {
        entry.user = user.name;
        if (!parseOk) {
          reply = errorEnvelope(400, 'JSON parse error');
        } else {
          const segs = path.split('/').filter(Boolean);
          if (segs[0] !== 'rest') reply = errorEnvelope(404);
          else {
            const method = (req.method ?? 'GET').toUpperCase();
            reply = handleRest(
              this.o.state,
              user,
              method,
              segs.slice(1),
              url.searchParams,
              parsed,
              this.o.commentQuery,
            );
          }
        }
      }
    }
    const replaced = faults.takeAnswerBody(req.method ?? 'GET');
    if (replaced !== undefined && reply.status < 300) {
      entry.fault = 'answer-body';
      reply = { status: 200, body: replaced };
    }
    if (faults.take('rest', 'malformedJson')) {
      entry.fault = 'malformed-json';
      const b = reply.body === '' ? '[{".id":"*1"' : reply.body;
      reply = {
        status: reply.status === 204 ? 200 : reply.status,
        body: `${b.slice(0, Math.max(1, Math.floor(b.length / 2)))}\u0000<!--`,
      };
    }
    const resetNow = faults.take('rest', 'reset');
    const body = Buffer.from(reply.body, 'utf8');
    const head: Record<string, string | number> = {};
    if (reply.status !== 204) {
      head['content-type'] = 'application/json';
      head['content-length'] = body.length;
    }
    if (resetNow) {
      entry.fault = 'reset';
      res.writeHead(reply.status, head);
      res.write(body.subarray(0, Math.max(1, Math.floor(body.length / 2))));
      // let the partial response reach the client, then cut the connection
      // (a TCP RST where the socket is a plain net.Socket; TLS sockets cannot send one and
      // throw ERR_INVALID_HANDLE_TYPE, so they are destroyed instead, which still cuts the
      // response short)
      setTimeout(() => {
        const sock = res.socket;
        if (sock && !(sock instanceof TLSSocket) && typeof sock.resetAndDestroy === 'function') {
          sock.resetAndDestroy();
        } else {
          res.destroy();
        }
      }, 10);
      return;
    }
    entry.status = reply.status;
    res.writeHead(reply.status, head);
    res.end(body);
  }
}
