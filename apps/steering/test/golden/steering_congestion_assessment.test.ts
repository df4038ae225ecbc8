import { describe, expect, it } from 'vitest';
import {
  assessCongestionState,
  makeStateThresholds,
  type StateThresholds,
  StateThresholdsError,
} from '../../src/control/index.js';
import { loadVectors, num } from './vectors.js';

interface Section {
  name: string;
  thresholds?: StateThresholds;
  cases: Record<string, unknown>[];
}
const file = loadVectors<{ sections: Section[] }>('steering_congestion_assessment.json');

describe('golden steering_congestion_assessment.json', () => {
  const grids = file.sections.filter((s) => s.thresholds !== undefined);
  it('has threshold grids', () => expect(grids.length).toBeGreaterThan(0));
  for (const s of grids) {
    it(`${s.name}: every case`, () => {
      const t = makeStateThresholds(s.thresholds);
      expect(s.cases.length).toBeGreaterThan(0);
      for (const c of s.cases) {
        const got = assessCongestionState(
          num(c['rtt_delta_ewma_ms']),
          num(c['cake_drops']),
          num(c['queued_packets']),
          t,
        );
        expect({ ...c, state: got }).toEqual(c);
      }
    });
  }

  const construction = file.sections.find((s) => s.name === 'state_thresholds_construction');
  it('state_thresholds_construction: same accept/reject, typed error with the v1.3 message', () => {
    expect(construction).toBeDefined();
    const cases = construction?.cases ?? [];
    // both outcomes are in the vectors, so neither branch below can pass by running zero times
    expect(cases.some((c) => c['accepted'])).toBe(true);
    expect(cases.some((c) => !c['accepted'])).toBe(true);
    for (const c of cases) {
      const kwargs = c['kwargs'] as Partial<StateThresholds>;
      if (c['accepted']) {
        expect(() => makeStateThresholds(kwargs)).not.toThrow();
      } else {
        // v1.3 raised AssertionError (and skipped the check under python -O); ours always checks.
        expect(c['error']).toBe('AssertionError');
        expect(() => makeStateThresholds(kwargs)).toThrow(StateThresholdsError);
        expect(() => makeStateThresholds(kwargs)).toThrow(c['message'] as string);
      }
    }
  });
});
