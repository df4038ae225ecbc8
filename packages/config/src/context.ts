/**
 * The validation pipeline shared by both config kinds: YAML → env expansion → schema
 * (ajv) → kind-specific rules and normalisation, collecting every problem.
 */
import { isIP } from 'node:net';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { expandEnv } from './env.js';
import { ConfigAliasLimitError, ConfigError, type ConfigProblem } from './errors.js';
import type { JsonSchema } from './schemas.js';
import { REDACTED_TEXT } from './secret.js';
import { suggest } from './suggest.js';
import { joinPath, lookupPosition, type PositionIndex, parseYaml } from './yaml.js';

/** Key names whose values are secrets wherever they appear. */
const SECRET_KEY = /pass(word|wd)?$|secret|token/i;

/** Collects problems and warnings with positions, redacting secrets. */
export class Context {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: ConfigProblem[] = [];

  constructor(
    readonly file: string,
    readonly positions: PositionIndex,
    readonly secretPaths: Set<string>,
    readonly nullPaths: Set<string>,
  ) {}

  /** True when the value at this path must never be shown. */
  isSecret(path: string): boolean {
    if (this.secretPaths.has(path)) return true;
    const last = path.slice(Math.max(path.lastIndexOf('.'), -1) + 1);
    return SECRET_KEY.test(last);
  }

  private make(path: string, message: string, extra: { expected?: string; found?: unknown }): ConfigProblem {
    const p: ConfigProblem = { file: this.file, path, message };
    const pos = lookupPosition(this.positions, path);
    if (pos !== undefined) {
      p.line = pos.line;
      p.column = pos.column;
    }
    if (extra.expected !== undefined) p.expected = extra.expected;
    if ('found' in extra) p.found = this.isSecret(path) ? REDACTED_TEXT : describe(extra.found);
    return p;
  }

  /** Records a problem at a key path. `found` is rendered (or redacted for secrets). */
  error(path: string, message: string, extra: { expected?: string; found?: unknown } = {}): void {
    this.problems.push(this.make(path, message, extra));
  }

  /** Records a non-fatal finding. */
  warn(path: string, message: string): void {
    this.warnings.push(this.make(path, message, {}));
  }
}

/** Renders a found value for a message: strings quoted, lists and mappings by kind. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (v instanceof Date) return `a date (${v.toISOString().slice(0, 10)})`;
  if (typeof v === 'object') return 'a mapping';
  const text = typeof v === 'string' ? JSON.stringify(v) : String(v);
  const short = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return typeof v === 'boolean' ? `${short} (boolean)` : short;
}

const HOSTNAME =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** v1.3 ping host rule: IPv4, IPv6 or RFC 1123 host name, at most 256 characters. */
export function isValidHost(v: string): boolean {
  if (v.length === 0 || v.length > 256) return false;
  return isIP(v) !== 0 || HOSTNAME.test(v);
}

/** Reads a nested value by dotted path (objects only). */
export function getPath(root: unknown, path: string): unknown {
  let cur: unknown = root;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** A number at a path, or undefined if absent or not a finite number (schema reports type errors). */
export function numAt(root: unknown, path: string): number | undefined {
  const v = getPath(root, path);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** A string at a path, or undefined. */
export function strAt(root: unknown, path: string): string | undefined {
  const v = getPath(root, path);
  return typeof v === 'string' ? v : undefined;
}

/** A boolean at a path, or undefined. */
export function boolAt(root: unknown, path: string): boolean | undefined {
  const v = getPath(root, path);
  return typeof v === 'boolean' ? v : undefined;
}

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
const compiled = new Map<JsonSchema, ValidateFunction>();

function validatorFor(schema: JsonSchema): ValidateFunction {
  let v = compiled.get(schema);
  if (v === undefined) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

function pointerToPath(pointer: string): string {
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path = /^\d+$/.test(seg) ? joinPath(path, Number(seg)) : joinPath(path, seg);
  }
  return path;
}

function rangeText(s: Record<string, unknown>): string {
  const kind = s['type'] === 'integer' ? 'integer' : 'number';
  const lo =
    s['minimum'] !== undefined
      ? `≥ ${s['minimum']}`
      : s['exclusiveMinimum'] !== undefined
        ? `> ${s['exclusiveMinimum']}`
        : '';
  const hi = s['maximum'] !== undefined ? `≤ ${s['maximum']}` : '';
  if (s['minimum'] !== undefined && s['maximum'] !== undefined)
    return `${kind} in [${s['minimum']}, ${s['maximum']}]`;
  return [kind, lo, hi].filter((x) => x !== '').join(' ');
}

function patternMessage(pattern: string): { message: string; expected: string } {
  if (pattern.includes('{1,64}')) {
    return {
      message: 'not a valid identifier',
      expected: '1–64 characters from A–Z a–z 0–9 _ . -',
    };
  }
  if (pattern.includes('{1,128}')) {
    return {
      message: 'not a valid rule comment',
      expected: '1–128 characters from A–Z a–z 0–9 _ . - : and space',
    };
  }
  if (pattern.startsWith('^SHA256')) {
    return {
      message: 'not an SSH host key fingerprint',
      expected: 'SHA256:<43 base64 characters> (ssh-keygen -lf)',
    };
  }
  return { message: 'not a SHA-256 fingerprint', expected: '64 hex digits, optionally colon-separated' };
}

function convertAjvError(ctx: Context, e: ErrorObject): void {
  const path = pointerToPath(e.instancePath);
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      const props = Object.keys((parent['properties'] ?? {}) as Record<string, unknown>);
      const near = suggest(key, props);
      const keyPath = joinPath(path, key);
      ctx.error(
        keyPath,
        near !== undefined ? `unknown key "${key}"; did you mean "${near}"?` : `unknown key "${key}"`,
        {
          expected: props.length > 0 ? `one of ${props.join(', ')}` : 'no keys',
        },
      );
      return;
    }
    case 'required': {
      const key = String((e.params as { missingProperty: string }).missingProperty);
      const keyPath = joinPath(path, key);
      ctx.error(
        keyPath,
        ctx.nullPaths.has(keyPath) ? 'required key has no value' : 'required key is missing',
      );
      return;
    }
    case 'type': {
      const t = (e.params as { type: string | string[] }).type;
      const expected = Array.isArray(t)
        ? t.join(' or ')
        : t === 'object'
          ? 'a mapping'
          : t === 'array'
            ? 'a list'
            : t;
      const hint =
        e.data instanceof Date && expected === 'string' ? ' (YAML read it as a date; quote it)' : '';
      ctx.error(path, `wrong type${hint}`, { expected, found: e.data });
      return;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      ctx.error(path, 'out of range', { expected: rangeText(parent), found: e.data });
      return;
    case 'enum':
      ctx.error(path, 'not an allowed value', {
        expected: `one of ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}`,
        found: e.data,
      });
      return;
    case 'pattern': {
      const m = patternMessage(String((e.params as { pattern: string }).pattern));
      ctx.error(path, m.message, { expected: m.expected, found: e.data });
      return;
    }
    case 'minLength':
      ctx.error(path, 'must not be empty', { found: e.data });
      return;
    case 'maxLength':
      ctx.error(path, 'too long', {
        expected: `at most ${(e.params as { limit: number }).limit} characters`,
      });
      return;
    case 'minItems':
      ctx.error(path, `must have at least ${(e.params as { limit: number }).limit} item(s)`, {
        found: e.data,
      });
      return;
    case 'maxItems':
      ctx.error(path, `must have at most ${(e.params as { limit: number }).limit} item(s)`, {
        found: e.data,
      });
      return;
    default:
      ctx.error(path, e.message ?? `fails ${e.keyword}`, { found: e.data });
  }
}

/** Deep copy without null-valued mapping entries (v1.3: an explicit null counts as missing). */
function stripNulls(v: unknown, path: string, nullPaths: Set<string>): unknown {
  if (Array.isArray(v)) return v.map((x, i) => stripNulls(x, joinPath(path, i), nullPaths));
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, child] of Object.entries(v)) {
      const p = joinPath(path, k);
      if (child === null) nullPaths.add(p);
      else out[k] = stripNulls(child, p, nullPaths);
    }
    return out;
  }
  return v;
}

/** Output of {@link prepare}: the expanded, schema-checked document and the context holding problems so far. */
export interface Prepared {
  ctx: Context;
  /** The document after `${VAR}` expansion and null stripping. */
  data: Record<string, unknown>;
  /** The document as parsed. */
  raw: Record<string, unknown>;
}

/** Parses YAML text into a mapping; throws ConfigError for syntax errors, empty files and non-mappings. */
export function parseMapping(
  text: string,
  file: string,
): { raw: Record<string, unknown>; positions: PositionIndex } {
  const parsed = parseYaml(text, file);
  if (!parsed.ok) {
    if ('aliasExpansion' in parsed) throw new ConfigAliasLimitError(file, parsed.aliasExpansion);
    throw new ConfigError(file, [parsed.problem]);
  }
  const v = parsed.value;
  if (v === undefined || v === null) {
    throw new ConfigError(file, [
      { file, path: '', message: 'the config file is empty', expected: 'a YAML mapping' },
    ]);
  }
  if (typeof v !== 'object' || Array.isArray(v) || v instanceof Date) {
    throw new ConfigError(file, [
      {
        file,
        path: '',
        line: 1,
        column: 1,
        message: 'the top level must be a mapping of keys',
        found: describe(v),
      },
    ]);
  }
  return { raw: v as Record<string, unknown>, positions: parsed.positions };
}

/** Expands `${VAR}`, strips nulls and runs the schema, collecting problems. */
export function prepare(
  raw: Record<string, unknown>,
  positions: PositionIndex,
  file: string,
  schema: JsonSchema,
  env: Readonly<Record<string, string | undefined>>,
): Prepared {
  const expanded = expandEnv(raw, env);
  const nullPaths = new Set<string>();
  const data = stripNulls(expanded.value, '', nullPaths) as Record<string, unknown>;
  const ctx = new Context(file, positions, expanded.expandedPaths, nullPaths);
  for (const e of expanded.errors) ctx.error(e.path, e.message);
  const validate = validatorFor(schema);
  if (!validate(data)) for (const e of validate.errors ?? []) convertAjvError(ctx, e);
  return { ctx, data, raw };
}

/** Throws ConfigError when problems were found, sorted by position. */
export function throwIfProblems(ctx: Context): void {
  if (ctx.problems.length === 0) return;
  const indexed = ctx.problems.map((p, i) => ({ p, i }));
  indexed.sort((a, b) => {
    const la = a.p.line ?? Number.MAX_SAFE_INTEGER;
    const lb = b.p.line ?? Number.MAX_SAFE_INTEGER;
    if (la !== lb) return la - lb;
    const ca = a.p.column ?? 0;
    const cb = b.p.column ?? 0;
    return ca !== cb ? ca - cb : a.i - b.i;
  });
  throw new ConfigError(
    ctx.file,
    indexed.map((x) => x.p),
  );
}
