import { describe, expect, it } from 'vitest';
import { calculateDelta, EwmaError, ewmaUpdate, updateEwmaSmoothing } from '../../src/control/index.js';
import { loadVectors, num } from './vectors.js';

interface Section {
  name: string;
  params?: Record<string, unknown>;
  cycles?: Record<string, unknown>[];
  cases?: Record<string, unknown>[];
}
const file = loadVectors<{ sections: Section[] }>('ewma_baseline.json');
const section = (name: string): Section => {
  const s = file.sections.find((x) => x.name === name);
  if (!s) throw new Error(`section ${name} missing from ewma_baseline.json`);
  return s;
};

describe('golden ewma_baseline.json: steering_ewma_update_table', () => {
  const rows = section('steering_ewma_update_table').cases ?? [];
  it('has rows', () => expect(rows.length).toBeGreaterThan(0));
  rows.forEach((row, k) => {
    it(`row ${k}: ewma_update(${String(row['current'])}, ${String(row['new_value'])}, ${String(row['alpha'])})`, () => {
      const call = () =>
        ewmaUpdate(num(row['current']), num(row['new_value']), num(row['alpha']), num(row['max_value']));
      if ('error' in row) {
        expect(row['error']).toBe('ValueError');
        expect(call).toThrow(EwmaError);
        expect(call).toThrow(row['message'] as string);
      } else {
        expect(call()).toBe(num(row['value']));
      }
    });
  });
});

describe('golden ewma_baseline.json: steering_update_ewma_smoothing', () => {
  const s = section('steering_update_ewma_smoothing');
  const p = s.params ?? {};
  it('replays every row bit-exactly (both chains, the current == 0.0 re-initialisation included)', () => {
    const initial = (p['initial'] as number[] | undefined) ?? [0.0, 0.0];
    let prev = { rttDeltaEwma: initial[0]!, queueEwma: initial[1]! };
    const rows = s.cycles ?? [];
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const r = updateEwmaSmoothing(
        prev,
        num(row['delta_ms']),
        num(row['queued_packets']),
        num(p['rtt_ewma_alpha']),
        num(p['queue_ewma_alpha']),
      );
      expect({ i: row['i'], rtt: r.rttDeltaEwma, q: r.queueEwma }).toEqual({
        i: row['i'],
        rtt: num(row['rtt_delta_ewma_ms']),
        q: num(row['queue_ewma_packets']),
      });
      expect(r.rttClamped || r.queueClamped).toBe(false);
      prev = r;
    }
  });
});

describe('golden ewma_baseline.json: steering_calculate_delta', () => {
  const rows = section('steering_calculate_delta').cases ?? section('steering_calculate_delta').cycles ?? [];
  it('max(0, current - baseline), 0 without a baseline', () => {
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const b = row['baseline_rtt_ms'] === null ? null : num(row['baseline_rtt_ms']);
      expect(calculateDelta(num(row['current_rtt_ms']), b)).toBe(num(row['delta_ms']));
    }
  });
});
