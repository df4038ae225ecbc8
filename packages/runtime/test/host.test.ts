/** The daemon host: start sequence, ordered and idempotent stop, start failures, signals. */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  acquirePidLock,
  type HostContext,
  type HostedDaemon,
  LockHeldError,
  type SdNotify,
  startDaemon,
} from '../src/index.js';

class FakeNotify implements SdNotify {
  readonly enabled = true;
  readonly socketPath = '/fake';
  readonly watchdogUsec = 2_000_000;
  readonly watchdogIntervalMs = 1;
  readonly stats = { sent: 0, failed: 0, coalesced: 0 };
  messages: string[] = [];
  async ready(status?: string) {
    this.messages.push(`READY=1 ${status ?? ''}`.trim());
  }
  async watchdog() {
    this.messages.push('WATCHDOG=1');
  }
  async status(text: string) {
    this.messages.push(`STATUS=${text}`);
  }
  async stopping(status?: string) {
    this.messages.push(`STOPPING=1 ${status ?? ''}`.trim());
  }
  async notify(fields: Record<string, string>) {
    this.messages.push(JSON.stringify(fields));
  }
}

/** Records what happens, in order. */
class Journal {
  events: string[] = [];
  add(e: string) {
    this.events.push(e);
  }
}

class TestDaemon implements HostedDaemon {
  readonly log;
  running = false;
  reopened = 0;
  constructor(
    private readonly j: Journal,
    readonly ctx: HostContext,
    readonly endpoints: HostedDaemon['endpoints'] = null,
  ) {
    this.log = {
      debug: (m: string) => j.add(`log debug: ${m}`),
      info: (m: string) => j.add(`log: ${m}`),
      warn: (m: string) => j.add(`log warn: ${m}`),
      error: (m: string) => j.add(`log error: ${m}`),
    };
  }
  healthBody() {
    return { status: this.running ? 'healthy' : 'starting', notes: this.ctx.endpointNotes };
  }
  statusText() {
    return `Running${this.ctx.endpointNotes.length ? `; ${this.ctx.endpointNotes.join('; ')}` : ''}`;
  }
  start() {
    this.running = true;
    this.j.add('start');
  }
  async halt() {
    this.running = false;
    this.j.add('halt');
  }
  async drain() {
    this.j.add('drain');
  }
  reopenLogs() {
    this.reopened++;
  }
}

let dir: string;
let j: Journal;
let notify: FakeNotify;
let signals: EventEmitter;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runtime-host-'));
  j = new Journal();
  notify = new FakeNotify();
  signals = new EventEmitter();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const listeners = () =>
  signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT') + signals.listenerCount('SIGHUP');

async function start(build?: (ctx: HostContext) => Promise<TestDaemon>, forced?: string[]) {
  return startDaemon({
    build:
      build ??
      (async (ctx) => {
        const lock = acquirePidLock(join(dir, 'd.lock'));
        ctx.defer('lock', () => {
          lock.release();
          j.add('release lock');
        });
        ctx.defer('router', () => j.add('close router'));
        ctx.defer('log', () => j.add('close log'), { last: true });
        return new TestDaemon(j, ctx);
      }),
    notify,
    signalTarget: signals,
    stoppingStatus: 'Stopping',
    stopLine: 'shutdown complete',
    ...(forced ? { onForceExit: (s: string) => forced.push(s) } : {}),
  });
}

describe('startDaemon / DaemonHost', () => {
  it('runs (READY=1 with the status) and stops in order: halt, STOPPING, drain, parts in reverse, last line, logs', async () => {
    const host = await start();
    expect(existsSync(join(dir, 'd.lock'))).toBe(true);
    expect(listeners()).toBe(3);
    const done = host.run();
    expect(host.daemon.running).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(notify.messages).toEqual(['READY=1 Running']);
    const a = host.stop();
    const b = host.stop();
    expect(b).toBe(a); // idempotent: one stop
    expect(await a).toBe(0);
    expect(await done).toBe(0);
    expect(j.events).toEqual([
      'start',
      'halt',
      'drain',
      'close router',
      'release lock',
      'log: shutdown complete',
      'close log',
    ]);
    expect(notify.messages.at(-1)).toBe('STOPPING=1 Stopping');
    expect(existsSync(join(dir, 'd.lock'))).toBe(false);
    expect(listeners()).toBe(0);
    await host.dispose(); // after a stop: nothing released twice
    expect(j.events.filter((e) => e === 'release lock')).toHaveLength(1);
  });

  it('SIGTERM stops; a second SIGTERM while stopping forces the exit; SIGHUP reopens the logs', async () => {
    const forced: string[] = [];
    let finishDrain: () => void = () => {};
    const host = await start(async (ctx) => {
      const d = new TestDaemon(j, ctx);
      d.drain = () => new Promise<void>((r) => (finishDrain = r));
      return d;
    }, forced);
    const done = host.run();
    signals.emit('SIGHUP');
    expect(host.daemon.reopened).toBe(1);
    signals.emit('SIGTERM');
    expect(j.events).toContain('log: SIGTERM received: stopping');
    await new Promise((r) => setImmediate(r));
    expect(j.events).toContain('halt');
    signals.emit('SIGINT');
    expect(forced).toEqual(['SIGINT']);
    finishDrain();
    expect(await done).toBe(0);
  });

  it('a stop requested during start-up stops at once when run, without starting the loops', async () => {
    const host = await start(async (ctx) => {
      signals.emit('SIGTERM');
      expect(ctx.stopRequested).toBe(true);
      return new TestDaemon(j, ctx);
    });
    expect(await host.run()).toBe(0);
    expect(j.events).not.toContain('start');
    expect(notify.messages.some((m) => m.startsWith('READY=1'))).toBe(false);
  });

  it('a failed start releases what was acquired, in reverse order, and rethrows the typed error unchanged', async () => {
    const held = new LockHeldError(join(dir, 'other.lock'), 4242);
    let thrown: unknown = null;
    try {
      await start(async (ctx) => {
        const lock = acquirePidLock(join(dir, 'd.lock'));
        ctx.defer('lock', () => {
          lock.release();
          j.add('release lock');
        });
        ctx.defer('probe', () => {
          j.add('stop probe');
          throw new Error('probe was not running');
        });
        // the second WAN's lock is held by another instance
        if (ctx.notify) throw held;
        return new TestDaemon(j, ctx);
      });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBe(held);
    expect(j.events).toEqual(['stop probe', 'release lock']);
    expect(existsSync(join(dir, 'd.lock'))).toBe(false);
    expect(listeners()).toBe(0);
  });

  it('serves /health from the daemon; a port in use is a note in STATUS= and the health body, not an error', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const busy = (blocker.address() as { port: number }).port;
    const free = await new Promise<number>((r) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => r(p));
      });
    });
    const host = await start(
      async (ctx) =>
        new TestDaemon(j, ctx, {
          file: '/etc/wanctl/x.yaml',
          health: { enabled: true, host: '127.0.0.1', port: free },
          metrics: { enabled: true, host: '127.0.0.1', port: busy },
          registry: (await import('../src/index.js')).createMetricsRegistry({ defaultMetrics: false }),
        }),
    );
    try {
      void host.run();
      const res = await fetch(`http://127.0.0.1:${free}/health`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { notes: string[] };
      expect(body.notes).toEqual([`metrics not served (127.0.0.1:${busy} unavailable)`]);
      await new Promise((r) => setImmediate(r));
      expect(notify.messages[0]).toBe(`READY=1 Running; metrics not served (127.0.0.1:${busy} unavailable)`);
      expect(j.events.some((e) => e.startsWith('log warn: metrics endpoint NOT served'))).toBe(true);
    } finally {
      await host.stop();
      blocker.close();
    }
    await expect(fetch(`http://127.0.0.1:${free}/health`)).rejects.toThrow();
  });

  it('the watchdog re-arms with the daemon status of the moment', async () => {
    const host = await start();
    void host.run();
    for (let i = 0; i < 3; i++) host.watchdog.cycleFailed('cycle errors');
    expect(notify.messages).toContain('STATUS=Degraded - cycle errors');
    host.watchdog.cycleSucceeded();
    expect(notify.messages.at(-1)).toBe(JSON.stringify({ WATCHDOG: '1', STATUS: 'Running' }));
    await host.stop();
  });
});
