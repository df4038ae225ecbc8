// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is wanctl config syntax, not a template
import { describe, expect, it } from 'vitest';
import { parseAutorateConfig, parseHistorySettings, parseSteeringConfig } from '../src/index.js';
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

describe('parseHistorySettings: only what history needs', () => {
  it('reads wan_name and history without the router password (its ${VAR} is neither resolved nor required)', () => {
    const withPassword = MIN_AUTORATE.replace(
      '  ssh_key: /etc/wanctl/ssh/router.key',
      '  transport: rest\n  password: "${WANCTL_ROUTER_PASSWORD}"',
    );
    const text = `${withPassword}\nhistory:\n  file: /srv/wanctl/wan1.db\n  dashboard: { port: 9200 }\n`;
    expect(text).toContain('${WANCTL_ROUTER_PASSWORD}');
    // the full load needs the secret ...
    expect(problemsOf(() => parseAutorateConfig(text, { env: {} })).map((p) => p.path)).toContain(
      'router.password',
    );
    // ... the history view does not
    const h = parseHistorySettings(text, { env: {}, file: 'wan1.yaml' });
    expect(h).toMatchObject({ kind: 'autorate', wanName: 'wan1' });
    expect(h.history).toEqual(parseAutorateConfig(text, { env: ENV }).history);
    expect(h.history.file).toBe('/srv/wanctl/wan1.db');
  });

  it('gives the same defaults as the full load, for both kinds', () => {
    expect(parseHistorySettings(MIN_AUTORATE, { env: {} }).history).toEqual(
      parseAutorateConfig(MIN_AUTORATE, { env: ENV }).history,
    );
    const st = example('steering.yaml');
    const s = parseHistorySettings(st, { env: {} });
    expect(s.kind).toBe('steering');
    expect(s.history).toEqual(parseSteeringConfig(st, { env: ENV }).history);
  });

  it('still checks the history keys (and ${VAR} in them), naming the key', () => {
    const bad = problemsOf(() =>
      parseHistorySettings(`${MIN_AUTORATE}\nhistory:\n  max_size_mb: 1\n  file: "\${HIST_DIR}/x.db"\n`, {
        env: {},
      }),
    );
    expect(bad.map((p) => p.path)).toEqual(expect.arrayContaining(['history.max_size_mb', 'history.file']));
    expect(bad.find((p) => p.path === 'history.file')?.message).toMatch(/HIST_DIR is not set/);
    const ok = parseHistorySettings(`${MIN_AUTORATE}\nhistory:\n  file: "\${HIST_DIR}/x.db"\n`, {
      env: { HIST_DIR: '/data' },
    });
    expect(ok.history.file).toBe('/data/x.db');
  });

  it('refuses a file that is not a daemon config', () => {
    expect(problemsOf(() => parseHistorySettings('history: {}\n', { env: {} }))[0]?.message).toMatch(
      /cannot tell whether this is an autorate or a steering config/,
    );
  });
});
