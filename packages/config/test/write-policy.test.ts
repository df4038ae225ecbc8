import { describe, expect, it } from 'vitest';
import { parseAutorateConfig } from '../src/index.js';
import { edit, MIN_AUTORATE, problemsOf } from './helpers.js';

const opts = { file: 'wan1.yaml', env: {} };
const withPolicy = (body: string) =>
  edit(MIN_AUTORATE, /^ {2}ping_hosts: .*$/m, `  ping_hosts: [1.1.1.1]\n  write_policy:\n${body}`);

describe('continuous_monitoring.write_policy (the adaptive law on RouterOS)', () => {
  it('defaults to 2 writes/s, bursts of 4, a 1 % deadband', () => {
    expect(parseAutorateConfig(MIN_AUTORATE, opts).writePolicy).toEqual({
      maxPerSecond: 2,
      burst: 4,
      deadbandPercent: 1,
    });
  });

  it('takes each key, the others keep their defaults', () => {
    const c = parseAutorateConfig(withPolicy('    max_per_second: 0.5\n    deadband_percent: 0\n'), opts);
    expect(c.writePolicy).toEqual({ maxPerSecond: 0.5, burst: 4, deadbandPercent: 0 });
  });

  it('refuses out-of-range values and unknown keys, naming the key', () => {
    const paths = (body: string) =>
      problemsOf(() => parseAutorateConfig(withPolicy(body), opts)).map((p) => p.path);
    expect(paths('    max_per_second: 0\n')).toContain('continuous_monitoring.write_policy.max_per_second');
    expect(paths('    burst: 1.5\n')).toContain('continuous_monitoring.write_policy.burst');
    expect(paths('    deadband_percent: 50\n')).toContain(
      'continuous_monitoring.write_policy.deadband_percent',
    );
    expect(paths('    writes: 3\n').join(' ')).toContain('continuous_monitoring.write_policy');
  });
});
