import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  ConfigReadError,
  detectConfigKind,
  loadAutorateConfig,
  loadConfigFile,
  loadSteeringConfig,
  parseAutorateConfig,
  suggest,
} from '../src/index.js';
import { ENV, examplesDir, MIN_AUTORATE, problemsOf } from './helpers.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wanctl-config-load-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('file loading', () => {
  it('a missing file is a ConfigReadError (ENOENT)', () => {
    const f = join(dir, 'nope.yaml');
    try {
      loadAutorateConfig(f);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigReadError);
      expect((err as ConfigReadError).code).toBe('WANCTL_CONFIG_UNREADABLE');
      expect((err as ConfigReadError).osCode).toBe('ENOENT');
      expect((err as Error).message).toBe(`${f}: cannot read config file: no such file`);
    }
  });

  it('a directory is a ConfigReadError (EISDIR)', () => {
    expect(() => loadConfigFile(dir)).toThrow(ConfigReadError);
  });

  it('problems name the file that was loaded', () => {
    const f = join(dir, 'wan1.yaml');
    writeFileSync(f, MIN_AUTORATE.replace('lock_timeout: 300', 'lock_timeout: -1'));
    const p = problemsOf(() => loadAutorateConfig(f));
    expect(p[0]).toMatchObject({ file: f, path: 'lock_timeout' });
    expect(() => loadAutorateConfig(f)).toThrow(
      new RegExp(`^${f.replace(/[.]/g, '\\.')}:\\d+:1: lock_timeout: out of range`),
    );
  });

  it('--kind style override: an autorate file loaded as steering fails on steering keys', () => {
    const p = problemsOf(() => loadConfigFile(join(examplesDir, 'dsl.yaml'), { env: ENV, kind: 'steering' }));
    const paths = p.map((x) => x.path);
    expect(paths).toContain('topology');
    expect(paths).toContain('queues');
    expect(() => loadSteeringConfig(join(examplesDir, 'dsl.yaml'), { env: ENV })).toThrow(ConfigError);
  });
});

describe('detectConfigKind', () => {
  it('tells the kinds apart by top-level keys', () => {
    expect(detectConfigKind({ continuous_monitoring: {} })).toBe('autorate');
    expect(detectConfigKind({ topology: {}, mangle_rule: {} })).toBe('steering');
    expect(detectConfigKind({ continuous_monitoring: {}, topology: {} })).toBeNull();
    expect(detectConfigKind({ wan_name: 'x' })).toBeNull();
    expect(detectConfigKind([1])).toBeNull();
    expect(detectConfigKind(null)).toBeNull();
  });
});

describe('upload per-state floors', () => {
  it('need yellow and red with green', () => {
    const t = MIN_AUTORATE.replace('floor_mbps: 5', 'floor_green_mbps: 15');
    const p = problemsOf(() => parseAutorateConfig(t, { file: 'x', env: {} }));
    expect(p.map((x) => x.path).sort()).toEqual([
      'continuous_monitoring.upload.floor_red_mbps',
      'continuous_monitoring.upload.floor_yellow_mbps',
    ]);
  });

  it('upload has no soft_red floor key', () => {
    const t = MIN_AUTORATE.replace('floor_mbps: 5', 'floor_mbps: 5\n    floor_soft_red_mbps: 5');
    const p = problemsOf(() => parseAutorateConfig(t, { file: 'x', env: {} }));
    expect(p[0]?.message).toMatch(/unknown key "floor_soft_red_mbps"/);
  });
});

describe('positions', () => {
  it('a nested list item in block style', () => {
    const t = MIN_AUTORATE.replace(
      'logging:',
      '  fallback_checks:\n    tcp_targets:\n      - ["1.1.1.1", 443]\n      - ["bad host", 443]\nlogging:',
    );
    const p = problemsOf(() => parseAutorateConfig(t, { file: 'x', env: {} }));
    expect(p[0]).toMatchObject({
      path: 'continuous_monitoring.fallback_checks.tcp_targets[1]',
      line: 31,
      column: 9,
    });
  });

  it('a problem in a list item port points at the item element', () => {
    const t = MIN_AUTORATE.replace(
      'logging:',
      '  fallback_checks:\n    tcp_targets: [["1.1.1.1", 70000]]\nlogging:',
    );
    const p = problemsOf(() => parseAutorateConfig(t, { file: 'x', env: {} }));
    expect(p[0]).toMatchObject({
      path: 'continuous_monitoring.fallback_checks.tcp_targets[0][1]',
      line: 29,
      column: 31,
    });
  });
});

describe('suggest', () => {
  it('suggests near misses only', () => {
    expect(suggest('ceilling_mbps', ['ceiling_mbps', 'floor_mbps'])).toBe('ceiling_mbps');
    expect(suggest('Wan_Name', ['wan_name'])).toBe('wan_name');
    expect(suggest('something_else', ['ceiling_mbps'])).toBeUndefined();
  });
});
