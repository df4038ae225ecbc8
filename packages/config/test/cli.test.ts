import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV, examplesDir, here, MIN_AUTORATE } from './helpers.js';

const cli = join(here, '..', 'dist', 'cli.js');
let dir = '';

function run(args: string[], env: Record<string, string> = ENV) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', ...env },
    timeout: 15_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wanctl-config-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('wanctl-check-config (built dist/cli.js)', () => {
  it('prints OK and a summary for every example, exit 0', () => {
    const files = ['cable.yaml', 'dsl.yaml', 'fiber.yaml', 'steering.yaml'].map((f) => join(examplesDir, f));
    const r = run(files);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`OK ${files[0]} (autorate)`);
    expect(r.out).toContain(`OK ${files[3]} (steering)`);
    expect(r.out).toContain(
      'download floors green/yellow/soft_red/red 550/350/275/200 Mbps, ceiling 940 Mbps',
    );
    expect(r.out).toContain('alpha baseline 0.001, load 0.5');
    expect(r.out).toContain('thresholds target/warn/hard_red 12/45/80 ms');
    expect(r.out).not.toContain(ENV.WANCTL_ROUTER_PASSWORD);
  });

  it('lists every problem and exits 2 for an invalid file', () => {
    const f = join(dir, 'bad.yaml');
    writeFileSync(
      f,
      MIN_AUTORATE.replace('lock_timeout: 300', 'lock_timeout: true').replace(
        'factor_down: 0.9\n',
        'factor_down: 0.9\n    floor_red_mpbs: 1\n',
      ),
    );
    const r = run([f]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`INVALID ${f} (2 problems)`);
    expect(r.err).toMatch(
      /bad\.yaml:\d+:5: continuous_monitoring\.download\.floor_red_mpbs: unknown key "floor_red_mpbs"; did you mean "floor_red_mbps"\?/,
    );
    expect(r.err).toMatch(
      /bad\.yaml:\d+:1: lock_timeout: wrong type \(expected integer, found true \(boolean\)\)/,
    );
  });

  it('exits 1 for an unreadable file', () => {
    const r = run([join(dir, 'missing.yaml')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/missing\.yaml: cannot read config file: no such file/);
  });

  it('--kind overrides detection', () => {
    const r = run(['--kind', 'steering', join(examplesDir, 'cable.yaml')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/required key is missing/);
    expect(run(['--kind', 'nonsense', join(examplesDir, 'cable.yaml')]).code).toBe(2);
  });

  it('--json gives machine-readable results without secrets', () => {
    const bad = join(dir, 'bad2.yaml');
    writeFileSync(bad, 'wan_name: x\n');
    const r = run(['--json', join(examplesDir, 'dsl.yaml'), bad]);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.out) as { ok: boolean; results: Array<Record<string, unknown>> };
    expect(doc.ok).toBe(false);
    expect(doc.results[0]).toMatchObject({ status: 'ok', kind: 'autorate' });
    const summary = doc.results[0]?.['summary'] as { download: { ceilingBps: number } } | undefined;
    expect(summary?.download.ceilingBps).toBe(95_000_000);
    expect(doc.results[1]).toMatchObject({ status: 'invalid' });
    expect(r.out).not.toContain(ENV.WANCTL_ROUTER_PASSWORD);
  });

  it('an unset variable is reported by name', () => {
    const r = run([join(examplesDir, 'cable.yaml')], {});
    expect(r.code).toBe(2);
    expect(r.err).toContain('router.password: environment variable WANCTL_ROUTER_PASSWORD is not set');
  });

  it('--help explains usage and exit codes', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: wanctl-check-config');
    expect(r.out).toMatch(/Exit status: 0 all files valid/);
    expect(run([]).code).toBe(2);
  });
});
