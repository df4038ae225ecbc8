/** The built CLI (node dist/cli.js) as a user runs it: help, exit codes, validate, lock, replay. */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSteeringConfig } from '@wanctl/config';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { steeringParamsFromConfig } from '../src/config-params.js';
import { replaySteeringJsonl } from '../src/control/index.js';
import { APP_DIR, assertBuilt, CLI, tempDir } from './helpers/e2e.js';

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function run(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, NOTIFY_SOCKET: '', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) => resolve({ code, out, err }));
    child.stdin.end(opts.input ?? '');
  });
}

const EXAMPLE = join(APP_DIR, '..', '..', 'examples', 'steering.yaml');
const ENV = { WANCTL_ROUTER_PASSWORD: 'x' };

let tmp: { dir: string; cleanup(): Promise<void> };
beforeAll(() => assertBuilt());
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

async function configIn(dir: string, mutate: (s: string) => string = (s) => s): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const text = (await readFile(EXAMPLE, 'utf8'))
    .replaceAll('/run/wanctl/', `${dir}/`)
    .replaceAll('/var/lib/wanctl/', `${dir}/`)
    .replaceAll('/var/log/wanctl/', `${dir}/`);
  const p = join(dir, 'steering.yaml');
  await writeFile(p, mutate(text));
  return p;
}

describe('wanctl-steering CLI', () => {
  it('--help explains the commands and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/run \[options\]/);
    expect(r.out).toMatch(/replay \[options\]/);
    expect(r.out).toMatch(/Exit status: 0 clean stop; 2 bad config or arguments; 1 any other fatal error/);
    const rr = await run(['run', '--help']);
    for (const opt of ['--config', '--once', '--validate-config', '--dry-run', '--debug', '--reset'])
      expect(rr.out).toContain(opt);
  });

  it('no subcommand at all prints the usage on stderr and exits 2 (as autorate)', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('Usage: wanctl-steering');
    expect(r.out).toBe('');
    const v = await run(['--version']);
    expect(v.code).toBe(0);
    expect(v.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('--validate-config prints a summary (exit 0), in the run and in the v1.3 flag form', async () => {
    for (const args of [
      ['run', '--config', EXAMPLE, '--validate-config'],
      ['--config', EXAMPLE, '--validate-config'],
    ]) {
      const r = await run(args, { env: ENV });
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain(`Configuration valid: ${EXAMPLE}`);
      expect(r.out).toContain('mangle rule with comment "ADAPTIVE: Steer latency-sensitive to WAN2"');
    }
  });

  it('a bad config exits 2 naming the file, the key path and what was expected', async () => {
    const p = await configIn(tmp.dir, (s) => s.replace('red_samples_required: 2', 'red_samples_requird: 2'));
    const r = await run(['run', '--config', p, '--once'], { env: ENV });
    expect(r.code).toBe(2);
    expect(r.err).toContain(p);
    expect(r.err).toMatch(/thresholds\.red_samples_requird/);
    const v = await run(['run', '--config', p, '--validate-config'], { env: ENV });
    expect(v.code).toBe(2);
    expect(v.out).toMatch(/Configuration INVALID/);
  });

  it('threshold ordering the control law refuses exits 2 with the keys to fix', async () => {
    const p = await configIn(tmp.dir, (s) => s.replace('green_rtt_ms: 5', 'green_rtt_ms: 20'));
    const r = await run(['run', '--config', p, '--once'], { env: ENV });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/green_rtt_ms/);
  });

  it('missing --config, an unknown option or a missing file exit 2', async () => {
    expect((await run(['run'])).code).toBe(2);
    expect((await run(['run', '--config', EXAMPLE, '--bogus'])).code).toBe(2);
    const r = await run(['run', '--config', join(tmp.dir, 'nope.yaml')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('nope.yaml');
  });

  it('a held lock exits 1 and says another instance is running', async () => {
    const p = await configIn(tmp.dir);
    await writeFile(join(tmp.dir, 'steering.lock'), `${process.pid}\n`);
    const r = await run(['run', '--config', p, '--once'], { env: ENV });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/another instance is running/);
  });
});

describe('wanctl-steering replay', () => {
  const lines = (n: number) => {
    const out: string[] = [];
    let dropped = 100;
    for (let i = 0; i < n; i++) {
      const congested = i >= 3 && i < 8;
      if (congested) dropped += 4;
      out.push(
        JSON.stringify({
          autorate_baseline_rtt_ms: i === 1 ? null : 25,
          rtt_attempts_ms: i === 2 ? [null, null, null] : [congested ? 70 : 26],
          cake:
            i === 9
              ? null
              : { dropped, queued_packets: congested ? 90 : 0, packets: 1000 * i, bytes: 900_000 * i },
          router_ok: i !== 5,
        }),
      );
    }
    return `${out.join('\n')}\n`;
  };

  it('output equals the control law replay, one line per input line, with the issue 6 fields', async () => {
    const input = lines(30);
    const r = await run(['replay', '--config', EXAMPLE, '--input', '-'], { input, env: ENV });
    expect(r.code, r.err).toBe(0);
    const params = steeringParamsFromConfig(loadSteeringConfig(EXAMPLE, { env: ENV }));
    expect(r.out).toBe(replaySteeringJsonl(params, input));
    const rows = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(30);
    for (const k of [
      'i',
      't',
      'ok',
      'baseline_rtt_ms',
      'current_rtt_ms',
      'delta_ms',
      'rtt_delta_ewma_ms',
      'queue_ewma_packets',
      'cake_drops_delta',
      'congestion_state',
      'current_state',
      'state_changed',
      'router_calls',
    ])
      expect(rows[0]).toHaveProperty(k);
    expect(rows.some((x) => (x['router_calls'] as string[]).includes('enable_steering'))).toBe(true);
  }, 30_000);

  it('streams: each output line comes out before the next input line is written', async () => {
    const child = spawn(process.execPath, [CLI, 'replay', '--config', EXAMPLE, '--input', '-'], {
      env: { ...process.env, ...ENV },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const got: string[] = [];
    let buf = '';
    const waiters: (() => void)[] = [];
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i = buf.indexOf('\n');
      while (i >= 0) {
        got.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
      }
      for (const w of waiters.splice(0)) w();
    });
    const input = lines(3).trim().split('\n');
    for (let k = 0; k < input.length; k++) {
      child.stdin.write(`${input[k]}\n`);
      while (got.length < k + 1) await new Promise<void>((r) => waiters.push(r));
      expect(JSON.parse(got[k]!)).toMatchObject({ i: k });
    }
    child.stdin.end();
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
  }, 30_000);

  it('a bad input line exits 2 naming the line and the field', async () => {
    const input = `${lines(1)}{"autorate_baseline_rtt_ms": "x", "rtt_attempts_ms": []}\n`;
    const r = await run(['replay', '--config', EXAMPLE, '--input', '-'], { input, env: ENV });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/<stdin>: input line 2: autorate_baseline_rtt_ms/);
    const f = await run(['replay', '--config', EXAMPLE, '--input', join(tmp.dir, 'none.jsonl')], {
      env: ENV,
    });
    expect(f.code).toBe(2);
    expect(f.err).toContain('none.jsonl');
  });
});
