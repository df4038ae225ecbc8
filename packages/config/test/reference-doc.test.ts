import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { autorateSchema, referenceRows, schemaKeyPaths, steeringSchema } from '../src/index.js';
import { here } from './helpers.js';

const doc = readFileSync(join(here, '..', '..', '..', 'docs', 'config-reference.md'), 'utf8');

/** The key table rows of the section starting at `heading`, up to the next heading. */
function section(heading: string): Map<string, string[]> {
  const start = doc.indexOf(`\n${heading}\n`);
  expect(start, `heading "${heading}" missing`).toBeGreaterThan(-1);
  const rest = doc.slice(start + heading.length + 2);
  const end = rest.search(/\n#{2,3} /);
  const body = end === -1 ? rest : rest.slice(0, end);
  const rows = new Map<string, string[]>();
  for (const line of body.split('\n')) {
    const m = /^\| `([^`]+)` \|(.*)\|$/.exec(line);
    if (m === null) continue;
    const cells = (m[2] ?? '').split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
    expect(rows.has(m[1] as string), `duplicate row ${m[1]}`).toBe(false);
    rows.set(m[1] as string, cells);
  }
  return rows;
}

describe.each([
  ['## Autorate keys', autorateSchema],
  ['## Steering keys', steeringSchema],
])('docs/config-reference.md %s', (heading, schema) => {
  const rows = section(heading);

  it('documents every schema key', () => {
    const missing = schemaKeyPaths(schema).filter((p) => !rows.has(p));
    expect(missing).toEqual([]);
  });

  it('documents no key the schema lacks', () => {
    const known = new Set(schemaKeyPaths(schema));
    expect([...rows.keys()].filter((p) => !known.has(p))).toEqual([]);
  });

  it('shows the schema type, default and range of every key, and a meaning', () => {
    for (const r of referenceRows(schema)) {
      const cells = rows.get(r.path);
      expect(cells, r.path).toBeDefined();
      expect(cells?.slice(0, 3), r.path).toEqual([r.type, r.default, r.range]);
      expect((cells?.[3] ?? '').length, `${r.path} meaning`).toBeGreaterThan(10);
    }
  });
});
