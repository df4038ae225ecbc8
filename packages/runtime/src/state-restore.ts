/**
 * Reading a daemon's state file at start, the same way in both daemons: the primary file, else
 * its backup, else no state (each problem told as a sentence), and the content must be a JSON
 * object. Built on readJsonWithRecovery (state-file.ts).
 */
import { type RecoverySource, readJsonWithRecovery } from './state-file.js';

/** A restored state object, or null (no usable file: start from defaults). */
export interface RestoredState {
  value: Record<string, unknown> | null;
  source: RecoverySource;
}

/**
 * Reads the JSON object saved at `path` (or its backup); each problem met on the way (corrupt
 * primary, unreadable backup, not an object) is passed to `onProblem`. Never throws.
 */
export async function readStateObject(
  path: string,
  onProblem: (problem: string) => void,
): Promise<RestoredState> {
  const r = await readJsonWithRecovery<Record<string, unknown> | null>(
    path,
    (raw) => {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('not a JSON object');
      return raw as Record<string, unknown>;
    },
    () => null,
  );
  for (const p of r.problems) onProblem(p);
  return { value: r.value, source: r.source };
}
