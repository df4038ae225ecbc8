/**
 * The real wanctl-steering process against a reader that goes away (`replay … | head -1`) and a
 * log directory it cannot use: a quiet exit or one clear line, never a stack trace (issue 16).
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_DIR, assertBuilt, CLI, tempDir } from './helpers/e2e.js';

const EXAMPLE = join(APP_DIR, '..', '..', 'examples', 'steering.yaml');
const ENV = { ...process.env, WANCTL_ROUTER_PASSWORD: 'x', NOTIFY_SOCKET: '' };

let tmp: { dir: string; cleanup(): Promise<void> };
beforeAll(async () => {
  assertBuilt();
  tmp = await tempDir();
});
afterAll(async () => {
  await tmp.cleanup();
});

function collect(child: ReturnType<typeof spawn>): { text: () => string } {
  let s = '';
  child.stderr?.on('data', (d: Buffer) => {
    s += d.toString();
  });
  return { text: () => s };
}

describe('wanctl-steering and its output pipe', () => {
  it('replay | head -1: the first line arrives, then a quiet exit 0 (no EPIPE trace)', async () => {
    const input = join(tmp.dir, 'long.jsonl');
    const line =
      '{"autorate_baseline_rtt_ms": 25, "rtt_attempts_ms": [26], "cake": {"dropped": 1, "queued_packets": 0, "packets": 10, "bytes": 1000}, "router_ok": true}\n';
    await writeFile(input, line.repeat(10_000)); // ~4 MB of output: far beyond a pipe buffer
    const child = spawn(process.execPath, [CLI, 'replay', '--config', EXAMPLE, '--input', input], {
      env: ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr = collect(child);
    const first = await new Promise<string>((resolve) => {
      child.stdout?.once('data', (d: Buffer) => {
        resolve(d.toString().split('\n')[0] ?? '');
        child.stdout?.destroy();
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(JSON.parse(first)).toMatchObject({ i: 0, ok: true });
    expect(stderr.text()).toBe('');
    expect(code).toBe(0);
  });
});

describe('a log file that cannot be created at start', () => {
  it('is one line naming the file and the reason, exit 1', async () => {
    const blocker = join(tmp.dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    const cfg = join(tmp.dir, 'badlog.yaml');
    const text = (await readFile(EXAMPLE, 'utf8')).replace(
      /main_log: .*/,
      `main_log: "${blocker}/steering.log"`,
    );
    await writeFile(cfg, text);
    const child = spawn(process.execPath, [CLI, 'run', '--config', cfg], {
      env: ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr = collect(child);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr.text().trimEnd().split('\n')).toHaveLength(1);
    expect(stderr.text()).toContain(
      `wanctl-steering: cannot open log file ${blocker}/steering.log: a part of the path is a file, not a directory`,
    );
  });
});
