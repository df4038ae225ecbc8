// The pieces together in a real child process: ticker, state store, lock, health, signals.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const dist = new URL('../dist/index.js', import.meta.url).pathname;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runtime-daemon-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const program = (d: string, slowStop: boolean) => `
import * as rt from ${JSON.stringify(dist)};
const lock = rt.acquirePidLock(${JSON.stringify(join(d, 'wan1.lock'))});
const store = new rt.StateStore({ path: ${JSON.stringify(join(d, 'wan1_state.json'))}, minIntervalMs: 60000 });
let n = 0;
const ticker = rt.createTicker(20, () => { n++; store.update({ cycles: n }); });
const health = await rt.HealthServer.start({ port: 0, provider: () => ({ status: 'healthy', cycles: n }) });
rt.installSignalHandlers({
  onStop: async () => {
    await ticker.stop();
    ${slowStop ? 'await new Promise((r) => setTimeout(r, 60000));' : ''}
    await store.flush({ cycles: n, final: true });
    await health.close();
    lock.release();
    process.exit(0);
  },
});
ticker.start();
console.log('PORT ' + health.port);
`;

/** The same daemon on the host (startDaemon): the start/stop sequence is the runtime's. */
const hosted = (d: string, slowStop: boolean) => `
import * as rt from ${JSON.stringify(dist)};
const host = await rt.startDaemon({
  stopLine: 'shutdown complete',
  build: async (ctx) => {
    const lock = rt.acquirePidLock(${JSON.stringify(join(d, 'wan1.lock'))});
    ctx.defer('lock', () => lock.release());
    const store = new rt.StateStore({ path: ${JSON.stringify(join(d, 'wan1_state.json'))}, minIntervalMs: 60000 });
    ctx.defer('state store', () => store.close());
    let n = 0;
    const ticker = rt.createTicker(20, () => { n++; store.update({ cycles: n }); ctx.watchdog.cycleSucceeded(); });
    return {
      log: { debug() {}, info: (m) => console.log('LOG ' + m), warn() {}, error() {} },
      endpoints: { file: 'x.yaml', health: { enabled: true, host: '127.0.0.1', port: 0 },
                   metrics: { enabled: false, host: '127.0.0.1', port: 0 }, registry: null },
      healthBody: () => ({ status: 'healthy', cycles: n }),
      statusText: () => 'Running',
      start: () => ticker.start(),
      halt: () => ticker.stop(),
      drain: async () => {
        ${slowStop ? 'await new Promise((r) => setTimeout(r, 60000));' : ''}
        await store.flush({ cycles: n, final: true });
      },
      reopenLogs() {},
    };
  },
});
console.log('PORT ' + host.endpoints.health.port);
process.exitCode = await host.run();
`;

function start(slowStop: boolean, body = program) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', body(dir, slowStop)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (l) => {
      if (l.startsWith('PORT ')) resolve(Number(l.slice(5)));
    });
    child.on('exit', () => reject(new Error('exited before ready')));
  });
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, port, exit };
}

describe.skipIf(!existsSync(dist))('a daemon built on the runtime (needs `npx tsc -b` first)', () => {
  it('serves health while running; SIGTERM stops it with exit 0, final state saved, lock removed', async () => {
    const d = start(false);
    const port = await d.port;
    const r = await fetch(`http://127.0.0.1:${port}/health`);
    expect(r.status).toBe(200);
    expect(existsSync(join(dir, 'wan1.lock'))).toBe(true);
    d.child.kill('SIGTERM');
    expect(await d.exit).toBe(0);
    const state = JSON.parse(await readFile(join(dir, 'wan1_state.json'), 'utf8'));
    expect(state.final).toBe(true);
    expect(state.cycles).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'wan1.lock'))).toBe(false);
  });

  it('a second SIGTERM while stopping forces exit 1 and the lock is still removed', async () => {
    const d = start(true);
    await d.port;
    d.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    d.child.kill('SIGTERM');
    expect(await d.exit).toBe(1);
    expect(existsSync(join(dir, 'wan1.lock'))).toBe(false);
  });
});

describe.skipIf(!existsSync(dist))('a daemon on the host (startDaemon) in a real process', () => {
  it('SIGTERM: the ordered stop, exit 0, final state saved, lock removed, last line logged', async () => {
    const d = start(false, hosted);
    const port = await d.port;
    const r = await fetch(`http://127.0.0.1:${port}/health`);
    expect(r.status).toBe(200);
    expect(existsSync(join(dir, 'wan1.lock'))).toBe(true);
    let out = '';
    d.child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
    });
    d.child.kill('SIGTERM');
    expect(await d.exit).toBe(0);
    const state = JSON.parse(await readFile(join(dir, 'wan1_state.json'), 'utf8'));
    expect(state.final).toBe(true);
    expect(existsSync(join(dir, 'wan1.lock'))).toBe(false);
    expect(out).toContain('LOG SIGTERM received: stopping');
    expect(out).toContain('LOG shutdown complete');
  });

  it('a second SIGTERM while stopping aborts with exit 1; the lock is still removed', async () => {
    const d = start(true, hosted);
    await d.port;
    d.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    d.child.kill('SIGTERM');
    expect(await d.exit).toBe(1);
    expect(existsSync(join(dir, 'wan1.lock'))).toBe(false);
  });
});
