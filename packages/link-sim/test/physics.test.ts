import { describe, expect, it } from 'vitest';
import {
  constantLoad,
  constantTrace,
  type DirectionSnapshot,
  LinkSim,
  LinkSimConfigError,
  loadSchedule,
  type QueueCounters,
  stepsTrace,
} from '../src/index.js';

const PKT = 1500;

describe('bottleneck queue', () => {
  it('delay equals queued bytes over capacity, and the backlog drains in exactly that time', () => {
    const capacity = 50e6;
    const sim = new LinkSim({
      baseRttMs: 20,
      trace: constantTrace({ downBps: capacity, upBps: 10e6 }),
      down: { bufferMs: 400 },
      // 4 greedy download flows for 15 s, then silence.
      load: loadSchedule([
        { durationS: 15, downFlows: 4, upFlows: 0 },
        { durationS: Number.POSITIVE_INFINITY, downFlows: 0, upFlows: 0 },
      ]),
    });
    sim.step(15);
    const s = sim.snapshot('down');
    expect(s.bottleneckBacklogBytes).toBeGreaterThan(100_000); // a real standing queue
    const expectedMs = ((s.bottleneckBacklogBytes * 8) / capacity) * 1000;
    expect(s.bottleneckDelayMs).toBeCloseTo(expectedMs, 6);
    expect(sim.rttMs()).toBeCloseTo(20 + expectedMs, 6);
    // No more arrivals: the queue must empty after backlog / capacity, at 1 ms resolution.
    const start = sim.now;
    let drainedAt = Number.NaN;
    for (let i = 0; i < 5000; i++) {
      sim.step(0.001);
      if (sim.snapshot('down').bottleneckBacklogBytes <= 1e-6) {
        drainedAt = sim.now;
        break;
      }
    }
    expect((drainedAt - start) * 1000).toBeGreaterThanOrEqual(expectedMs - 1.5);
    expect((drainedAt - start) * 1000).toBeLessThanOrEqual(expectedMs + 1.5);
    expect(sim.rttMs()).toBeCloseTo(20, 6);
  });

  it('never holds more than the buffer: in ms of current capacity, or in bytes', () => {
    const msSim = new LinkSim({
      baseRttMs: 10,
      trace: constantTrace({ downBps: 20e6, upBps: 5e6 }),
      down: { bufferMs: 250 },
      load: constantLoad(6, 0),
    });
    const byteSim = new LinkSim({
      baseRttMs: 10,
      trace: constantTrace({ downBps: 20e6, upBps: 5e6 }),
      down: { bufferBytes: 200_000 },
      load: constantLoad(6, 0),
    });
    let maxMs = 0;
    let maxBytes = 0;
    for (let i = 0; i < 400; i++) {
      msSim.step(0.05);
      byteSim.step(0.05);
      maxMs = Math.max(maxMs, msSim.snapshot('down').bottleneckDelayMs);
      maxBytes = Math.max(maxBytes, byteSim.snapshot('down').bottleneckBacklogBytes);
    }
    expect(maxMs).toBeGreaterThan(200);
    expect(maxMs).toBeLessThanOrEqual(250 + 1e-6);
    expect(maxBytes).toBeGreaterThan(150_000);
    expect(maxBytes).toBeLessThanOrEqual(200_000 + 1e-6);
    expect(msSim.snapshot('down').bottleneckDrops).toBeGreaterThan(0);
  });
});

describe('shaper', () => {
  it('below capacity, the queue forms in the shaper and the bottleneck buffer stays empty', () => {
    const capacity = 100e6;
    const sim = new LinkSim({
      baseRttMs: 20,
      trace: constantTrace({ downBps: capacity, upBps: 20e6 }),
      down: { shaperRateBps: 0.8 * capacity, bufferMs: 300 },
      up: { shaperRateBps: 0.8 * 20e6 },
      load: constantLoad(4, 4),
    });
    let maxBottleneck = 0;
    let maxBottleneckUp = 0;
    const shaperDelays: number[] = [];
    const snap = sim.snapshot('down');
    for (let i = 0; i < 600; i++) {
      sim.step(0.05);
      sim.snapshot('down', snap);
      maxBottleneck = Math.max(maxBottleneck, snap.bottleneckBacklogBytes);
      maxBottleneckUp = Math.max(maxBottleneckUp, sim.snapshot('up').bottleneckBacklogBytes);
      if (sim.now > 5) shaperDelays.push(snap.shaperDelayMs);
    }
    expect(maxBottleneck).toBe(0);
    expect(maxBottleneckUp).toBe(0);
    const s = sim.snapshot('down');
    expect(s.shaperDrops).toBeGreaterThan(0); // CoDel acted
    expect(s.bottleneckDrops).toBe(0);
    shaperDelays.sort((a, b) => a - b);
    const p95 = shaperDelays[Math.floor(0.95 * shaperDelays.length)]!;
    expect(p95).toBeLessThan(30); // CoDel keeps the shaper's sojourn short
    expect(p95).toBeGreaterThan(0);
    // Throughput is set by the shaper.
    const rate = sim.counters('down').rate;
    expect(rate).toBeGreaterThan(0.85 * 0.8 * capacity);
    expect(rate).toBeLessThanOrEqual(0.8 * capacity * 1.001);
  });

  it('above capacity, the bottleneck fills and the shaper queue stays empty', () => {
    const sim = new LinkSim({
      baseRttMs: 20,
      trace: constantTrace({ downBps: 50e6, upBps: 10e6 }),
      down: { shaperRateBps: 60e6, bufferMs: 300 },
      load: constantLoad(4, 0),
    });
    sim.step(20);
    const s = sim.snapshot('down');
    expect(s.shaperBacklogBytes).toBe(0);
    expect(s.bottleneckDelayMs).toBeGreaterThan(100);
  });

  it('a capacity drop with the shaper above capacity produces hundreds of ms of bufferbloat', () => {
    const trace = stepsTrace({
      steps: [
        { atS: 0, downBps: 100e6, upBps: 20e6 },
        { atS: 20, downBps: 30e6, upBps: 20e6 },
      ],
    });
    const sim = new LinkSim({
      baseRttMs: 20,
      trace,
      down: { shaperRateBps: 95e6, bufferMs: 500 },
      up: { shaperRateBps: 19e6 },
      load: constantLoad(4, 1),
    });
    sim.step(19.5);
    const before = sim.rttMs() - 20;
    expect(before).toBeLessThan(30); // shaper below capacity: little added delay
    // The windows that filled 95 Mbit/s now meet 30: the excess queues at once, and the
    // flows keep growing (no loss until the 500 ms buffer overflows).
    let peak = 0;
    let after1s = 0;
    for (let i = 0; i < 300; i++) {
      sim.step(0.05);
      if (i === 20) after1s = sim.rttMs() - 20;
      peak = Math.max(peak, sim.rttMs() - 20);
    }
    expect(sim.capacityBps('down')).toBe(30e6);
    expect(after1s).toBeGreaterThan(40);
    expect(peak).toBeGreaterThan(300);
    expect(peak).toBeLessThanOrEqual(500 + 10);
    expect(sim.snapshot('down').bottleneckDelayMs).toBeGreaterThan(100);
    // Setting the shaper below the new capacity drains the bloat.
    sim.setShaperRate('down', 27e6);
    sim.step(10);
    expect(sim.snapshot('down').bottleneckBacklogBytes).toBe(0);
    expect(sim.rttMs() - 20).toBeLessThan(30);
  });

  it('a ping is a sparse flow in CAKE; the backlog option charges it the bulk sojourn', () => {
    const mk = (pingShaperDelay: 'sparse' | 'backlog') =>
      new LinkSim({
        baseRttMs: 20,
        trace: constantTrace({ downBps: 20e6, upBps: 5e6 }),
        down: { shaperRateBps: 18e6 },
        up: { shaperRateBps: 4.5e6 },
        load: constantLoad(4, 4),
        pingShaperDelay,
      });
    const sparse = mk('sparse');
    const backlog = mk('backlog');
    let sumSparse = 0;
    let sumBacklog = 0;
    for (let i = 0; i < 200; i++) {
      sparse.step(0.05);
      backlog.step(0.05);
      // Same physics, only the ping's view differs.
      expect(backlog.counters('down')).toEqual(sparse.counters('down'));
      const d = backlog.snapshot('down');
      const u = backlog.snapshot('up');
      expect(backlog.rttMs()).toBeCloseTo(
        20 + d.shaperDelayMs + d.bottleneckDelayMs + u.shaperDelayMs + u.bottleneckDelayMs,
        6,
      );
      // A sparse packet waits at most for the packet in service in each shaper.
      const bound = ((1500 * 8) / 18e6 + (1500 * 8) / 4.5e6) * 1000;
      expect(sparse.rttMs() - 20).toBeLessThanOrEqual(bound + 1e-6);
      sumSparse += sparse.rttMs() - 20;
      sumBacklog += backlog.rttMs() - 20;
    }
    expect(sumBacklog).toBeGreaterThan(sumSparse);
  });

  it('a custom trace returning nonsense is clamped to 1 kbit/s instead of breaking the run', () => {
    const sim = new LinkSim({
      baseRttMs: 10,
      trace: { name: 'broken', durationS: 10, at: (t) => (t < 1 ? 10e6 : Number.NaN) },
      load: constantLoad(1, 0),
    });
    sim.step(2);
    expect(sim.capacityBps('down')).toBe(1000);
    expect(Number.isFinite(sim.rttMs())).toBe(true);
  });

  it('treats max-limit 0 or Infinity as unshaped', () => {
    const sim = new LinkSim({ baseRttMs: 10, trace: constantTrace({ downBps: 10e6, upBps: 1e6 }) });
    sim.setShaperRate('down', 5e6);
    expect(sim.shaperRate('down')).toBe(5e6);
    sim.setShaperRate('down', 0);
    expect(sim.shaperRate('down')).toBe(Number.POSITIVE_INFINITY);
    expect(() => sim.setShaperRate('down', -1)).toThrow(LinkSimConfigError);
    expect(() => sim.setShaperRate('sideways' as 'down', 1e6)).toThrow(LinkSimConfigError);
  });
});

describe('flows', () => {
  for (const growth of ['cubic', 'reno'] as const) {
    it(`a single greedy ${growth} flow fills the link to capacity`, () => {
      const capacity = 100e6;
      const sim = new LinkSim({
        baseRttMs: 30,
        trace: constantTrace({ downBps: capacity, upBps: 20e6 }),
        down: { bufferMs: 200 },
        flows: { growth },
        load: constantLoad(1, 0),
      });
      sim.step(20);
      const before = sim.snapshot('down').deliveredBytes;
      sim.step(10);
      const delivered = sim.snapshot('down').deliveredBytes - before;
      const rate = (delivered * 8) / 10;
      expect(rate).toBeGreaterThan(0.97 * capacity);
      expect(rate).toBeLessThanOrEqual(capacity * 1.0001);
    });
  }

  it('idle periods: no flow, queues drain and the RTT returns to base', () => {
    const sim = new LinkSim({
      baseRttMs: 15,
      trace: constantTrace({ downBps: 20e6, upBps: 5e6 }),
      load: loadSchedule(
        [
          { durationS: 10, downFlows: 3, upFlows: 2 },
          { durationS: 5, downFlows: 0, upFlows: 0 },
        ],
        { repeat: true },
      ),
    });
    sim.step(9.9);
    expect(sim.loadActive()).toBe(true);
    expect(sim.activeFlows('down')).toBe(3);
    expect(sim.rttMs()).toBeGreaterThan(100); // both directions bloat, unshaped
    sim.step(4.5);
    expect(sim.loadActive()).toBe(false);
    expect(sim.rttMs()).toBeCloseTo(15, 6);
    const delivered = sim.snapshot('down').deliveredBytes;
    sim.step(0.5);
    expect(sim.snapshot('down').deliveredBytes).toBe(delivered);
    sim.step(1); // repeats: busy again
    expect(sim.activeFlows('up')).toBe(2);
  });

  it('upload queueing shows in the RTT as well as download queueing', () => {
    const sim = new LinkSim({
      baseRttMs: 20,
      trace: constantTrace({ downBps: 100e6, upBps: 5e6 }),
      up: { bufferMs: 600 },
      load: constantLoad(0, 2),
    });
    sim.step(20);
    const up = sim.snapshot('up');
    const down = sim.snapshot('down');
    expect(down.bottleneckBacklogBytes).toBe(0);
    expect(up.bottleneckDelayMs).toBeGreaterThan(200);
    expect(sim.rttMs()).toBeCloseTo(20 + up.bottleneckDelayMs, 6);
  });
});

describe('counters', () => {
  it('are monotonic, consistent with the packet size, and conserve bytes', () => {
    const sim = new LinkSim({
      seed: 7,
      baseRttMs: 25,
      packetBytes: PKT,
      trace: stepsTrace({
        steps: [
          { atS: 0, downBps: 50e6, upBps: 10e6 },
          { atS: 10, downBps: 20e6, upBps: 5e6 },
          { atS: 20, downBps: 60e6, upBps: 12e6 },
        ],
      }),
      load: loadSchedule(
        [
          { durationS: 7, downFlows: 4, upFlows: 3 },
          { durationS: 2, downFlows: 0, upFlows: 0 },
        ],
        { repeat: true },
      ),
    });
    const prev: Record<'down' | 'up', QueueCounters> = { down: sim.counters('down'), up: sim.counters('up') };
    const sumDelivered = { down: 0, up: 0 };
    const snap = {} as DirectionSnapshot;
    const c = {} as QueueCounters;
    for (let i = 0; i < 600; i++) {
      // The controller moves max-limit around, above and below capacity.
      if (i % 20 === 0) {
        sim.setShaperRate('down', 10e6 + ((i * 7919) % 60) * 1e6);
        sim.setShaperRate('up', 2e6 + ((i * 104729) % 12) * 1e6);
      }
      sim.step(0.05);
      for (const dir of ['down', 'up'] as const) {
        sim.counters(dir, c);
        const p = prev[dir];
        expect(c.bytes).toBeGreaterThanOrEqual(p.bytes);
        expect(c.packets).toBeGreaterThanOrEqual(p.packets);
        expect(c.dropped).toBeGreaterThanOrEqual(p.dropped);
        expect(c.packets).toBe(Math.floor(c.bytes / PKT));
        expect(Number.isInteger(c.bytes)).toBe(true);
        expect(c.queuedPackets).toBe(c.queuedBytes === 0 ? 0 : Math.ceil(c.queuedBytes / PKT - 1e-6));
        expect(c.rate).toBeGreaterThanOrEqual(0);
        expect(c.packetRate).toBe(Math.round(c.rate / 8 / PKT));
        prev[dir] = { ...c };
        sim.snapshot(dir, snap);
        sumDelivered[dir] += snap.deliveredBitsLastStep;
        expect(snap.deliveredBitsLastStep).toBeLessThanOrEqual(snap.capacityBps * 0.05 * 1.0001 + 1);
      }
    }
    for (const dir of ['down', 'up'] as const) {
      const s = sim.snapshot(dir);
      const q = sim.counters(dir);
      // bytes = what left the shaper; delivered = what left the bottleneck.
      expect(q.bytes).toBe(Math.floor(s.shaperOutBytes));
      expect(sumDelivered[dir]).toBeCloseTo(s.deliveredBytes * 8, 0);
      expect(s.offeredBytes).toBeCloseTo(s.shaperOutBytes + s.shaperBacklogBytes + s.shaperDroppedBytes, 0);
      expect(s.shaperOutBytes).toBeCloseTo(
        s.deliveredBytes + s.bottleneckBacklogBytes + s.bottleneckDroppedBytes,
        0,
      );
      expect(q.dropped).toBe(s.shaperDrops);
      expect(s.shaperDrops + s.bottleneckDrops).toBeGreaterThan(0);
    }
  });

  it('rate is the shaper output over the last second', () => {
    const sim = new LinkSim({
      baseRttMs: 20,
      trace: constantTrace({ downBps: 100e6, upBps: 20e6 }),
      down: { shaperRateBps: 40e6 },
      load: constantLoad(4, 0),
    });
    sim.step(10);
    const c = sim.counters('down');
    expect(c.rate).toBeGreaterThan(0.9 * 40e6);
    expect(c.rate).toBeLessThanOrEqual(40e6 * 1.0001);
    expect(sim.counters('up').rate).toBe(0);
  });

  it('reset-counters zeroes bytes, packets and dropped, which then grow again', () => {
    const sim = new LinkSim({
      baseRttMs: 20,
      trace: constantTrace({ downBps: 30e6, upBps: 5e6 }),
      down: { shaperRateBps: 20e6 },
      load: constantLoad(4, 0),
    });
    sim.step(10);
    expect(sim.counters('down').dropped).toBeGreaterThan(0);
    sim.resetCounters('down');
    const c = sim.counters('down');
    expect(c.bytes).toBe(0);
    expect(c.packets).toBe(0);
    expect(c.dropped).toBe(0);
    sim.step(5);
    const d = sim.counters('down');
    expect(d.bytes).toBeGreaterThan(0.9 * ((20e6 * 5) / 8));
    expect(d.packets).toBe(Math.floor(d.bytes / PKT));
  });
});

describe('determinism', () => {
  function run(seed: number): number[] {
    const sim = new LinkSim({
      seed,
      baseRttMs: 20,
      trace: stepsTrace({
        steps: [
          { atS: 0, downBps: 60e6, upBps: 10e6 },
          { atS: 8, downBps: 25e6, upBps: 6e6 },
        ],
      }),
      down: { bufferMs: 300 },
      load: constantLoad(5, 3),
    });
    const out: number[] = [];
    for (let i = 0; i < 300; i++) {
      sim.step(0.05);
      const c = sim.counters('down');
      out.push(sim.rttMs(), c.bytes, c.dropped, sim.snapshot('down').bottleneckDrops);
    }
    return out;
  }

  it('two runs with the same seed are identical; another seed differs', () => {
    const a = run(42);
    const b = run(42);
    expect(b).toEqual(a);
    expect(run(43)).not.toEqual(a);
  });

  it('the step size of the caller does not change the result (fixed internal tick)', () => {
    const mk = () =>
      new LinkSim({
        seed: 3,
        baseRttMs: 20,
        trace: constantTrace({ downBps: 40e6, upBps: 8e6 }),
        load: constantLoad(3, 2),
      });
    const a = mk();
    const b = mk();
    a.step(5);
    for (let i = 0; i < 1000; i++) b.step(0.005);
    expect(b.now).toBeCloseTo(a.now, 9);
    expect(b.rttMs()).toBe(a.rttMs());
    expect(b.counters('down')).toEqual(a.counters('down'));
  });
});

describe('options', () => {
  it('rejects bad options with the option path', () => {
    const trace = constantTrace({ downBps: 1e6, upBps: 1e6 });
    expect(() => new LinkSim({ baseRttMs: -1, trace })).toThrow(/baseRttMs/);
    expect(() => new LinkSim({ baseRttMs: 10 })).toThrow(/trace/);
    expect(() => new LinkSim({ baseRttMs: 10, trace, down: { bufferMs: 0 } })).toThrow(/down.bufferMs/);
    expect(() => new LinkSim({ baseRttMs: 10, trace, tickS: 0.1 })).toThrow(/tickS/);
    expect(() => new LinkSim({ baseRttMs: 10, trace, flows: { beta: 1.5 } })).toThrow(/flows.beta/);
    expect(() => new LinkSim({ baseRttMs: 10, trace }).step(Number.NaN)).toThrow(LinkSimConfigError);
  });
});
