/**
 * Deadlines and bounded, jittered retries (docs/decisions.md#d2). Every router call runs under a
 * Deadline; retries never start an attempt or a back-off sleep that would outlast it.
 */

export type MonotonicClock = () => number;

/** Monotonic milliseconds (unaffected by wall-clock jumps). */
export const monotonicNow: MonotonicClock = () => performance.now();

export class Deadline {
  readonly at: number;
  readonly budgetMs: number;
  private readonly now: MonotonicClock;

  constructor(budgetMs: number, now: MonotonicClock = monotonicNow) {
    this.now = now;
    this.budgetMs = budgetMs;
    this.at = now() + budgetMs;
  }

  /** Milliseconds left, never negative. */
  remaining(): number {
    return Math.max(0, this.at - this.now());
  }

  expired(): boolean {
    return this.remaining() <= 0;
  }

  /** A deadline that ends at the earlier of this one and `ms` from now. */
  child(ms: number): Deadline {
    return new Deadline(Math.min(ms, this.remaining()), this.now);
  }
}

/** Sleep that can be aborted; resolves early (without throwing) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) {
      resolve();
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Race `work` against `ms`. On timeout `onTimeout()` is called (to abort the work and build
 * the error) and the returned error is thrown. The timer never outlives the call.
 */
export async function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), Math.max(0, ms));
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface RetryPolicy {
  /** Total attempts including the first (>= 1). */
  attempts: number;
  /** Back-off before the 2nd attempt, in ms; grows by `factor` each time. */
  baseDelayMs: number;
  maxDelayMs: number;
  factor?: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 2, baseDelayMs: 50, maxDelayMs: 500, factor: 2 };

export interface RetryOptions {
  policy: RetryPolicy;
  deadline: Deadline;
  isRetryable: (err: unknown) => boolean;
  /** [0,1) random source for jitter (injectable for tests). */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Do not start another attempt with less than this many ms left (default 1). */
  minAttemptMs?: number;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Jittered delay for retry number `retry` (1-based): uniform in [d/2, d], d capped. */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const factor = policy.factor ?? 2;
  const d = Math.min(policy.maxDelayMs, policy.baseDelayMs * factor ** (retry - 1));
  return d / 2 + random() * (d / 2);
}

/**
 * Run `fn` until it succeeds, fails with a non-retryable error, runs out of attempts, or the
 * deadline leaves no room for a back-off plus another attempt. The last error is rethrown.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const random = opts.random ?? Math.random;
  const doSleep = opts.sleep ?? ((ms: number) => sleep(ms));
  const minAttempt = opts.minAttemptMs ?? 1;
  const attempts = Math.max(1, Math.floor(opts.policy.attempts));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !opts.isRetryable(err)) throw err;
      const delay = backoffDelay(opts.policy, attempt, random);
      if (opts.deadline.remaining() - delay < minAttempt) throw err;
      opts.onRetry?.(err, attempt, delay);
      await doSleep(delay);
      if (opts.deadline.remaining() < minAttempt) throw err;
    }
  }
}

export interface CallWithRetryOptions {
  /** The call's deadline, ms (the whole call, retries included). */
  deadlineMs: number;
  policy?: RetryPolicy | undefined;
  isRetryable: (err: unknown) => boolean;
  /** Told about each retry (the transports log it at debug level). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Told how the call ended (the transports keep their up/down state from it). */
  onSettled?: (err: unknown | undefined) => void;
}

/**
 * The one retry wrapper both transports use: run `fn` under a fresh Deadline with bounded,
 * jittered retries of the failures `isRetryable` accepts, and report the outcome.
 */
export async function callWithRetry<T>(
  o: CallWithRetryOptions,
  fn: (deadline: Deadline) => Promise<T>,
): Promise<T> {
  const deadline = new Deadline(o.deadlineMs);
  try {
    const v = await retry(() => fn(deadline), {
      policy: o.policy ?? DEFAULT_RETRY_POLICY,
      deadline,
      isRetryable: o.isRetryable,
      ...(o.onRetry ? { onRetry: o.onRetry } : {}),
    });
    o.onSettled?.(undefined);
    return v;
  } catch (err) {
    o.onSettled?.(err);
    throw err;
  }
}
