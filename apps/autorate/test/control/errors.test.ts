import { describe, expect, it } from 'vitest';
import {
  ControlError,
  ControlParamsError,
  enforceRateBounds,
  ReplayInputError,
  ReplaySession,
  validateWritePolicy,
  WRITE_POLICY_DEFAULTS,
} from '../../src/control/index.js';
import { v13Params } from './fixtures.js';

function caught(fn: () => unknown): ControlError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ControlError);
    return e as ControlError;
  }
  throw new Error('expected a ControlError');
}

describe('control errors carry a stable code', () => {
  it('a bad parameter is WANCTL_CONFIG_CONTROL_PARAMS and names the field', () => {
    const e = caught(() => validateWritePolicy({ ...WRITE_POLICY_DEFAULTS, burst: 0 }));
    expect(e).toBeInstanceOf(ControlParamsError);
    expect(e.code).toBe('WANCTL_CONFIG_CONTROL_PARAMS');
    expect(e.message).toContain('writePolicy.burst');
  });

  it('a floor above its ceiling is WANCTL_CONFIG_RATE_BOUNDS', () => {
    expect(caught(() => enforceRateBounds(5, 10, 8)).code).toBe('WANCTL_CONFIG_RATE_BOUNDS');
  });

  it('a bad replay line is WANCTL_REPLAY_INPUT_INVALID with its line number', () => {
    const s = new ReplaySession(v13Params());
    s.step('{"rtt_ms": 20}');
    const e = caught(() => s.step('{"rtt_ms": "x"}'));
    expect(e).toBeInstanceOf(ReplayInputError);
    expect(e.code).toBe('WANCTL_REPLAY_INPUT_INVALID');
    expect((e as ReplayInputError).line).toBe(2);
  });
});
