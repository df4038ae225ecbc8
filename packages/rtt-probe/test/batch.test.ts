/**
 * Replies read per call instead of per event: the fping probe's batch reads of its child's
 * stdout, and the UDP probe's rounds sent from latest() by a caller polling every period.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FpingProbe, type RttProbe, startUdpEchoResponder, UdpEchoProbe } from '../src/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (cond: () => boolean, ms = 8000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(20);
  }
};

let dir: string;
const cleanups: Array<() => Promise<void>> = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtt-probe-batch-'));
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

/** A stand-in fping: replies for a, b and c every 20 ms, RTT 10/20/30 ms plus seq/1000. */
async function streamingFping(): Promise<string> {
  const script = join(dir, 'stream-fping.sh');
  await writeFile(
    script,
    '#!/bin/sh\ni=0\nwhile true; do\n' +
      ' echo "10.0.0.1 : [$i], 64 bytes, 10.$i ms (10.0 avg, 0% loss)"\n' +
      ' echo "10.0.0.2 : [$i], 64 bytes, 20.$i ms (20.0 avg, 0% loss)"\n' +
      ' echo "10.0.0.3 : [$i], 64 bytes, 30.$i ms (30.0 avg, 0% loss)"\n' +
      ' i=$((i+1)); sleep 0.02\ndone\n',
  );
  await chmod(script, 0o755);
  return script;
}

/** A stand-in fping that prints a fixed list of lines, then stays alive without output. */
async function scriptedFping(name: string, lines: string[]): Promise<string> {
  const script = join(dir, name);
  await writeFile(script, `#!/bin/sh\n${lines.map((l) => `echo "${l}"`).join('\n')}\nexec sleep 60\n`);
  await chmod(script, 0o755);
  return script;
}

describe('FpingProbe batch reads', () => {
  it('lines wait in the pipe until a caller asks, then one read takes them all', async () => {
    const p = track(
      new FpingProbe({ reflectors: ['10.0.0.1', '10.0.0.2', '10.0.0.3'], binary: await streamingFping() }),
    );
    await p.start();
    p.latest();
    const lines0 = p.lines;
    const reads0 = p.reads;
    await sleep(300); // the child prints ~45 lines meanwhile; nothing reads them
    expect(p.lines).toBe(lines0);
    const round = p.latest();
    expect(p.reads).toBe(reads0 + 1);
    expect(p.lines - lines0).toBeGreaterThanOrEqual(6);
    // the newest reply of each reflector, in configured order
    expect(round.samples.map((s) => s.reflector)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    const seqs = round.samples.map((s) => s.seq);
    expect(new Set(seqs).size).toBeLessThanOrEqual(2); // the last full round, or one behind
    // each sample's RTT is the one on its own line ("10.<seq> ms" for 10.0.0.1, ...)
    round.samples.forEach((s, i) => {
      expect(s.rttMs).toBe(Number(`${10 * (i + 1)}.${s.seq}`));
    });
  });

  it('in event mode the same lines are taken as they arrive', async () => {
    const p = track(
      new FpingProbe({
        reflectors: ['10.0.0.1', '10.0.0.2', '10.0.0.3'],
        binary: await streamingFping(),
        batchReads: false,
      }),
    );
    await p.start();
    const lines0 = p.lines;
    await until(() => p.lines >= lines0 + 6); // without any call
    expect(p.latest().samples).toHaveLength(3);
  });

  it('a batch gives the same per-cycle sample as line-by-line reading (order, late replies, timeouts)', async () => {
    // 10.0.0.2's probe 1 is answered after probe 2 (a late reply), 10.0.0.3 times out at 2
    const lines = [
      '10.0.0.1 : [0], 64 bytes, 11.0 ms (11.0 avg, 0% loss)',
      '10.0.0.2 : [0], 64 bytes, 21.0 ms (21.0 avg, 0% loss)',
      '10.0.0.3 : [0], 64 bytes, 31.0 ms (31.0 avg, 0% loss)',
      '10.0.0.1 : [1], 64 bytes, 12.0 ms (11.5 avg, 0% loss)',
      '10.0.0.3 : [1], 64 bytes, 32.0 ms (31.5 avg, 0% loss)',
      '10.0.0.2 : [2], 64 bytes, 22.0 ms (21.5 avg, 0% loss)',
      '10.0.0.2 : [1], 64 bytes, 95.0 ms (46.0 avg, 0% loss)',
      '10.0.0.1 : [2], 64 bytes, 13.0 ms (12.0 avg, 0% loss)',
      '10.0.0.3 : [2], timed out (NaN avg, 33% loss)',
    ];
    const outcome = async (batchReads: boolean) => {
      const p = track(
        new FpingProbe({
          reflectors: ['10.0.0.1', '10.0.0.2', '10.0.0.3'],
          binary: await scriptedFping(`scripted-${batchReads}.sh`, lines),
          batchReads,
        }),
      );
      await p.start();
      await until(() => p.health().reduce((a, h) => a + h.replies, 0) >= 8);
      const round = p.latest();
      return {
        samples: round.samples.map((s) => [s.reflector, s.seq, s.rttMs]),
        health: p.health().map((h) => [h.reflector, h.replies, h.lastRttMs]),
        reads: p.reads,
      };
    };
    const batch = await outcome(true);
    const events = await outcome(false);
    expect(batch.samples).toEqual(events.samples);
    expect(batch.health).toEqual(events.health);
    // each reflector's sample is its last line: 10.0.0.2's late reply to probe 1 (95 ms) came
    // last, and is attributed to probe 1 with its own RTT; 10.0.0.3's newest reply is probe 1's
    expect(batch.samples).toEqual([
      ['10.0.0.1', 2, 13],
      ['10.0.0.2', 1, 95],
      ['10.0.0.3', 1, 32],
    ]);
    expect(batch.reads).toBeLessThanOrEqual(3); // nine lines, one or a few reads
  });

  it('a child that dies: the lines it wrote before exiting are still read, then it is restarted', async () => {
    const script = join(dir, 'burst-exit.sh');
    await writeFile(
      script,
      '#!/bin/sh\necho "10.0.0.1 : [0], 64 bytes, 4.0 ms (4.0 avg, 0% loss)"\nsleep 0.1\n' +
        'echo "10.0.0.1 : [1], 64 bytes, 6.0 ms (5.0 avg, 0% loss)"\nexit 1\n',
    );
    await chmod(script, 0o755);
    const p = track(new FpingProbe({ reflectors: ['10.0.0.1'], binary: script, initialBackoffMs: 5000 }));
    await p.start();
    await until(() => p.starts === 1 && !p.running);
    // nobody called latest() while the child ran: its last line was read at its exit
    expect(p.latest().samples.map((s) => [s.seq, s.rttMs])).toEqual([[1, 6]]);
    expect(p.health()[0]?.replies).toBe(2);
  });
});

describe('UdpEchoProbe rounds paced by the caller', () => {
  it('a caller polling every period sends the rounds; the timer takes over when it stops', async () => {
    const r = await startUdpEchoResponder({ port: 0, delayMs: 5 });
    cleanups.push(() => r.close());
    const p = track(new UdpEchoProbe({ reflectors: [r.address], periodMs: 50, timeoutMs: 1000 }));
    await p.start();
    const poll = setInterval(() => p.latest(), 50);
    // a loaded machine delays the caller's interval now and then, and the timer sends those
    // rounds; most are still the caller's
    await until(() => p.roundsByCaller >= 10, 10_000);
    clearInterval(poll);
    expect(p.roundsByCaller).toBeGreaterThan(p.roundsByTimer);
    const caller = p.roundsByCaller;
    const timer = p.roundsByTimer;
    const replies = p.health()[0]?.replies ?? 0;
    // no caller: probing goes on at the configured period, from the timer
    await until(() => p.roundsByTimer - timer >= 4, 10_000);
    expect(p.roundsByCaller).toBe(caller);
    await until(() => (p.health()[0]?.replies ?? 0) > replies, 10_000);
  });

  it('a reply slower than the period is attributed to its own round (RTT, not RTT minus a period)', async () => {
    const r = await startUdpEchoResponder({ port: 0, delayMs: 80 });
    cleanups.push(() => r.close());
    const p = track(new UdpEchoProbe({ reflectors: [r.address], periodMs: 30, timeoutMs: 1000 }));
    await p.start();
    const seen: number[] = [];
    const poll = setInterval(() => {
      for (const s of p.latest().samples) seen.push(s.rttMs);
    }, 30);
    await until(() => seen.length >= 5);
    clearInterval(poll);
    for (const rtt of seen) expect(rtt).toBeGreaterThanOrEqual(79);
    expect(p.health()[0]?.lossPct).toBe(0);
  });

  it('paceByCaller false: the timer sends every round', async () => {
    const r = await startUdpEchoResponder({ port: 0 });
    cleanups.push(() => r.close());
    const p = track(new UdpEchoProbe({ reflectors: [r.address], periodMs: 40, paceByCaller: false }));
    await p.start();
    const poll = setInterval(() => p.latest(), 40);
    await sleep(400);
    clearInterval(poll);
    expect(p.roundsByCaller).toBe(0);
    expect(p.roundsByTimer).toBeGreaterThanOrEqual(4);
  });
});
