import { describe, expect, it } from 'vitest';
import { parseAutorateConfig, parseSteeringConfig } from '../src/index.js';
import { ENV, example, MIN_AUTORATE, problemsOf } from './helpers.js';

describe('history section', () => {
  it('defaults: on, /var/lib/wanctl/<wan_name>_history.db, 48 h / 30 d / 400 d, 256 MB, dashboard off on loopback', () => {
    const a = parseAutorateConfig(MIN_AUTORATE, { env: ENV });
    expect(a.history).toEqual({
      enabled: true,
      file: '/var/lib/wanctl/wan1_history.db',
      flushIntervalSec: 5,
      retention: { rawHours: 48, minuteDays: 30, hourDays: 400 },
      maxSizeMb: 256,
      dashboard: { enabled: false, host: '127.0.0.1', port: 9104 },
    });
    const s = parseSteeringConfig(example('steering.yaml'), { env: ENV });
    expect(s.history.file).toBe('/var/lib/wanctl/steering_history.db');
    expect(s.history.dashboard.port).toBe(9105);
  });

  it('takes every key', () => {
    const a = parseAutorateConfig(
      `${MIN_AUTORATE}
history:
  enabled: false
  file: /srv/wanctl/wan1.db
  flush_interval_sec: 2
  retention: { raw_hours: 6, minute_days: 7, hour_days: 90 }
  max_size_mb: 64
  dashboard: { enabled: true, host: "::1", port: 9200 }
`,
      { env: ENV },
    );
    expect(a.history).toEqual({
      enabled: false,
      file: '/srv/wanctl/wan1.db',
      flushIntervalSec: 2,
      retention: { rawHours: 6, minuteDays: 7, hourDays: 90 },
      maxSizeMb: 64,
      dashboard: { enabled: true, host: '::1', port: 9200 },
    });
  });

  it('refuses a misspelt key and values out of range, naming them', () => {
    const problems = problemsOf(() =>
      parseAutorateConfig(`${MIN_AUTORATE}\nhistory:\n  retention:\n    raw_hourz: 3\n  max_size_mb: 1\n`, {
        env: ENV,
      }),
    );
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['history.retention.raw_hourz', 'history.max_size_mb']),
    );
    expect(problems.find((p) => p.path === 'history.retention.raw_hourz')?.message).toMatch(/raw_hours/);
  });
});
