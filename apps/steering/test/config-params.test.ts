/** The config → control-law mapping agrees with the control law's own reading of a v1.3 YAML file. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSteeringConfig } from '@wanctl/config';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { routerClientOptions, steeringParamsFromConfig } from '../src/config-params.js';
import { steeringParamsFromV13Config } from '../src/control/index.js';
import { APP_DIR } from './helpers/e2e.js';

const EXAMPLE = readFileSync(join(APP_DIR, '..', '..', 'examples', 'steering.yaml'), 'utf8');
const env = { WANCTL_ROUTER_PASSWORD: 'pw' };

describe('steeringParamsFromConfig', () => {
  it.each([
    ['the example config', (s: string) => s],
    ['legacy RTT-only mode', (s: string) => s.replace('cake_aware: true', 'cake_aware: false')],
    [
      'confidence scoring, live',
      (s: string) =>
        s.replace('use_confidence_scoring: false', 'use_confidence_scoring: true') +
        '\nconfidence:\n  dry_run: false\n  steer_threshold: 60\n  hold_down_duration_sec: 10\n',
    ],
    [
      'custom thresholds and bounds',
      (s: string) =>
        s
          .replace('red_samples_required: 2', 'red_samples_required: 4')
          .replace(
            'rtt_ewma_alpha: 0.3',
            'rtt_ewma_alpha: 0.25\n  baseline_rtt_bounds: { min: 5, max: 120 }',
          ),
    ],
  ])('matches the control law for %s', (_name, mutate) => {
    const text = mutate(EXAMPLE);
    const fromConfig = steeringParamsFromConfig(parseSteeringConfig(text, { env }));
    const fromYaml = steeringParamsFromV13Config(yaml.load(text));
    expect(fromConfig).toEqual(fromYaml);
  });
});

describe('routerClientOptions', () => {
  it('REST primary with the SSH fallback configured, password revealed only here (D1)', () => {
    const cfg = parseSteeringConfig(EXAMPLE, { env });
    const o = routerClientOptions(cfg, undefined, 4000);
    expect(o).toMatchObject({ host: 'router.example.net', transport: 'rest', deadlineMs: 4000 });
    expect(o.rest).toMatchObject({ port: 443, https: true, user: 'wanctl', password: 'pw' });
    expect(o.ssh).toMatchObject({ user: 'wanctl', privateKeyPath: '/etc/wanctl/ssh/router.key' });
  });

  it('no REST options without a password', () => {
    const cfg = parseSteeringConfig(
      EXAMPLE.replace('transport: "rest"', 'transport: "ssh"').replace(/ {2}password: .*\n/, ''),
      { env },
    );
    const o = routerClientOptions(cfg);
    expect(o.transport).toBe('ssh');
    expect(o.rest).toBeUndefined();
  });
});
