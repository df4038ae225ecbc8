import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** fixtures/golden in the repository (its root is 4 levels above this folder), or WANCTL_GOLDEN_DIR. */
export const GOLDEN_DIR =
  process.env['WANCTL_GOLDEN_DIR'] ??
  resolve(dirname(fileURLToPath(import.meta.url)), '../../../../fixtures/golden');

/** Load a golden vector file; the strings "NaN", "Infinity", "-Infinity" become numbers. */
export function loadVectors<T = Record<string, unknown>>(file: string): T {
  const text = readFileSync(resolve(GOLDEN_DIR, file), 'utf8');
  return JSON.parse(text) as T;
}

export function num(v: unknown): number {
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (typeof v !== 'number') throw new Error(`expected a number in the vectors, got ${JSON.stringify(v)}`);
  return v;
}
