/** Golden replay: rate_limiter.json — the write budget's sliding window and enforce_rate_bounds. */
import { describe, expect, it } from 'vitest';
import { enforceRateBounds, RateBoundsError, RateLimiter } from '../../src/control/index.js';
import { loadGolden } from './golden.js';

interface Step {
  t: number;
  op: 'change' | 'check';
  can_change: boolean;
  recorded: boolean;
  changes_remaining: number;
  time_until_available_s: number;
  window_len: number;
}
const g = loadGolden<{
  scenarios: Array<{ max_changes: number; window_seconds: number; steps: Step[] }>;
  enforce_rate_bounds: {
    cases: Array<{
      rate: number;
      floor: number | null;
      ceiling: number | null;
      result?: number;
      exception?: string;
      message?: string;
    }>;
  };
}>('rate_limiter.json');

describe('golden rate_limiter', () => {
  g.scenarios.forEach((sc, n) => {
    it(`scenario ${n}: ${sc.max_changes} per ${sc.window_seconds} s, strict '<' eviction`, () => {
      const rl = new RateLimiter(sc.max_changes, sc.window_seconds);
      for (const s of sc.steps) {
        const can = rl.canChange(s.t);
        let recorded = false;
        if (s.op === 'change' && can) {
          rl.recordChange(s.t);
          recorded = true;
        }
        expect(
          {
            can_change: can,
            recorded,
            changes_remaining: rl.changesRemaining(s.t),
            time_until_available_s: rl.timeUntilAvailable(s.t),
            window_len: rl.windowLength(s.t),
          },
          `t=${s.t}`,
        ).toStrictEqual({
          can_change: s.can_change,
          recorded: s.recorded,
          changes_remaining: s.changes_remaining,
          time_until_available_s: s.time_until_available_s,
          window_len: s.window_len,
        });
      }
    });
  });

  it('enforce_rate_bounds: floor, then ceiling, then truncation; floor > ceiling is an error', () => {
    expect(g.enforce_rate_bounds.cases.length).toBeGreaterThan(0);
    for (const c of g.enforce_rate_bounds.cases) {
      if (c.exception) {
        expect(() => enforceRateBounds(c.rate, c.floor, c.ceiling)).toThrow(RateBoundsError);
        expect(() => enforceRateBounds(c.rate, c.floor, c.ceiling)).toThrow(c.message as string);
      } else {
        expect(enforceRateBounds(c.rate, c.floor, c.ceiling), JSON.stringify(c)).toBe(c.result);
      }
    }
  });
});
