import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigAliasLimitError,
  ConfigError,
  ConfigReadError,
  ConfigTooLargeError,
  loadAutorateConfig,
  loadConfigFile,
  MAX_CONFIG_BYTES,
  parseAutorateConfig,
} from '../src/index.js';
import { aliasExpansion } from '../src/yaml.js';
import { ENV, examplesDir, here, MIN_AUTORATE } from './helpers.js';

const cli = join(here, '..', 'dist', 'cli.js');
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wanctl-config-limits-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The classic "billion laughs": 9 levels of 9 aliases each, 9^9 strings once expanded. */
const BOMB = `
lol_a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
lol_b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
lol_c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
lol_d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
lol_e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
lol_f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
lol_g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
lol_h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
lol_i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`;

describe('YAML alias expansion limit (billion laughs)', () => {
  it('an autorate config carrying the classic bomb is refused in well under a second, with a code', () => {
    const t0 = performance.now();
    let err: unknown;
    try {
      parseAutorateConfig(MIN_AUTORATE + BOMB, { file: 'bomb.yaml', env: ENV });
    } catch (e) {
      err = e;
    }
    const ms = performance.now() - t0;
    expect(err).toBeInstanceOf(ConfigAliasLimitError);
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigAliasLimitError;
    expect(e.code).toBe('WANCTL_CONFIG_ALIAS_LIMIT');
    expect(e.added).toBeGreaterThan(387_000_000); // 9 + 81 + ... + 9^9 nodes, minus the distinct ones
    expect(e.message).toMatch(
      /^bomb\.yaml: YAML aliases \(\*name\) expand the document by \d+ nodes; refusing it/,
    );
    expect(ms).toBeLessThan(1000);
  });

  it('wanctl-check-config stops on the bomb at once with exit 2 and one clear message', () => {
    const f = join(dir, 'bomb.yaml');
    writeFileSync(f, MIN_AUTORATE + BOMB);
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, f], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '', ...ENV },
      timeout: 30_000,
    });
    const ms = performance.now() - t0;
    expect(r.signal).toBeNull(); // before the fix: killed by the timeout (it ran 93 s to 4.3 GB)
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`INVALID ${f} (1 problem)`);
    expect(r.stderr).toMatch(/YAML aliases \(\*name\) expand the document by \d+ nodes/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    // process start-up included; a busy 2-core machine gets generous slack (measured ~0.6 s)
    expect(ms).toBeLessThan(10_000);
  });

  it('ordinary alias use (a shared block, a few dozen nodes) is accepted', () => {
    const text = MIN_AUTORATE.replace(
      '  download:\n    floor_mbps: 25',
      '  download: &dl\n    floor_mbps: 25',
    ).replace(
      /logging:\n/,
      'x_shared: &shared [1, 2, 3, 4, 5, 6, 7, 8]\nx_copies: [*shared, *shared, *shared, *shared]\nlogging:\n',
    );
    // unknown keys are still reported, but as unknown keys, not as an alias bomb
    try {
      parseAutorateConfig(text, { env: ENV });
      expect.unreachable();
    } catch (e) {
      expect(e).not.toBeInstanceOf(ConfigAliasLimitError);
      expect((e as ConfigError).code).toBe('WANCTL_CONFIG_INVALID');
      expect((e as ConfigError).problems.map((p) => p.path).sort()).toEqual(['x_copies', 'x_shared']);
    }
  });

  it('aliasExpansion counts what aliases add, linear in the distinct nodes', () => {
    expect(aliasExpansion('x')).toBe(0);
    expect(aliasExpansion({ a: [1, 2, 3] })).toBe(0);
    const shared = [1, 2, 3];
    expect(aliasExpansion({ a: shared, b: shared })).toBe(4); // the list node and its 3 items again
    let level: unknown[] = ['lol', 'lol'];
    for (let i = 0; i < 40; i++) level = [level, level];
    expect(aliasExpansion({ top: level })).toBeGreaterThan(1e12); // 2^42-ish, computed at once
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(aliasExpansion(cyclic)).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('file size limit', () => {
  it('a file over 1 MiB is refused unread: ConfigTooLargeError, exit 2', () => {
    const f = join(dir, 'huge.yaml');
    writeFileSync(f, `${MIN_AUTORATE}# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
    try {
      loadAutorateConfig(f, { env: ENV });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigTooLargeError);
      expect((e as ConfigTooLargeError).code).toBe('WANCTL_CONFIG_TOO_LARGE');
      expect((e as Error).message).toMatch(/the config file is \d+ bytes; a wanctl config is a few KiB/);
    }
    expect(() => parseAutorateConfig(`${MIN_AUTORATE}#${'y'.repeat(MAX_CONFIG_BYTES)}`)).toThrow(
      ConfigTooLargeError,
    );
    const r = spawnSync(process.execPath, [cli, f], { encoding: 'utf8', env: { ...ENV }, timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`INVALID ${f} (1 problem)`);
  });

  it('a file just under the limit is read as usual', () => {
    const f = join(dir, 'padded.yaml');
    const base = `${MIN_AUTORATE}#`;
    writeFileSync(f, `${base}${'z'.repeat(MAX_CONFIG_BYTES - base.length - 1)}\n`);
    expect(loadAutorateConfig(f, { env: ENV }).wanName).toBe('wan1');
  });
});

describe('error codes', () => {
  it('every error of the package is a ConfigError with its own WANCTL_CONFIG_* code', () => {
    const codes = new Map<string, string>();
    const grab = (fn: () => unknown): void => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        codes.set((e as Error).name, (e as ConfigError).code);
      }
    };
    grab(() => loadConfigFile(join(dir, 'missing.yaml')));
    grab(() => parseAutorateConfig('wan_name: x\n'));
    grab(() => parseAutorateConfig(MIN_AUTORATE + BOMB));
    grab(() => parseAutorateConfig('#'.repeat(MAX_CONFIG_BYTES + 1)));
    expect(Object.fromEntries(codes)).toEqual({
      ConfigReadError: 'WANCTL_CONFIG_UNREADABLE',
      ConfigError: 'WANCTL_CONFIG_INVALID',
      ConfigAliasLimitError: 'WANCTL_CONFIG_ALIAS_LIMIT',
      ConfigTooLargeError: 'WANCTL_CONFIG_TOO_LARGE',
    });
    for (const c of codes.values()) expect(c).toMatch(/^WANCTL_CONFIG_[A-Z_]+$/);
  });

  it('a read error keeps the operating system code apart (osCode)', () => {
    try {
      loadConfigFile(join(dir, 'missing.yaml'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigReadError);
      expect((e as ConfigReadError).osCode).toBe('ENOENT');
      expect((e as ConfigReadError).problems).toHaveLength(1);
    }
  });
});

describe('wanctl-check-config with a reader that goes away (EPIPE)', () => {
  it('| head -1 : exits quietly, no unhandled error, no stack trace', async () => {
    // Enough output to overflow a pipe buffer, so writes happen after the reader has gone.
    const files = Array.from({ length: 400 }, () => join(examplesDir, 'dsl.yaml'));
    const child = spawn(process.execPath, [cli, ...files], {
      env: { PATH: process.env['PATH'] ?? '', ...ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const first = await new Promise<string>((resolve) => {
      child.stdout.once('data', (d: Buffer) => {
        resolve(d.toString().split('\n')[0] ?? '');
        child.stdout.destroy(); // the reader closes its end, as head does after one line
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(first).toMatch(/^OK .*dsl\.yaml \(autorate\)$/);
    expect(err).not.toMatch(/EPIPE|Unhandled|\n\s+at /);
    expect(err).toBe('');
    expect(code).toBe(0);
  });
});
