import { describe, expect, it } from 'vitest';
import { constantTrace, LinkSim, LinkSimConfigError, RealtimeLinkDriver } from '../src/index.js';

function sim(): LinkSim {
  return new LinkSim({ baseRttMs: 10, trace: constantTrace({ downBps: 10e6, upBps: 1e6 }) });
}

describe('RealtimeLinkDriver', () => {
  it('advances by the elapsed wall time of an injected clock', () => {
    let now = 1000;
    const s = sim();
    const seen: number[] = [];
    const d = new RealtimeLinkDriver(s, { clock: () => now, onAdvance: (x) => seen.push(x.now) });
    d.start();
    d.stop();
    now += 20;
    d.advance();
    expect(s.now).toBeCloseTo(0.02, 9);
    now += 35;
    d.advance();
    expect(s.now).toBeCloseTo(0.055, 9);
    expect(seen).toHaveLength(2);
  });

  it('bounds one advance after a stall and records the lag', () => {
    let now = 0;
    const s = sim();
    const d = new RealtimeLinkDriver(s, { clock: () => now, maxStepS: 0.1 });
    d.start();
    d.stop();
    now += 5000; // a 5 s stall
    d.advance();
    expect(s.now).toBeCloseTo(0.1, 9);
    expect(d.lagS).toBeCloseTo(4.9, 9);
  });

  it('runs on a real timer until stopped', async () => {
    const s = sim();
    const d = new RealtimeLinkDriver(s, { intervalMs: 5 });
    d.start();
    expect(d.running).toBe(true);
    const deadline = performance.now() + 5000;
    while (s.now < 0.05 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    d.stop();
    expect(d.running).toBe(false);
    const t = s.now;
    expect(t).toBeGreaterThanOrEqual(0.05);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.now).toBe(t);
  });

  it('an error in onAdvance stops the driver instead of throwing into the event loop', () => {
    let now = 0;
    const errors: unknown[] = [];
    const d = new RealtimeLinkDriver(sim(), {
      clock: () => now,
      onAdvance: () => {
        throw new Error('display broke');
      },
      onError: (e) => errors.push(e),
    });
    d.start();
    now += 10;
    expect(() => d.advance()).not.toThrow();
    expect(d.running).toBe(false);
    expect((d.lastError as Error).message).toBe('display broke');
    expect(errors).toHaveLength(1);
  });

  it('rejects bad options', () => {
    expect(() => new RealtimeLinkDriver(sim(), { intervalMs: 0 })).toThrow(LinkSimConfigError);
    expect(() => new RealtimeLinkDriver(sim(), { maxStepS: -1 })).toThrow(LinkSimConfigError);
  });
});
