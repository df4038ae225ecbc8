import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquirePidLock, DEFAULT_LOCK_STALE_MS, isPidAlive, LockHeldError } from '../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runtime-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('acquirePidLock: a lock file that holds no PID (empty or garbage)', () => {
  const T0 = Date.parse('2026-12-04T12:00:00Z');
  async function lockWith(content: string, ageSec: number): Promise<string> {
    const p = join(dir, 'wan1.lock');
    await writeFile(p, content);
    const t = new Date(T0 - ageSec * 1000);
    await utimes(p, t, t);
    return p;
  }

  for (const [what, content] of [
    ['empty', ''],
    ['garbage', 'not-a-pid\n'],
  ] as const) {
    it(`${what}: held while younger than lock_timeout (by mtime), with no takeover`, async () => {
      const p = await lockWith(content, 299);
      const said: string[] = [];
      let err: unknown;
      try {
        acquirePidLock(p, { staleAfterMs: 300_000, now: () => T0, onTakeover: (m) => said.push(m) });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LockHeldError);
      expect((err as LockHeldError).holderPid).toBeNull();
      expect((err as Error).message).toBe(
        `lock file ${p} holds no PID and is 299 s old; it counts as held until it is 300 s old (lock_timeout) ` +
          '(another instance may be starting; remove the file if none is)',
      );
      expect(await readFile(p, 'utf8')).toBe(content); // untouched
      expect(said).toEqual([]);
    });

    it(`${what}: taken over once older than lock_timeout, with one line saying so`, async () => {
      const p = await lockWith(content, 301);
      const said: string[] = [];
      const l = acquirePidLock(p, { staleAfterMs: 300_000, now: () => T0, onTakeover: (m) => said.push(m) });
      expect(await readFile(p, 'utf8')).toBe(`${process.pid}\n`);
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(
        new RegExp(
          `^lock file ${p.replace(/[.]/g, '\\.')} holds no PID \\(${what === 'empty' ? 'empty' : '"not-a-pid\\\\n"'}\\) and is 301 s old \\(lock_timeout 300 s\\): taking it over$`,
        ),
      );
      l.release();
    });
  }

  it('without staleAfterMs the default is 300 s (a fresh empty lock is held)', async () => {
    const p = await lockWith('', 10);
    expect(() => acquirePidLock(p, { now: () => T0 })).toThrow(LockHeldError);
    expect(DEFAULT_LOCK_STALE_MS).toBe(300_000);
  });
});

describe('acquirePidLock', () => {
  it('creates the lock with our PID (directory included) and removes it on release', async () => {
    const p = join(dir, 'run', 'wan1.lock');
    const lock = acquirePidLock(p);
    expect(await readFile(p, 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
    expect(existsSync(p)).toBe(false);
    lock.release();
  });

  it('refuses when a live node process holds it, naming the PID', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    try {
      const p = join(dir, 'wan1.lock');
      await writeFile(p, `${child.pid}\n`);
      let err: unknown;
      try {
        acquirePidLock(p);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LockHeldError);
      expect((err as LockHeldError).holderPid).toBe(child.pid);
      expect((err as Error).message).toContain(String(child.pid));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('replaces a stale lock: dead PID, or a live PID that is not node/wanctl, saying so', async () => {
    const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((r) => dead.on('exit', r));
    const p = join(dir, 'wan1.lock');
    {
      await writeFile(p, `${dead.pid}\n`);
      const said: string[] = [];
      const l = acquirePidLock(p, { onTakeover: (m) => said.push(m) });
      expect(await readFile(p, 'utf8')).toBe(`${process.pid}\n`);
      expect(said).toEqual([`lock file ${p} names PID ${dead.pid}, which is not running: taking it over`]);
      l.release();
    }
    const sleeper = spawn('sleep', ['20'], { stdio: 'ignore' });
    try {
      await writeFile(p, `${sleeper.pid}\n`);
      const l = acquirePidLock(p);
      expect(await readFile(p, 'utf8')).toBe(`${process.pid}\n`);
      l.release();
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('is released when the process exits', async () => {
    const p = join(dir, 'exit.lock');
    const src = new URL('../src/lock.ts', import.meta.url).pathname;
    // run a tiny program through vitest's own loader is overkill: compile-free check with the built file
    const dist = new URL('../dist/lock.js', import.meta.url).pathname;
    expect(existsSync(dist) || existsSync(src)).toBe(true);
    const code = `import(${JSON.stringify(dist)}).then(m => { m.acquirePidLock(${JSON.stringify(p)}); console.log('held'); });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const rc = await new Promise((r) => child.on('exit', r));
    expect(rc).toBe(0);
    expect(out).toContain('held');
    expect(existsSync(p)).toBe(false);
  });

  it('isPidAlive', () => {
    expect(isPidAlive(process.pid)).toBe(true);
    expect(isPidAlive(0)).toBe(false);
    expect(isPidAlive(-5)).toBe(false);
  });
});
