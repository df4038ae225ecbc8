import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, REPO, run, tempDir } from './helpers.js';

// @wanctl/router-client is meant to be usable outside wanctl: npm pack it, install the tarball
// into an empty project, and use it from there by import, require, TypeScript and its CLI.

const PKG = path.join(REPO, 'packages', 'router-client');
const BUILT = fs.existsSync(path.join(PKG, 'dist', 'index.js'));
const EMULATOR = path.join(REPO, 'packages', 'routeros-emulator', 'dist', 'index.js');
const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

// npm as a user runs it in an empty project: without what "npm test -w ..." or "npm exec"
// hand down to child processes (workspace selection, --offline, --global, --dry-run).
const NPM_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) =>
      !/^npm_(package_|lifecycle_)/i.test(k) &&
      !/^npm_config_(workspaces?|include_workspace_root|global|offline|prefer_online|prefer_offline|dry_run)$/i.test(
        k,
      ),
  ),
);

interface PackResult {
  filename: string;
  files: Array<{ path: string }>;
}

interface Emu {
  rest?: { port: number };
  ssh?: { port: number; hostKeyFingerprint: string };
  stop(): Promise<void>;
}

describe.skipIf(!BUILT || !fs.existsSync(EMULATOR))(
  '@wanctl/router-client packed and installed alone',
  () => {
    let work: string;
    let project: string;
    let installed: string;
    let packed: PackResult;
    let emu: Emu;

    beforeAll(async () => {
      work = tempDir('pack');
      const p = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: PKG, env: NPM_ENV });
      if (p.code !== 0) throw new Error(`npm pack failed: ${p.stderr}`);
      packed = (JSON.parse(p.stdout) as PackResult[])[0]!;
      project = path.join(work, 'project');
      fs.mkdirSync(project);
      fs.writeFileSync(
        path.join(project, 'package.json'),
        '{"name":"consumer","version":"1.0.0","private":true}\n',
      );
      // From npm's cache when it has everything, else from the registry (after "npm ci" alone the
      // cache has the tarballs but may lack the registry metadata a range needs).
      // --ignore-scripts: ssh2's optional native crypto is not built; it uses its JavaScript code.
      const tarball = path.join(work, packed.filename);
      const flags = ['--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock'];
      let i = await run('npm', ['install', '--offline', ...flags, tarball], {
        cwd: project,
        env: NPM_ENV,
        timeoutMs: 180_000,
      });
      if (i.code !== 0) {
        i = await run('npm', ['install', '--prefer-offline', ...flags, tarball], {
          cwd: project,
          env: NPM_ENV,
          timeoutMs: 180_000,
        });
      }
      if (i.code !== 0) throw new Error(`npm install of the tarball failed: ${i.stderr}`);
      installed = path.join(project, 'node_modules', '@wanctl', 'router-client');
      const mod = (await import(EMULATOR)) as { startEmulator(o: Record<string, unknown>): Promise<Emu> };
      emu = await mod.startEmulator({});
    }, 240_000);
    afterAll(async () => {
      await emu?.stop();
      cleanup(work);
    });

    it('the tarball holds the code, types, sources, launcher and the GPL-2.0 text, and no tests', () => {
      const files = packed.files.map((f) => f.path);
      for (const f of [
        'package.json',
        'README.md',
        'LICENSE',
        'bin/wanctl-router.js',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/cli.js',
        'src/index.ts',
      ]) {
        expect(files).toContain(f);
      }
      expect(files.filter((f) => f.startsWith('test/') || f.includes('tsbuildinfo'))).toEqual([]);
      const license = fs.readFileSync(path.join(installed, 'LICENSE'), 'utf8');
      expect(license).toContain('GNU GENERAL PUBLIC LICENSE');
      expect(license).toContain('Version 2, June 1991');
      const pj = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'));
      expect(pj.license).toBe('GPL-2.0-or-later');
    });

    it('every source map (.js.map, .d.ts.map) points at a file that was shipped', () => {
      const maps = packed.files.map((f) => f.path).filter((f) => f.endsWith('.map'));
      expect(maps.length).toBeGreaterThan(10);
      for (const m of maps) {
        const map = JSON.parse(fs.readFileSync(path.join(installed, m), 'utf8')) as { sources: string[] };
        for (const s of map.sources) {
          expect(fs.existsSync(path.resolve(installed, path.dirname(m), s)), `${m} -> ${s}`).toBe(true);
        }
      }
    });

    it('installs without any other wanctl package (no @wanctl/config)', () => {
      expect(fs.readdirSync(path.join(project, 'node_modules', '@wanctl'))).toEqual(['router-client']);
      for (const dep of ['got', 'ssh2', 'commander']) {
        expect(fs.existsSync(path.join(project, 'node_modules', dep, 'package.json')), dep).toBe(true);
      }
    });

    it('loads by ESM import and talks REST (got) to a router', async () => {
      const script = `
      import { createRouterClient, RouterError } from '@wanctl/router-client';
      const c = createRouterClient({ host: '127.0.0.1', transport: 'rest',
        rest: { port: ${emu.rest?.port}, https: false, user: 'admin', password: 'admin' } }, 'rest');
      try { console.log(JSON.stringify({ identity: await c.getIdentity(), error: typeof RouterError })); }
      finally { await c.close(); }`;
      const r = await run('node', ['--input-type=module', '-e', script], { cwd: project });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ identity: 'MikroTik', error: 'function' });
    });

    it('loads by CommonJS require and talks SSH (ssh2) to a router', async () => {
      const script = `
      const { createRouterClient } = require('@wanctl/router-client');
      const c = createRouterClient({ host: '127.0.0.1', transport: 'ssh',
        ssh: { port: ${emu.ssh?.port}, user: 'admin', password: 'admin',
               hostKeyFingerprint: ${JSON.stringify(emu.ssh?.hostKeyFingerprint)} } }, 'ssh');
      c.getIdentity().then((id) => { console.log(id); return c.close(); },
        (e) => { console.error(e); process.exitCode = 1; return c.close(); });`;
      const r = await run('node', ['--no-warnings=ExperimentalWarning', '-e', script], { cwd: project });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('MikroTik');
    });

    it('type-checks for ESM and CommonJS consumers (the shipped .d.ts, no @wanctl/config)', async () => {
      fs.writeFileSync(
        path.join(project, 'use.mts'),
        `import { getRouterClientWithFailover, type RouterClientOptions, RouterError } from '@wanctl/router-client';
const o: RouterClientOptions = { host: '127.0.0.1', transport: 'rest', rest: { user: 'a', password: 'b' } };
const t: 'rest' | 'ssh' = getRouterClientWithFailover(o).activeTransport;
// @ts-expect-error: the types are real (an unresolved or any-typed import would not complain here)
const n: number = getRouterClientWithFailover(o).activeTransport;
void t; void n; void RouterError;
`,
      );
      fs.writeFileSync(
        path.join(project, 'use.cts'),
        `import rc = require('@wanctl/router-client');
const t: 'rest' | 'ssh' = rc.createRouterClient({ host: 'h', transport: 'ssh' }, 'ssh').activeTransport;
void t;
`,
      );
      // skipLibCheck off: the shipped declarations must resolve everything they import.
      const r = await run(
        'node',
        [
          TSC,
          '--noEmit',
          '--strict',
          '--skipLibCheck',
          'false',
          '--module',
          'nodenext',
          '--moduleResolution',
          'nodenext',
          '--target',
          'es2022',
          '--typeRoots',
          path.join(REPO, 'node_modules', '@types'),
          '--types',
          'node',
          'use.mts',
          'use.cts',
        ],
        { cwd: project, timeoutMs: 120_000 },
      );
      expect(r.stdout + r.stderr).toBe('');
      expect(r.code).toBe(0);
    });

    it('its CLI runs, and asks for @wanctl/config only when a command reads a config', async () => {
      const bin = path.join(project, 'node_modules', '.bin', 'wanctl-router');
      const help = await run(bin, ['--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: wanctl-router /);
      const probe = await run(bin, ['probe', '--config', path.join(REPO, 'examples', 'cable.yaml')]);
      expect(probe.code).toBe(1);
      expect(probe.stderr).toContain('needs the package @wanctl/config, which is not installed');
      expect(probe.stderr).toContain('npm install @wanctl/config');
    });
  },
);
