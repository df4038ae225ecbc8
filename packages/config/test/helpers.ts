import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { ConfigError, type ConfigProblem } from '../src/index.js';

export const here = dirname(fileURLToPath(import.meta.url));
export const examplesDir = join(here, '..', '..', '..', 'examples');
/** Golden vectors recorded from v1.3 (fixtures/golden in the repository, or WANCTL_GOLDEN_DIR). */
export const goldenDir =
  process.env['WANCTL_GOLDEN_DIR'] ?? join(here, '..', '..', '..', 'fixtures', 'golden');
export const ENV = { WANCTL_ROUTER_PASSWORD: 's3cret-pw' };

export function example(name: string): string {
  return readFileSync(join(examplesDir, name), 'utf8');
}

/** Runs fn, expects a ConfigError and returns its problems. */
export function problemsOf(fn: () => unknown): readonly ConfigProblem[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
}

/** Replaces the first line matching `from` (a key line) in YAML text. */
export function edit(text: string, from: RegExp, to: string): string {
  expect(text).toMatch(from);
  return text.replace(from, to);
}

export const MIN_AUTORATE = `wan_name: wan1
router:
  host: 192.0.2.1
  user: admin
  ssh_key: /etc/wanctl/ssh/router.key
queues:
  download: WAN-Download-1
  upload: WAN-Upload-1
continuous_monitoring:
  enabled: true
  baseline_rtt_initial: 25
  ping_hosts: [1.1.1.1]
  download:
    floor_mbps: 25
    ceiling_mbps: 100
    step_up_mbps: 2
    factor_down: 0.9
  upload:
    floor_mbps: 5
    ceiling_mbps: 20
    step_up_mbps: 0.5
    factor_down: 0.95
  thresholds:
    target_bloat_ms: 5
    warn_bloat_ms: 15
    alpha_baseline: 0.02
    alpha_load: 0.2
logging:
  main_log: /var/log/wanctl/wan1.log
  debug_log: /var/log/wanctl/wan1_debug.log
lock_file: /run/wanctl/wan1.lock
lock_timeout: 300
`;
