/**
 * Checks the steering state read at start before the controller takes it (issue 16.5): a value
 * no running daemon could have written (a negative counter, an RTT delta of 1e9 ms that would
 * keep traffic steered away, a baseline outside `baseline_rtt_bounds`) is dropped, one problem
 * each naming the field, the value and the bound; the controller then uses its default for it.
 * Pure: no I/O, no clock. (The primary WAN's baseline read from the autorate state file every
 * cycle is checked against the same bounds by the control law itself.)
 */

/** The bounds a restored steering state must respect. */
export interface SteeringRestoreBounds {
  /** `thresholds.baseline_rtt_bounds` (ms). */
  baselineRttMinMs: number;
  baselineRttMaxMs: number;
}

/** One value dropped from a restored state. */
export interface RestoreProblem {
  /** The key in the state file, e.g. `rtt_delta_ewma`, `history_rtt`. */
  field: string;
  /** The value found. */
  value: unknown;
  /** What it had to be. */
  bound: string;
  /** One line for the log: field, value and bound. */
  message: string;
}

/** Result of {@link validateRestoredState}. */
export interface ValidatedState {
  /** A copy with every value that did not fit removed (null: not an object at all). */
  state: Record<string, unknown> | null;
  problems: RestoreProblem[];
}

/** Largest RTT or RTT delta taken back (ms): no ping waits a minute for its reply. */
export const MAX_RESTORED_RTT_MS = 60_000;
/** Largest queue depth EWMA taken back (packets): far beyond any CAKE queue's memory limit. */
export const MAX_RESTORED_QUEUE_PACKETS = 1_000_000;

const COUNTERS = ['red_count', 'good_count', 'bad_count', 'cake_read_failures'] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (typeof v === 'number') return String(v);
  const j = JSON.stringify(v);
  return j === undefined ? String(v) : j.length > 60 ? `${j.slice(0, 57)}...` : j;
}

const inRange = (v: unknown, lo: number, hi: number): boolean =>
  typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;

/**
 * Validates a restored steering state: counters (`red_count`, `good_count`, `bad_count`,
 * `cake_read_failures`) whole numbers ≥ 0; `rtt_delta_ewma` in [0, 60 000] ms; `queue_ewma` in
 * [0, 1 000 000] packets; `baseline_rtt` null or within `baseline_rtt_bounds`; the histories
 * `history_rtt` / `history_delta` (ms) and `cake_drops_history` / `queue_depth_history` lists of
 * finite numbers ≥ 0 (RTTs at most 60 000 ms). Other keys pass through untouched.
 *
 * @example
 * const { state, problems } = validateRestoredState(raw, { baselineRttMinMs: 10, baselineRttMaxMs: 60 });
 * for (const p of problems) log.warn(`state file: ${p.message}`);
 * controller.restore(state ?? {});
 */
export function validateRestoredState(raw: unknown, bounds: SteeringRestoreBounds): ValidatedState {
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
  const state: Record<string, unknown> = { ...raw };
  const drop = (field: string, bound: string): void => {
    const value = state[field];
    problems.push({ field, value, bound, message: `${field} = ${show(value)} dropped: must be ${bound}` });
    delete state[field];
  };
  for (const k of COUNTERS) {
    const v = state[k];
    if (k in state && !(typeof v === 'number' && Number.isInteger(v) && v >= 0))
      drop(k, 'a whole number >= 0');
  }
  if ('rtt_delta_ewma' in state && !inRange(state['rtt_delta_ewma'], 0, MAX_RESTORED_RTT_MS))
    drop('rtt_delta_ewma', `a number within [0, ${MAX_RESTORED_RTT_MS}] ms`);
  if ('queue_ewma' in state && !inRange(state['queue_ewma'], 0, MAX_RESTORED_QUEUE_PACKETS))
    drop('queue_ewma', `a number within [0, ${MAX_RESTORED_QUEUE_PACKETS}] packets`);
  const { baselineRttMinMs: lo, baselineRttMaxMs: hi } = bounds;
  if ('baseline_rtt' in state && state['baseline_rtt'] !== null && !inRange(state['baseline_rtt'], lo, hi))
    drop('baseline_rtt', `null or a number within baseline_rtt_bounds [${lo}, ${hi}] ms`);
  const lists: Array<[string, number, string]> = [
    ['history_rtt', MAX_RESTORED_RTT_MS, `a list of numbers within [0, ${MAX_RESTORED_RTT_MS}] ms`],
    ['history_delta', MAX_RESTORED_RTT_MS, `a list of numbers within [0, ${MAX_RESTORED_RTT_MS}] ms`],
    ['cake_drops_history', Number.MAX_SAFE_INTEGER, 'a list of numbers >= 0'],
    [
      'queue_depth_history',
      MAX_RESTORED_QUEUE_PACKETS,
      `a list of numbers within [0, ${MAX_RESTORED_QUEUE_PACKETS}]`,
    ],
  ];
  for (const [k, max, bound] of lists) {
    const v = state[k];
    if (k in state && !(Array.isArray(v) && v.every((x) => inRange(x, 0, max)))) drop(k, bound);
  }
  return { state, problems };
}

/**
 * For the state store's `validateBackup`: throws when a state file holds a value
 * {@link validateRestoredState} would drop, so such a file never becomes the `.bak`.
 */
export function assertPlausibleState(raw: unknown, bounds: SteeringRestoreBounds): void {
  const { problems } = validateRestoredState(raw, bounds);
  if (problems.length > 0) throw new Error(problems.map((p) => p.message).join('; '));
}
