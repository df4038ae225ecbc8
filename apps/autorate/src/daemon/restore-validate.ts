/**
 * Checks a state file read at start against the config before the controller takes it (issue
 * 16.5): a restored baseline RTT of 0.5 ms (bounds 10–60) held the link at its floor on an idle
 * line, 1e9 held it at the ceiling under load, and a rate of 1e300 made every router write fail.
 * Pure: no I/O, no clock. A value that does not fit is dropped (the controller then uses its
 * default for that key: the initial baseline, the ceiling, zero) and named in one problem each.
 */

/** The bounds a restored autorate state must respect, from the WAN's config. */
export interface RestoreBounds {
  /** `thresholds.baseline_rtt_bounds` (ms). */
  baselineRttMinMs: number;
  baselineRttMaxMs: number;
  /** Lowest floor and the ceiling of each direction (bits per second). */
  download: { floorBps: number; ceilingBps: number };
  upload: { floorBps: number; ceilingBps: number };
}

/** One value dropped from a restored state. */
export interface RestoreProblem {
  /** Dotted path in the state file, e.g. `ewma.baseline_rtt`. */
  field: string;
  /** The value found (as it was in the file). */
  value: unknown;
  /** What it had to be, e.g. `within baseline_rtt_bounds [10, 60] ms`. */
  bound: string;
  /** One line for the log: field, value and bound. */
  message: string;
}

/** Result of {@link validateRestoredState}. */
export interface ValidatedState {
  /** A copy of the state with every value that did not fit removed (null: not an object at all). */
  state: Record<string, unknown> | null;
  problems: RestoreProblem[];
}

/** Largest load RTT EWMA taken back (ms): no probe waits a minute for a reply. */
export const MAX_RESTORED_LOAD_RTT_MS = 60_000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (typeof v === 'number') return String(v);
  const j = JSON.stringify(v);
  return j === undefined ? String(v) : j.length > 60 ? `${j.slice(0, 57)}...` : j;
}

const mbit = (bps: number): string => `${+(bps / 1e6).toFixed(3)} Mbit/s`;

/**
 * Validates a restored autorate state (`{download, upload, ewma, last_applied}`, the v1.3
 * layout) against the config's bounds: `ewma.baseline_rtt` within `baseline_rtt_bounds`;
 * `ewma.load_rtt` finite in [0, 60 000] ms; each direction's `current_rate` (and
 * `last_applied` rate, which may be null) within [lowest floor, ceiling]; streak counters
 * whole numbers ≥ 0. Unknown keys (e.g. `timestamp`) pass through untouched.
 *
 * @example
 * const { state, problems } = validateRestoredState(raw, restoreBoundsFromParams(params));
 * for (const p of problems) log.warn(`state file: ${p.message}`);
 * runner.restore(state ?? {});
 */
export function validateRestoredState(raw: unknown, bounds: RestoreBounds): ValidatedState {
  const problems: RestoreProblem[] = [];
  if (!isRecord(raw)) {
    problems.push({
      field: '(root)',
      value: raw,
      bound: 'a JSON object',
      message: `state dropped: expected a JSON object, found ${show(raw)}`,
    });
    return { state: null, problems };
  }
  const drop = (section: Record<string, unknown>, path: string, key: string, bound: string): void => {
    const field = `${path}.${key}`;
    const value = section[key];
    problems.push({ field, value, bound, message: `${field} = ${show(value)} dropped: must be ${bound}` });
    delete section[key];
  };
  const state: Record<string, unknown> = { ...raw };
  const sectionOf = (key: string): Record<string, unknown> | null => {
    if (!(key in state)) return null;
    const v = state[key];
    if (!isRecord(v)) {
      problems.push({
        field: key,
        value: v,
        bound: 'an object',
        message: `${key} = ${show(v)} dropped: must be an object`,
      });
      delete state[key];
      return null;
    }
    const copy = { ...v };
    state[key] = copy;
    return copy;
  };
  const inRange = (v: unknown, lo: number, hi: number): boolean =>
    typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;

  const ewma = sectionOf('ewma');
  if (ewma !== null) {
    const { baselineRttMinMs: lo, baselineRttMaxMs: hi } = bounds;
    if ('baseline_rtt' in ewma && !inRange(ewma['baseline_rtt'], lo, hi))
      drop(ewma, 'ewma', 'baseline_rtt', `a number within baseline_rtt_bounds [${lo}, ${hi}] ms`);
    if ('load_rtt' in ewma && !inRange(ewma['load_rtt'], 0, MAX_RESTORED_LOAD_RTT_MS))
      drop(ewma, 'ewma', 'load_rtt', `a number within [0, ${MAX_RESTORED_LOAD_RTT_MS}] ms`);
  }
  for (const dir of ['download', 'upload'] as const) {
    const sec = sectionOf(dir);
    if (sec === null) continue;
    const { floorBps, ceilingBps } = bounds[dir];
    if ('current_rate' in sec && !inRange(sec['current_rate'], floorBps, ceilingBps))
      drop(
        sec,
        dir,
        'current_rate',
        `a rate within [floor, ceiling] = [${floorBps}, ${ceilingBps}] bit/s (${mbit(floorBps)} to ${mbit(ceilingBps)})`,
      );
    for (const k of ['green_streak', 'soft_red_streak', 'red_streak']) {
      const v = sec[k];
      if (k in sec && !(typeof v === 'number' && Number.isInteger(v) && v >= 0))
        drop(sec, dir, k, 'a whole number >= 0');
    }
  }
  const la = sectionOf('last_applied');
  if (la !== null) {
    for (const [k, dir] of [
      ['dl_rate', 'download'],
      ['ul_rate', 'upload'],
    ] as const) {
      const { floorBps, ceilingBps } = bounds[dir];
      if (k in la && la[k] !== null && !inRange(la[k], floorBps, ceilingBps))
        drop(la, 'last_applied', k, `null or a rate within [${floorBps}, ${ceilingBps}] bit/s`);
    }
  }
  return { state, problems };
}

/** The bounds of {@link validateRestoredState} from the controller's parameters. */
export function restoreBoundsFromParams(p: {
  thresholds: { baselineRttMinMs: number; baselineRttMaxMs: number };
  download: {
    ceilingBps: number;
    floorGreenBps: number;
    floorYellowBps: number;
    floorSoftRedBps: number;
    floorRedBps: number;
  };
  upload: {
    ceilingBps: number;
    floorRedBps: number;
    floorGreenBps?: number | undefined;
    floorYellowBps?: number | undefined;
  };
}): RestoreBounds {
  const lowest = (xs: Array<number | undefined>): number =>
    Math.min(...xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)));
  return {
    baselineRttMinMs: p.thresholds.baselineRttMinMs,
    baselineRttMaxMs: p.thresholds.baselineRttMaxMs,
    download: {
      floorBps: lowest([
        p.download.floorGreenBps,
        p.download.floorYellowBps,
        p.download.floorSoftRedBps,
        p.download.floorRedBps,
      ]),
      ceilingBps: p.download.ceilingBps,
    },
    upload: {
      floorBps: lowest([p.upload.floorRedBps, p.upload.floorGreenBps, p.upload.floorYellowBps]),
      ceilingBps: p.upload.ceilingBps,
    },
  };
}

/**
 * For the state store's `validateBackup`: throws when a state file holds a value
 * {@link validateRestoredState} would drop, so such a file never becomes the `.bak`.
 */
export function assertPlausibleState(raw: unknown, bounds: RestoreBounds): void {
  const { problems } = validateRestoredState(raw, bounds);
  if (problems.length > 0) throw new Error(problems.map((p) => p.message).join('; '));
}
