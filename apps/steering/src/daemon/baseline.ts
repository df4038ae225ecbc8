/**
 * The primary WAN's baseline RTT, read from its autorate state file (v1.3 `BaselineLoader`):
 * `ewma.baseline_rtt` of `{download, upload, ewma: {baseline_rtt, load_rtt}, last_applied, timestamp}`.
 * Never throws: every problem comes back as a status and a sentence for the log and /health.
 * The bounds check (`thresholds.baseline_rtt_bounds`) is the control law's (it also keeps the
 * last good value); this reader adds what v1.3 lacked: a freshness check (file age).
 */
import { readFile, stat } from 'node:fs/promises';
import type { AutorateCongestion, DirectionCongestion } from '../control/index.js';

export type BaselineStatus = 'ok' | 'stale' | 'missing' | 'unreadable' | 'invalid';

export interface BaselineReading {
  /** The value to hand to the control law (null: none usable this cycle). Stale values are still used. */
  valueMs: number | null;
  status: BaselineStatus;
  /** Age of the file (ms since its last modification), null when it could not be read. */
  ageMs: number | null;
  /** What is wrong, in words (null when status is ok). */
  problem: string | null;
  /**
   * docs/decisions.md#d14: the file's `congestion` report, its age from its own `at` time; null
   * when the file has none (an autorate before D14) or could not be read. A malformed report
   * comes back with `ageSeconds: null` (unknown).
   */
  congestion: AutorateCongestion | null;
}

function direction(v: unknown): DirectionCongestion | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const zone = o['zone'];
  const d = o['rtt_delta_ms'];
  if (!(zone === null || typeof zone === 'string') || typeof d !== 'number' || !Number.isFinite(d))
    return null;
  const rf = o['red_for_sec'];
  return {
    zone,
    atFloor: o['at_floor'] === true,
    belowFloor: o['below_floor'] === true,
    rttDeltaMs: d,
    redForSec: typeof rf === 'number' && Number.isFinite(rf) && rf >= 0 ? rf : null,
  };
}

/** The `congestion` report of a parsed autorate state file (see {@link BaselineReading.congestion}). */
export function parseCongestion(doc: unknown, nowMs: number): AutorateCongestion | null {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return null;
  const c = (doc as Record<string, unknown>)['congestion'];
  if (c === undefined) return null;
  if (c === null || typeof c !== 'object' || Array.isArray(c))
    return { ageSeconds: null, download: null, upload: null };
  const o = c as Record<string, unknown>;
  const at = typeof o['at'] === 'string' ? Date.parse(o['at']) : Number.NaN;
  const download = direction(o['download']);
  const upload = direction(o['upload']);
  return {
    ageSeconds: Number.isFinite(at) && (download || upload) ? (nowMs - at) / 1000 : null,
    download,
    upload,
  };
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
        congestion: null,
      };
    return {
      valueMs: null,
      status: 'unreadable',
      ageMs: null,
      problem: `cannot read primary WAN state file ${path}: ${(e as Error).message}`,
      congestion: null,
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
      congestion: null,
    };
  }
  const congestion = parseCongestion(doc, now);
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
      congestion,
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
      congestion,
      problem: `primary WAN state file ${path} not updated for ${Math.round(ageMs / 1000)} s (autorate stopped?); using its baseline anyway`,
    };
  }
  return { valueMs: raw, status: 'ok', ageMs, problem: null, congestion };
}
