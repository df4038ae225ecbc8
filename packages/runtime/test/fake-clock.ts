/** A manual clock for the runtime's tests (test support, not part of the package's API). */
import type { Clock } from '../src/index.js';

/** A manual clock for tests: time moves only with {@link FakeClock.advance}. */
export interface FakeClock extends Clock {
  /** Move time forward, firing due timers in order (each sees `now()` at its due time). */
  advance(ms: number): Promise<void>;
  /** Timers not yet fired. */
  pendingTimers(): number;
}

/** Create a {@link FakeClock} starting at `start` ms. */
export function createFakeClock(start = 0): FakeClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = ++seq;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout: (h) => {
      timers.delete(h as number);
    },
    pendingTimers: () => timers.size,
    advance: async (ms) => {
      const end = now + ms;
      for (;;) {
        let nextId = -1;
        let next: { at: number; fn: () => void } | undefined;
        for (const [id, t] of timers) {
          if (t.at <= end && (next === undefined || t.at < next.at || (t.at === next.at && id < nextId))) {
            next = t;
            nextId = id;
          }
        }
        if (next === undefined) break;
        timers.delete(nextId);
        now = Math.max(now, next.at);
        next.fn();
        // let promise continuations (async tick bodies) run at this instant
        for (let i = 0; i < 10; i++) await Promise.resolve();
      }
      now = end;
      for (let i = 0; i < 10; i++) await Promise.resolve();
    },
  };
}
