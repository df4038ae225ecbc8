import { describe, expect, it } from 'vitest';
import { AlternateWan, constantTrace, LinkSim, LinkSimConfigError } from '../src/index.js';

describe('AlternateWan', () => {
  it('a latency-sensitive packet sees the base RTT plus a little queueing on a modestly loaded link', () => {
    const alt = new AlternateWan({ downBps: 50e6, upBps: 10e6, baseRttMs: 32, backgroundUtilisation: 0.3 });
    const rtt = alt.rttMs();
    // serialisation 0.24 + 1.2 ms, M/D/1 wait at 30 %: +21 % of that
    expect(rtt).toBeGreaterThan(33.4);
    expect(rtt).toBeLessThan(34.0);
  });

  it('more traffic moved onto it costs more delay, growing steeply near full', () => {
    const alt = new AlternateWan({ downBps: 50e6, upBps: 10e6, baseRttMs: 32 });
    const light = alt.rttMs({ down: 1e6, up: 0.5e6 });
    const heavy = alt.rttMs({ down: 30e6, up: 6.5e6 });
    expect(light).toBeGreaterThan(alt.rttMs());
    const idle = alt.rttMs();
    expect(heavy - idle).toBeGreaterThan(10 * (light - idle));
    expect(Number.isFinite(alt.rttMs({ down: 1e9, up: 1e9 }))).toBe(true);
  });

  it('is part of the link model when configured, and rejects nonsense', () => {
    const trace = constantTrace({ downBps: 100e6, upBps: 10e6 });
    const sim = new LinkSim({
      baseRttMs: 20,
      trace,
      alternate: { downBps: 50e6, upBps: 10e6, baseRttMs: 32 },
    });
    expect(sim.alternate?.baseRttMs).toBe(32);
    expect(new LinkSim({ baseRttMs: 20, trace }).alternate).toBeNull();
    expect(() => new AlternateWan({ downBps: 0, upBps: 1e6, baseRttMs: 30 })).toThrow(LinkSimConfigError);
    expect(
      () => new AlternateWan({ downBps: 1e6, upBps: 1e6, baseRttMs: 30, backgroundUtilisation: 1 }),
    ).toThrow(/0 \.\. 0\.95/);
  });
});
