import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createTicker, installSignalHandlers, LatencyStats } from '../src/index.js';
import { createFakeClock } from './fake-clock.js';

describe('installSignalHandlers', () => {
  it('SIGTERM/SIGINT call onStop once, a second one forces exit, SIGHUP reloads, uninstall removes', () => {
    const target = new EventEmitter();
    const calls: string[] = [];
    const uninstall = installSignalHandlers({
      onStop: (s) => calls.push(`stop:${s}`),
      onReload: () => calls.push('reload'),
      onForceExit: (s) => calls.push(`force:${s}`),
      target: target as never,
    });
    target.emit('SIGHUP');
    target.emit('SIGTERM');
    target.emit('SIGHUP');
    target.emit('SIGINT');
    expect(calls).toEqual(['reload', 'stop:SIGTERM', 'reload', 'force:SIGINT']);
    uninstall();
    expect(
      target.listenerCount('SIGTERM') + target.listenerCount('SIGINT') + target.listenerCount('SIGHUP'),
    ).toBe(0);
  });

  it('a real SIGHUP reaches onReload and does not kill the process', async () => {
    let reloaded = 0;
    const uninstall = installSignalHandlers({ onStop: () => {}, onReload: () => reloaded++ });
    try {
      process.kill(process.pid, 'SIGHUP');
      const end = Date.now() + 5000;
      while (reloaded === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect(reloaded).toBe(1);
    } finally {
      uninstall();
    }
  });
});

describe('createTicker', () => {
  it('runs on fixed slot boundaries without drift', async () => {
    const clock = createFakeClock(1000);
    const starts: number[] = [];
    const t = createTicker(
      50,
      () => {
        starts.push(clock.now());
      },
      { clock },
    );
    t.start();
    await clock.advance(1000);
    await t.stop();
    expect(starts).toHaveLength(21);
    starts.forEach((s, i) => {
      expect(s).toBe(1000 + i * 50);
    });
    expect(t.stats.skippedTicks).toBe(0);
  });

  it('an overlong cycle is counted and never stacked: skipped slots, no two runs at once', async () => {
    const clock = createFakeClock();
    let active = 0;
    let maxActive = 0;
    const starts: number[] = [];
    const durations: number[] = [];
    const t = createTicker(
      50,
      async (info) => {
        active++;
        maxActive = Math.max(maxActive, active);
        starts.push(info.scheduledAt);
        // tick 2 takes 170 ms (a slow router call)
        if (info.tick === 2) await new Promise<void>((r) => clock.setTimeout(r, 170));
        active--;
      },
      { clock, onRunEnd: (d) => durations.push(d) },
    );
    t.start();
    await clock.advance(500);
    await t.stop();
    expect(maxActive).toBe(1);
    // tick 2 ran 100..270: slots 150, 200, 250 were skipped; next run at 300
    expect(starts.slice(0, 5)).toEqual([0, 50, 100, 300, 350]);
    expect(t.stats.skippedTicks).toBe(3);
    expect(t.stats.overruns).toBe(1);
    expect(Math.max(...durations)).toBe(170);
  });

  it('a throwing cycle is counted and the ticker continues', async () => {
    const clock = createFakeClock();
    const errors: unknown[] = [];
    let n = 0;
    const t = createTicker(
      10,
      () => {
        n++;
        if (n === 2) throw new Error('bad cycle');
      },
      { clock, onError: (e) => errors.push(e) },
    );
    t.start();
    await clock.advance(100);
    await t.stop();
    expect(errors).toHaveLength(1);
    expect(t.stats.errors).toBe(1);
    expect(n).toBe(11);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a timer that fires early (Node runs timers on a whole-millisecond clock) is never negative late', async () => {
    // Node's timers fire up to ~1.5 ms before their due time on performance.now(): this clock
    // fires every timer 1.2 ms early, as seen on a real host
    const base = createFakeClock(1000);
    const clock = {
      now: base.now,
      setTimeout: (fn: () => void, ms: number) => base.setTimeout(fn, Math.max(0, ms - 1.2)),
      clearTimeout: base.clearTimeout,
    };
    const late: number[] = [];
    const durations: number[] = [];
    const t = createTicker(
      50,
      async () => {
        await new Promise<void>((r) => base.setTimeout(r, 0.1)); // 0.1 ms of work
      },
      {
        clock,
        onRunEnd: (ms, info) => {
          late.push(info.lateMs);
          durations.push(ms + info.lateMs);
        },
      },
    );
    t.start();
    await base.advance(500);
    await t.stop();
    expect(late.length).toBeGreaterThan(5);
    expect(Math.min(...late)).toBe(0);
    // the daemon's "cycle duration from its slot" (work + lateness) is the work, never below it
    expect(Math.min(...durations)).toBeCloseTo(0.1, 6);
  });

  it('rejects a non-positive interval', () => {
    expect(() => createTicker(0, () => {})).toThrow(RangeError);
  });
});

describe('LatencyStats', () => {
  it('gives p50/p99/max over a bounded ring', () => {
    const s = new LatencyStats(100);
    expect(s.p50()).toBeNull();
    for (let i = 1; i <= 1000; i++) s.record(i % 100 === 0 ? 100 : i % 100);
    expect(s.count).toBe(100);
    expect(s.total).toBe(1000);
    expect(s.p50()).toBe(50);
    expect(s.p99()).toBe(99);
    expect(s.max()).toBe(100);
    s.record(Number.NaN);
    expect(s.total).toBe(1000);
    expect(s.summary()).toEqual({ count: 100, p50: 50, p99: 99, max: 100 });
  });

  it('an empty window is null, never 0 or NaN; a negative sample counts as 0', () => {
    const s = new LatencyStats(10);
    expect(s.summary()).toEqual({ count: 0, p50: null, p99: null, max: null });
    s.record(-0.052);
    s.record(Number.POSITIVE_INFINITY);
    expect(s.summary()).toEqual({ count: 1, p50: 0, p99: 0, max: 0 });
  });
});
