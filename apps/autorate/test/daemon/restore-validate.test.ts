import { describe, expect, it } from 'vitest';
import {
  assertPlausibleState,
  MAX_RESTORED_LOAD_RTT_MS,
  type RestoreBounds,
  restoreBoundsFromParams,
  validateRestoredState,
} from '../../src/daemon/restore-validate.js';

const M = 1_000_000;
/** A cable line: baseline bounds 10–60 ms, download 200–940 Mbit/s, upload 8–38 Mbit/s. */
const B: RestoreBounds = {
  baselineRttMinMs: 10,
  baselineRttMaxMs: 60,
  download: { floorBps: 200 * M, ceilingBps: 940 * M },
  upload: { floorBps: 8 * M, ceilingBps: 38 * M },
};

function good(): Record<string, unknown> {
  return {
    download: { green_streak: 3, soft_red_streak: 0, red_streak: 0, current_rate: 350 * M },
    upload: { green_streak: 3, soft_red_streak: 0, red_streak: 1, current_rate: 8 * M },
    ewma: { baseline_rtt: 24.5, load_rtt: 31.2 },
    last_applied: { dl_rate: 350 * M, ul_rate: null },
    timestamp: '2026-12-04T10:00:00Z',
  };
}

function fields(raw: unknown): string[] {
  return validateRestoredState(raw, B).problems.map((p) => p.field);
}

describe('validateRestoredState (autorate)', () => {
  it('a plausible state passes unchanged (unknown keys such as timestamp kept)', () => {
    const r = validateRestoredState(good(), B);
    expect(r.problems).toEqual([]);
    expect(r.state).toEqual(good());
  });

  it('issue 16.5: a 0.5 ms baseline (bounds 10–60) is dropped with one warning naming field, value and bound', () => {
    const raw = good();
    (raw['ewma'] as Record<string, unknown>)['baseline_rtt'] = 0.5;
    const r = validateRestoredState(raw, B);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({
      field: 'ewma.baseline_rtt',
      value: 0.5,
      bound: 'a number within baseline_rtt_bounds [10, 60] ms',
    });
    expect(r.problems[0]?.message).toBe(
      'ewma.baseline_rtt = 0.5 dropped: must be a number within baseline_rtt_bounds [10, 60] ms',
    );
    expect(r.state?.['ewma']).toEqual({ load_rtt: 31.2 }); // the controller uses its initial baseline
    expect(r.state?.['download']).toEqual(good()['download']); // the rest is kept
  });

  it('issue 16.5: a 1e9 ms baseline is dropped too', () => {
    const raw = good();
    (raw['ewma'] as Record<string, unknown>)['baseline_rtt'] = 1e9;
    expect(fields(raw)).toEqual(['ewma.baseline_rtt']);
  });

  it('the bounds themselves are accepted (inclusive)', () => {
    for (const b of [10, 60]) {
      const raw = good();
      (raw['ewma'] as Record<string, unknown>)['baseline_rtt'] = b;
      expect(fields(raw)).toEqual([]);
    }
    const raw = good();
    (raw['download'] as Record<string, unknown>)['current_rate'] = 940 * M;
    (raw['upload'] as Record<string, unknown>)['current_rate'] = 8 * M;
    expect(fields(raw)).toEqual([]);
  });

  it('issue 16.5: a rate of 1e300 is dropped, naming the floor and ceiling', () => {
    const raw = good();
    (raw['download'] as Record<string, unknown>)['current_rate'] = 1e300;
    const r = validateRestoredState(raw, B);
    expect(r.problems.map((p) => p.field)).toEqual(['download.current_rate']);
    expect(r.problems[0]?.message).toBe(
      'download.current_rate = 1e+300 dropped: must be a rate within [floor, ceiling] = [200000000, 940000000] bit/s (200 Mbit/s to 940 Mbit/s)',
    );
    expect(r.state?.['download']).not.toHaveProperty('current_rate');
  });

  it('rates below the floor, above the ceiling, negative, NaN-like or of the wrong type are dropped', () => {
    for (const v of [199 * M, 941 * M, -1, '350000000', null, true, [1]]) {
      const raw = good();
      (raw['download'] as Record<string, unknown>)['current_rate'] = v;
      (raw['upload'] as Record<string, unknown>)['current_rate'] = v;
      expect(fields(raw)).toEqual(['download.current_rate', 'upload.current_rate']);
    }
  });

  it('non-finite values (as a JSON reviver or a hand edit could leave them) are dropped', () => {
    const raw = good();
    (raw['ewma'] as Record<string, unknown>)['baseline_rtt'] = Number.NaN;
    (raw['ewma'] as Record<string, unknown>)['load_rtt'] = Number.POSITIVE_INFINITY;
    expect(fields(raw)).toEqual(['ewma.baseline_rtt', 'ewma.load_rtt']);
  });

  it(`load_rtt must be within [0, ${MAX_RESTORED_LOAD_RTT_MS}] ms (it may be far above the baseline bounds)`, () => {
    const ok = good();
    (ok['ewma'] as Record<string, unknown>)['load_rtt'] = 900;
    expect(fields(ok)).toEqual([]);
    for (const v of [-0.1, MAX_RESTORED_LOAD_RTT_MS + 1]) {
      const raw = good();
      (raw['ewma'] as Record<string, unknown>)['load_rtt'] = v;
      expect(fields(raw)).toEqual(['ewma.load_rtt']);
    }
  });

  it('streak counters must be whole numbers >= 0', () => {
    const raw = good();
    Object.assign(raw['download'] as object, { green_streak: -1, soft_red_streak: 1.5, red_streak: '2' });
    Object.assign(raw['upload'] as object, { green_streak: 0, red_streak: 1e6 });
    expect(fields(raw)).toEqual(['download.green_streak', 'download.soft_red_streak', 'download.red_streak']);
  });

  it('last_applied rates: null is fine, out of bounds is dropped', () => {
    const raw = good();
    raw['last_applied'] = { dl_rate: null, ul_rate: 1e300 };
    const r = validateRestoredState(raw, B);
    expect(r.problems.map((p) => p.field)).toEqual(['last_applied.ul_rate']);
    expect(r.state?.['last_applied']).toEqual({ dl_rate: null });
  });

  it('a section that is not an object is dropped whole; a root that is not an object gives no state', () => {
    const raw = good();
    raw['ewma'] = [1, 2];
    expect(fields(raw)).toEqual(['ewma']);
    const r = validateRestoredState('nope', B);
    expect(r.state).toBeNull();
    expect(r.problems[0]?.field).toBe('(root)');
  });

  it('several bad values: one problem each, in a stable order', () => {
    const raw = good();
    (raw['ewma'] as Record<string, unknown>)['baseline_rtt'] = 0.5;
    (raw['download'] as Record<string, unknown>)['current_rate'] = 1e300;
    (raw['upload'] as Record<string, unknown>)['current_rate'] = 0;
    expect(fields(raw)).toEqual(['ewma.baseline_rtt', 'download.current_rate', 'upload.current_rate']);
  });

  it('never modifies its input', () => {
    const raw = good();
    (raw['ewma'] as Record<string, unknown>)['baseline_rtt'] = 0.5;
    const before = JSON.stringify(raw);
    validateRestoredState(raw, B);
    expect(JSON.stringify(raw)).toBe(before);
  });

  it('assertPlausibleState (the .bak gate) throws exactly when something would be dropped', () => {
    expect(() => assertPlausibleState(good(), B)).not.toThrow();
    const raw = good();
    (raw['ewma'] as Record<string, unknown>)['baseline_rtt'] = 0.5;
    expect(() => assertPlausibleState(raw, B)).toThrow(/ewma\.baseline_rtt = 0\.5 dropped/);
  });

  it('restoreBoundsFromParams takes the lowest floor of each direction and the ceilings', () => {
    expect(
      restoreBoundsFromParams({
        thresholds: { baselineRttMinMs: 10, baselineRttMaxMs: 60 },
        download: {
          ceilingBps: 940 * M,
          floorGreenBps: 550 * M,
          floorYellowBps: 350 * M,
          floorSoftRedBps: 275 * M,
          floorRedBps: 200 * M,
        },
        upload: { ceilingBps: 38 * M, floorRedBps: 8 * M, floorGreenBps: 8 * M },
      }),
    ).toEqual(B);
  });
});
