/**
 * replaceReflector(): a reflector swapped for another while probing runs, over real processes
 * (a scripted stand-in fping, the real fping on loopback) and real UDP sockets.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  chooseProbe,
  FpingProbe,
  findExecutable,
  ProbeConfigError,
  type ProbeEvent,
  type RttProbe,
  reflectorName,
  startUdpEchoResponder,
  UdpEchoProbe,
  type UdpEchoResponder,
} from '../src/index.js';

const FPING = findExecutable('fping');
const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

let dir: string;
const cleanups: Array<() => Promise<void>> = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtt-probe-replace-'));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
function track<T extends RttProbe>(p: T): T {
  cleanups.push(() => p.stop());
  return p;
}

/**
 * A stand-in fping that answers every host on its command line every 50 ms, except 127.0.0.2
 * (a dead reflector); its replies' sequence numbers start at 0 with each child.
 */
async function standIn(): Promise<string> {
  const script = join(dir, 'loop-fping.sh');
  await writeFile(
    script,
    [
      '#!/bin/sh',
      'hosts=""',
      'while [ $# -gt 0 ]; do',
      '  case "$1" in -p|-t|-i|-S) shift 2 ;; -*) shift ;; *) hosts="$hosts $1"; shift ;; esac',
      'done',
      'i=0',
      'while true; do',
      '  for h in $hosts; do',
      '    if [ "$h" != "127.0.0.2" ]; then echo "$h : [$i], 64 bytes, 3.0 ms (3.0 avg, 0% loss)"; fi',
      '  done',
      '  i=$((i+1)); sleep 0.05',
      'done',
      '',
    ].join('\n'),
  );
  await chmod(script, 0o755);
  return script;
}

describe('FpingProbe.replaceReflector (scripted stand-in fping)', () => {
  it.each([
    ['read in batches (default)', true],
    ['read one event per line', false],
  ])(
    'a dead reflector swapped for another: the child restarts with the new list, the new one starts fresh, no child-exit (%s)',
    async (_, batchReads) => {
      const events: ProbeEvent[] = [];
      const p = track(
        new FpingProbe({
          reflectors: ['127.0.0.1', '127.0.0.2', '127.0.0.3'],
          binary: await standIn(),
          periodMs: 50,
          timeoutMs: 1000,
          deadAfterMs: 1500,
          batchReads,
          onEvent: (e) => events.push(e),
        }),
      );
      await p.start();
      await until(() => events.some((e) => e.kind === 'reflector-down'));
      const dead = p.health()[1]!;
      expect(dead).toMatchObject({ reflector: '127.0.0.2', alive: false, replies: 0 });
      expect(dead.lossPct).toBeGreaterThan(0);
      const before = p.health()[0]!.replies;

      await p.replaceReflector('127.0.0.2', '127.0.0.9');
      expect(p.reflectors).toEqual(['127.0.0.1', '127.0.0.9', '127.0.0.3']);
      expect(p.starts).toBe(2);
      expect(p.replacements).toBe(1);
      // the new slot starts afresh: alive, no loss carried over, counting from 0 (the new child
      // may have printed its first line already)
      const fresh = p.health()[1]!;
      expect(fresh).toMatchObject({ reflector: '127.0.0.9', alive: true, lossPct: 0 });
      expect(fresh.replies).toBeLessThanOrEqual(2);
      await until(() => p.health()[1]!.replies >= 5);
      const h = p.health();
      expect(h[1]).toMatchObject({ reflector: '127.0.0.9', alive: true, lastRttMs: 3, lossPct: 0 });
      // the others keep their counts across the restart (their sequence numbers restart at 0
      // with the new child: not counted as loss)
      expect(h[0]!.replies).toBeGreaterThan(before);
      expect(h[0]!.lossPct).toBe(0);
      await until(() => p.latest().samples.length === 3);
      expect(p.latest().samples.every((s) => s.reflector !== '127.0.0.2')).toBe(true);
      // a restart on purpose is not a failure: no exit/restart events, no backoff
      expect(events.filter((e) => e.kind === 'child-exit' || e.kind === 'child-restart')).toEqual([]);
    },
  );

  it('refuses an unknown old reflector, a new one already probed, and an option-like name', async () => {
    const p = track(new FpingProbe({ reflectors: ['127.0.0.1', '127.0.0.3'], binary: await standIn() }));
    await p.start();
    await expect(p.replaceReflector('192.0.2.1', '127.0.0.5')).rejects.toBeInstanceOf(ProbeConfigError);
    await expect(p.replaceReflector('127.0.0.1', '127.0.0.3')).rejects.toBeInstanceOf(ProbeConfigError);
    await expect(p.replaceReflector('127.0.0.1', '-f')).rejects.toBeInstanceOf(ProbeConfigError);
    expect(p.reflectors).toEqual(['127.0.0.1', '127.0.0.3']);
    expect(p.starts).toBe(1);
    // a later valid call still works (a rejected call does not wedge the queue)
    await p.replaceReflector('127.0.0.3', '127.0.0.4');
    expect(p.reflectors).toEqual(['127.0.0.1', '127.0.0.4']);
  });

  it.each([
    ['at once', false],
    ['while the old child is being stopped', true],
  ])('stop() during a replacement (%s): no child runs after it resolves', async (_, later) => {
    const p = track(new FpingProbe({ reflectors: ['127.0.0.1', '127.0.0.3'], binary: await standIn() }));
    await p.start();
    const swap = p.replaceReflector('127.0.0.3', '127.0.0.4');
    if (later) for (let i = 0; i < 5; i++) await Promise.resolve();
    await p.stop();
    await swap;
    expect(p.running).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(p.running).toBe(false);
    expect(p.starts).toBe(1);
    expect(p.reflectors).toEqual(['127.0.0.1', '127.0.0.4']);
  });

  it('before start() only the list changes; start() probes the new list', async () => {
    const p = track(new FpingProbe({ reflectors: ['127.0.0.2', '127.0.0.3'], binary: await standIn() }));
    await p.replaceReflector('127.0.0.2', '127.0.0.7');
    expect(p.starts).toBe(0);
    await p.start();
    await until(() => p.health().every((h) => h.replies >= 2));
    expect(p.health().map((h) => h.reflector)).toEqual(['127.0.0.7', '127.0.0.3']);
  });
});

describe.skipIf(FPING === null)('FpingProbe.replaceReflector with the real fping', () => {
  it('swaps 127.0.0.3 for 127.0.0.4 while probing, and the new one answers', async () => {
    const p = track(new FpingProbe({ reflectors: ['127.0.0.1', '127.0.0.3'], periodMs: 50, timeoutMs: 500 }));
    await p.start();
    await until(() => p.health().every((h) => h.replies >= 3));
    await p.replaceReflector('127.0.0.3', '127.0.0.4');
    await until(() => p.health()[1]!.replies >= 3);
    expect(p.health().map((h) => h.reflector)).toEqual(['127.0.0.1', '127.0.0.4']);
    await until(() => p.latest().samples.some((s) => s.reflector === '127.0.0.4'));
  });
});

describe('UdpEchoProbe.replaceReflector (loopback sockets)', () => {
  async function responder(host = '127.0.0.1', port = 0): Promise<UdpEchoResponder> {
    const r = await startUdpEchoResponder({ host, port });
    cleanups.push(() => r.close());
    return r;
  }

  it('a dead reflector swapped for a spare: new target, fresh sequence and loss state, the old one is no longer probed', async () => {
    const a = await responder();
    const dead = await responder();
    const spare = await responder();
    const events: ProbeEvent[] = [];
    const p = track(
      new UdpEchoProbe({
        reflectors: [a.address, dead.address],
        periodMs: 20,
        timeoutMs: 1000,
        deadAfterMs: 1500,
        onEvent: (e) => events.push(e),
      }),
    );
    await p.start();
    await until(() => p.health()[1]!.replies >= 3);
    dead.setDropAll(true);
    await until(() => p.health()[1]!.alive === false);
    expect(p.health()[1]!.lossPct).toBeGreaterThan(0);

    await p.replaceReflector(dead.address, spare.address);
    expect(p.reflectors).toEqual([a.address, spare.address]);
    expect(p.health()[1]).toMatchObject({ reflector: spare.address, alive: true, replies: 0, lossPct: 0 });
    await until(() => p.health()[1]!.replies >= 5);
    expect(p.health()[1]!.lossPct).toBe(0);
    await until(() => p.latest().samples.some((s) => s.reflector === spare.address));
    // the old reflector gets nothing more
    const sentToDead = dead.stats.received;
    await new Promise((r) => setTimeout(r, 200));
    expect(dead.stats.received).toBe(sentToDead);
    expect(spare.stats.received).toBeGreaterThan(5);
  });

  it('a late reply of the replaced reflector is not taken for the new one (generation)', async () => {
    const slow = await responder();
    slow.setDelay(300);
    const fast = await responder();
    const p = track(new UdpEchoProbe({ reflectors: [slow.address], periodMs: 20, timeoutMs: 1000 }));
    await p.start();
    await until(() => slow.stats.received >= 10);
    fast.setDropAll(true); // the new one never answers: any sample for it would be the old one's
    await p.replaceReflector(slow.address, fast.address);
    await until(() => slow.stats.echoed >= 10);
    await new Promise((r) => setTimeout(r, 400)); // the slow replies in flight arrive
    expect(p.health()[0]).toMatchObject({ reflector: fast.address, replies: 0 });
    expect(p.latest().samples).toEqual([]);
    expect(p.ignored).toBeGreaterThan(0);
  });

  it('opens an IPv6 socket for an IPv6 spare of an IPv4-only probe', async () => {
    const a = await responder();
    const v6 = await responder('::1');
    const p = track(new UdpEchoProbe({ reflectors: [a.address], periodMs: 20 }));
    await p.start();
    await p.replaceReflector(a.address, v6.address);
    await until(() => p.health()[0]!.replies >= 3);
    expect(p.reflectors).toEqual([`[::1]:${v6.port}`]);
  });

  it('refuses a spare that is not host:port, or one probed already', async () => {
    const a = await responder();
    const b = await responder();
    const p = track(new UdpEchoProbe({ reflectors: [a.address, b.address], periodMs: 20 }));
    await p.start();
    await expect(p.replaceReflector(a.address, '127.0.0.1')).rejects.toBeInstanceOf(ProbeConfigError);
    await expect(p.replaceReflector(a.address, b.address)).rejects.toBeInstanceOf(ProbeConfigError);
    await expect(p.replaceReflector('127.0.0.1:1', '127.0.0.1:2')).rejects.toBeInstanceOf(ProbeConfigError);
    expect(p.reflectors).toEqual([a.address, b.address]);
  });
});

describe('reflectorName', () => {
  it("names a config host the way the chosen probe lists it (the spare's name for replaceReflector)", () => {
    const icmp = chooseProbe({ method: 'icmp', udpPort: 7 }, ['1.1.1.1'], null);
    expect(reflectorName(icmp, '9.9.9.9')).toBe('9.9.9.9');
    const udp = chooseProbe({ method: 'udp', udpPort: 7007 }, ['1.1.1.1'], null);
    expect(reflectorName(udp, '9.9.9.9')).toBe('9.9.9.9:7007');
    expect(reflectorName(udp, '2001:db8::1')).toBe('[2001:db8::1]:7007');
    const override = chooseProbe({ method: 'icmp', udpPort: 7 }, ['1.1.1.1'], ['127.0.0.1:9']);
    expect(reflectorName(override, '127.0.0.2:9')).toBe('127.0.0.2:9');
    expect(() => reflectorName(override, '127.0.0.2')).toThrow(ProbeConfigError);
  });
});
