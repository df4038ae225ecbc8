/**
 * The command model: the RouterOS CLI subset wanctl speaks, parsed once into a typed
 * command, then rendered either as CLI text (SSH) or as REST calls.
 *
 * Subset:
 *   /menu words... verb [item | [find cond...]] [key=value...] [print-modifiers] [where cond...]
 *   - menu path with spaces or slashes: `/queue tree set`, `/queue/tree/set`, `/ip/firewall/mangle print`
 *   - verbs: print, set, enable, disable, reset-counters, add, remove
 *   - conditions `key=value` (exact) and `key~value` (regex), joined by nothing or `and`
 *   - quoted values with RouterOS escapes (\" \\ \$ \? \n \r \t \_)
 *   - several commands joined with `;`
 */
import { CommandSyntaxError, RouterBadResponseError, RouterOptionsError } from './errors.js';
import type { QueueLimit } from './types.js';

export const VERBS = ['print', 'set', 'enable', 'disable', 'reset-counters', 'add', 'remove'] as const;
export type Verb = (typeof VERBS)[number];

export const PRINT_MODIFIERS = [
  'stats',
  'detail',
  'terse',
  'as-value',
  'without-paging',
  'count-only',
  'brief',
  'value-list',
] as const;
export type PrintModifier = (typeof PRINT_MODIFIERS)[number];

export interface Condition {
  key: string;
  op: '=' | '~';
  value: string;
}

/** Which items a set/enable/disable/reset-counters/remove acts on. */
export type Target =
  | { kind: 'find'; conditions: Condition[] }
  /** Item numbers, `.id`s (`*1A`) or names given directly after the verb. */
  | { kind: 'items'; items: string[] };

export interface RouterCommand {
  /** Menu path words, e.g. ['queue', 'tree']. */
  path: string[];
  verb: Verb;
  target?: Target;
  /** Print filter (`where ...`). */
  where: Condition[];
  /** `key=value` arguments in the order given (set/add, or print's `proplist=`). */
  params: Array<[string, string]>;
  modifiers: PrintModifier[];
}

const VERB_SET = new Set<string>(VERBS);
const MODIFIER_SET = new Set<string>(PRINT_MODIFIERS);
const PATH_WORD = /^[a-z0-9][a-z0-9-]*$/;
const KEY = /^[a-z.][a-z0-9.-]*$/;

type Token =
  | { t: 'word'; text: string; pos: number }
  | { t: 'pair'; key: string; op: '=' | '~'; value: string; pos: number }
  | { t: 'find'; conditions: Condition[]; pos: number }
  | { t: 'semi'; pos: number };

const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  $: '$',
  '?': '?',
  n: '\n',
  r: '\r',
  t: '\t',
  _: ' ',
};

class Lexer {
  i = 0;
  constructor(readonly s: string) {}

  fail(msg: string, pos = this.i): never {
    throw new CommandSyntaxError(msg, this.s, pos);
  }

  skipWs(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  quoted(): string {
    const start = this.i;
    this.i++; // opening quote
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === '\\') {
        const n = this.s[this.i + 1];
        if (n === undefined) this.fail('dangling escape', this.i);
        const e = ESCAPES[n];
        if (e === undefined) this.fail(`unsupported escape \\${n}`, this.i);
        out += e;
        this.i += 2;
        continue;
      }
      out += c;
      this.i++;
    }
    return this.fail('unterminated string', start);
  }

  bare(stop: RegExp): string {
    const start = this.i;
    while (this.i < this.s.length && !stop.test(this.s[this.i]!)) this.i++;
    return this.s.slice(start, this.i);
  }

  /** One token; `inBracket` stops bare words at `]`. */
  token(inBracket: boolean): Token | null {
    this.skipWs();
    if (this.i >= this.s.length) return null;
    const pos = this.i;
    const c = this.s[this.i]!;
    if (c === ';') {
      if (inBracket) this.fail('";" inside [ ]');
      this.i++;
      return { t: 'semi', pos };
    }
    if (c === '[') {
      if (inBracket) this.fail('nested [ ] is not supported');
      this.i++;
      return { t: 'find', conditions: this.findBody(pos), pos };
    }
    if (c === '"') return { t: 'word', text: this.quoted(), pos };
    const stop = inBracket ? /[\s;=~\]"[]/ : /[\s;=~"[]/;
    const word = this.bare(stop);
    const next = this.s[this.i];
    if (next === '=' || next === '~') {
      if (!KEY.test(word)) this.fail(`bad property name "${word}"`, pos);
      this.i++;
      let value: string;
      if (this.s[this.i] === '"') value = this.quoted();
      else value = this.bare(inBracket ? /[\s;\]]/ : /[\s;]/);
      return { t: 'pair', key: word, op: next, value, pos };
    }
    if (word === '') this.fail(`unexpected "${next}"`);
    return { t: 'word', text: word, pos };
  }

  findBody(open: number): Condition[] {
    const first = this.token(true);
    if (first?.t !== 'word' || first.text !== 'find') this.fail('expected [find ...]', open);
    const conditions: Condition[] = [];
    for (;;) {
      this.skipWs();
      if (this.s[this.i] === ']') {
        this.i++;
        return conditions;
      }
      const tok = this.token(true);
      if (!tok) this.fail('unterminated [find', open);
      if (tok.t === 'word' && (tok.text === 'where' || tok.text === 'and')) continue;
      if (tok.t !== 'pair')
        this.fail('only key=value and key~value conditions are supported in [find]', tok.pos);
      conditions.push({ key: tok.key, op: tok.op, value: tok.value });
    }
  }
}

function parseOne(tokens: Token[], cli: string): RouterCommand {
  const fail = (msg: string, pos: number): never => {
    throw new CommandSyntaxError(msg, cli, pos);
  };
  const first = tokens[0];
  if (!first) return fail('empty command', 0);
  if (first.t !== 'word' || !first.text.startsWith('/'))
    return fail('a command must start with a menu path like /queue/tree', first.pos);
  const path: string[] = [];
  let verb: Verb | undefined;
  let k = 0;
  // Path: the first token's slash segments, then bare words until a verb.
  for (; k < tokens.length && verb === undefined; k++) {
    const tok = tokens[k]!;
    if (tok.t !== 'word') return fail('expected a menu word or a command verb', tok.pos);
    if (k > 0 && tok.text.includes('/') && !tok.text.startsWith('/'))
      return fail(`bad menu word "${tok.text}"`, tok.pos);
    const segs = tok.text.split('/').filter((x) => x !== '');
    for (let j = 0; j < segs.length; j++) {
      const seg = segs[j]!;
      if (verb !== undefined) return fail(`unexpected "${seg}" after ${verb}`, tok.pos);
      if (!PATH_WORD.test(seg)) return fail(`bad menu word "${seg}"`, tok.pos);
      if (VERB_SET.has(seg)) verb = seg as Verb;
      else path.push(seg);
    }
  }
  if (verb === undefined) return fail(`no command verb (one of ${VERBS.join(', ')})`, first.pos);
  if (path.length === 0) return fail('no menu path before the verb', first.pos);
  const cmd: RouterCommand = { path, verb, where: [], params: [], modifiers: [] };
  let inWhere = false;
  for (; k < tokens.length; k++) {
    const tok = tokens[k]!;
    if (tok.t === 'semi') return fail('unexpected ";"', tok.pos);
    if (inWhere) {
      if (tok.t === 'word' && tok.text === 'and') continue;
      if (tok.t !== 'pair')
        return fail('only key=value and key~value conditions are supported after where', tok.pos);
      cmd.where.push({ key: tok.key, op: tok.op, value: tok.value });
      continue;
    }
    if (tok.t === 'find') {
      if (verb === 'print' || verb === 'add') return fail(`[find] is not valid with ${verb}`, tok.pos);
      if (cmd.target) return fail('more than one item selector', tok.pos);
      cmd.target = { kind: 'find', conditions: tok.conditions };
      continue;
    }
    if (tok.t === 'pair') {
      if (tok.op === '~') return fail('"~" is only valid in a condition', tok.pos);
      cmd.params.push([tok.key, tok.value]);
      continue;
    }
    // bare word
    if (tok.text === 'where') {
      if (verb === 'add') return fail('where is not valid with add', tok.pos);
      inWhere = true;
      continue;
    }
    if (verb === 'print') {
      if (!MODIFIER_SET.has(tok.text)) return fail(`unsupported print argument "${tok.text}"`, tok.pos);
      cmd.modifiers.push(tok.text as PrintModifier);
      continue;
    }
    if (verb === 'add') return fail(`unexpected "${tok.text}"`, tok.pos);
    if (cmd.target && cmd.target.kind === 'find') return fail('more than one item selector', tok.pos);
    const items = tok.text.split(',').filter((x) => x !== '');
    if (cmd.target) cmd.target.items.push(...items);
    else cmd.target = { kind: 'items', items };
  }
  if (inWhere && cmd.where.length === 0) return fail('where without a condition', cli.length);
  if (cmd.where.length > 0 && verb !== 'print') {
    // `verb where cond` is accepted as a shorthand for `verb [find cond]` (v1.3 sent it).
    if (cmd.target) return fail('both an item selector and where', 0);
    cmd.target = { kind: 'find', conditions: cmd.where };
    cmd.where = [];
  }
  if (verb !== 'print' && verb !== 'add' && !cmd.target)
    return fail(`${verb} needs an item: [find ...] or a name`, cli.length);
  if (verb === 'set' && cmd.params.length === 0) return fail('set without any property=value', cli.length);
  if (
    (verb === 'enable' || verb === 'disable' || verb === 'reset-counters' || verb === 'remove') &&
    cmd.params.length
  ) {
    return fail(`${verb} takes no property=value`, cli.length);
  }
  return cmd;
}

/** Parse CLI text (possibly several `;`-joined commands). Throws CommandSyntaxError. */
export function parseCommands(cli: string): RouterCommand[] {
  if (cli.trim() !== '' && !cli.trimStart().startsWith('/')) {
    throw new CommandSyntaxError('a command must start with a menu path like /queue/tree', cli, 0);
  }
  const lx = new Lexer(cli);
  const groups: Token[][] = [[]];
  for (;;) {
    const tok = lx.token(false);
    if (!tok) break;
    if (tok.t === 'semi') groups.push([]);
    else groups[groups.length - 1]!.push(tok);
  }
  const cmds = groups.filter((g) => g.length > 0).map((g) => parseOne(g, cli));
  if (cmds.length === 0) throw new CommandSyntaxError('empty command', cli, 0);
  return cmds;
}

/** Parse exactly one command. */
export function parseCommand(cli: string): RouterCommand {
  const cmds = parseCommands(cli);
  if (cmds.length !== 1) throw new CommandSyntaxError('expected one command, got several', cli, 0);
  return cmds[0]!;
}

// ---------------------------------------------------------------- CLI rendering (SSH)

const SAFE_VALUE = /^[A-Za-z0-9._:/*+@-]+$/;

/** Quote a value for the RouterOS console when needed. */
export function quoteValue(v: string): string {
  if (v !== '' && SAFE_VALUE.test(v)) return v;
  let out = '"';
  for (const c of v) {
    if (c === '"' || c === '\\' || c === '$' || c === '?') out += `\\${c}`;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else out += c;
  }
  return `${out}"`;
}

/** Conditions are always quoted, as RouterOS users write them. */
function renderCondition(c: Condition): string {
  const q = quoteValue(c.value);
  return `${c.key}${c.op}${q.startsWith('"') ? q : `"${q}"`}`;
}

/** Render one command as canonical slash-style CLI text. */
export function renderCli(cmd: RouterCommand): string {
  const parts = [`/${cmd.path.join('/')}/${cmd.verb}`];
  if (cmd.target?.kind === 'find') {
    parts.push(`[find${cmd.target.conditions.map((c) => ` ${renderCondition(c)}`).join('')}]`);
  } else if (cmd.target?.kind === 'items') {
    parts.push(cmd.target.items.map(quoteValue).join(','));
  }
  for (const [k, v] of cmd.params) parts.push(`${k}=${quoteValue(v)}`);
  parts.push(...cmd.modifiers);
  if (cmd.where.length) parts.push('where', cmd.where.map(renderCondition).join(' and '));
  return parts.join(' ');
}

/** Render several commands as one `;`-joined line (one SSH exec). */
export function renderCliBatch(cmds: readonly RouterCommand[]): string {
  return cmds.map(renderCli).join('; ');
}

// ---------------------------------------------------------------- REST rendering

/** Menus whose REST GET answers a single object rather than a list. */
export const SINGLETON_MENUS = new Set([
  'system/identity',
  'system/resource',
  'system/clock',
  'system/routerboard',
]);

export interface RestRequest {
  method: 'GET' | 'PATCH' | 'POST' | 'PUT' | 'DELETE';
  /** Path under /rest, e.g. `/queue/tree/*1A` (not URL-encoded). */
  path: string;
  query?: Record<string, string>;
  body?: Record<string, string>;
}

export function menuPath(cmd: Pick<RouterCommand, 'path'>): string {
  return cmd.path.join('/');
}

/** A RouterOS item id as the router hands them out: `*` and 1-16 hex digits. */
export const ROUTER_ID = /^\*[0-9A-Fa-f]{1,16}$/;

/**
 * Check an id the router supplied before it is put into a URL: anything but `*` plus hex (for
 * example `../../system/reboot?x=`) is an unusable answer, never a path.
 */
export function assertRouterId(id: unknown, where: string): string {
  if (typeof id === 'string' && ROUTER_ID.test(id)) return id;
  throw new RouterBadResponseError(
    `${where}: the router answered an item id that is not "*" plus hex (${JSON.stringify(id)?.slice(0, 40)}); refusing to use it`,
    { transport: 'rest' },
  );
}

/** The fields getQueueStats reads (REST `.proplist`): counters, max-limit, queue type, state. */
export const QUEUE_STATS_FIELDS = [
  '.id',
  'name',
  'max-limit',
  'bytes',
  'packets',
  'dropped',
  'queued-bytes',
  'queued-packets',
  'rate',
  'packet-rate',
  'queue',
  'disabled',
] as const;

/**
 * The GET that lists the items a command reads or acts on. Exact-match (`=`) conditions go
 * into the query string, except `comment` (RouterOS REST drops query filters on comments with
 * characters such as `:`); every condition is also applied client-side by `matchesAll`.
 */
export function restListRequest(
  path: string[],
  conditions: readonly Condition[],
  proplist?: readonly string[],
): RestRequest {
  const query: Record<string, string> = {};
  for (const c of conditions) if (c.op === '=' && c.key !== 'comment') query[c.key] = c.value;
  if (proplist) query['.proplist'] = [...new Set([...proplist, ...conditions.map((c) => c.key)])].join(',');
  return Object.keys(query).length
    ? { method: 'GET', path: `/${path.join('/')}`, query }
    : { method: 'GET', path: `/${path.join('/')}` };
}

const regexCache = new Map<string, RegExp>();
function regexFor(src: string): RegExp {
  let re = regexCache.get(src);
  if (!re) {
    try {
      re = new RegExp(src);
    } catch {
      throw new CommandSyntaxError(`bad regular expression "${src}"`, src, 0);
    }
    if (regexCache.size > 256) regexCache.clear();
    regexCache.set(src, re);
  }
  return re;
}

const BOOL_ALIASES: Record<string, string> = { yes: 'true', no: 'false' };

/** True when a REST record satisfies every condition (exact string equality or regex). */
export function matchesAll(record: Record<string, unknown>, conditions: readonly Condition[]): boolean {
  for (const c of conditions) {
    const raw = record[c.key];
    const v = typeof raw === 'string' ? raw : raw === undefined ? '' : String(raw);
    if (c.op === '=') {
      if (v !== c.value && v !== (BOOL_ALIASES[c.value] ?? c.value)) return false;
    } else if (!regexFor(c.value).test(v)) return false;
  }
  return true;
}

/**
 * The lookup a write resolves its target with, fresh on every call (issue 16: an id is only
 * used right after the router confirmed which item carries it). Only `.id` and the condition
 * fields are asked for, so the answer stays small.
 */
export function restResolveRequest(path: string[], conditions: readonly Condition[]): RestRequest {
  return restListRequest(path, conditions, ['.id']);
}

/** The REST calls that carry out a write command on `.id`s just resolved (checked here). */
export function restWriteRequests(cmd: RouterCommand, ids: readonly string[]): RestRequest[] {
  for (const id of ids) assertRouterId(id, `${menuPath(cmd)} ${cmd.verb}`);
  const base = `/${menuPath(cmd)}`;
  const params = Object.fromEntries(cmd.params);
  switch (cmd.verb) {
    case 'set':
      return ids.map((id) => ({ method: 'PATCH', path: `${base}/${id}`, body: params }));
    case 'enable':
      return ids.map((id) => ({ method: 'PATCH', path: `${base}/${id}`, body: { disabled: 'false' } }));
    case 'disable':
      return ids.map((id) => ({ method: 'PATCH', path: `${base}/${id}`, body: { disabled: 'true' } }));
    case 'reset-counters':
      return ids.map((id) => ({ method: 'POST', path: `${base}/reset-counters`, body: { '.id': id } }));
    case 'remove':
      return ids.map((id) => ({ method: 'DELETE', path: `${base}/${id}` }));
    case 'add':
      return [{ method: 'PUT', path: base, body: params }];
    case 'print':
      return [];
  }
}

/** Helpers to build the commands the typed operations use. */
export const commands = {
  setQueue(name: string, params: Array<[string, string]>): RouterCommand {
    return {
      path: ['queue', 'tree'],
      verb: 'set',
      target: { kind: 'find', conditions: [{ key: 'name', op: '=', value: name }] },
      where: [],
      params,
      modifiers: [],
    };
  },
  /** `set max-limit=… [queue=…]` on one queue (validated: integer bit/s). */
  setQueueLimit(l: QueueLimit): RouterCommand {
    if (!Number.isSafeInteger(l.maxLimitBps) || l.maxLimitBps < 0) {
      throw new RouterOptionsError(
        `max-limit for queue "${l.name}" must be a non-negative integer bit/s, got ${l.maxLimitBps}`,
      );
    }
    const params: Array<[string, string]> = [];
    if (l.queueType !== undefined) params.push(['queue', l.queueType]);
    params.push(['max-limit', String(l.maxLimitBps)]);
    return commands.setQueue(l.name, params);
  },
  printQueues(names: readonly string[], modifiers: PrintModifier[] = ['stats', 'detail']): RouterCommand {
    return {
      path: ['queue', 'tree'],
      verb: 'print',
      where: names.length === 1 ? [{ key: 'name', op: '=', value: names[0]! }] : [],
      params: [],
      modifiers,
    };
  },
  resetQueue(name: string): RouterCommand {
    return {
      path: ['queue', 'tree'],
      verb: 'reset-counters',
      target: { kind: 'find', conditions: [{ key: 'name', op: '=', value: name }] },
      where: [],
      params: [],
      modifiers: [],
    };
  },
  mangle(verb: 'enable' | 'disable', comment: string): RouterCommand {
    return {
      path: ['ip', 'firewall', 'mangle'],
      verb,
      target: { kind: 'find', conditions: [{ key: 'comment', op: '=', value: comment }] },
      where: [],
      params: [],
      modifiers: [],
    };
  },
  printMangle(comment: string, modifiers: PrintModifier[] = ['detail']): RouterCommand {
    return {
      path: ['ip', 'firewall', 'mangle'],
      verb: 'print',
      where: [{ key: 'comment', op: '=', value: comment }],
      params: [],
      modifiers,
    };
  },
  print(path: string[], modifiers: PrintModifier[] = []): RouterCommand {
    return { path, verb: 'print', where: [], params: [], modifiers };
  },
};

/** `/queue/tree/set [find name=…] queue=… max-limit=…` for one QueueLimit. */
export function queueSetCommand(l: QueueLimit): RouterCommand {
  return commands.setQueueLimit(l);
}

/**
 * The same command addressing its item by name after the verb (`set WAN-Download-1 …`), so that
 * a missing item is reported as `no such item` instead of `[find]` silently matching nothing.
 * Names that read as item numbers or ids (`3`, `*1A`) keep `[find name=…]`.
 */
export function byName(cmd: RouterCommand): RouterCommand {
  const t = cmd.target;
  if (t?.kind !== 'find' || t.conditions.length !== 1) return cmd;
  const c = t.conditions[0]!;
  if (c.key !== 'name' || c.op !== '=' || /^\d+$/.test(c.value) || ROUTER_ID.test(c.value)) return cmd;
  return { ...cmd, target: { kind: 'items', items: [c.value] } };
}
