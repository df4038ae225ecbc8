/**
 * The real wanctl-autorate process against a reader that goes away (`replay … | head -1`) and a
 * log directory it cannot use: a quiet exit or one clear line, never a stack trace (issue 16).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configText } from '../daemon/config.js';
import { CLI } from '../e2e/harness.js';

let dir: string;
let cfgFile: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'autorate-pipes-'));
  cfgFile = path.join(dir, 'wan1.yaml');
  await writeFile(cfgFile, configText(dir));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
});

describe('wanctl-autorate and its output pipe', () => {
  it('replay | head -1: the first line arrives, then a quiet exit 0 (no EPIPE trace)', async () => {
    const input = path.join(dir, 'long.jsonl');
    await writeFile(input, '{"rtt_ms": 24}\n'.repeat(20_000)); // ~4 MB of output: far beyond a pipe buffer
    const child = spawn(process.execPath, [CLI, 'replay', '--config', cfgFile, '--input', input], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const first = await new Promise<string>((resolve) => {
      child.stdout.once('data', (d: Buffer) => {
        resolve(d.toString().split('\n')[0] ?? '');
        child.stdout.destroy();
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(JSON.parse(first)).toMatchObject({ i: 0, ok: true });
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});

describe('a log file that cannot be created at start', () => {
  it('is one line naming the file and the reason, exit 1', async () => {
    const blocker = path.join(dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    const bad = path.join(dir, 'badlog.yaml');
    await writeFile(
      bad,
      configText(dir).replace(`main_log: "${dir}/wan1.log"`, `main_log: "${blocker}/wan1.log"`),
    );
    const child = spawn(process.execPath, [CLI, 'run', '--config', bad, '--udp-reflector', '127.0.0.1:9'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(
      new RegExp(
        `^wanctl-autorate: cannot open log file ${blocker.replace(/[.]/g, '\\.')}/wan1\\.log: a part of the path is a file, not a directory`,
      ),
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

describe('a lock file that holds no PID (issue 16)', () => {
  it('a fresh empty lock is held (lock_timeout 300 s): exit 1, the file untouched', async () => {
    const lockFile = path.join(dir, 'wan1.lock');
    await writeFile(lockFile, '');
    try {
      const child = spawn(
        process.execPath,
        [CLI, 'run', '--config', cfgFile, '--udp-reflector', '127.0.0.1:9'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      expect(code).toBe(1);
      expect(stderr).toMatch(
        /another instance is running, refusing to start: lock file .*wan1\.lock holds no PID/,
      );
      expect(readFileSync(lockFile, 'utf8')).toBe('');
    } finally {
      await rm(lockFile, { force: true });
    }
  });
});
