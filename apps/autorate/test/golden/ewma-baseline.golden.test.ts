/**
 * Golden replay: the autorate sections of ewma_baseline.json — WANController.update_ewma per
 * profile, BaselineRTTManager's idle baseline step, BaselineValidator and calculate_rtt_delta.
 * (The steering_* sections belong to the steering daemon.)
 */
import { describe, expect, it } from 'vitest';
import {
  type EwmaState,
  idleBaselineStep,
  isBaselineInBounds,
  rttDelta,
  updateEwmas,
} from '../../src/control/index.js';
import { loadGolden } from './golden.js';

interface Section {
  name: string;
  params?: Record<string, number> | null;
  cycles?: Array<Record<string, unknown>>;
  cases?: Array<Record<string, unknown>>;
}
const g = loadGolden<{ sections: Section[] }>('ewma_baseline.json');
const sections = (prefix: string) => g.sections.filter((s) => s.name.startsWith(prefix));

describe('golden ewma_baseline (autorate sections)', () => {
  it('has the sections this suite replays', () => {
    expect(sections('wan_controller_update_ewma_').length).toBeGreaterThanOrEqual(2);
    expect(sections('baseline_rtt_manager_').length).toBeGreaterThanOrEqual(1);
    expect(sections('baseline_validator_').length).toBe(1);
    expect(sections('calculate_rtt_delta').length).toBe(1);
  });

  for (const s of sections('wan_controller_update_ewma_')) {
    it(`${s.name}: load/baseline EWMA, idle-only baseline, bounds`, () => {
      const p = s.params as Record<string, number>;
      const st: EwmaState = {
        loadRttMs: p['initial_load_rtt_ms'] as number,
        baselineRttMs: p['initial_baseline_rtt_ms'] as number,
      };
      const rows = s.cycles ?? [];
      expect(rows.length).toBeGreaterThan(0);
      for (const c of rows) {
        const prevLoad = st.loadRttMs;
        const oldBaseline = st.baselineRttMs;
        const outcome = updateEwmas(
          st,
          c['measured_rtt_ms'] as number,
          p['alpha_load'] as number,
          p['alpha_baseline'] as number,
          p['baseline_update_threshold_ms'] as number,
          p['baseline_rtt_min_ms'] as number,
          p['baseline_rtt_max_ms'] as number,
        );
        const at = `${s.name} i=${String(c['i'])}`;
        expect(st.loadRttMs, at).toBe(c['load_rtt_ms']);
        expect(st.baselineRttMs, at).toBe(c['baseline_rtt_ms']);
        expect(st.loadRttMs - oldBaseline, at).toBe(c['delta_used_ms']);
        expect(prevLoad, at).toBe(c['prev_load_rtt_ms']);
        // 'baseline_updated' in the vectors is "value changed"
        expect(outcome === 'updated' && st.baselineRttMs !== oldBaseline, at).toBe(c['baseline_updated']);
      }
    });
  }

  for (const s of sections('baseline_rtt_manager_')) {
    it(`${s.name}: idle baseline step without bounds`, () => {
      const p = s.params as Record<string, number>;
      let b = p['initial_baseline_rtt_ms'] as number;
      for (const c of s.cycles ?? []) {
        const m = c['measured_rtt_ms'] as number;
        b = idleBaselineStep(
          b,
          m,
          c['load_rtt_ms'] as number,
          p['alpha_baseline'] as number,
          p['baseline_update_threshold_ms'] as number,
        );
        expect(b, `${s.name} i=${String(c['i'])}`).toBe(c['baseline_rtt_ms']);
        expect(rttDelta(m, b)).toBe(c['get_delta_of_measured_ms']);
      }
    });
  }

  it('baseline_validator_10_60: inclusive bounds, null passes through', () => {
    const s = sections('baseline_validator_')[0] as Section;
    for (const c of s.cases ?? s.cycles ?? []) {
      const b = c['baseline_rtt_ms'] as number | null;
      const ok = isBaselineInBounds(b, 10, 60);
      expect(ok, String(b)).toBe(c['validate']);
      expect(ok === true ? b : null).toBe(c['get_validated']);
    }
  });

  it('calculate_rtt_delta: current - baseline, 0 without a baseline, not clamped', () => {
    const s = sections('calculate_rtt_delta')[0] as Section;
    for (const c of s.cases ?? s.cycles ?? []) {
      expect(rttDelta(c['current_rtt_ms'] as number, c['baseline_rtt_ms'] as number | null)).toBe(
        c['delta_ms'],
      );
    }
  });
});
