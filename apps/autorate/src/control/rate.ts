/** Rate bounds and the router-write budget (v1.3 `rate_utils.py`). */
import { ControlError } from './errors.js';

export class RateBoundsError extends ControlError {
  override readonly name = 'RateBoundsError';
  readonly code = 'WANCTL_CONFIG_RATE_BOUNDS';
  constructor(
    readonly floor: number,
    readonly ceiling: number,
  ) {
    super(`Invalid rate bounds: floor (${floor}) cannot exceed ceiling (${ceiling})`);
  }
}

/**
 * `trunc(min(max(rate, floor), ceiling))`, floor first, then ceiling, then truncation toward zero
 * (Python `int()`). A null bound is not applied. Throws {@link RateBoundsError} if floor > ceiling.
 */
export function enforceRateBounds(rate: number, floor: number | null, ceiling: number | null): number {
  if (floor !== null && ceiling !== null && floor > ceiling) throw new RateBoundsError(floor, ceiling);
  let r = rate;
  if (floor !== null && floor > r) r = floor;
  if (ceiling !== null && ceiling < r) r = ceiling;
  return Math.trunc(r);
}

/**
 * Sliding-window write budget (v1.3 `RateLimiter`): at most `maxChanges` recorded changes whose
 * timestamp is not strictly older than `now - windowSeconds`. Entries with `t < now - window`
 * (strict) are evicted before every query.
 *
 * Storage is a fixed ring of `maxChanges` timestamps: only the newest `maxChanges` entries can
 * ever decide `canChange`, so dropping older ones is exact and memory stays bounded even when
 * writes are recorded over budget (docs/decisions.md#d3 decreases).
 */
export class RateLimiter {
  readonly maxChanges: number;
  readonly windowSeconds: number;
  private readonly ring: Float64Array;
  private head = 0; // index of the oldest entry
  private len = 0;

  constructor(maxChanges: number, windowSeconds: number) {
    if (!Number.isInteger(maxChanges) || maxChanges < 1)
      throw new RangeError(`maxChanges must be an integer >= 1`);
    if (!(windowSeconds > 0)) throw new RangeError('windowSeconds must be > 0');
    this.maxChanges = maxChanges;
    this.windowSeconds = windowSeconds;
    this.ring = new Float64Array(maxChanges);
  }

  private evict(now: number): void {
    const cutoff = now - this.windowSeconds;
    while (this.len > 0 && (this.ring[this.head] as number) < cutoff) {
      this.head = (this.head + 1) % this.maxChanges;
      this.len--;
    }
  }

  /** True iff fewer than `maxChanges` changes remain in the window at `now`. */
  canChange(now: number): boolean {
    this.evict(now);
    return this.len < this.maxChanges;
  }

  /** Records a change at `now` (the oldest entry is dropped if the ring is full). */
  recordChange(now: number): void {
    if (this.len === this.maxChanges) {
      this.ring[this.head] = now;
      this.head = (this.head + 1) % this.maxChanges;
    } else {
      this.ring[(this.head + this.len) % this.maxChanges] = now;
      this.len++;
    }
  }

  /** Changes still allowed in the window at `now`. */
  changesRemaining(now: number): number {
    this.evict(now);
    return Math.max(0, this.maxChanges - this.len);
  }

  /** Seconds until a change is allowed (0 when allowed now): `oldest + window - now`, never negative. */
  timeUntilAvailable(now: number): number {
    if (this.canChange(now)) return 0.0;
    const oldest = this.ring[this.head] as number;
    return Math.max(0.0, oldest + this.windowSeconds - now);
  }

  /** Entries currently in the window at `now`. */
  windowLength(now: number): number {
    this.evict(now);
    return this.len;
  }

  /** Capacity of the internal ring (constant: every buffer is bounded; unbounded histories grew at cycle rate after v1.3). */
  get capacity(): number {
    return this.ring.length;
  }

  reset(): void {
    this.head = 0;
    this.len = 0;
  }
}
