import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquirePidLock, isPidAlive, LockHeldError } from '../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runtime-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
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

  it('replaces a stale lock: dead PID, garbage, or a live PID that is not node/wanctl', async () => {
    const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((r) => dead.on('exit', r));
    const p = join(dir, 'wan1.lock');
    for (const content of [`${dead.pid}\n`, 'garbage', '']) {
      await writeFile(p, content);
      const l = acquirePidLock(p);
      expect(await readFile(p, 'utf8')).toBe(`${process.pid}\n`);
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
