/**
 * The queue reader's achieved-rate math (first reading, counter reset, gaps, jumps) and its
 * cycle contract (one read in flight, consumed at the next poll, old rates dropped).
 */
import { describe, expect, it } from 'vitest';
import {
  AchievedRate,
  QueueReader,
  type QueueStatsRecord,
  type QueueStatsSource,
} from '../../src/daemon/queue-reader.js';

describe('AchievedRate', () => {
  it('gives no rate on the first reading, then bit/s since the previous one', () => {
    const a = new AchievedRate(1e10);
    expect(a.update(1_000_000, 1000)).toBeNull();
    // 125 000 bytes in 100 ms = 10 Mbit/s
    expect(a.update(1_125_000, 1100)).toBeCloseTo(10e6, 3);
    expect(a.update(1_125_000, 1200)).toBe(0);
  });

  it('a counter that goes backwards (router reboot, counters reset) gives no rate, and the next reading counts from it', () => {
    const a = new AchievedRate(1e10);
    a.update(5_000_000, 0);
    a.update(6_000_000, 100);
    expect(a.update(2_000, 200)).toBeNull();
    expect(a.resets).toBe(1);
    expect(a.update(2_000 + 62_500, 300)).toBeCloseTo(5e6, 3);
  });

  it('a gap (reads that failed in between) averages over the whole gap', () => {
    const a = new AchievedRate(1e10);
    a.update(0, 0);
    // 3 s without an answer, then 3.75 MB: 10 Mbit/s on average
    expect(a.update(3_750_000, 3000)).toBeCloseTo(10e6, 3);
  });

  it('an absurd rate (a counter jump) is dropped and the reading becomes the base', () => {
    const a = new AchievedRate(1e9);
    a.update(0, 0);
    expect(a.update(1e12, 100)).toBeNull();
    expect(a.resets).toBe(1);
    expect(a.update(1e12 + 125_000, 200)).toBeCloseTo(10e6, 3);
  });

  it('an answer with the same or an older time gives no rate and keeps the base', () => {
    const a = new AchievedRate(1e10);
    a.update(0, 100);
    expect(a.update(10_000, 100)).toBeNull();
    expect(a.update(10_000, 50)).toBeNull();
    expect(a.update(125_000, 200)).toBeCloseTo(10e6, 3);
  });

  it('readings closer than the minimum window repeat the last rate and do not move the base', () => {
    const a = new AchievedRate(1e10, 200);
    a.update(0, 0);
    expect(a.update(50_000, 50)).toBeNull(); // nothing measured yet
    expect(a.update(250_000, 200)).toBeCloseTo(10e6, 3); // 250 kB over 200 ms
    expect(a.update(400_000, 250)).toBeCloseTo(10e6, 3); // repeated (a burst inside the window)
    expect(a.update(500_000, 400)).toBeCloseTo(10e6, 3); // 250 kB over 200 ms again
  });

  it('bad input (NaN, negative bytes) gives no rate and does not move the base', () => {
    const a = new AchievedRate(1e10);
    a.update(0, 0);
    expect(a.update(Number.NaN, 50)).toBeNull();
    expect(a.update(-5, 60)).toBeNull();
    expect(a.update(125_000, 100)).toBeCloseTo(10e6, 3);
  });
});

/** A source whose answers the test resolves by hand. */
function manualSource() {
  const calls: Array<{
    names: readonly string[];
    resolve: (v: QueueStatsRecord[]) => void;
    reject: (e: Error) => void;
  }> = [];
  const source: QueueStatsSource = {
    getQueueStats(names) {
      return new Promise((resolve, reject) => calls.push({ names, resolve, reject }));
    },
  };
  return { source, calls };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('QueueReader', () => {
  it('keeps one read in flight, consumes its answer at the next poll, and derives both directions', async () => {
    let now = 0;
    const { source, calls } = manualSource();
    const r = new QueueReader({
      source,
      names: ['dl', 'ul'],
      deadlineMs: 500,
      now: () => now,
      minWindowMs: 0,
      minIntervalMs: 0,
    });
    expect(r.poll()).toBeNull();
    expect(calls).toHaveLength(1);
    expect(calls[0]?.names).toEqual(['dl', 'ul']);
    now = 50;
    expect(r.poll()).toBeNull(); // still in flight: no second read
    expect(calls).toHaveLength(1);
    now = 60;
    calls[0]?.resolve([
      { bytes: 0, maxLimitBps: 100e6 },
      { bytes: 0, maxLimitBps: 20e6 },
    ]);
    await tick();
    now = 70;
    expect(r.poll()).toBe('ok');
    expect(r.dlAchievedBps).toBeNull(); // first reading
    expect(r.last).toMatchObject({ startedAt: 0, answeredAt: 60, dlMaxLimitBps: 100e6, ulMaxLimitBps: 20e6 });
    expect(calls).toHaveLength(2); // the next read started in the same poll
    now = 160;
    calls[1]?.resolve([
      { bytes: 125_000, maxLimitBps: 100e6, queuedBytes: 30_000 },
      { bytes: 12_500, maxLimitBps: 20e6, queuedBytes: Number.NaN },
    ]);
    await tick();
    expect(r.poll()).toBe('ok');
    expect(r.dlAchievedBps).toBeCloseTo(10e6, 3);
    expect(r.ulAchievedBps).toBeCloseTo(1e6, 3);
    expect(r.reads).toBe(2);
    // the shapers' own queues at the read, for the law's attribution; a bad count is no count
    expect(r.dlQueuedBytes).toBe(30_000);
    expect(r.ulQueuedBytes).toBeNull();
  });

  it('counts failures, keeps the last error, and drops an achieved rate older than holdMs', async () => {
    let now = 0;
    const { source, calls } = manualSource();
    const r = new QueueReader({
      source,
      names: ['dl', 'ul'],
      deadlineMs: 500,
      now: () => now,
      holdMs: 1000,
      minWindowMs: 0,
      minIntervalMs: 0,
    });
    r.poll();
    calls[0]?.resolve([
      { bytes: 0, maxLimitBps: 1 },
      { bytes: 0, maxLimitBps: 1 },
    ]);
    await tick();
    now = 100;
    r.poll();
    calls[1]?.resolve([
      { bytes: 125_000, maxLimitBps: 1 },
      { bytes: 0, maxLimitBps: 1 },
    ]);
    await tick();
    now = 200;
    r.poll();
    expect(r.dlAchievedBps).not.toBeNull();
    calls[2]?.reject(new Error('connection refused'));
    await tick();
    now = 300;
    expect(r.poll()).toBe('failed');
    expect(r.consecutiveFailures).toBe(1);
    expect(r.lastError).toContain('connection refused');
    expect(r.dlAchievedBps).not.toBeNull(); // still within holdMs of its reading
    now = 1300; // the read in flight hangs: the old rate is no rate
    expect(r.poll()).toBeNull();
    expect(r.dlAchievedBps).toBeNull();
    expect(r.ulAchievedBps).toBeNull();
  });

  it('reads start at most every minIntervalMs (a read costs more than a cycle)', async () => {
    let now = 0;
    const { source, calls } = manualSource();
    const r = new QueueReader({ source, names: ['dl', 'ul'], deadlineMs: 500, now: () => now });
    r.poll();
    calls[0]?.resolve([
      { bytes: 0, maxLimitBps: 1 },
      { bytes: 0, maxLimitBps: 1 },
    ]);
    await tick();
    for (now = 50; now < 200; now += 50) r.poll();
    expect(calls).toHaveLength(1);
    now = 200;
    r.poll();
    expect(calls).toHaveLength(2);
  });

  it('a source that throws synchronously counts as a failed read, not a crash', async () => {
    const r = new QueueReader({
      source: {
        getQueueStats() {
          throw new Error('closed');
        },
      },
      names: ['dl', 'ul'],
      deadlineMs: 500,
      now: () => 0,
    });
    expect(() => r.poll()).not.toThrow();
    expect(r.poll()).toBe('failed');
    expect(r.readsFailed).toBe(1);
  });
});
