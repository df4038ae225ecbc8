import { mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, redactValue, registerSecret } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runtime-log-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
const settle = () => new Promise((r) => setTimeout(r, 50));

describe('createLogger', () => {
  it('writes one text line per event with name and level, fields as key=value, newlines escaped', async () => {
    const lines: string[] = [];
    const log = createLogger({ name: 'Cable', format: 'text', sink: (l) => lines.push(l) });
    log.info('rate changed\nsecond line', { dl_mbps: 800, zone: 'GREEN' });
    log.debug('not shown at info');
    await settle();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[Cable\] \[INFO\] rate changed\\nsecond line dl_mbps=800 zone=GREEN$/,
    );
  });

  it('writes compact JSON lines with timestamp, level, logger, message and the fields', async () => {
    const lines: string[] = [];
    const log = createLogger({ name: 'wan1', format: 'json', level: 'debug', sink: (l) => lines.push(l) });
    log.warn('ping failed', { host: '1.1.1.1' });
    await settle();
    const obj = JSON.parse(lines[0] as string);
    expect(obj).toMatchObject({ level: 'WARN', logger: 'wan1', message: 'ping failed', host: '1.1.1.1' });
    expect(obj.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('takes the format from WANCTL_LOG_FORMAT', async () => {
    const old = process.env['WANCTL_LOG_FORMAT'];
    process.env['WANCTL_LOG_FORMAT'] = 'json';
    const lines: string[] = [];
    createLogger({ name: 'x', sink: (l) => lines.push(l) }).info('hi');
    if (old === undefined) delete process.env['WANCTL_LOG_FORMAT'];
    else process.env['WANCTL_LOG_FORMAT'] = old;
    await settle();
    expect(JSON.parse(lines[0] as string).message).toBe('hi');
  });

  it('never writes a registered secret or a password-like field, in text or JSON', async () => {
    registerSecret('s3cr3t-Passw0rd');
    for (const format of ['text', 'json'] as const) {
      const lines: string[] = [];
      const log = createLogger({ name: 'r', format, sink: (l) => lines.push(l) });
      log.error('login failed with s3cr3t-Passw0rd for admin', {
        router: { user: 'admin', password: 'other-pw', nested: ['x s3cr3t-Passw0rd y'] },
        apiKey: 'abc123',
        err: new Error('auth s3cr3t-Passw0rd rejected'),
      });
      await settle();
      const out = lines.join('\n');
      expect(out).not.toContain('s3cr3t-Passw0rd');
      expect(out).not.toContain('other-pw');
      expect(out).not.toContain('abc123');
      expect(out).toContain('***');
      expect(out).toContain('admin');
    }
    expect(redactValue({ token: '', password: null })).toEqual({ token: '', password: null });
  });

  it('writes main (info) and debug (all) files, and reopen() follows a logrotate rename', async () => {
    const main = join(dir, 'logs', 'wan1.log');
    const debug = join(dir, 'logs', 'wan1-debug.log');
    const log = createLogger({ name: 'wan1', file: main, debugFile: debug, format: 'text' });
    log.info('first');
    log.debug('detail');
    await settle();
    await rename(main, `${main}.1`);
    log.reopen();
    log.info('second');
    await log.close();
    expect(await readFile(`${main}.1`, 'utf8')).toContain('first');
    const now = await readFile(main, 'utf8');
    expect(now).toContain('second');
    expect(now).not.toContain('first');
    const dbg = await readFile(debug, 'utf8');
    expect(dbg).toContain('detail');
    expect(dbg.trim().split('\n')).toHaveLength(3);
  });
});

describe('LogThrottle', () => {
  it('allows the first event, then one per interval with the suppressed count; reset re-arms', async () => {
    const { LogThrottle } = await import('../src/index.js');
    let now = 0;
    const t = new LogThrottle(1000, () => now);
    expect(t.allow('a')).toBe(0);
    for (let i = 0; i < 19; i++) {
      now += 50;
      expect(t.allow('a')).toBe(false);
    }
    expect(t.allow('b')).toBe(0);
    now += 50;
    expect(t.allow('a')).toBe(19);
    t.reset('a');
    expect(t.allow('a')).toBe(0);
  });

  it("with a burst: that many lines per window, the suppressed count on the next window's first line", async () => {
    const { LogThrottle } = await import('../src/index.js');
    let now = 1_000;
    const t = new LogThrottle(60_000, () => now, { burst: 3 });
    expect(t.burst).toBe(3);
    // a key repeating every second for a minute: 3 lines, 57 held back
    const allowed: Array<number | false> = [];
    for (let i = 0; i < 60; i++) {
      allowed.push(t.allow('zone'));
      now += 1000;
    }
    expect(allowed.slice(0, 3)).toEqual([0, 0, 0]);
    expect(allowed.slice(3).every((a) => a === false)).toBe(true);
    expect(t.pending('zone')).toBe(57);
    // another key has its own budget; totalPending sums over keys
    expect(t.allow('write')).toBe(0);
    expect(t.allow('write')).toBe(0);
    expect(t.allow('write')).toBe(0);
    expect(t.allow('write')).toBe(false);
    expect(t.totalPending()).toBe(58);
    // the window (started at the first line) is over: the next line carries the count
    expect(t.allow('zone')).toBe(57);
    expect(t.pending('zone')).toBe(0);
    expect(t.totalPending()).toBe(1);
    expect(t.allow('zone')).toBe(0);
    expect(t.allow('zone')).toBe(0);
    expect(t.allow('zone')).toBe(false);
    t.reset('zone');
    expect(t.pending('zone')).toBe(0);
    expect(t.allow('zone')).toBe(0);
  });

  it('burst 1 is the default (one line per interval); a burst below 1 or fractional is refused', async () => {
    const { LogThrottle } = await import('../src/index.js');
    let now = 0;
    const a = new LogThrottle(1000, () => now);
    const b = new LogThrottle(1000, () => now, { burst: 1 });
    const seq: Array<[number | false, number | false]> = [];
    for (let i = 0; i < 50; i++) {
      seq.push([a.allow('k'), b.allow('k')]);
      now += 70;
    }
    expect(seq.every(([x, y]) => x === y)).toBe(true);
    expect(seq.filter(([x]) => x !== false)).toHaveLength(4); // t=0, 1050, 2100, 3150
    expect(a.burst).toBe(1);
    expect(() => new LogThrottle(1000, () => now, { burst: 0 })).toThrow(RangeError);
    expect(() => new LogThrottle(1000, () => now, { burst: 2.5 })).toThrow(/whole number/);
  });
});

describe('log file errors', () => {
  it('a log file that cannot be opened is a LogFileError naming the path at creation', async () => {
    const { LogFileError } = await import('../src/index.js');
    const { writeFile } = await import('node:fs/promises');
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    let err: unknown;
    try {
      createLogger({ name: 'x', file: join(blocker, 'wan1.log') });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LogFileError);
    expect((err as Error).message).toContain(join(blocker, 'wan1.log'));
  });
});
