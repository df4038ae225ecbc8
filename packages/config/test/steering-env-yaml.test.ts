// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is wanctl config syntax, not a template
import { describe, expect, it } from 'vitest';
import {
  type ConfigError,
  parseAutorateConfig,
  parseConfigText,
  parseSteeringConfig,
  Secret,
} from '../src/index.js';
import { ENV, edit, example, MIN_AUTORATE, problemsOf } from './helpers.js';

const STEER = example('steering.yaml');
const sOpts = { file: 'steering.yaml', env: ENV };
const sPaths = (text: string) => problemsOf(() => parseSteeringConfig(text, sOpts)).map((p) => p.path);

describe('steering rules', () => {
  it('threshold cross-field rules are checked at load', () => {
    expect(sPaths(edit(STEER, /green_rtt_ms: 5/, 'green_rtt_ms: 15'))).toEqual(['thresholds.green_rtt_ms']);
    expect(sPaths(edit(STEER, /red_rtt_ms: 15/, 'red_rtt_ms: 10'))).toEqual(['thresholds.yellow_rtt_ms']);
    expect(sPaths(edit(STEER, /min_drops_red: 1/, 'min_drops_red: 0'))).toEqual(['thresholds.min_drops_red']);
    expect(sPaths(edit(STEER, /red_samples_required: 2/, 'red_samples_required: 0'))).toEqual([
      'thresholds.red_samples_required',
    ]);
    expect(sPaths(edit(STEER, /green_samples_required: 15/, 'green_samples_required: 0'))).toEqual([
      'thresholds.green_samples_required',
    ]);
    // yellow == red is allowed (the v1.3 example)
    expect(parseSteeringConfig(STEER, sOpts).thresholds.redRttMs).toBe(15);
  });

  it('alpha range [0, 1]', () => {
    expect(sPaths(edit(STEER, /rtt_ewma_alpha: 0.3/, 'rtt_ewma_alpha: 1.2'))).toEqual([
      'thresholds.rtt_ewma_alpha',
    ]);
    expect(sPaths(edit(STEER, /queue_ewma_alpha: 0.4/, 'queue_ewma_alpha: "0.4"'))).toEqual([
      'thresholds.queue_ewma_alpha',
    ]);
  });

  it('confidence thresholds: 0–100 and recovery < steer', () => {
    const conf = (body: string) => `${STEER}confidence:\n${body}\n`;
    const c = parseSteeringConfig(
      conf('  steer_threshold: 60\n  recovery_threshold: 10\n  dry_run: false'),
      sOpts,
    );
    expect(c.confidence).toMatchObject({
      steerThreshold: 60,
      recoveryThreshold: 10,
      dryRun: false,
      holdDownDurationSec: 30,
    });
    expect(sPaths(conf('  steer_threshold: 20\n  recovery_threshold: 20'))).toEqual([
      'confidence.recovery_threshold',
    ]);
    expect(sPaths(conf('  steer_threshold: 101'))).toEqual(['confidence.steer_threshold']);
  });

  it('comment rule', () => {
    expect(sPaths(edit(STEER, /comment: "ADAPTIVE[^"]*"/, 'comment: "x\\"; /system reboot"'))).toEqual([
      'mangle_rule.comment',
    ]);
    expect(sPaths(edit(STEER, /comment: "ADAPTIVE[^"]*"/, `comment: "${'a'.repeat(129)}"`))).toEqual([
      'mangle_rule.comment',
    ]);
    expect(
      parseSteeringConfig(
        edit(STEER, /comment: "ADAPTIVE[^"]*"/, 'comment: "steer-voip: wan2_rule.1"'),
        sOpts,
      ).mangleRule.comment,
    ).toBe('steer-voip: wan2_rule.1');
  });

  it('ping host rule', () => {
    expect(sPaths(edit(STEER, /ping_host: "1.1.1.1"/, 'ping_host: "1.1.1.1; reboot"'))).toEqual([
      'measurement.ping_host',
    ]);
    expect(sPaths(edit(STEER, /ping_host: "1.1.1.1"/, `ping_host: "${'a'.repeat(257)}"`))).toEqual([
      'measurement.ping_host',
    ]);
    expect(
      parseSteeringConfig(edit(STEER, /ping_host: "1.1.1.1"/, 'ping_host: "::1"'), sOpts).measurement
        .pingHost,
    ).toBe('::1');
  });

  it('interval, ping_count and history_size ranges; ping_count: true is not an integer', () => {
    expect(sPaths(edit(STEER, /interval_seconds: 2/, 'interval_seconds: 0.001'))).toEqual([
      'measurement.interval_seconds',
    ]);
    expect(sPaths(edit(STEER, /ping_count: 3/, 'ping_count: 21'))).toEqual(['measurement.ping_count']);
    expect(sPaths(edit(STEER, /ping_count: 3/, 'ping_count: true'))).toEqual(['measurement.ping_count']);
    expect(sPaths(edit(STEER, /history_size: 60/, 'history_size: 3001'))).toEqual(['state.history_size']);
  });

  it('defaults: queues and state source from primary_wan; legacy key names', () => {
    const t = STEER.replace(/cake_state_sources:\n.*\n/, '').replace(/cake_queues:\n.*\n.*\n/, '');
    const c = parseSteeringConfig(t, sOpts);
    expect(c.primaryStateFile).toBe('/var/lib/wanctl/wan1_state.json');
    expect(c.cakeQueues).toEqual({ primaryDownload: 'WAN-Download-Wan1', primaryUpload: 'WAN-Upload-Wan1' });
    const legacy = `${t}cake_state_sources:\n  spectrum: /run/x_state.json\ncake_queues:\n  spectrum_download: WAN-Download-Spectrum\n`;
    const l = parseSteeringConfig(legacy, sOpts);
    expect(l.primaryStateFile).toBe('/run/x_state.json');
    expect(l.cakeQueues.primaryDownload).toBe('WAN-Download-Spectrum');
  });

  it('unknown keys are errors with a suggestion', () => {
    const p = problemsOf(() =>
      parseSteeringConfig(edit(STEER, /ping_count: 3/, 'ping_count: 3\n  ping_cont: 3'), sOpts),
    );
    expect(p[0]?.message).toBe('unknown key "ping_cont"; did you mean "ping_count"?');
  });

  it('bad_samples warns as deprecated', () => {
    const c = parseSteeringConfig(
      edit(STEER, /queue_ewma_alpha: 0.4/, 'queue_ewma_alpha: 0.4\n  bad_samples: 8'),
      sOpts,
    );
    expect(c.warnings.map((w) => w.path)).toContain('thresholds.bad_samples');
  });

  it('kind detection refuses a document that is neither kind', () => {
    expect(problemsOf(() => parseConfigText('foo: 1\n', { file: 'x' }))[0]?.message).toMatch(/cannot tell/);
    expect(parseConfigText(STEER, sOpts).kind).toBe('steering');
  });
});

describe('${VAR} expansion (D10)', () => {
  const withPw = (value: string) =>
    edit(
      MIN_AUTORATE,
      / {2}ssh_key: \/etc\/wanctl\/ssh\/router.key\n/,
      `  ssh_key: /k\n  password: "${value}"\n`,
    );

  it('expands in every string value, also inside a string', () => {
    const t = edit(
      withPw('${PW}'),
      /main_log: \/var\/log\/wanctl\/wan1.log/,
      'main_log: "${LOG_DIR}/wan1.log"',
    );
    const c = parseAutorateConfig(t, { file: 'x', env: { PW: 'hunter2', LOG_DIR: '/srv/log' } });
    expect(c.logging.mainLog).toBe('/srv/log/wan1.log');
    expect(c.router.password?.reveal()).toBe('hunter2');
    expect(c.router.fallbackTransport).toBe('rest');
    // raw keeps the reference, not the secret
    expect(JSON.stringify(c.raw)).not.toContain('hunter2');
    expect(JSON.stringify(c.raw)).toContain('${PW}');
  });

  it('$$ is a literal $', () => {
    const c = parseAutorateConfig(withPw('a$$b'), { file: 'x', env: {} });
    expect(c.router.password?.reveal()).toBe('a$b');
  });

  it('an unset variable is an error naming the variable and the key path', () => {
    const p = problemsOf(() =>
      parseAutorateConfig(withPw('${NOPE_NOT_SET}'), { file: 'wan1.yaml', env: {} }),
    );
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ path: 'router.password', line: 6, column: 3 });
    expect(p[0]?.message).toBe(
      'environment variable NOPE_NOT_SET is not set (referenced as ${NOPE_NOT_SET})',
    );
  });

  it('defaults to process.env', () => {
    process.env['WANCTL_TEST_CFG_PW'] = 'from-process-env';
    try {
      const c = parseAutorateConfig(withPw('${WANCTL_TEST_CFG_PW}'), { file: 'x' });
      expect(c.router.password?.reveal()).toBe('from-process-env');
    } finally {
      delete process.env['WANCTL_TEST_CFG_PW'];
    }
  });

  it('secret values never appear in messages', () => {
    // A password of the wrong type: found is redacted.
    const t = edit(
      MIN_AUTORATE,
      / {2}ssh_key: \/etc\/wanctl\/ssh\/router.key\n/,
      '  ssh_key: /k\n  password: 12345678\n',
    );
    const p = problemsOf(() => parseAutorateConfig(t, { file: 'x', env: {} }));
    expect(p[0]).toMatchObject({ path: 'router.password', found: '<redacted>' });
    // An env value that makes a key invalid: found is redacted too.
    const u = edit(MIN_AUTORATE, /wan_name: wan1/, 'wan_name: "${WAN}"');
    try {
      parseAutorateConfig(u, { file: 'x', env: { WAN: 'top secret value' } });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).message).not.toContain('top secret');
      expect((err as ConfigError).problems[0]?.found).toBe('<redacted>');
    }
  });

  it('Secret prints redacted everywhere', async () => {
    const { inspect } = await import('node:util');
    const s = new Secret('pw-123');
    expect(`${s}`).toBe('<redacted>');
    expect(JSON.stringify({ s })).toBe('{"s":"<redacted>"}');
    expect(inspect({ s })).not.toContain('pw-123');
    expect(s.reveal()).toBe('pw-123');
  });
});

describe('YAML syntax errors carry line and column', () => {
  const syntax = (text: string) => problemsOf(() => parseConfigText(text, { file: 'bad.yaml' }));

  it('a tab in the indentation', () => {
    const p = syntax('wan_name: x\nrouter:\n\thost: a\n');
    expect(p[0]).toMatchObject({ file: 'bad.yaml', line: 3, column: 1 });
    expect(p[0]?.message).toMatch(/YAML syntax error: tab characters/);
  });

  it('bad indentation', () => {
    const p = syntax('router:\n  host: a\n user: b\n');
    expect(p[0]).toMatchObject({ line: 3 });
    expect(p[0]?.message).toMatch(/bad indentation/);
  });

  it('duplicate key and unclosed quote', () => {
    expect(syntax('a: 1\na: 2\n')[0]?.message).toMatch(/duplicated mapping key/);
    expect(syntax('a: "open\n')[0]?.line).toBeGreaterThan(0);
  });

  it('the message starts with file:line:col', () => {
    try {
      parseConfigText('router:\n  host: a\n user: b\n', { file: 'bad.yaml' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/^bad\.yaml:3:\d+: YAML syntax error/);
    }
  });
});
