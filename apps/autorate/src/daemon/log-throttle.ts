/**
 * Rate limiting of repeated log lines (lessons-after-v1.3 §2.20): per key at most `burst` lines
 * per `windowMs`; what was held back is counted and reported on the next line that goes out.
 */
export class LogThrottle {
  private readonly keys = new Map<string, { start: number; count: number; suppressed: number }>();

  constructor(
    private readonly now: () => number,
    private readonly burst = 3,
    private readonly windowMs = 60_000,
  ) {}

  /**
   * May a line with this key go out now? Returns -1 when it must be dropped, else the number of
   * lines suppressed since the last one that went out (0 usually).
   */
  take(key: string): number {
    const now = this.now();
    let s = this.keys.get(key);
    if (s === undefined) {
      s = { start: now, count: 0, suppressed: 0 };
      this.keys.set(key, s);
    }
    if (now - s.start >= this.windowMs) {
      s.start = now;
      s.count = 0;
    }
    if (s.count >= this.burst) {
      s.suppressed++;
      return -1;
    }
    s.count++;
    const n = s.suppressed;
    s.suppressed = 0;
    return n;
  }

  /** Lines suppressed and not yet reported, over every key. */
  totalPending(): number {
    let n = 0;
    for (const s of this.keys.values()) n += s.suppressed;
    return n;
  }

  /** Lines suppressed so far for a key and not yet reported. */
  pending(key: string): number {
    return this.keys.get(key)?.suppressed ?? 0;
  }
}
