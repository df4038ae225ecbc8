import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cableEveningTrace,
  constantTrace,
  dslTrace,
  LinkSimConfigError,
  loadTraceFile,
  lteTrace,
  parseTrace,
  stepsTrace,
  TraceFormatError,
  traceMax,
} from '../src/index.js';

describe('trace profiles', () => {
  it('constant and steps hold their values', () => {
    const c = constantTrace({ downBps: 5e6, upBps: 1e6 });
    expect(c.at(123, 'down')).toBe(5e6);
    expect(c.at(0, 'up')).toBe(1e6);
    const s = stepsTrace({
      steps: [
        { atS: 0, downBps: 100e6, upBps: 20e6 },
        { atS: 10, downBps: 40e6, upBps: 10e6 },
      ],
    });
    expect(s.at(9.999, 'down')).toBe(100e6);
    expect(s.at(10, 'down')).toBe(40e6);
    expect(s.at(1000, 'up')).toBe(10e6);
    expect(s.at(5, 'up')).toBe(20e6); // going back in time works too
  });

  it('cable evening sags into prime time and recovers', () => {
    const t = cableEveningTrace({ downBps: 900e6, upBps: 35e6, durationS: 300, seed: 5 });
    const early = t.at(10, 'down');
    const peak = t.at(150, 'down');
    const late = t.at(295, 'down');
    expect(early).toBeGreaterThan(800e6);
    expect(peak).toBeLessThan(0.7 * 900e6);
    expect(late).toBeGreaterThan(800e6);
    expect(t.at(150, 'up')).toBeLessThan(t.at(10, 'up'));
  });

  it('LTE varies fast, stays inside its bounds, and is reproducible by seed', () => {
    const a = lteTrace({ downBps: 60e6, upBps: 15e6, durationS: 120, seed: 9 });
    const b = lteTrace({ downBps: 60e6, upBps: 15e6, durationS: 120, seed: 9 });
    const c = lteTrace({ downBps: 60e6, upBps: 15e6, durationS: 120, seed: 10 });
    let changes = 0;
    let prev = a.at(0, 'down');
    let differs = false;
    for (let t = 0; t <= 120; t += 0.5) {
      const v = a.at(t, 'down');
      expect(v).toBe(b.at(t, 'down'));
      if (v !== c.at(t, 'down')) differs = true;
      expect(v).toBeGreaterThanOrEqual(0.05 * 60e6 - 1);
      expect(v).toBeLessThanOrEqual(2.5 * 60e6 + 1);
      if (Math.abs(v - prev) / prev > 0.1) changes++;
      prev = v;
    }
    expect(differs).toBe(true);
    expect(changes).toBeGreaterThan(20);
  });

  it('DSL is steady', () => {
    const t = dslTrace({ downBps: 16e6, upBps: 1e6 });
    const max = traceMax(t, 'down', 300, 1);
    let min = Number.POSITIVE_INFINITY;
    for (let s = 0; s <= 300; s++) min = Math.min(min, t.at(s, 'down'));
    expect(max / min).toBeLessThan(1.1);
  });

  it('rejects bad parameters', () => {
    expect(() => constantTrace({ downBps: 0, upBps: 1 })).toThrow(LinkSimConfigError);
    expect(() => stepsTrace({ steps: [] })).toThrow(/steps/);
  });
});

describe('trace files', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = '';
  });

  it('parses CSV with a header, comments and blank lines, holding each row', () => {
    const t = parseTrace('# capacity\nup_bps,t_s,down_bps\n\n2e7,0,1e8\n1e7,5.5,5e7\n', { name: 'x' });
    expect(t.name).toBe('x');
    expect(t.at(0, 'down')).toBe(1e8);
    expect(t.at(5.4, 'up')).toBe(2e7);
    expect(t.at(5.5, 'down')).toBe(5e7);
    expect(t.at(99, 'up')).toBe(1e7);
  });

  it('parses CSV without a header, and JSON lines', () => {
    const csv = parseTrace('0,100,10\n1,200,20\n');
    expect(csv.at(1, 'down')).toBe(200);
    const jl = parseTrace('{"t_s":0,"down_bps":1e6,"up_bps":2e5}\n{"t_s":2,"down_bps":3e6,"up_bps":4e5}\n');
    expect(jl.at(2.5, 'down')).toBe(3e6);
    expect(jl.at(1, 'up')).toBe(2e5);
    const lin = parseTrace('0,100,10\n2,200,20\n', { interpolation: 'linear' });
    expect(lin.at(1, 'down')).toBe(150);
  });

  it('names the line of a bad row', () => {
    const bad = (text: string, re: RegExp) => {
      let err: unknown;
      try {
        parseTrace(text, { source: 'cap.csv' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TraceFormatError);
      expect((err as TraceFormatError).code).toBe('WANCTL_LINKSIM_TRACE_INVALID');
      expect((err as Error).message).toMatch(re);
    };
    bad('0,1,1\n1,x,1\n', /cap\.csv:2: down_bps/);
    bad('0,1,1\n0,2,2\n', /cap\.csv:2: t_s must increase/);
    bad('0,1,-1\n', /cap\.csv:1: up_bps/);
    bad('{"t_s":0,"down_bps":1}\n', /cap\.csv:1: up_bps/);
    bad('{"t_s":0,\n', /cap\.csv:1: not valid JSON/);
    bad('time,down,up\n0,1,1\n', /cap\.csv:1: header must name/);
    bad('# nothing\n', /no samples/);
  });

  it('loads files by extension and reports unreadable files', async () => {
    dir = await mkdtemp(join(tmpdir(), 'link-sim-trace-'));
    const csv = join(dir, 'cap.csv');
    const jsonl = join(dir, 'cap.jsonl');
    await writeFile(csv, 't_s,down_bps,up_bps\n0,1e8,1e7\n10,5e7,5e6\n');
    await writeFile(jsonl, '{"t_s":0,"down_bps":1e8,"up_bps":1e7}\n');
    expect((await loadTraceFile(csv)).at(11, 'down')).toBe(5e7);
    expect((await loadTraceFile(jsonl)).at(0, 'up')).toBe(1e7);
    await expect(loadTraceFile(join(dir, 'missing.csv'))).rejects.toThrow(TraceFormatError);
  });
});
