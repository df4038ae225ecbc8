/** Types shared by every probe. */

/** One reply: the RTT to one reflector. */
export interface RttSample {
  /** Reflector as configured (`"1.1.1.1"`, `"127.0.0.1:7007"`). */
  reflector: string;
  /** Round-trip time in milliseconds. */
  rttMs: number;
  /** Probe sequence number of this reply. */
  seq: number;
  /** Monotonic receive time (`performance.now()` ms, or the injected clock). */
  at: number;
}

/** What one cycle takes from a probe: the newest reply per reflector since the previous call. */
export interface RoundSamples {
  /** Monotonic time of the call. */
  at: number;
  /** At most one sample per reflector (its newest reply), in configured reflector order. */
  samples: RttSample[];
}

/** Health of one reflector, for health endpoints and logs. */
export interface ReflectorHealth {
  reflector: string;
  /** ms since the last reply, or null if none yet. */
  lastReplyAgeMs: number | null;
  lastRttMs: number | null;
  /** Loss over the recent window (0-100), counting a reflector silent past its timeout as lost. */
  lossPct: number;
  /** Replies since start. */
  replies: number;
  /** False once silent for longer than `deadAfterMs` (or never answered within it since start). */
  alive: boolean;
}

/** Something a daemon should log. */
export type ProbeEvent =
  | { kind: 'reflector-down'; reflector: string; silentMs: number }
  | { kind: 'reflector-up'; reflector: string }
  | { kind: 'child-exit'; code: number | null; signal: string | null; stderr: string }
  | { kind: 'child-restart'; attempt: number; delayMs: number }
  | { kind: 'error'; message: string };

/**
 * The common probe interface. Probing runs in the background; a control cycle calls
 * {@link RttProbe.latest} and never waits.
 */
export interface RttProbe {
  /** Start probing. Rejects with {@link ProbeUnavailableError} if the probe cannot run at all. */
  start(): Promise<void>;
  /** Stop probing and release sockets/children. Idempotent. */
  stop(): Promise<void>;
  /** Newest reply per reflector since the previous call (non-blocking, never waits). */
  latest(): RoundSamples;
  /**
   * Newest reply per reflector received within the last `maxAgeMs`, whether or not `latest()`
   * already returned it (non-consuming). For a median over all reflectors when each reflector is
   * probed less often than the cycle runs.
   */
  fresh(maxAgeMs: number): RoundSamples;
  /**
   * The next reply from any reflector arriving after this call, or null after `timeoutMs`
   * (steering's "measure with retries": see {@link measureWithRetries}).
   */
  measureOnce(timeoutMs: number): Promise<number | null>;
  /** Per-reflector health, in configured order. */
  health(): ReflectorHealth[];
  /** Reflectors as configured, in order; {@link RttProbe.replaceReflector} changes one in place. */
  readonly reflectors: readonly string[];
  /**
   * Probe `newReflector` instead of `oldReflector`, in its place in the list, while probing runs
   * (a reflector that went bad, replaced by a spare). The new one starts with fresh health, loss
   * and sequence state, silent from now; a reply of the old one not yet read is dropped. fping:
   * the child is restarted with the new list (a gap of a few ms for every reflector); UDP: a new
   * target. Before `start()` (or after `stop()`) only the list changes. Resolves once the new
   * reflector is being probed. Calls are serialised.
   * @throws {ProbeConfigError} `oldReflector` is not probed, `newReflector` already is, or it is
   * not a valid reflector for this probe (UDP: `host:port`)
   * @throws {ProbeUnavailableError} (UDP) the new reflector's name cannot be resolved
   */
  replaceReflector(oldReflector: string, newReflector: string): Promise<void>;
}

/**
 * Base of this package's errors; `code` is stable (table in the README). Exit statuses come
 * from the code (`WANCTL_CONFIG_*` → 2, anything else → 1), see @wanctl/runtime.
 */
export class ProbeError extends Error {
  readonly code: string = 'WANCTL_PROBE_ERROR';
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The probe cannot run on this host (binary missing, no permission). */
export class ProbeUnavailableError extends ProbeError {
  override readonly code: string = 'WANCTL_PROBE_UNAVAILABLE';
}

/** Bad probe options (empty reflector list, bad `host:port`): a configuration or usage error. */
export class ProbeConfigError extends ProbeError {
  override readonly code: string = 'WANCTL_CONFIG_PROBE_INVALID';
}

/**
 * v1.3's aggregation of one round: the median of the replies (with two, their mean; with one,
 * that value), or null when there are none. Uses at most the first `max` samples (3 for
 * median-of-three).
 */
export function medianRtt(samples: readonly RttSample[], max = 3): number | null {
  const n = Math.min(samples.length, max);
  if (n === 0) return null;
  const v: number[] = [];
  for (let i = 0; i < n; i++) v.push((samples[i] as RttSample).rttMs);
  v.sort((a, b) => a - b);
  const mid = n >> 1;
  return n % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

/** Options of {@link measureWithRetries}. */
export interface MeasureRetryOptions {
  /** Attempts. Default 3 (v1.3 steering). */
  attempts?: number;
  /** Deadline of each attempt. Default 1000 ms. */
  timeoutMs?: number;
  /** Pause between attempts. Default 500 ms (v1.3). */
  delayMs?: number;
  /** Called after each failed attempt (v1.3 logged a WARNING each time). */
  onAttemptFailed?: (attempt: number) => void;
}

/** v1.3 steering semantics: up to `attempts` tries of {@link RttProbe.measureOnce}; null if all fail. */
export async function measureWithRetries(
  probe: RttProbe,
  options: MeasureRetryOptions = {},
): Promise<number | null> {
  const attempts = options.attempts ?? 3;
  for (let i = 1; i <= attempts; i++) {
    const rtt = await probe.measureOnce(options.timeoutMs ?? 1000);
    if (rtt !== null) return rtt;
    options.onAttemptFailed?.(i);
    if (i < attempts) await new Promise((r) => setTimeout(r, options.delayMs ?? 500));
  }
  return null;
}
