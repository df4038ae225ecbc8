/**
 * Facts about each schema key in the form docs/config-reference.md shows them, so a test
 * can check the document against the schema.
 */
import type { JsonSchema } from './schemas.js';

/** One documented key. */
export interface ReferenceRow {
  /** Dotted key path. */
  path: string;
  /** Type as documented: `number`, `integer`, `string`, `boolean`, `mapping`, `list`, `string or number`. */
  type: string;
  /** `required`, the default value as JSON, or `—` (optional, no default). */
  default: string;
  /** Range or allowed values, or `—`. */
  range: string;
  /** The schema description. */
  description: string;
}

function typeOf(s: JsonSchema): string {
  const t = s['type'];
  if (Array.isArray(t)) return t.join(' or ');
  if (t === 'object') return 'mapping';
  if (t === 'array') return 'list';
  return String(t);
}

function rangeOf(s: JsonSchema): string {
  if (Array.isArray(s['enum'])) return (s['enum'] as unknown[]).map((v) => JSON.stringify(v)).join(', ');
  const parts: string[] = [];
  if (s['minimum'] !== undefined && s['maximum'] !== undefined) return `${s['minimum']} – ${s['maximum']}`;
  if (s['minimum'] !== undefined) parts.push(`≥ ${s['minimum']}`);
  if (s['exclusiveMinimum'] !== undefined) parts.push(`> ${s['exclusiveMinimum']}`);
  if (s['maximum'] !== undefined) parts.push(`≤ ${s['maximum']}`);
  if (s['minItems'] !== undefined) parts.push(`≥ ${s['minItems']} items`);
  if (s['pattern'] !== undefined) parts.push('pattern');
  return parts.length === 0 ? '—' : parts.join(', ');
}

/** The rows of every key of a schema, depth first in schema order. */
export function referenceRows(schema: JsonSchema, prefix = ''): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  const props = (schema['properties'] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema['required'] ?? []) as string[]);
  for (const [key, sub] of Object.entries(props)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    rows.push({
      path,
      type: typeOf(sub),
      default: required.has(key)
        ? 'required'
        : sub['default'] !== undefined
          ? JSON.stringify(sub['default'])
          : '—',
      range: rangeOf(sub),
      description: String(sub['description'] ?? ''),
    });
    rows.push(...referenceRows(sub, path));
  }
  return rows;
}
