/**
 * `${VAR}` expansion in every string value (docs/decisions.md#d10).
 */
import { joinPath } from './yaml.js';

/** Result of {@link expandEnv}. */
export interface ExpandResult {
  /** A deep copy of the input with every `${VAR}` replaced. */
  value: unknown;
  /** Key paths whose value came (in whole or in part) from the environment. */
  expandedPaths: Set<string>;
  /** Problems: unset variables, malformed references. */
  errors: Array<{ path: string; message: string }>;
}

const REF = /\$\$|\$\{([^}]*)\}|\$\{/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Replaces `${NAME}` anywhere inside every string value with `env[NAME]`. `$$` is a
 * literal `$`. An unset variable or a malformed reference is an error naming the
 * variable and the key path (never the value).
 */
export function expandEnv(input: unknown, env: Readonly<Record<string, string | undefined>>): ExpandResult {
  const expandedPaths = new Set<string>();
  const errors: ExpandResult['errors'] = [];

  const expandString = (s: string, path: string): string => {
    if (!s.includes('$')) return s;
    let used = false;
    const out = s.replace(REF, (match, name: string | undefined) => {
      if (match === '$$') return '$';
      if (name === undefined) {
        errors.push({ path, message: 'unterminated "${" in value (write "$$" for a literal "$")' });
        return match;
      }
      if (!NAME.test(name)) {
        errors.push({ path, message: `invalid environment variable name "${name}" in "\${${name}}"` });
        return match;
      }
      const v = env[name];
      if (v === undefined) {
        errors.push({ path, message: `environment variable ${name} is not set (referenced as \${${name}})` });
        return '';
      }
      used = true;
      return v;
    });
    if (used) expandedPaths.add(path);
    return out;
  };

  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') return expandString(v, path);
    if (Array.isArray(v)) return v.map((item, i) => walk(item, joinPath(path, i)));
    if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
      const out: Record<string, unknown> = {};
      for (const [k, child] of Object.entries(v)) out[k] = walk(child, joinPath(path, k));
      return out;
    }
    return v;
  };

  return { value: walk(input, ''), expandedPaths, errors };
}
