import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, REPO, run, tempDir } from './helpers.js';

/** Every workspace of the root package.json (globs of the form `dir/*` or `dir`). */
function workspaces(): string[] {
  const root = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
    workspaces: string[];
  };
  const out: string[] = [];
  for (const w of root.workspaces) {
    if (w.endsWith('/*')) {
      const dir = path.join(REPO, w.slice(0, -2));
      for (const e of fs.readdirSync(dir).sort()) {
        if (fs.existsSync(path.join(dir, e, 'package.json'))) out.push(path.join(dir, e));
      }
    } else if (fs.existsSync(path.join(REPO, w, 'package.json'))) {
      out.push(path.join(REPO, w));
    }
  }
  return out;
}

interface Bin {
  cmd: string;
  workspace: string;
  file: string;
}

function bins(): Bin[] {
  const out: Bin[] = [];
  for (const ws of workspaces()) {
    const pj = JSON.parse(fs.readFileSync(path.join(ws, 'package.json'), 'utf8')) as {
      bin?: Record<string, string> | string;
    };
    if (typeof pj.bin === 'string') throw new Error(`${ws}: give "bin" as an object`);
    for (const [cmd, file] of Object.entries(pj.bin ?? {})) {
      out.push({ cmd, workspace: path.relative(REPO, ws), file: path.join(ws, file) });
    }
  }
  return out;
}

const BINS = bins();
const gitModes = async (): Promise<Map<string, string>> => {
  const r = await run('git', ['ls-files', '-s', '--', ...BINS.map((b) => path.relative(REPO, b.file))], {
    cwd: REPO,
  });
  const m = new Map<string, string>();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const [mode, , , file] = line.split(/\s+/);
    if (mode && file) m.set(file, mode);
  }
  return m;
};

describe('workspace bins', () => {
  const dirs: string[] = [];
  afterAll(() => cleanup(...dirs));

  it('every daemon and tool has one', () => {
    expect(BINS.map((b) => b.cmd).sort()).toEqual(
      expect.arrayContaining([
        'wanctl-autorate',
        'wanctl-check-config',
        'wanctl-history',
        'wanctl-router',
        'wanctl-routeros-emulator',
        'wanctl-steering',
      ]),
    );
  });

  // npm links a bin at install time only when its file exists then, i.e. before any build.
  it.each(BINS)('$cmd points at a committed launcher (mode 755, not build output)', async (b) => {
    const rel = path.relative(REPO, b.file);
    expect(rel.split(path.sep)).not.toContain('dist');
    expect(fs.readFileSync(b.file, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const modes = await gitModes();
    if (modes.size > 0) expect(modes.get(rel), `${rel} in git`).toBe('100755');
    const pj = JSON.parse(fs.readFileSync(path.join(REPO, b.workspace, 'package.json'), 'utf8')) as {
      files?: string[];
      private?: boolean;
    };
    // Published packages ship the launcher and what it runs.
    if (!pj.private) expect(pj.files).toEqual(expect.arrayContaining(['bin', 'dist']));
  });

  it.each(BINS)('$cmd is linked in node_modules/.bin, executable, and --help exits 0', async (b) => {
    const link = path.join(REPO, 'node_modules', '.bin', b.cmd);
    expect(fs.existsSync(link), `${link} (run npm ci)`).toBe(true);
    expect(fs.realpathSync(link)).toBe(fs.realpathSync(b.file));
    expect(fs.statSync(link).mode & 0o111).toBe(0o111);
    const r = await run(link, ['--help'], { timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: ${b.cmd} `));
  });

  it('npx --no-install finds a bin in the checkout, never in the registry', async () => {
    const r = await run('npx', ['--no-install', 'wanctl-check-config', '--help'], {
      cwd: REPO,
      env: { ...process.env, npm_config_registry: 'http://127.0.0.1:9/' },
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: wanctl-check-config /);
  });

  it('a launcher without a build says to build first, and passes arguments on once built', async () => {
    const b = BINS.find((x) => x.cmd === 'wanctl-check-config')!;
    const dir = tempDir('launcher');
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
    const launcher = path.join(dir, 'bin', 'x.js');
    fs.copyFileSync(b.file, launcher);
    fs.chmodSync(launcher, 0o755);

    const missing = await run(launcher, ['--help']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${path.join(dir, 'dist', 'cli.js')} is missing`);
    expect(missing.stderr).toContain('npm run build');

    fs.mkdirSync(path.join(dir, 'dist'));
    fs.writeFileSync(
      path.join(dir, 'dist', 'cli.js'),
      'console.log(JSON.stringify(process.argv.slice(1)));\nprocess.exitCode = 7;\n',
    );
    const built = await run(launcher, ['a b', '--flag']);
    expect(built.code).toBe(7);
    // The CLI sees itself as the script that ran (as with "node dist/cli.js") and every argument.
    expect(JSON.parse(built.stdout)).toEqual([
      fs.realpathSync(path.join(dir, 'dist', 'cli.js')),
      'a b',
      '--flag',
    ]);
  });
});
