/**
 * ReflectorPool with a fake clock: the law's bad-reflector report turned into replacements by
 * spares (once confirmed, one per 30 s, none in an outage, a warning when there is no spare).
 * One test runs the real adaptive law on the pool's decisions.
 */
import { describe, expect, it } from 'vitest';
import { AdaptiveController, adaptiveParamsFromControl } from '../../src/control/index.js';
import { type ReflectorLaw, ReflectorPool, type ReflectorSlots } from '../../src/daemon/reflector-pool.js';
import { v13Params } from '../control/fixtures.js';

class FakeLaw implements ReflectorLaw {
  readonly replaced: Array<{ slot: number; nowS: number }> = [];
  silenceS = 3.04;
  offMs = 42.4;
  replaceReflector(slot: number, nowS: number): void {
    this.replaced.push({ slot, nowS });
  }
  reflectorSilenceS(): number {
    return this.silenceS;
  }
  reflectorOffsetMs(): number {
    return this.offMs;
  }
}

class FakeSlots implements ReflectorSlots {
  readonly used: string[];
  readonly swaps: Array<{ slot: number; to: string }> = [];
  refuse: Error | null = null;
  constructor(used: string[]) {
    this.used = [...used];
  }
  async replaceReflector(slot: number, to: string): Promise<void> {
    if (this.refuse) throw this.refuse;
    this.used[slot] = to;
    this.swaps.push({ slot, to });
  }
}

interface Line {
  level: string;
  msg: string;
  fields: Record<string, unknown> | undefined;
}

function setup(spares: string[], opts: { used?: string[] } = {}) {
  const law = new FakeLaw();
  const slots = new FakeSlots(opts.used ?? ['a', 'b', 'c']);
  const lines: Line[] = [];
  const metric = { n: 0, inc: () => metric.n++ };
  const events: Array<[string, string, string, number | undefined]> = [];
  const pool = new ReflectorPool({
    slots,
    spares,
    log: {
      info: (msg: string, fields?: Record<string, unknown>) => lines.push({ level: 'info', msg, fields }),
      warn: (msg: string, fields?: Record<string, unknown>) => lines.push({ level: 'warn', msg, fields }),
    },
    wallNow: () => Date.UTC(2026, 0, 2, 3, 4, 5),
    metric,
    history: { reflectorReplaced: (from, to, reason, t) => events.push([from, to, reason, t]) },
  });
  let t = 1_000_000; // fake monotonic clock, ms
  const settle = () => new Promise((r) => setImmediate(r));
  /** `seconds` of 50 ms cycles with this report (a probe's swap completes between cycles). */
  const run = async (seconds: number, bad: number, silent = 0) => {
    for (let k = 0; k < seconds * 20; k++) {
      t += 50;
      pool.update(law, bad, silent, t);
      await settle();
    }
  };
  return { law, slots, lines, metric, events, pool, run, settle, now: () => t };
}

describe('ReflectorPool', () => {
  it('a silent reflector is replaced once, by the first spare, after the confirmation; the replaced one goes to the back', async () => {
    const s = setup(['d', 'e']);
    await s.run(0.9, 0b010, 0b010);
    expect(s.law.replaced).toEqual([]); // not yet confirmed (1 s)
    await s.run(0.2, 0b010, 0b010);
    expect(s.law.replaced).toHaveLength(1);
    expect(s.law.replaced[0]?.slot).toBe(1);
    await s.settle();
    expect(s.slots.used).toEqual(['a', 'd', 'c']);
    expect(s.pool.spareList).toEqual(['e', 'b']);
    // logged with why, counted, recorded, in health
    expect(s.lines).toEqual([
      {
        level: 'warn',
        msg: 'reflector b replaced by d: silent 3.0 s',
        fields: { slot: 1, from: 'b', to: 'd', reason: 'silent 3.0 s', spares: 2 },
      },
    ]);
    expect(s.metric.n).toBe(1);
    expect(s.events).toEqual([['b', 'd', 'silent 3.0 s', Date.UTC(2026, 0, 2, 3, 4, 5)]]);
    expect(s.pool.health()).toEqual({
      in_use: ['a', 'd', 'c'],
      spares: ['e', 'b'],
      replacements: 1,
      failed_swaps: 0,
      recent: [{ at: '2026-01-02T03:04:05.000Z', slot: 1, from: 'b', to: 'd', reason: 'silent 3.0 s' }],
    });
    // the law now reports the slot good: nothing more happens
    await s.run(60, 0);
    expect(s.law.replaced).toHaveLength(1);
  });

  it('an outlier is replaced, with how far off it was', async () => {
    const s = setup(['d']);
    await s.run(1.1, 0b100);
    await s.settle();
    expect(s.slots.used).toEqual(['a', 'b', 'd']);
    expect(s.lines[0]?.msg).toBe("reflector c replaced by d: off the others' median by 42 ms");
  });

  it('every reflector silent is an outage: nothing is replaced, however long it lasts', async () => {
    const s = setup(['d', 'e']);
    // one slot flagged a cycle before the others at the start of the outage
    await s.run(0.1, 0b001, 0b001);
    await s.run(120, 0b111, 0b111);
    // replies back: the confirmation starts over (a slot still silent needs a full second)
    await s.run(0.5, 0b001, 0b001);
    await s.settle();
    expect(s.law.replaced).toEqual([]);
    expect(s.slots.swaps).toEqual([]);
    expect(s.lines).toEqual([]);
    await s.run(0.6, 0b001, 0b001);
    expect(s.law.replaced.map((r) => r.slot)).toEqual([0]);
  });

  it('a single reflector in use is never replaced (its silence is an outage)', async () => {
    const s = setup(['d'], { used: ['a'] });
    await s.run(60, 0b1, 0b1);
    expect(s.law.replaced).toEqual([]);
  });

  it('no spares: nothing replaced, one warning line however long the reflector stays bad', async () => {
    const s = setup([]);
    await s.run(120, 0b010, 0b010);
    expect(s.law.replaced).toEqual([]);
    expect(s.lines).toHaveLength(1);
    expect(s.lines[0]).toMatchObject({ level: 'warn', fields: { slot: 1, reflector: 'b' } });
    expect(s.lines[0]?.msg).toContain('no spare');
    expect(s.lines[0]?.msg).toContain('spare_ping_hosts');
  });

  it('rate limit: at most one replacement per 30 s, even with several bad reflectors or a bad spare', async () => {
    const s = setup(['d', 'e', 'f']);
    const start = s.now();
    // two reflectors bad at once: the one bad longest goes first
    await s.run(0.5, 0b100, 0b100);
    await s.run(1, 0b110, 0b110);
    await s.settle();
    expect(s.slots.swaps).toEqual([{ slot: 2, to: 'd' }]);
    // slot 1 stays bad (and so does the spare in slot 2): nothing for 30 s after the first
    await s.run(28, 0b110, 0b110);
    await s.settle();
    expect(s.slots.swaps).toHaveLength(1);
    await s.run(2, 0b110, 0b110);
    await s.settle();
    expect(s.slots.swaps).toEqual([
      { slot: 2, to: 'd' },
      { slot: 1, to: 'e' },
    ]);
    const times = s.law.replaced.map((r) => r.nowS * 1000 - start);
    expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(30_000);
    // over ten minutes of two slots bad: at most one replacement per 30 s
    await s.run(600, 0b110, 0b110);
    expect(s.law.replaced.length).toBeLessThanOrEqual(2 + 600 / 30);
    expect(s.law.replaced.length).toBeGreaterThanOrEqual(2 + 600 / 30 - 1);
    const all = s.law.replaced.map((r) => r.nowS * 1000);
    for (let i = 1; i < all.length; i++)
      expect((all[i] as number) - (all[i - 1] as number)).toBeGreaterThanOrEqual(30_000);
  });

  it('a spare the probe refuses: the old reflector stays, the spare goes to the back, logged', async () => {
    const s = setup(['bad-name', 'e']);
    s.slots.refuse = new Error('cannot resolve UDP reflector bad-name:7');
    await s.run(1.1, 0b010, 0b010);
    await s.settle();
    expect(s.slots.used).toEqual(['a', 'b', 'c']);
    expect(s.pool.spareList).toEqual(['e', 'bad-name']);
    expect(s.pool.health()).toMatchObject({ replacements: 1, failed_swaps: 1 });
    expect(s.lines.map((l) => l.msg)).toEqual([
      'reflector b replaced by bad-name: silent 3.0 s',
      'could not probe spare reflector bad-name; b stays: cannot resolve UDP reflector bad-name:7',
    ]);
  });

  it('with the real adaptive law: a reflector gone silent is replaced, and the spare is not reported bad while it warms up', async () => {
    const law = new AdaptiveController(adaptiveParamsFromControl(v13Params()));
    const slots = new FakeSlots(['a', 'b', 'c']);
    const pool = new ReflectorPool({ slots, spares: ['d'], log: { info: () => {}, warn: () => {} } });
    const rtts: Array<number | null> = [20, 24, 31];
    let firstSwapAt = Number.NaN;
    for (let k = 0; k < 20 * 40; k++) {
      const t = k * 0.05;
      rtts[1] = t < 10 ? 24 : null; // b dies at 10 s
      if (slots.used[1] === 'd') rtts[1] = t < firstSwapAt + 0.5 ? null : 50; // d answers 0.5 s after the swap
      const r = law.cycle({ rtts_ms: rtts }, t);
      pool.update(law, r.badReflectors, r.silentReflectors, t * 1000);
      await Promise.resolve();
      if (Number.isNaN(firstSwapAt) && slots.used[1] === 'd') firstSwapAt = t;
    }
    // silent 2 s (the law) + confirmed 1 s
    expect(firstSwapAt).toBeGreaterThanOrEqual(12.9);
    expect(firstSwapAt).toBeLessThan(13.5);
    expect(pool.replacements).toBe(1);
    expect(law.cycle({ rtts_ms: [20, 50, 31] }, 40).badReflectors).toBe(0);
  });
});
