/**
 * The primary WAN's baseline RTT, read from its autorate state file (v1.3 `BaselineLoader`):
 * `ewma.baseline_rtt` of `{download, upload, ewma: {baseline_rtt, load_rtt}, last_applied, timestamp}`.
 * Never throws: every problem comes back as a status and a sentence for the log and /health.
 * The bounds check (`thresholds.baseline_rtt_bounds`) is the control law's (it also keeps the
 * last good value); this reader adds what v1.3 lacked: a freshness check (file age).
 */
import { readFile, stat } from 'node:fs/promises';

export type BaselineStatus = 'ok' | 'stale' | 'missing' | 'unreadable' | 'invalid';

export interface BaselineReading {
  /** The value to hand to the control law (null: none usable this cycle). Stale values are still used. */
  valueMs: number | null;
  status: BaselineStatus;
  /** Age of the file (ms since its last modification), null when it could not be read. */
  ageMs: number | null;
  /** What is wrong, in words (null when status is ok). */
  problem: string | null;
}

/** A file untouched for longer than this is reported stale (autorate rewrites it at least once a minute). */
export const DEFAULT_BASELINE_STALE_MS = 300_000;

export async function readAutorateBaseline(
  path: string,
  opts: { nowMs?: number; staleAfterMs?: number } = {},
): Promise<BaselineReading> {
  const now = opts.nowMs ?? Date.now();
  const staleAfter = opts.staleAfterMs ?? DEFAULT_BASELINE_STALE_MS;
  let text: string;
  let ageMs: number;
  try {
    const [st, t] = await Promise.all([stat(path), readFile(path, 'utf8')]);
    text = t;
    ageMs = Math.max(0, now - st.mtimeMs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      return {
        valueMs: null,
        status: 'missing',
        ageMs: null,
        problem: `Primary WAN state file not found: ${path} (is wanctl-autorate running for the primary WAN?)`,
      };
    return {
      valueMs: null,
      status: 'unreadable',
      ageMs: null,
      problem: `cannot read primary WAN state file ${path}: ${(e as Error).message}`,
    };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return {
      valueMs: null,
      status: 'invalid',
      ageMs,
      problem: `primary WAN state file ${path} is not valid JSON (${(e as Error).message})`,
    };
  }
  const ewma =
    doc !== null && typeof doc === 'object' && !Array.isArray(doc)
      ? (doc as Record<string, unknown>)['ewma']
      : null;
  const raw =
    ewma !== null && typeof ewma === 'object' && !Array.isArray(ewma)
      ? (ewma as Record<string, unknown>)['baseline_rtt']
      : undefined;
  if (typeof raw !== 'number' || !Number.isFinite(raw)) {
    return {
      valueMs: null,
      status: 'invalid',
      ageMs,
      problem:
        raw === undefined
          ? `primary WAN state file ${path} has no ewma.baseline_rtt`
          : `primary WAN state file ${path}: ewma.baseline_rtt is not a number (${JSON.stringify(raw)})`,
    };
  }
  if (ageMs > staleAfter) {
    return {
      valueMs: raw,
      status: 'stale',
      ageMs,
      problem: `primary WAN state file ${path} not updated for ${Math.round(ageMs / 1000)} s (autorate stopped?); using its baseline anyway`,
    };
  }
  return { valueMs: raw, status: 'ok', ageMs, problem: null };
}
