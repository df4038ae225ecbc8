import { describe, expect, it } from 'vitest';
import {
  type BenchController,
  LinkSimConfigError,
  noAutorateController,
  oracleController,
  referenceControllerFactories,
  renderBenchmarkSvg,
  runBenchmarkSuite,
  runControlBenchmark,
  standardScenarios,
  stepsTrace,
  toJsonReport,
  toMarkdownTable,
} from '../src/index.js';

const trace = stepsTrace({
  name: 'drop',
  durationS: 60,
  steps: [
    { atS: 0, downBps: 50e6, upBps: 10e6 },
    { atS: 20, downBps: 20e6, upBps: 5e6 },
    { atS: 40, downBps: 50e6, upBps: 10e6 },
  ],
});

describe('runControlBenchmark', () => {
  it('the oracle keeps latency low where no autorate bloats, at the cost of some utilisation', () => {
    const none = runControlBenchmark({ trace, controller: noAutorateController(), seed: 1 });
    const oracle = runControlBenchmark({ trace, controller: oracleController(), seed: 1 });
    expect(none.controller).toBe('no-autorate');
    expect(none.routerWrites).toBe(0);
    expect(none.ceilingDownBps).toBe(50e6); // default ceiling: the trace's maximum
    expect(none.addedLatencyMs.p95).toBeGreaterThan(150);
    expect(oracle.addedLatencyMs.p95).toBeLessThan(30);
    expect(oracle.addedLatencyMs.mean).toBeLessThan(none.addedLatencyMs.mean / 3);
    // The oracle writes when the capacity changes (and once at the start: 95 % of it).
    expect(oracle.routerWrites).toBe(3);
    expect(oracle.utilisation.down).toBeLessThanOrEqual(0.951);
    expect(oracle.utilisation.down).toBeGreaterThan(0.75);
    expect(none.utilisation.down).toBeGreaterThan(oracle.utilisation.down);
    // The drop at 20 s: the oracle recovers at once, no autorate not before capacity returns.
    const dn = none.capacityDrops.events.find((e) => e.dir === 'down')!;
    const do_ = oracle.capacityDrops.events.find((e) => e.dir === 'down')!;
    expect(dn.tS).toBeCloseTo(20.05, 6);
    expect(do_.recoveryS).not.toBeNull();
    expect(do_.recoveryS!).toBeLessThan(1);
    expect(dn.recoveryS === null || dn.recoveryS > 15).toBe(true);
    expect(none.addedLatencyMs.samples).toBe(oracle.addedLatencyMs.samples);
    expect(none.series!.tS.length).toBe(1200);
  });

  it('is deterministic under a seed', () => {
    const a = runControlBenchmark({
      trace,
      controller: noAutorateController(),
      seed: 5,
      recordSeries: false,
    });
    const b = runControlBenchmark({
      trace,
      controller: noAutorateController(),
      seed: 5,
      recordSeries: false,
    });
    const strip = (r: typeof a) => ({ ...r, wallMs: 0, simSecondsPerWallSecond: 0 });
    expect(strip(b)).toEqual(strip(a));
    expect(a.series).toBeUndefined();
  });

  it('calls the controller every cycle with the probe RTT and achieved rates, and counts real changes only', () => {
    const calls: Array<{ t: number; rtt: number; down: number }> = [];
    let started = 0;
    const ctl: BenchController = {
      name: 'halver',
      start(ctx) {
        started++;
        expect(ctx.ceilingDownBps).toBe(50e6);
        expect(ctx.cycleS).toBe(0.05);
      },
      onCycle(t, rtt, achieved) {
        calls.push({ t, rtt, down: achieved.downBps });
        // Always the same answer: one write, then no more.
        return { downBps: 25e6, upBps: 5e6 };
      },
    };
    const r = runControlBenchmark({ trace, controller: ctl, durationS: 10, probeJitterMs: 0 });
    expect(started).toBe(1);
    expect(calls).toHaveLength(200);
    expect(calls[0]!.t).toBeCloseTo(0.05, 9);
    expect(calls[199]!.t).toBeCloseTo(10, 9);
    expect(calls.every((c) => c.rtt >= 20)).toBe(true);
    expect(r.routerWrites).toBe(1);
    // After the write the shaper passes at most 25 Mbit/s.
    const late = calls.slice(100);
    expect(Math.max(...late.map((c) => c.down))).toBeLessThanOrEqual(25e6 * 1.05);
    expect(late.reduce((s, c) => s + c.down, 0) / late.length).toBeGreaterThan(0.8 * 25e6);
  });

  it('rejects invalid controller output with a typed error', () => {
    const bad: BenchController = { name: 'bad', onCycle: () => ({ downBps: Number.NaN, upBps: 1 }) };
    expect(() => runControlBenchmark({ trace, controller: bad, durationS: 1 })).toThrow(LinkSimConfigError);
    expect(() =>
      runControlBenchmark({
        trace: { ...trace, name: 'x', at: trace.at.bind(trace), durationS: Number.POSITIVE_INFINITY },
        controller: bad,
      }),
    ).toThrow(/durationS/);
  });
});

describe('suite and reports', () => {
  it('runs every controller on every scenario and renders table, JSON and SVG', () => {
    const scenarios = standardScenarios({ durationS: 20 }).filter(
      (s) => s.name === 'steps' || s.name === 'dsl',
    );
    const seen: string[] = [];
    const results = runBenchmarkSuite({
      scenarios,
      controllers: referenceControllerFactories,
      onResult: (r) => seen.push(`${r.scenario}/${r.controller}`),
    });
    expect(seen).toEqual(['dsl/no-autorate', 'dsl/oracle', 'steps/no-autorate', 'steps/oracle']);

    const md = toMarkdownTable(results);
    const lines = md.split('\n');
    expect(lines).toHaveLength(2 + results.length);
    expect(lines[0]).toContain('added p50 ms');
    expect(lines[2]).toMatch(/^\| dsl \| no-autorate \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ % \|/);

    const json = JSON.parse(toJsonReport(results, { generated: 'test' }));
    expect(json.generated).toBe('test');
    expect(json.runs).toHaveLength(4);
    expect(json.runs[0].series).toBeUndefined();
    expect(typeof json.runs[0].addedLatencyMs.p99).toBe('number');

    const svg = renderBenchmarkSvg(results.filter((r) => r.scenario === 'steps'));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    // capacity + 2 controllers in each rate panel, 2 latency lines
    expect(svg.match(/<polyline/g)).toHaveLength(3 + 3 + 2);
    expect(svg).toContain('oracle');
    expect(svg).not.toMatch(/NaN|Infinity/);
  });
});
