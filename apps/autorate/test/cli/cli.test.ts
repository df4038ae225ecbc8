/** The wanctl-autorate command line, as a real process (build first: `npx tsc -b`). */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseAutorateConfig } from '@wanctl/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlParamsFromConfig } from '../../src/config-params.js';
import { ReplaySession } from '../../src/control/index.js';
import { normaliseArgv } from '../../src/main.js';
import { configText } from '../daemon/config.js';
import { CLI } from '../e2e/harness.js';

function run(args: string[], opts: { input?: string; env?: Record<string, string> } = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

let dir: string;
let cfgFile: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'autorate-cli-'));
  cfgFile = path.join(dir, 'wan1.yaml');
  await writeFile(cfgFile, configText(dir));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
});

describe('argv compatibility', () => {
  it('v1.3 forms map onto `run`', () => {
    expect(normaliseArgv(['--config', 'a.yaml', 'b.yaml', '--debug'])).toEqual([
      'run',
      '--config',
      'a.yaml',
      'b.yaml',
      '--debug',
    ]);
    expect(normaliseArgv(['--config', 'a.yaml', '--oneshot'])).toEqual([
      'run',
      '--config',
      'a.yaml',
      '--once',
    ]);
    expect(normaliseArgv(['replay', '--config', 'a'])).toEqual(['replay', '--config', 'a']);
    expect(normaliseArgv(['--help'])).toEqual(['--help']);
  });
});

describe('wanctl-autorate CLI', () => {
  it('is built (a missing dist/cli.js fails here instead of skipping the CLI tests)', () => {
    expect(existsSync(CLI), `${CLI} is missing: build with (cd apps/autorate && npx tsc -b)`).toBe(true);
  });

  it('--help explains the commands and exit codes; run --help lists the flags', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('run');
    expect(r.stdout).toContain('replay');
    expect(r.stdout).toMatch(/Exit status: 0 clean stop; 2 bad config or arguments; 1/);
    const r2 = await run(['run', '--help']);
    expect(r2.code).toBe(0);
    for (const f of ['--config', '--debug', '--once', '--validate-config', '--record', '--udp-reflector'])
      expect(r2.stdout).toContain(f);
  });

  it('bad arguments exit 2', async () => {
    const r = await run(['run', '--config', cfgFile, '--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--no-such-flag');
    const r0 = await run([]);
    expect(r0.code).toBe(2);
    expect(r0.stderr).toContain('Usage: wanctl-autorate');
    const r2 = await run(['run']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('--config');
  });

  it('--validate-config (v1.3 form) prints the summary and exits 0', async () => {
    const r = await run(['--config', cfgFile, '--validate-config']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Configuration valid: ${cfgFile}`);
    expect(r.stdout).toContain('Floors: GREEN=40M, YELLOW=30M, SOFT_RED=25M, RED=20M');
    expect(r.stdout).not.toContain('pw-not-real-123');
  });

  it('an invalid config exits 2 naming the file, the key path and what was expected', async () => {
    const bad = path.join(dir, 'bad.yaml');
    await writeFile(
      bad,
      configText(dir).replace('factor_down: 0.5\n  upload', 'factor_down: 0.5\n    factor_dwn: 1\n  upload'),
    );
    const r = await run(['run', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(bad);
    expect(r.stderr).toContain('continuous_monitoring.download.factor_dwn');
    const r2 = await run(['--config', path.join(dir, 'missing.yaml'), '--validate-config']);
    expect(r2.code).toBe(2);
    expect(r2.stdout).toContain('Configuration INVALID');
  });

  it('a missing fping is a clear startup error that says what to install (exit 1), and leaves no lock', async () => {
    const r = await run(['run', '--config', cfgFile, '--fping', path.join(dir, 'no-fping-here')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('apt-get install fping');
    expect(existsSync(path.join(dir, 'wan1.lock'))).toBe(false);
  });

  it('a lock held by a running instance refuses to start (exit 1)', async () => {
    const holder: ChildProcess = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], {
      stdio: 'ignore',
    });
    try {
      await writeFile(path.join(dir, 'wan1.lock'), `${holder.pid}\n`);
      const r = await run(['run', '--config', cfgFile, '--udp-reflector', '127.0.0.1:9']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/another instance is running/);
      expect(readFileSync(path.join(dir, 'wan1.lock'), 'utf8').trim()).toBe(String(holder.pid));
    } finally {
      holder.kill('SIGKILL');
      await rm(path.join(dir, 'wan1.lock'), { force: true });
    }
  });

  describe('replay', () => {
    const lines = [
      '{"rtts_ms": [20, 21, 20]}',
      '{"rtts_ms": [20, 22, 21], "dl_achieved_bps": 1234, "note": "extra fields are ignored"}',
      '{"rtt_ms": 120}',
      '{"rtts_ms": []}',
      '{"rtt_ms": null, "gateway_ok": true}',
      '{"rtts_ms": [300, 310, 305], "router_ok": false}',
      '',
      '{"rtt_ms": 25, "t": 10}',
    ];

    it('prints one JSON line per input line, equal to the control law run in-process', async () => {
      const input = path.join(dir, 'trace.jsonl');
      await writeFile(input, `${lines.join('\n')}\n`);
      const r = await run(['replay', '--config', cfgFile, '--input', input]);
      expect(r.code).toBe(0);
      const out = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const s = new ReplaySession(controlParamsFromConfig(parseAutorateConfig(configText(dir))));
      const want = lines.map((l) => s.step(l)).filter((x) => x !== null);
      expect(out).toEqual(JSON.parse(JSON.stringify(want)));
      expect(Object.keys(out[0] ?? {})).toEqual([
        'i',
        't',
        'ok',
        'measured_rtt_ms',
        'load_rtt_ms',
        'baseline_rtt_ms',
        'dl_zone',
        'dl_rate_bps',
        'ul_zone',
        'ul_rate_bps',
        'router_write',
      ]);
      // --output writes the same to a file
      const outFile = path.join(dir, 'out.jsonl');
      const r2 = await run(['replay', '--config', cfgFile, '--input', input, '--output', outFile]);
      expect(r2.code).toBe(0);
      expect(readFileSync(outFile, 'utf8')).toBe(r.stdout);
    });

    it('control_law: adaptive in the config runs the adaptive law on the achieved rates', async () => {
      const adaptiveCfg = path.join(dir, 'wan-adaptive.yaml');
      const text = configText(dir).replace('  enabled: true\n', '  enabled: true\n  control_law: adaptive\n');
      expect(text).toContain('control_law: adaptive');
      await writeFile(adaptiveCfg, text);
      const trace: string[] = [];
      for (let k = 0; k < 40; k++)
        trace.push(JSON.stringify({ rtt_ms: 20, dl_achieved_bps: 98e6, ul_achieved_bps: 0 }));
      for (let k = 0; k < 6; k++)
        trace.push(JSON.stringify({ rtt_ms: 60, dl_achieved_bps: 50e6, ul_achieved_bps: 0 }));
      const input = path.join(dir, 'adaptive.jsonl');
      await writeFile(input, `${trace.join('\n')}\n`);
      const r = await run(['replay', '--config', adaptiveCfg, '--input', input]);
      expect(r.code).toBe(0);
      const out = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(out).toHaveLength(46);
      expect(out[0]?.['law']).toBe('adaptive');
      const cut = out.find((o) => o['dl_action'] === 'cut');
      expect(cut).toBeDefined();
      expect((cut?.['router_write'] as number[] | undefined)?.[0]).toBeLessThanOrEqual(45e6);
      expect(cut?.['ul_action']).not.toBe('cut');
      // The same config without the key replays v1.3 (no law field).
      const r13 = await run(['replay', '--config', cfgFile, '--input', input]);
      expect(JSON.parse(r13.stdout.split('\n')[0] ?? '{}')).not.toHaveProperty('law');
    });

    it("continuous_monitoring.write_policy sets the adaptive law's write budget in replay", async () => {
      const base = configText(dir).replace('  enabled: true\n', '  enabled: true\n  control_law: adaptive\n');
      const tight = base.replace(
        '  enabled: true\n',
        '  enabled: true\n  write_policy:\n    max_per_second: 0.2\n    burst: 1\n',
      );
      expect(tight).toContain('max_per_second: 0.2');
      const files = [path.join(dir, 'wp-default.yaml'), path.join(dir, 'wp-tight.yaml')];
      await writeFile(files[0] as string, base);
      await writeFile(files[1] as string, tight);
      // 20 s of a loaded download whose delay comes and goes: many decisions to write.
      const trace: string[] = [];
      for (let k = 0; k < 400; k++) {
        const bloated = k % 40 >= 30;
        trace.push(
          JSON.stringify({ t: k * 0.05, rtt_ms: bloated ? 70 : 20, dl_achieved_bps: bloated ? 60e6 : 97e6 }),
        );
      }
      const input = path.join(dir, 'wp.jsonl');
      await writeFile(input, `${trace.join('\n')}\n`);
      const writes = async (cfg: string) => {
        const r = await run(['replay', '--config', cfg, '--input', input]);
        expect(r.code).toBe(0);
        return r.stdout
          .trim()
          .split('\n')
          .filter((l) => (JSON.parse(l) as { router_write: unknown }).router_write !== null).length;
      };
      const byDefault = await writes(files[0] as string);
      const limited = await writes(files[1] as string);
      // One token to start, then one per 5 s: at most 1 + 20 × 0.2 writes.
      expect(limited).toBeGreaterThanOrEqual(2);
      expect(limited).toBeLessThanOrEqual(5);
      expect(byDefault).toBeGreaterThan(limited);
    });

    it('--input - streams: each output line arrives before the next input line is written (closed loop)', async () => {
      const child = spawn(process.execPath, [CLI, 'replay', '--config', cfgFile, '--input', '-'], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const rl = createInterface({ input: child.stdout });
      const it = rl[Symbol.asyncIterator]();
      let rtt = 20;
      const got: Array<Record<string, unknown>> = [];
      for (let i = 0; i < 20; i++) {
        child.stdin.write(`${JSON.stringify({ rtt_ms: rtt, dl_achieved_bps: 5e7 })}\n`);
        const next = await it.next(); // would hang if the output were buffered until the end
        const o = JSON.parse(String(next.value)) as { i: number; dl_rate_bps: number; dl_zone: string };
        got.push(o);
        // the "simulator" reacts to the decision: high rate -> more delay
        rtt = o.dl_rate_bps > 60_000_000 ? 60 : 20;
      }
      child.stdin.end();
      const code = await new Promise((r) => child.on('close', r));
      expect(code).toBe(0);
      expect(got.map((o) => o['i'])).toEqual([...Array(20).keys()]);
      expect(got.some((o) => o['dl_zone'] !== 'GREEN')).toBe(true);
    });

    it('a malformed line exits 2 naming the input and the line', async () => {
      const r = await run(['replay', '--config', cfgFile, '--input', '-'], {
        input: '{"rtt_ms": 20}\n{"rtt_ms": 21}\n{"rtt_ms": "fast"}\n',
      });
      expect(r.code).toBe(2);
      expect(r.stdout.trim().split('\n')).toHaveLength(2);
      expect(r.stderr).toMatch(/<stdin>: replay input line 3: "rtt_ms" must be a number or null/);
    });
  });
});
