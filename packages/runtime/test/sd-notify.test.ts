import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { createSdNotify, type NotifyTransport, Watchdog } from '../src/index.js';
import { createFakeClock } from './fake-clock.js';

const HAVE = (bin: string) => (process.env['PATH'] ?? '').split(':').some((d) => existsSync(join(d, bin)));
const canReceive = HAVE('python3') && HAVE('systemd-notify');

// AF_UNIX SOCK_DGRAM receiver (Node cannot bind one): prints each datagram as a JSON string line.
const RECEIVER = `
import socket, sys, json
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("BOUND"), flush=True)
while True:
    print(json.dumps(s.recv(4096).decode()), flush=True)
`;

let receiver: ChildProcess | null = null;
let dir: string | null = null;
afterEach(async () => {
  receiver?.kill('SIGKILL');
  receiver = null;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = null;
});

describe('createSdNotify', () => {
  it('is a no-op without NOTIFY_SOCKET', async () => {
    let calls = 0;
    const n = createSdNotify({ env: {}, transport: async () => void calls++ });
    expect(n.enabled).toBe(false);
    expect(n.watchdogIntervalMs).toBeNull();
    await n.ready();
    await n.watchdog();
    expect(calls).toBe(0);
  });

  it('reads WATCHDOG_USEC (half as the feeding interval) and honours WATCHDOG_PID', () => {
    const n = createSdNotify({
      env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '30000000' },
      transport: async () => {},
    });
    expect(n.watchdogUsec).toBe(30_000_000);
    expect(n.watchdogIntervalMs).toBe(15_000);
    const other = createSdNotify({
      env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' },
      pid: 999,
      transport: async () => {},
    });
    expect(other.watchdogUsec).toBeNull();
  });

  it('keeps one send in flight and merges what arrives meanwhile (latest STATUS wins)', async () => {
    const sent: string[] = [];
    let release: () => void = () => {};
    const transport: NotifyTransport = (_p, m) => {
      sent.push(m);
      return new Promise<void>((r) => {
        release = r;
      });
    };
    const n = createSdNotify({ env: { NOTIFY_SOCKET: '/x' }, transport });
    const a = n.ready('starting');
    const b = n.watchdog();
    n.status('one');
    const c = n.status('two');
    expect(sent).toEqual(['READY=1\nSTATUS=starting']);
    release();
    await a;
    await new Promise((r) => setTimeout(r, 0));
    expect(sent[1]).toBe('WATCHDOG=1\nSTATUS=two');
    release();
    await Promise.all([b, c]);
    expect(n.stats).toMatchObject({ sent: 2, failed: 0, coalesced: 2 });
  });

  it('reports a failing transport through onError and never rejects', async () => {
    const errors: string[] = [];
    const n = createSdNotify({
      env: { NOTIFY_SOCKET: '/x' },
      transport: () => Promise.reject(new Error('nope')),
      onError: (e) => errors.push(e.message),
    });
    await n.watchdog();
    expect(errors).toEqual(['nope']);
    expect(n.stats.failed).toBe(1);
  });

  it.skipIf(!canReceive)(
    'delivers READY, STATUS, WATCHDOG and STOPPING to a real AF_UNIX datagram socket (via systemd-notify)',
    async () => {
      dir = await mkdtemp(join(tmpdir(), 'runtime-notify-'));
      const sock = join(dir, 'notify.sock');
      receiver = spawn('python3', ['-c', RECEIVER, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
      const got: string[] = [];
      const rl = createInterface({ input: receiver.stdout! });
      rl.on('line', (l) => got.push(JSON.parse(l) as string));
      const until = async (cond: () => boolean) => {
        const end = Date.now() + 10_000;
        while (!cond()) {
          if (Date.now() > end) throw new Error(`timeout; got ${JSON.stringify(got)}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await until(() => got.includes('BOUND'));
      const n = createSdNotify({ env: { NOTIFY_SOCKET: sock, WATCHDOG_USEC: '2000000' } });
      await n.ready('started');
      await n.watchdog();
      await n.stopping();
      await until(() => got.some((m) => m.includes('STOPPING=1')));
      const msgs = got.filter((m) => m !== 'BOUND' && !m.startsWith('BARRIER'));
      expect(msgs).toEqual(['READY=1\nSTATUS=started', 'WATCHDOG=1', 'STOPPING=1']);
      expect(n.stats.failed).toBe(0);
    },
  );
});

describe('Watchdog (docs/decisions.md#d6)', () => {
  function setup() {
    const clock = createFakeClock();
    const sent: string[] = [];
    const notify = createSdNotify({
      env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '1000000' },
      transport: async (_p, m) => void sent.push(m),
    });
    const wd = new Watchdog({ notify, now: clock.now, failureThreshold: 3 });
    return { clock, sent, wd };
  }
  const flush = () => new Promise((r) => setTimeout(r, 0));

  it('feeds at most once per half watchdog period on healthy cycles', async () => {
    const { clock, sent, wd } = setup();
    for (let i = 0; i < 40; i++) {
      wd.cycleSucceeded();
      await clock.advance(50);
      await flush();
    }
    // 2 s of cycles at 20 Hz with a 500 ms feeding interval
    expect(wd.feeds).toBe(4);
    expect(sent.filter((m) => m.includes('WATCHDOG=1'))).toHaveLength(4);
  });

  it('stops feeding after 3 failures, says Degraded once, and feeds again at once on recovery', async () => {
    const { clock, sent, wd } = setup();
    wd.cycleSucceeded();
    await flush();
    const before = wd.feeds;
    for (let i = 0; i < 100; i++) {
      wd.cycleFailed('router unreachable');
      await clock.advance(50);
      await flush();
    }
    expect(wd.feeds).toBe(before);
    expect(wd.isDegraded).toBe(true);
    expect(sent.filter((m) => m.includes('STATUS=Degraded - router unreachable'))).toHaveLength(1);
    expect(wd.cycleSucceeded()).toBe(true);
    await flush();
    expect(wd.feeds).toBe(before + 1);
    expect(wd.isDegraded).toBe(false);
    expect(sent.at(-1)).toBe('WATCHDOG=1\nSTATUS=Running');
  });

  it('a hiccup shorter than the threshold does not interrupt feeding', async () => {
    const { clock, wd } = setup();
    wd.cycleSucceeded();
    wd.cycleFailed('x');
    wd.cycleFailed('x');
    expect(wd.isDegraded).toBe(false);
    await clock.advance(600);
    expect(wd.cycleSucceeded()).toBe(true);
    expect(wd.consecutiveFailures).toBe(0);
  });
});
