/**
 * The RouterOS console subset the SSH face understands: menu paths in both styles
 * (`/queue tree set`, `/queue/tree/set`), `[find …]`, `where …`, `print` modifiers, `;`-joined
 * commands, and RouterOS's error texts. A whole line is parsed before anything runs (a syntax error
 * runs nothing); runtime errors stop the rest of the line.
 * Sources (EMULATION.md): REF-B.6 (MikroTik's Scripting and console pages); the commands v1.3 sends;
 * routeros-samples/README.md "CLI" 5–7 and cli/error_*.txt.
 */
import { RouterOsError } from './errors.js';
import { type IndexedRecord, type PrintMode, printKeyValues, printRecords } from './format.js';
import { fieldDef, MENU_DIRS, type MenuDef, menuDef } from './schema.js';
import type { ItemRecord, RouterState } from './state.js';
import { parseBool, parseDuration, parseRate } from './units.js';

export interface ConsoleUser {
  name: string;
  /** `full`/`write` may change state; `read` may only print. */
  group: 'full' | 'write' | 'read';
}

/** Per-connection console state (cwd, item numbers from the last print per menu). */
export interface ConsoleSession {
  user: ConsoleUser;
  mode: 'exec' | 'shell';
  /** Current menu directory (shell `cd` by typing a path alone). */
  cwd: string;
  /** Terminal width used to wrap records. */
  width: number;
  /** Item numbers from the last `print` per menu: number → `.id`. */
  numbering: Map<string, Map<number, string>>;
}

export function newConsoleSession(user: ConsoleUser, mode: 'exec' | 'shell', width = 80): ConsoleSession {
  return { user, mode, cwd: '/', width, numbering: new Map() };
}

class SyntaxErr extends RouterOsError {
  override readonly code: string = 'WANCTL_EMULATOR_ROUTEROS_SYNTAX';
  constructor(text: string, col: number) {
    super(`${text} (line 1 column ${col})`, 400, true);
  }
}

// ---------------------------------------------------------------- expressions
type Expr =
  | { t: 'and' | 'or'; a: Expr; b: Expr }
  | { t: 'not'; a: Expr }
  | { t: 'cond'; key: string; op: string | null; value: string }
  | { t: 'true' };

type NumberRef = { t: 'find'; menu: MenuDef; expr: Expr } | { t: 'list'; refs: string[]; col: number };

interface Command {
  menu: MenuDef | null;
  dir: string;
  word: string | null;
  col: number;
  named: { key: string; value: string; col: number }[];
  numbers: NumberRef | null;
  flags: Set<string>;
  where: Expr | null;
}

const PRINT_FLAGS = new Set([
  'stats',
  'detail',
  'terse',
  'as-value',
  'count-only',
  'without-paging',
  'brief',
  'value-list',
]);
const NUMBER_CMDS = new Set(['set', 'remove', 'enable', 'disable', 'reset-counters']);
const WORD_RE = /[A-Za-z0-9_.\-*]/;

class Parser {
  pos = 0;
  constructor(
    readonly src: string,
    readonly cwd: string,
  ) {}

  col(): number {
    return this.pos + 1;
  }
  peek(): string {
    return this.src[this.pos] ?? '';
  }
  ws(): void {
    while (this.pos < this.src.length && /[ \t]/.test(this.peek())) this.pos++;
  }
  atEnd(): boolean {
    return this.pos >= this.src.length;
  }
  word(): string {
    const start = this.pos;
    while (this.pos < this.src.length && WORD_RE.test(this.peek())) this.pos++;
    return this.src.slice(start, this.pos);
  }

  /** Parses `cmd (; cmd)*` up to end of input (or `]` when nested). */
  line(): Command[] {
    const cmds: Command[] = [];
    for (;;) {
      this.ws();
      if (this.atEnd()) break;
      if (this.peek() === ';') {
        this.pos++;
        continue;
      }
      cmds.push(this.command(false));
      this.ws();
      if (this.atEnd()) break;
      if (this.peek() === ';') {
        this.pos++;
        continue;
      }
      throw new SyntaxErr('expected end of command', this.col());
    }
    return cmds;
  }

  /** Reads a menu path and the command word. */
  command(nested: boolean): Command {
    let dir = this.cwd;
    if (this.peek() === '/') {
      dir = '/';
      this.pos++;
    }
    for (;;) {
      this.ws();
      const save = this.pos;
      const col = this.col();
      const w = this.word();
      if (w === '') {
        if (this.peek() === '' || this.peek() === ';' || this.peek() === ']') {
          return {
            menu: menuDef(dir) ?? null,
            dir,
            word: null,
            col,
            named: [],
            numbers: null,
            flags: new Set(),
            where: null,
          };
        }
        throw new SyntaxErr('syntax error', col);
      }
      if (w === '..') {
        dir = dir.split('/').slice(0, -1).join('/') || '/';
        continue;
      }
      const next = dir === '/' ? `/${w}` : `${dir}/${w}`;
      if (MENU_DIRS.has(next)) {
        dir = next;
        if (this.peek() === '/') this.pos++;
        continue;
      }
      const menu = menuDef(dir) ?? null;
      const ok =
        (menu && (w === 'print' || w === 'find' || menu.commands.includes(w))) ||
        w === 'quit' ||
        w === 'exit';
      if (!ok) {
        this.pos = save;
        throw new SyntaxErr(`bad command name ${w}`, col);
      }
      if (w === 'find' && !nested) throw new SyntaxErr(`bad command name ${w}`, col);
      const cmd: Command = {
        menu,
        dir,
        word: w,
        col,
        named: [],
        numbers: null,
        flags: new Set(),
        where: null,
      };
      this.args(cmd, nested);
      return cmd;
    }
  }

  args(cmd: Command, nested: boolean): void {
    const menu = cmd.menu;
    for (;;) {
      this.ws();
      const c = this.peek();
      if (c === '' || c === ';' || (nested && c === ']')) return;
      if (cmd.word === 'find') {
        if (/^where\b/.test(this.src.slice(this.pos))) this.pos += 5;
        cmd.where = this.expr(menu!);
        continue;
      }
      const col = this.col();
      if (c === '[') {
        if (!NUMBER_CMDS.has(cmd.word ?? '') || cmd.numbers)
          throw new SyntaxErr('expected end of command', col);
        cmd.numbers = this.bracket(menu!);
        continue;
      }
      const start = this.pos;
      const key = this.word();
      if (key === '' || c === '"') {
        if (c === '"' && NUMBER_CMDS.has(cmd.word ?? '') && !cmd.numbers) {
          cmd.numbers = { t: 'list', refs: [this.quoted()], col };
          continue;
        }
        throw new SyntaxErr('syntax error', col);
      }
      if (cmd.word === 'print' && key === 'where') {
        cmd.where = this.expr(menu!);
        continue;
      }
      if (this.peek() === '=') {
        this.pos++;
        const vcol = this.col();
        const value = this.value();
        if (cmd.word === 'print') {
          if (key === 'proplist' || key === 'interval' || key === 'from' || key === 'file') {
            cmd.named.push({ key, value, col });
            continue;
          }
          if (PRINT_FLAGS.has(key)) throw new SyntaxErr('expected end of command', vcol - 1);
          throw new SyntaxErr('expected end of command', col);
        }
        if (key === 'numbers' && NUMBER_CMDS.has(cmd.word ?? '')) {
          cmd.numbers = { t: 'list', refs: value.split(','), col: vcol };
          continue;
        }
        const f = fieldDef(menu!, key);
        if (!f || (cmd.word !== 'add' && cmd.word !== 'set'))
          throw new SyntaxErr('expected end of command', col);
        cmd.named.push({ key, value, col: vcol });
        continue;
      }
      if (cmd.word === 'print' && PRINT_FLAGS.has(key)) {
        cmd.flags.add(key);
        continue;
      }
      if (NUMBER_CMDS.has(cmd.word ?? '') && !cmd.numbers) {
        // unnamed first argument: item numbers, `.id`s or names, comma-separated
        let raw = key;
        while (this.peek() === ',') {
          this.pos++;
          raw += `,${this.word()}`;
        }
        cmd.numbers = { t: 'list', refs: raw.split(',').filter(Boolean), col };
        continue;
      }
      this.pos = start;
      throw new SyntaxErr('expected end of command', col);
    }
  }

  quoted(): string {
    const col = this.col();
    this.pos++; // opening quote
    let out = '';
    while (this.pos < this.src.length) {
      const c = this.src[this.pos++] as string;
      if (c === '"') return out;
      if (c === '\\') {
        const n = this.src[this.pos++] ?? '';
        out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
        continue;
      }
      out += c;
    }
    throw new SyntaxErr('syntax error', col);
  }

  value(): string {
    if (this.peek() === '"') return this.quoted();
    const start = this.pos;
    while (this.pos < this.src.length && !/[\s;\]"[]/.test(this.peek())) this.pos++;
    return this.src.slice(start, this.pos);
  }

  bracket(menu: MenuDef): NumberRef {
    const open = this.col();
    this.pos++;
    this.ws();
    const inner = new Parser(this.src, menu.path);
    inner.pos = this.pos;
    const sub = inner.command(true);
    this.pos = inner.pos;
    this.ws();
    if (this.peek() !== ']') throw new SyntaxErr('expected end of command', this.col());
    this.pos++;
    if (sub.word !== 'find' || !sub.menu) throw new SyntaxErr('syntax error', open);
    return { t: 'find', menu: sub.menu, expr: sub.where ?? { t: 'true' } };
  }

  // expr := and (('or'|'||') and)* ; and := unary (('and'|'&&')? unary)*
  expr(menu: MenuDef): Expr {
    let a = this.andExpr(menu);
    for (;;) {
      this.ws();
      if (this.src.startsWith('||', this.pos)) this.pos += 2;
      else if (/^or\b/.test(this.src.slice(this.pos))) this.pos += 2;
      else return a;
      a = { t: 'or', a, b: this.andExpr(menu) };
    }
  }

  andExpr(menu: MenuDef): Expr {
    let a = this.unary(menu);
    for (;;) {
      this.ws();
      const c = this.peek();
      if (c === '' || c === ';' || c === ']' || c === ')' || this.src.startsWith('||', this.pos)) return a;
      if (/^or\b/.test(this.src.slice(this.pos))) return a;
      if (this.src.startsWith('&&', this.pos)) this.pos += 2;
      else if (/^and\b/.test(this.src.slice(this.pos))) this.pos += 3;
      a = { t: 'and', a, b: this.unary(menu) };
    }
  }

  unary(menu: MenuDef): Expr {
    this.ws();
    const col = this.col();
    if (this.peek() === '!') {
      this.pos++;
      return { t: 'not', a: this.unary(menu) };
    }
    if (/^not\b/.test(this.src.slice(this.pos))) {
      this.pos += 3;
      return { t: 'not', a: this.unary(menu) };
    }
    if (this.peek() === '(') {
      this.pos++;
      const e = this.expr(menu);
      this.ws();
      if (this.peek() !== ')') throw new SyntaxErr('syntax error', this.col());
      this.pos++;
      return e;
    }
    const key = this.word();
    if (key === '') throw new SyntaxErr('syntax error', col);
    if (key !== '.id' && !fieldDef(menu, key)) {
      throw new SyntaxErr('expected end of command', col);
    }
    const m = /^(!=|<=|>=|=|~|<|>)/.exec(this.src.slice(this.pos));
    if (!m) return { t: 'cond', key, op: null, value: '' };
    this.pos += (m[1] as string).length;
    if (this.atEnd() || /[\s;\]]/.test(this.peek())) throw new SyntaxErr('syntax error', this.col());
    return { t: 'cond', key, op: m[1] as string, value: this.value() };
  }
}

function normalizeForCompare(menu: MenuDef, key: string, v: string): string {
  const f = fieldDef(menu, key);
  if (!f) return v;
  if (f.type === 'bool') return parseBool(v) ?? v;
  if (f.type === 'rate') {
    const n = parseRate(v);
    return n === null ? v : String(n);
  }
  if (f.type === 'duration') {
    const d = parseDuration(v);
    return d === null ? v : String(d);
  }
  return v;
}

function evalExpr(menu: MenuDef, e: Expr, rec: ItemRecord): boolean {
  switch (e.t) {
    case 'true':
      return true;
    case 'and':
      return evalExpr(menu, e.a, rec) && evalExpr(menu, e.b, rec);
    case 'or':
      return evalExpr(menu, e.a, rec) || evalExpr(menu, e.b, rec);
    case 'not':
      return !evalExpr(menu, e.a, rec);
    case 'cond': {
      const have = rec[e.key];
      if (e.op === null) return have === 'true';
      const h = have === undefined ? '' : normalizeForCompare(menu, e.key, have);
      const w = normalizeForCompare(menu, e.key, e.value);
      switch (e.op) {
        case '=':
          return h === w;
        case '!=':
          return h !== w;
        case '~': {
          let re: RegExp;
          try {
            re = new RegExp(e.value);
          } catch {
            return false;
          }
          return re.test(have ?? '');
        }
        default: {
          const a = Number(h);
          const b = Number(w);
          if (Number.isNaN(a) || Number.isNaN(b)) return false;
          return e.op === '<' ? a < b : e.op === '>' ? a > b : e.op === '<=' ? a <= b : a >= b;
        }
      }
    }
  }
}

// ------------------------------------------------------------------- execution
export interface ConsoleResult {
  /** Output lines (no line endings). */
  lines: string[];
  /** The session asked to end (`quit`). */
  quit: boolean;
}

function runtimeError(session: ConsoleSession, cmd: Command, err: RouterOsError): string {
  if (session.mode !== 'exec' || err.syntax) return err.detail;
  return `${err.detail} (${cmd.dir}/${cmd.word ?? ''}; line 1)`;
}

/** Runs one console line against the state and returns what RouterOS would print. */
export function runConsoleLine(state: RouterState, session: ConsoleSession, line: string): ConsoleResult {
  const lines: string[] = [];
  let cmds: Command[];
  try {
    cmds = new Parser(line, session.cwd).line();
  } catch (err) {
    if (err instanceof RouterOsError) return { lines: [err.detail], quit: false };
    throw err;
  }
  for (const cmd of cmds) {
    if (cmd.word === null) {
      if (session.mode === 'shell') session.cwd = cmd.dir;
      continue;
    }
    if (cmd.word === 'quit' || cmd.word === 'exit') return { lines, quit: true };
    try {
      lines.push(...execute(state, session, cmd));
    } catch (err) {
      if (err instanceof RouterOsError) {
        lines.push(runtimeError(session, cmd, err));
        break;
      }
      throw err;
    }
  }
  return { lines, quit: false };
}

function resolveNumbers(state: RouterState, session: ConsoleSession, cmd: Command, menu: MenuDef): string[] {
  const n = cmd.numbers;
  if (!n) throw new RouterOsError('expected value of numbers', 400);
  if (n.t === 'find') {
    return state
      .list(n.menu.path)
      .filter((r) => evalExpr(n.menu, n.expr, r))
      .map((r) => r['.id'] as string);
  }
  return n.refs.map((ref) => {
    if (/^\d+$/.test(ref)) {
      const id = session.numbering.get(menu.path)?.get(Number(ref));
      if (!id || !state.get(menu.path, id)) throw new RouterOsError('no such item', 404);
      return id;
    }
    const rec = state.get(menu.path, ref);
    if (!rec) throw new RouterOsError('no such item', 404);
    return rec['.id'] as string;
  });
}

function requireWrite(session: ConsoleSession): void {
  if (session.user.group === 'read') throw new RouterOsError('not enough permissions (9)', 500);
}

function execute(state: RouterState, session: ConsoleSession, cmd: Command): string[] {
  const menu = cmd.menu;
  if (!menu) throw new RouterOsError(`bad command name ${cmd.word}`, 400);
  const named = Object.fromEntries(cmd.named.map((a) => [a.key, a.value]));
  switch (cmd.word) {
    case 'print':
      return print(state, session, cmd, menu, named);
    case 'add': {
      requireWrite(session);
      state.add(menu.path, named);
      return [];
    }
    case 'set': {
      requireWrite(session);
      if (menu.singleton) {
        state.set(menu.path, undefined, named);
        return [];
      }
      const ids = resolveNumbers(state, session, cmd, menu);
      for (const id of ids) state.set(menu.path, id, named);
      return [];
    }
    case 'remove': {
      requireWrite(session);
      for (const id of resolveNumbers(state, session, cmd, menu)) state.remove(menu.path, id);
      return [];
    }
    case 'enable':
    case 'disable': {
      requireWrite(session);
      const v = cmd.word === 'disable' ? 'true' : 'false';
      for (const id of resolveNumbers(state, session, cmd, menu)) state.set(menu.path, id, { disabled: v });
      return [];
    }
    case 'reset-counters': {
      requireWrite(session);
      for (const id of resolveNumbers(state, session, cmd, menu)) state.resetCounters(menu.path, id);
      return [];
    }
    case 'reset-counters-all': {
      requireWrite(session);
      for (const r of state.list(menu.path)) state.resetCounters(menu.path, r['.id'] as string);
      return [];
    }
    default:
      throw new RouterOsError(`bad command name ${cmd.word}`, 400);
  }
}

function print(
  state: RouterState,
  session: ConsoleSession,
  cmd: Command,
  menu: MenuDef,
  named: Record<string, string>,
): string[] {
  const mode: PrintMode = {
    stats: cmd.flags.has('stats'),
    detail: cmd.flags.has('detail'),
    terse: cmd.flags.has('terse'),
    asValue: cmd.flags.has('as-value'),
    countOnly: cmd.flags.has('count-only'),
  };
  if (named['proplist'] !== undefined) mode.proplist = named['proplist'].split(',').filter(Boolean);
  if (menu.singleton) {
    const rec = state.get(menu.path);
    return rec ? printKeyValues(menu, rec, mode) : [];
  }
  const all = state.list(menu.path);
  const numbering = new Map<number, string>();
  const items: IndexedRecord[] = [];
  all.forEach((rec, index) => {
    numbering.set(index, rec['.id'] as string);
    if (cmd.where && !evalExpr(menu, cmd.where, rec)) return;
    items.push({ index, rec });
  });
  session.numbering.set(menu.path, numbering);
  return printRecords(menu, items, mode, session.width);
}

/** Parses the `+ct…w<width>h<height>` login suffix (B.6): returns the bare user name and width. */
export function parseLoginName(login: string): { user: string; width?: number; flags: string } {
  const plus = login.indexOf('+');
  if (plus < 0) return { user: login, flags: '' };
  const flags = login.slice(plus + 1);
  const w = /w(\d+)/.exec(flags);
  return { user: login.slice(0, plus), flags, ...(w ? { width: Number(w[1]) } : {}) };
}
