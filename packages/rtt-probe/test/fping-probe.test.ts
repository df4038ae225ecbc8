import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FpingProbe,
  findExecutable,
  gatewayCheck,
  medianRtt,
  type ProbeEvent,
  ProbeUnavailableError,
} from '../src/index.js';

const FPING = findExecutable('fping');
const until = async (cond: () => boolean, ms = 8000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

let dir: string;
const probes: FpingProbe[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtt-probe-fping-'));
});
afterEach(async () => {
  await Promise.all(probes.splice(0).map((p) => p.stop()));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FpingProbe without fping', () => {
  it('a missing binary is a ProbeUnavailableError that says what to install', async () => {
    const p = new FpingProbe({ reflectors: ['127.0.0.1'], binary: join(dir, 'no-such-fping') });
    const err = await p.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProbeUnavailableError);
    expect((err as Error).message).toContain('apt-get install fping');
  });
});

describe('FpingProbe with a scripted stand-in (dead reflector, child restart)', () => {
  it('an fping that exits at once (no CAP_NET_RAW) makes start() fail with its message and a hint', async () => {
    const script = join(dir, 'noperm-fping.sh');
    await writeFile(
      script,
      '#!/bin/sh\necho "fping: can\'t create socket (must run as root?)" >&2\nexit 4\n',
    );
    await chmod(script, 0o755);
    const p = new FpingProbe({ reflectors: ['127.0.0.1'], binary: script });
    probes.push(p);
    const err = await p.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProbeUnavailableError);
    expect((err as Error).message).toContain("can't create socket");
    expect((err as Error).message).toContain('CAP_NET_RAW');
    expect(p.running).toBe(false);
  });

  it.each([
    ['read in batches (default)', true],
    ['read one event per line', false],
  ])(
    'notices a reflector that stops answering and reports it, keeps the others (%s)',
    async (_, batchReads) => {
      // prints replies for 127.0.0.1 forever, for 127.0.0.2 only the first two
      const script = join(dir, 'fake-fping.sh');
      await writeFile(
        script,
        '#!/bin/sh\ni=0\nwhile true; do\n echo "127.0.0.1 : [$i], 64 bytes, 5.5 ms (5.5 avg, 0% loss)"\n' +
          ' if [ $i -lt 2 ]; then echo "127.0.0.2 : [$i], 64 bytes, 7.5 ms (7.5 avg, 0% loss)"; fi\n' +
          ' i=$((i+1)); sleep 0.05\ndone\n',
      );
      await chmod(script, 0o755);
      const events: ProbeEvent[] = [];
      const p = new FpingProbe({
        reflectors: ['127.0.0.1', '127.0.0.2'],
        binary: script,
        periodMs: 50,
        // generous: on a loaded machine the stand-in's 50 ms loop can stall for a few hundred ms,
        // and a live reflector must not look lossy because of it
        timeoutMs: 1000,
        deadAfterMs: 1500,
        batchReads,
        onEvent: (e) => events.push(e),
      });
      probes.push(p);
      await p.start();
      await until(() => events.some((e) => e.kind === 'reflector-down'));
      expect(events.find((e) => e.kind === 'reflector-down')).toMatchObject({ reflector: '127.0.0.2' });
      const h = p.health();
      expect(h[0]).toMatchObject({ reflector: '127.0.0.1', alive: true, lossPct: 0 });
      expect(h[1]).toMatchObject({ reflector: '127.0.0.2', alive: false, replies: 2, lastRttMs: 7.5 });
      expect(h[1]?.lossPct).toBeGreaterThan(0);
      // a cycle gets only the live reflector's newest reply
      p.latest();
      const seen = p.health()[0]!.replies;
      await until(() => p.health()[0]!.replies > seen + 1);
      const round = p.latest();
      expect(round.samples.map((s) => s.reflector)).toEqual(['127.0.0.1']);
      expect(round.samples[0]?.rttMs).toBe(5.5);
    },
  );

  it('restarts an exiting child with backoff and stops cleanly', async () => {
    const script = join(dir, 'dying-fping.sh');
    await writeFile(
      script,
      '#!/bin/sh\necho "127.0.0.1 : [0], 64 bytes, 1.0 ms (1.0 avg, 0% loss)"\nexit 3\n',
    );
    await chmod(script, 0o755);
    const events: ProbeEvent[] = [];
    const p = new FpingProbe({
      reflectors: ['127.0.0.1'],
      binary: script,
      initialBackoffMs: 50,
      maxBackoffMs: 200,
      onEvent: (e) => events.push(e),
    });
    probes.push(p);
    await p.start();
    await until(() => events.filter((e) => e.kind === 'child-restart').length >= 3);
    const exits = events.filter((e) => e.kind === 'child-exit');
    expect(exits[0]).toMatchObject({ kind: 'child-exit', code: 3 });
    const delays = events
      .filter((e) => e.kind === 'child-restart')
      .map((e) => (e as { delayMs: number }).delayMs);
    expect(delays.slice(0, 3)).toEqual([50, 100, 200]);
    await p.stop();
    const n = p.starts;
    await new Promise((r) => setTimeout(r, 300));
    expect(p.starts).toBe(n);
  });
});

describe.skipIf(FPING === null)(
  'FpingProbe with the real fping (skipped only when fping is not installed: apt-get install fping)',
  () => {
    it('streams replies from 127.0.0.1 and ::1 into per-reflector samples', async () => {
      const p = new FpingProbe({
        reflectors: ['127.0.0.1', '::1', '127.0.0.3'],
        periodMs: 50,
        timeoutMs: 500,
      });
      probes.push(p);
      await p.start();
      await until(() => p.health().every((h) => h.replies >= 3));
      const round = p.latest();
      expect(round.samples.map((s) => s.reflector)).toEqual(['127.0.0.1', '::1', '127.0.0.3']);
      for (const s of round.samples) expect(s.rttMs).toBeGreaterThanOrEqual(0);
      const m = medianRtt(round.samples);
      expect(m).not.toBeNull();
      // newest since last call: an immediate second call has nothing new (or at most fresh ones)
      const again = p.latest();
      expect(again.samples.length).toBeLessThanOrEqual(3);
      expect(p.health().every((h) => h.alive)).toBe(true);
    });

    it('measureOnce resolves with the next reply', async () => {
      const p = new FpingProbe({ reflectors: ['127.0.0.1'], periodMs: 50 });
      probes.push(p);
      await p.start();
      const rtt = await p.measureOnce(3000);
      expect(rtt).not.toBeNull();
      expect(rtt).toBeLessThan(100);
    });

    it('gatewayCheck pings once', async () => {
      expect(await gatewayCheck('127.0.0.1', { timeoutMs: 500 })).toBeTypeOf('number');
    });
  },
);
