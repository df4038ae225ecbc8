/**
 * RouterOS REST client on got 14: keep-alive agent, TLS trust from ./tls.ts, a deadline on
 * every call, typed errors, and writes that only ever touch the item they mean (issue 16):
 *
 * - every write resolves its target afresh with one small GET (`.proplist=.id,<key>`), so an
 *   `.id` is used only right after the router said which item carries it; nothing is cached
 *   across calls (a router renumbers on reboot, import, or when another admin adds an item
 *   first). setQueueLimits resolves both queues in one GET, then PATCHes them concurrently:
 *   two round trips;
 * - the answer of every write is checked: a PATCH must answer the item's record with the same
 *   `.id`, the name/comment the call resolved and the values written. An answer naming another
 *   item (renumbered between the GET and the PATCH) is re-resolved and written once more; an
 *   answer without the record (`null`, `{}`, empty) is a RouterBadResponseError;
 * - ids the router hands out are checked (`*` plus hex) before they go into a URL, and a body
 *   larger than `maxResponseBytes` (1 MiB) is aborted while streaming.
 */
import type http from 'node:http';
import type https from 'node:https';
import { finished } from 'node:stream';
import type { Got, StreamOptions } from 'got';
import {
  assertRouterId,
  type Condition,
  commands,
  matchesAll,
  menuPath,
  parseCommands,
  QUEUE_STATS_FIELDS,
  type RestRequest,
  type RouterCommand,
  restListRequest,
  restResolveRequest,
  restWriteRequests,
  SINGLETON_MENUS,
} from './command.js';
import { callWithRetry, type Deadline, type RetryPolicy } from './deadline.js';
import {
  CommandSyntaxError,
  isRetryable,
  RouterAuthError,
  RouterBadResponseError,
  RouterCommandError,
  RouterConnectionError,
  RouterError,
  RouterNotFoundError,
  RouterResponseTooLargeError,
  RouterTimeoutError,
  RouterWrongItemError,
} from './errors.js';
import { TransportHealth, type TransportState } from './health.js';
import { isNotFoundMessage } from './parse.js';
import { jsonToMap, mangleRuleFromMap, queueStatsFromMap, resourceFromMap } from './records.js';
import { createRestAgent, isTlsTrustFailure, tlsTrustError } from './tls.js';
import type {
  CallOptions,
  CommandResult,
  MangleRule,
  QueueLimit,
  QueueStats,
  RestOptions,
  RouterClient,
  RouterLogger,
  SystemResource,
} from './types.js';
import { DEFAULT_MAX_RESPONSE_BYTES, silentLogger } from './types.js';

type GotModule = typeof import('got');

/**
 * got is loaded on the first REST request, not when this module is imported: a daemon on
 * the SSH transport (or one that only imports the package for its types and parsers) never
 * pays for it (~23 MB resident).
 */
let gotModule: GotModule | undefined;
let gotLoading: Promise<GotModule> | undefined;

function loadGot(): Promise<GotModule> {
  gotLoading ??= import('got').then(
    (m) => {
      gotModule = m;
      return m;
    },
    (err: unknown) => {
      gotLoading = undefined;
      throw err;
    },
  );
  return gotLoading;
}

export interface RestClientOptions extends RestOptions {
  host: string;
  deadlineMs?: number;
  connectTimeoutMs?: number;
  retry?: RetryPolicy;
  logger?: RouterLogger;
}

interface HttpAnswer {
  status: number;
  body: unknown;
  text: string;
}

const CONN_CODES: Record<string, RouterConnectionError['kind']> = {
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  ECONNABORTED: 'reset',
  ERR_STREAM_PREMATURE_CLOSE: 'reset',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EHOSTDOWN: 'unreachable',
  EADDRNOTAVAIL: 'unreachable',
};

/** What a write must find in the router's answer for each item it wrote. */
interface WriteCheck {
  /** e.g. `queue "WAN-Download-1"` (for messages). */
  what: string;
  /** Properties that identify the item (name, comment): another value means another item. */
  identity: Record<string, string>;
  /** Values written that the answer must show (max-limit, queue type, disabled). */
  values: Record<string, string>;
}

/** One item a write resolved: its id and the identifying properties the lookup saw. */
interface Resolved {
  id: string;
  rec: Record<string, string>;
}

export class RestRouterClient implements RouterClient {
  readonly activeTransport = 'rest' as const;
  readonly baseUrl: string;
  private readonly opts: RestClientOptions;
  private readonly logger: RouterLogger;
  private readonly agent: http.Agent;
  /** The got instance, created on the first request (see loadClient). */
  private got: Got | undefined;
  private readonly auth: string;
  private closed = false;
  private readonly port: number;
  private readonly https: boolean;
  private readonly maxBytes: number;
  private readonly health = new TransportHealth('rest');

  constructor(opts: RestClientOptions) {
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger;
    this.https = opts.https ?? true;
    this.port = opts.port ?? (this.https ? 443 : 80);
    this.maxBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const hostPart = opts.host.includes(':') && !opts.host.startsWith('[') ? `[${opts.host}]` : opts.host;
    this.baseUrl = `${this.https ? 'https' : 'http'}://${hostPart}:${this.port}/rest`;
    this.auth = `Basic ${Buffer.from(`${opts.user}:${opts.password}`).toString('base64')}`;
    this.agent = createRestAgent(opts, this.https, this.baseUrl, this.logger);
  }

  /** Last known state of this transport (for health output). */
  transportStates(): TransportState[] {
    return [this.health.get()];
  }

  private async loadClient(cli?: string): Promise<Got> {
    let mod: GotModule;
    try {
      mod = await loadGot();
    } catch (err) {
      throw new RouterConnectionError(
        `REST transport unavailable: cannot load the HTTP library got (${(err as Error).message})`,
        'protocol',
        { ...this.ctx(cli), cause: err },
      );
    }
    this.got ??= mod.default.extend({
      prefixUrl: this.baseUrl,
      agent: { http: this.agent as http.Agent, https: this.agent as https.Agent },
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      decompress: false,
      responseType: 'text',
      headers: { authorization: this.auth, 'user-agent': 'wanctl-router-client' },
    });
    return this.got;
  }

  // ------------------------------------------------------------------ HTTP core

  private async request(req: RestRequest, deadline: Deadline, cli?: string): Promise<HttpAnswer> {
    if (this.closed) throw new RouterConnectionError('REST client is closed', 'closed', this.ctx(cli));
    // the first request loads got (~50-150 ms); the budget below is what is left after that
    const client = this.got ?? (await this.loadClient(cli));
    if (this.closed) throw new RouterConnectionError('REST client is closed', 'closed', this.ctx(cli));
    const budget = deadline.remaining();
    if (budget <= 0) throw this.timeout(deadline, cli);
    const url = req.path
      .slice(1)
      .split('/')
      .map((s) => encodeURIComponent(s).replace(/%2A/gi, '*'))
      .join('/');
    try {
      const res = await gotText(
        client,
        url,
        {
          method: req.method,
          ...(req.query ? { searchParams: req.query } : {}),
          ...(req.body ? { json: req.body } : {}),
          timeout: {
            request: Math.max(1, Math.ceil(budget)),
            connect: Math.max(1, Math.ceil(Math.min(budget, this.opts.connectTimeoutMs ?? 3000))),
          },
        },
        this.maxBytes,
        () =>
          new RouterResponseTooLargeError(
            `REST ${req.method} ${req.path}: the answer is larger than ${this.maxBytes} bytes; reading aborted`,
            this.maxBytes,
            this.ctx(cli),
          ),
      );
      const text = res.body;
      let body: unknown = null;
      if (text.trim() !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          if (res.statusCode < 300) {
            throw new RouterBadResponseError(
              `REST ${req.method} ${req.path} answered ${res.statusCode} with a body that is not JSON: ${text.slice(0, 80)}`,
              this.ctx(cli),
            );
          }
        }
      }
      const answer = { status: res.statusCode, body, text };
      if (res.statusCode >= 200 && res.statusCode < 300) return answer;
      throw this.httpError(req, answer, cli);
    } catch (err) {
      throw await this.mapError(err, req, deadline, cli);
    }
  }

  private ctx(cli?: string) {
    return { transport: 'rest' as const, host: this.opts.host, command: cli };
  }

  private timeout(deadline: Deadline, cli?: string): RouterTimeoutError {
    return new RouterTimeoutError(
      `REST call to ${this.baseUrl} did not answer within its ${Math.round(deadline.budgetMs)} ms deadline`,
      deadline.budgetMs,
      this.ctx(cli),
    );
  }

  private httpError(req: RestRequest, a: HttpAnswer, cli?: string): RouterError {
    const env = jsonToMap(a.body);
    const detail = env['detail'] ?? env['message'] ?? (a.text.trim() || `HTTP ${a.status}`);
    const where = `REST ${req.method} ${req.path}`;
    if (a.status === 401) {
      return new RouterAuthError(
        `${this.baseUrl} rejected user "${this.opts.user}" (HTTP 401): check the router user and password, and that the user's group has the "rest-api" policy`,
        this.ctx(cli),
      );
    }
    if (a.status >= 500) {
      return new RouterConnectionError(`${where} failed with HTTP ${a.status}: ${detail}`, 'server-error', {
        ...this.ctx(cli),
        status: a.status,
      });
    }
    if (a.status === 404 || isNotFoundMessage(detail)) {
      return new RouterNotFoundError(`item ${req.path}`, detail, { ...this.ctx(cli), status: a.status });
    }
    return new RouterCommandError(`${where} refused by RouterOS (HTTP ${a.status}): ${detail}`, detail, {
      ...this.ctx(cli),
      status: a.status,
    });
  }

  private async mapError(
    err: unknown,
    req: RestRequest,
    deadline: Deadline,
    cli?: string,
  ): Promise<RouterError> {
    if (err instanceof RouterError) return err;
    // got's errors can only exist once got is loaded.
    const got = gotModule;
    const isGotError = got !== undefined && err instanceof got.RequestError;
    if (isGotError && err instanceof got.TimeoutError) return this.timeout(deadline, cli);
    const code = (err as { code?: string }).code ?? '';
    const cause = isGotError && (err as Error).cause ? (err as Error).cause : err;
    const causeCode = (cause as { code?: string }).code ?? code;
    if (isTlsTrustFailure(causeCode) || isTlsTrustFailure(code)) {
      return tlsTrustError(
        cause as Error,
        causeCode,
        err,
        { baseUrl: this.baseUrl, host: this.opts.host, port: this.port, timeoutMs: deadline.remaining() },
        this.ctx(cli),
      );
    }
    const kind = CONN_CODES[causeCode] ?? CONN_CODES[code];
    if (kind) {
      return new RouterConnectionError(
        `REST ${req.method} ${this.baseUrl}${req.path}: ${causeCode} (${(cause as Error).message})`,
        kind,
        { ...this.ctx(cli), cause: err },
      );
    }
    const message = isGotError ? (err as Error).message : String(err);
    return new RouterConnectionError(
      `REST ${req.method} ${this.baseUrl}${req.path}: ${message}`,
      'protocol',
      {
        ...this.ctx(cli),
        cause: err,
      },
    );
  }

  /** Run `fn` under the call's deadline with the shared retry wrapper; keeps the health state. */
  private call<T>(opts: CallOptions | undefined, fn: (deadline: Deadline) => Promise<T>): Promise<T> {
    return callWithRetry(
      {
        deadlineMs: opts?.deadlineMs ?? this.opts.deadlineMs ?? 5000,
        policy: this.opts.retry,
        isRetryable,
        onRetry: (err, attempt, delay) =>
          this.logger.debug?.(`REST retry ${attempt} in ${Math.round(delay)} ms: ${(err as Error).message}`),
        onSettled: (err) => this.health.record(err),
      },
      fn,
    );
  }

  private static asList(body: unknown): Array<Record<string, string>> {
    if (Array.isArray(body)) return body.map(jsonToMap);
    if (body && typeof body === 'object') return [jsonToMap(body)];
    return [];
  }

  private async list(
    path: string[],
    conditions: readonly Condition[],
    deadline: Deadline,
    cli?: string,
    proplist?: readonly string[],
  ) {
    const req = restListRequest(path, conditions, proplist);
    const a = await this.request(req, deadline, cli);
    return RestRouterClient.listAnswer(req, a, this.ctx(cli)).filter((r) => matchesAll(r, conditions));
  }

  /**
   * A list menu's GET answers an array, even with one or no item; anything else (`null`, `{}`,
   * an empty body) is unusable, not "no such item".
   */
  private static listAnswer(
    req: RestRequest,
    a: HttpAnswer,
    ctx: ReturnType<RestRouterClient['ctx']>,
  ): Array<Record<string, string>> {
    if (!Array.isArray(a.body)) {
      throw new RouterBadResponseError(
        `REST ${req.method} ${req.path} answered ${a.text.trim() === '' ? 'an empty body' : a.text.slice(0, 80)} instead of a list`,
        ctx,
      );
    }
    return a.body.map(jsonToMap);
  }

  /** The lookup conditions of a write's target (`[find …]`, or one name after the verb). */
  private targetConditions(cmd: RouterCommand, cli: string | undefined): Condition[] | 'ids' | null {
    const target = cmd.target;
    if (!target) return null;
    if (target.kind === 'find') return target.conditions;
    if (target.items.every((i) => /^\*[0-9A-Fa-f]+$/.test(i))) return 'ids';
    if (target.items.some((i) => /^\d+$/.test(i))) {
      throw new CommandSyntaxError(
        'item numbers are session-local; use [find ...] or a name over REST',
        cli ?? '',
        0,
      );
    }
    if (target.items.length !== 1) {
      throw new CommandSyntaxError('only one item name per command over REST', cli ?? '', 0);
    }
    return [{ key: 'name', op: '=', value: target.items[0]! }];
  }

  /** Resolve a write's target now (never from an earlier call), ids checked. */
  private async resolve(
    cmd: RouterCommand,
    deadline: Deadline,
    cli: string | undefined,
  ): Promise<Resolved[]> {
    const conditions = this.targetConditions(cmd, cli);
    if (conditions === null) return [];
    if (conditions === 'ids') {
      // ids typed by a user into runCommand: checked, and the write's answer must carry them
      return (cmd.target as { items: string[] }).items.map((id) => ({
        id: assertRouterId(id, menuPath(cmd)),
        rec: {},
      }));
    }
    const req = restResolveRequest(cmd.path, conditions);
    const a = await this.request(req, deadline, cli);
    const items = RestRouterClient.listAnswer(req, a, this.ctx(cli)).filter((r) => matchesAll(r, conditions));
    const out = items.map((r) => ({ id: assertRouterId(r['.id'], menuPath(cmd)), rec: r }));
    if (cmd.target?.kind === 'items' && out.length === 0) {
      throw new RouterNotFoundError(
        `${menuPath(cmd)} item "${cmd.target.items[0]}"`,
        'no such item',
        this.ctx(cli),
      );
    }
    return out;
  }

  /**
   * Check one write's answer. PATCH: the item's record with this `.id` and the expected values;
   * POST commands: `[]` (or a list); PUT: a record with a valid new `.id`; DELETE: empty.
   * Returns the record (PATCH/PUT) or null; throws RouterWrongItemError when the record names
   * another item and RouterBadResponseError when the answer has no usable record.
   */
  private checkAnswer(
    req: RestRequest,
    a: HttpAnswer,
    id: string | undefined,
    check: WriteCheck,
    cli: string | undefined,
  ): Record<string, string> | null {
    const where = `REST ${req.method} ${req.path}`;
    if (req.method === 'DELETE') return null;
    if (req.method === 'POST') {
      if (!Array.isArray(a.body)) {
        throw new RouterBadResponseError(
          `${where} answered ${a.text.trim() === '' ? 'an empty body' : a.text.slice(0, 80)} instead of a list`,
          this.ctx(cli),
        );
      }
      return null;
    }
    const body = a.body;
    if (!body || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length === 0) {
      throw new RouterBadResponseError(
        `${where} answered ${a.text.trim() === '' ? 'an empty body' : a.text.slice(0, 80)} instead of the item's record; the write to ${check.what} is not confirmed`,
        this.ctx(cli),
      );
    }
    const rec = jsonToMap(body);
    if (req.method === 'PUT') {
      assertRouterId(rec['.id'], where);
      return rec;
    }
    const show = (k: string) => `${k}=${rec[k] === undefined ? '(none)' : JSON.stringify(rec[k])}`;
    const other: string[] = [];
    if (id !== undefined && rec['.id'] !== id) other.push(show('.id'));
    for (const [k, v] of Object.entries(check.identity)) if (rec[k] !== v) other.push(show(k));
    if (other.length > 0) throw new RouterWrongItemError(check.what, other.join(' '), this.ctx(cli));
    const unlike = Object.entries(check.values).filter(([k, v]) => rec[k] !== v);
    if (unlike.length > 0) {
      throw new RouterBadResponseError(
        `${where} answered ${check.what} with ${unlike.map(([k, v]) => `${show(k)} (written: ${JSON.stringify(v)})`).join(', ')}; the write is not confirmed`,
        this.ctx(cli),
      );
    }
    return rec;
  }

  /**
   * Execute a write command: resolve its target now, write, check every answer. An answer
   * naming another item means the router renumbered between the lookup and the write: the
   * target is resolved once more and written again (logged as an error: the other item got
   * this write too).
   */
  private async write(
    cmd: RouterCommand,
    deadline: Deadline,
    cli: string | undefined,
    notFound: string | undefined,
    expect: Record<string, string> = {},
  ): Promise<Array<Record<string, string>>> {
    for (let pass = 0; ; pass++) {
      const targets = cmd.verb === 'add' ? [] : await this.resolve(cmd, deadline, cli);
      if (targets.length === 0 && cmd.verb !== 'add') {
        if (notFound) throw new RouterNotFoundError(notFound, 'no such item', this.ctx(cli));
        return [];
      }
      const reqs = restWriteRequests(
        cmd,
        targets.map((t) => t.id),
      );
      const identityKeys = identityOf(cmd);
      const checks = reqs.map((_, i): WriteCheck => {
        const t = targets[i];
        const identity: Record<string, string> = {};
        for (const k of identityKeys) if (t?.rec[k] !== undefined) identity[k] = t.rec[k]!;
        return { what: notFound ?? `${menuPath(cmd)} ${t?.id ?? ''}`.trim(), identity, values: expect };
      });
      try {
        const answers = await settleAll(
          reqs.map(async (r, i) =>
            this.checkAnswer(r, await this.request(r, deadline, cli), targets[i]?.id, checks[i]!, cli),
          ),
        );
        return answers.filter((x): x is Record<string, string> => x !== null);
      } catch (err) {
        if (err instanceof RouterWrongItemError && pass === 0) {
          this.logger.error(
            `REST: ${err.message}; the item that answered was written too. Resolving ${err.expected} again`,
            { host: this.opts.host, answered: err.answered },
          );
          continue;
        }
        throw err;
      }
    }
  }

  // ------------------------------------------------------------------ typed operations

  async setQueueLimits(limits: readonly QueueLimit[], opts?: CallOptions): Promise<void> {
    if (limits.length === 0) return;
    const cmds = limits.map((l) => commands.setQueueLimit(l));
    await this.call(opts, (deadline) => this.writeQueues(limits, cmds, deadline, true));
  }

  /**
   * setQueueLimits over REST: one GET resolves every queue (`.proplist=.id,name`), then one
   * PATCH per queue, concurrently, each answer checked (name, `.id`, max-limit, queue type).
   */
  private async writeQueues(
    limits: readonly QueueLimit[],
    cmds: RouterCommand[],
    deadline: Deadline,
    retryWrong: boolean,
  ): Promise<void> {
    const names = limits.map((l) => l.name);
    const conditions: Condition[] = names.length === 1 ? [{ key: 'name', op: '=', value: names[0]! }] : [];
    const found = await this.list(['queue', 'tree'], conditions, deadline, undefined, ['.id', 'name']);
    const reqs = cmds.map((cmd, i) => {
      const name = names[i]!;
      const rec = found.find((r) => r['name'] === name);
      if (!rec) throw new RouterNotFoundError(`queue "${name}"`, 'no such item', this.ctx());
      const id = assertRouterId(rec['.id'], `queue "${name}"`);
      const [req] = restWriteRequests(cmd, [id]);
      const values: Record<string, string> = { 'max-limit': String(limits[i]!.maxLimitBps) };
      if (limits[i]!.queueType !== undefined) values['queue'] = limits[i]!.queueType!;
      return { req: req!, id, check: { what: `queue "${name}"`, identity: { name }, values } };
    });
    try {
      await settleAll(
        reqs.map(async (r) =>
          this.checkAnswer(r.req, await this.request(r.req, deadline), r.id, r.check, undefined),
        ),
      );
    } catch (err) {
      if (err instanceof RouterWrongItemError && retryWrong) {
        this.logger.error(
          `REST: ${err.message}; the item that answered was written too. Resolving the queues again`,
          { host: this.opts.host, answered: err.answered },
        );
        return this.writeQueues(limits, cmds, deadline, false);
      }
      throw err;
    }
  }

  async getQueueStats(names: readonly string[], opts?: CallOptions): Promise<QueueStats[]> {
    if (names.length === 0) return [];
    return this.call(opts, async (deadline) => {
      // one GET for every queue, only the fields QueueStats needs
      const conditions: Condition[] = names.length === 1 ? [{ key: 'name', op: '=', value: names[0]! }] : [];
      const items = await this.list(['queue', 'tree'], conditions, deadline, undefined, QUEUE_STATS_FIELDS);
      return names.map((n) => {
        const rec = items.find((r) => r['name'] === n);
        if (!rec) throw new RouterNotFoundError(`queue "${n}"`, 'no such item', this.ctx());
        return queueStatsFromMap(rec, 'rest', this.opts.host);
      });
    });
  }

  async findMangleRule(comment: string, opts?: CallOptions): Promise<MangleRule | null> {
    const cmd = commands.printMangle(comment);
    return this.call(opts, async (deadline) => {
      const items = await this.list(cmd.path, cmd.where, deadline);
      return items[0] ? mangleRuleFromMap(items[0]) : null;
    });
  }

  private async toggleMangle(
    verb: 'enable' | 'disable',
    comment: string,
    opts?: CallOptions,
  ): Promise<MangleRule> {
    const cmd = commands.mangle(verb, comment);
    return this.call(opts, async (deadline) => {
      // every answer is checked: the same `.id`, this comment (the lookup's identity), and
      // the state written
      const answers = await this.write(cmd, deadline, undefined, `mangle rule with comment "${comment}"`, {
        disabled: verb === 'disable' ? 'true' : 'false',
      });
      return mangleRuleFromMap(answers[0]!);
    });
  }

  enableMangleRule(comment: string, opts?: CallOptions): Promise<MangleRule> {
    return this.toggleMangle('enable', comment, opts);
  }

  disableMangleRule(comment: string, opts?: CallOptions): Promise<MangleRule> {
    return this.toggleMangle('disable', comment, opts);
  }

  async resetQueueCounters(names: readonly string[], opts?: CallOptions): Promise<void> {
    if (names.length === 0) return;
    const cmds = names.map((n) => commands.resetQueue(n));
    await this.call(opts, (deadline) =>
      settleAll(cmds.map((c, i) => this.write(c, deadline, undefined, `queue "${names[i]}"`))),
    );
  }

  async getIdentity(opts?: CallOptions): Promise<string> {
    return this.call(opts, async (deadline) => {
      const a = await this.request({ method: 'GET', path: '/system/identity' }, deadline);
      const name = RestRouterClient.asList(a.body)[0]?.['name'];
      if (name === undefined) {
        throw new RouterBadResponseError('REST /system/identity answered without a name', this.ctx());
      }
      return name;
    });
  }

  async getResource(opts?: CallOptions): Promise<SystemResource> {
    return this.call(opts, async (deadline) => {
      const a = await this.request({ method: 'GET', path: '/system/resource' }, deadline);
      return resourceFromMap(RestRouterClient.asList(a.body)[0] ?? {});
    });
  }

  async runCommand(cli: string, opts?: CallOptions): Promise<CommandResult> {
    const cmds = parseCommands(cli);
    return this.call(opts, async (deadline) => {
      const records: Array<Record<string, string>> = [];
      const raws: string[] = [];
      for (const cmd of cmds) {
        if (cmd.verb === 'print') {
          const mp = menuPath(cmd);
          let items: Array<Record<string, string>>;
          if (SINGLETON_MENUS.has(mp)) {
            const a = await this.request({ method: 'GET', path: `/${mp}` }, deadline, cli);
            items = RestRouterClient.asList(a.body);
          } else items = await this.list(cmd.path, cmd.where, deadline, cli);
          const proplist = cmd.params.find(([k]) => k === 'proplist' || k === '.proplist')?.[1];
          if (proplist) {
            const keep = new Set(proplist.split(','));
            items = items.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => keep.has(k))));
          }
          if (cmd.modifiers.includes('count-only')) {
            records.push({ count: String(items.length) });
            raws.push(String(items.length));
          } else {
            records.push(...items);
            raws.push(JSON.stringify(items));
          }
        } else {
          const answers = await this.write(cmd, deadline, cli, undefined);
          records.push(...answers);
          raws.push(JSON.stringify(answers));
        }
      }
      return {
        transport: 'rest' as const,
        records,
        raw: raws.length === 1 ? raws[0]! : `[${raws.join(',')}]`,
      };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.agent.destroy();
  }
}

/**
 * The properties that identify a write's target in its answer: the exact-match conditions,
 * except those the write itself changes (`enable [find disabled=yes]`, `set [find comment=a]
 * comment=b`).
 */
function identityOf(cmd: RouterCommand): string[] {
  const t = cmd.target;
  const written = new Set(cmd.params.map(([k]) => k));
  if (cmd.verb === 'enable' || cmd.verb === 'disable') written.add('disabled');
  let keys: string[] = [];
  if (t?.kind === 'find') keys = t.conditions.filter((c) => c.op === '=').map((c) => c.key);
  else if (t?.kind === 'items' && !t.items.every((i) => /^\*[0-9A-Fa-f]+$/.test(i))) keys = ['name'];
  return keys.filter((k) => !written.has(k));
}

/**
 * One request through got's stream interface, body collected as text, at most `maxBytes`
 * (a larger declared or received body destroys the stream at once). Measured against the
 * promise interface (bench/set-limits.mjs, profiles): the same request costs ~0.15 ms less
 * CPU without got's promise wrapper, and the p99 tail is shorter. Errors are got's own
 * (RequestError, TimeoutError), as with the promise interface.
 */
function gotText(
  client: Got,
  url: string,
  options: StreamOptions,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<{ statusCode: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = client.stream(url, options);
    let statusCode = 0;
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const abort = () => {
      if (settled) return;
      settled = true;
      stream.destroy();
      reject(tooLarge());
    };
    stream.once('response', (res: { statusCode: number; headers: Record<string, string | undefined> }) => {
      statusCode = res.statusCode;
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) abort();
    });
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) abort();
      else chunks.push(chunk);
    });
    finished(stream, { writable: false }, (err) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve({ statusCode, body: Buffer.concat(chunks).toString('utf8') });
    });
  });
}

/** Like Promise.all, but waits for every promise before rethrowing the first failure. */
async function settleAll<T>(ps: Array<Promise<T>>): Promise<T[]> {
  const rs = await Promise.allSettled(ps);
  const failed = rs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return rs.map((r) => (r as PromiseFulfilledResult<T>).value);
}
