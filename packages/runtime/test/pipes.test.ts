/**
 * A reader that goes away early (`… | head -1`) and a log file that cannot be opened: one quiet
 * exit or one clear line, never an unhandled 'error' event or a stack trace. Real pipes, real
 * child processes running the built dist/.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, LogFileError, reportFatal } from '../src/index.js';

const dist = new URL('../dist/index.js', import.meta.url).pathname;
let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wanctl-pipes-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `body` (a module using `rt`, the built runtime) and closes its stdout after the first chunk. */
async function headOne(body: string): Promise<{ first: string; code: number | null; stderr: string }> {
  const script = `import * as rt from ${JSON.stringify(dist)};\n${body}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const first = await new Promise<string>((resolve) => {
    child.stdout.once('data', (d: Buffer) => {
      resolve(d.toString().split('\n')[0] ?? '');
      child.stdout.destroy(); // as head does after its line
    });
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  return { first, code, stderr };
}

// 64 KiB of output per burst: more than a pipe buffer holds, so later writes meet a closed pipe.
const LINES = `const line = 'x'.repeat(99) + '\\n';`;

describe('runCli and a reader that goes away (EPIPE)', () => {
  it('stream writes (process.stdout.write): exits 0, nothing on stderr', async () => {
    const r = await headOne(`${LINES}
rt.runCli('wanctl-x', async () => {
  for (let i = 0; i < 100; i++) {
    process.stdout.write(line.repeat(655));
    await new Promise((res) => setTimeout(res, 5));
  }
  return 3; // not reached: the pipe breaks first
});`);
    expect(r.first).toBe('x'.repeat(99));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('synchronous writes to fd 1 (writeSync throws EPIPE into main): exits 0, nothing on stderr', async () => {
    const r = await headOne(`${LINES}
import { writeSync } from 'node:fs';
rt.runCli('wanctl-x', async () => {
  try {
    for (let i = 0; i < 100; i++) {
      writeSync(1, line.repeat(655));
      await new Promise((res) => setTimeout(res, 5));
    }
    return 3;
  } catch (e) {
    return rt.reportFatal('wanctl-x', e, (t) => process.stderr.write(t)); // as the apps' main does
  }
});`);
    expect(r.first).toBe('x'.repeat(99));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('EPIPE on stderr is ignored: the process carries on and finishes normally', async () => {
    const script = `import * as rt from ${JSON.stringify(dist)};
rt.runCli('wanctl-x', async () => {
  for (let i = 0; i < 50; i++) {
    process.stderr.write('e'.repeat(65536));
    await new Promise((res) => setTimeout(res, 5));
  }
  process.stdout.write('done\\n');
  return 0;
});`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.once('data', () => child.stderr.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(out).toBe('done\n');
    expect(code).toBe(0);
  });

  it('an EPIPE while stdout is a file is not a reader going away: fatal, exit 1, reported', async () => {
    const out = join(dir, 'stdout.txt');
    const fd = openSync(out, 'w');
    const script = `import * as rt from ${JSON.stringify(dist)};
rt.runCli('wanctl-x', async () => {
  throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' }); // e.g. a socket
});`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', fd, 'pipe'],
    });
    closeSync(fd);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr).toMatch(/^wanctl-x: fatal: Error: write EPIPE/);
  });
});

describe('a log file that cannot be opened at start', () => {
  it('is a LogFileError told in one line, exit 1 (no stack trace)', () => {
    const notADir = join(dir, 'plain-file');
    writeFileSync(notADir, 'x');
    let err: unknown;
    try {
      createLogger({ name: 'wan1', file: join(notADir, 'wan1.log'), console: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LogFileError);
    let text = '';
    const code = reportFatal('wanctl-x', err, (t) => {
      text += t;
    });
    expect(code).toBe(1);
    expect(text.trimEnd().split('\n')).toHaveLength(1);
    expect(text).toBe(
      `wanctl-x: cannot open log file ${join(notADir, 'wan1.log')}: a part of the path is a file, not a directory (${notADir}) ` +
        '(check logging.main_log / logging.debug_log and that the directory is writable by the daemon user)\n',
    );
  });
});
