import { describe, expect, it } from 'vitest';
import {
  parseReplayInput,
  ReplayInputError,
  ReplaySession,
  replay,
  replaySync,
} from '../../src/control/index.js';
import { loadGolden, paramsFromGoldenHeader } from '../golden/golden.js';
import { M, v13Params } from './fixtures.js';

describe('replay engine', () => {
  it('reproduces the golden per-cycle outputs from the golden inputs (steady_idle, icmp outage, router failures)', () => {
    for (const file of ['wan_controller_cable.json', 'wan_controller_dsl.json']) {
      const g = loadGolden(file);
      const params = paramsFromGoldenHeader(g.header);
      for (const name of ['steady_idle', 'icmp_outage_graceful_degradation']) {
        const sc = g.scenarios.find((s) => s.name === name);
        expect(sc, name).toBeDefined();
        const lines = (sc?.cycles ?? []).map((c) => JSON.stringify({ ...(c['input'] as object), t: c['t'] }));
        const out = replaySync(params, lines);
        expect(out.length).toBe(sc?.cycles.length);
        out.forEach((o, k) => {
          const c = sc?.cycles[k] as Record<string, unknown>;
          const want = {
            i: c['i'],
            t: c['t'],
            ok: c['ok'],
            measured_rtt_ms: c['measured_rtt_ms'],
            load_rtt_ms: c['load_rtt_ms'],
            baseline_rtt_ms: c['baseline_rtt_ms'],
            dl_zone: c['dl_zone'],
            dl_rate_bps: c['dl_rate_bps'],
            ul_zone: c['ul_zone'],
            ul_rate_bps: c['ul_rate_bps'],
            router_write: c['router_write'],
          };
          expect(o, `${file} ${name} i=${k}`).toStrictEqual(want);
        });
      }
    }
  });

  it('defaults: t = i * interval, router_ok true; unknown fields ignored; blank lines skipped', () => {
    const out = replaySync(v13Params(), [
      '{"rtt_ms": 24, "dl_achieved_bps": 123, "ul_achieved_bps": 4}',
      '',
      '   ',
      { rtts_ms: [24, 25, 26], note: 'x' },
      '{"rtt_ms": null, "gateway_ok": false, "tcp_rtts_ms": [null, 20]}',
    ]);
    expect(out.map((o) => o.i)).toStrictEqual([0, 1, 2]);
    expect(out.map((o) => o.t)).toStrictEqual([0, 0.05, 0.1]);
    expect(out[0]?.router_write).toStrictEqual([940 * M, 38 * M]);
    expect(out[1]?.measured_rtt_ms).toBe(25);
    expect(out[2]?.measured_rtt_ms).toBe(20);
    expect(Object.keys(out[0] ?? {})).toStrictEqual([
      'i',
      't',
      'ok',
      'measured_rtt_ms',
      'load_rtt_ms',
      'baseline_rtt_ms',
      'dl_zone',
      'dl_rate_bps',
      'ul_zone',
      'ul_rate_bps',
      'router_write',
    ]);
  });

  it('router_ok false: the write fails, ok is false, and the next line retries the latest rate', () => {
    const out = replaySync(v13Params(), ['{"rtt_ms": 24, "router_ok": false}', '{"rtt_ms": 24}']);
    expect([out[0]?.ok, out[0]?.router_write]).toStrictEqual([false, [940 * M, 38 * M]]);
    expect([out[1]?.ok, out[1]?.router_write]).toStrictEqual([true, [940 * M, 38 * M]]);
  });

  it('rejects a malformed line with its line number', () => {
    const s = new ReplaySession(v13Params());
    expect(s.step('{"rtt_ms": 24}')).not.toBeNull();
    expect(() => s.step('{"rtt_ms": 24')).toThrow(ReplayInputError);
    expect(() => s.step('{"rtt_ms": "fast"}')).toThrow(/line 3/);
    expect(() => s.step('{"rtts_ms": [1, "x"]}')).toThrow(/rtts_ms/);
    expect(() => s.step('{"gateway_ok": true}')).toThrow(/rtt_ms/);
    expect(() => s.step('[1,2]')).toThrow(/object/);
    expect(() => s.step('{"rtt_ms": 1, "router_ok": "yes"}')).toThrow(/router_ok/);
    expect(() => s.step('{"rtt_ms": 1, "t": "soon"}')).toThrow(/"t"/);
  });

  it('rejects a negative time like any other bad line (issue 16)', () => {
    const s = new ReplaySession(v13Params());
    expect(s.step('{"rtt_ms": 24, "t": 0}')?.t).toBe(0);
    expect(() => s.step('{"rtt_ms": 24, "t": -5}')).toThrow(ReplayInputError);
    expect(() => s.step('{"rtt_ms": 24, "t": -0.05}')).toThrow(
      /replay input line 3: "t" must be a finite number of seconds >= 0/,
    );
  });

  it('streams: each output is yielded before the next input line is read (closed loop through a pipe)', async () => {
    const events: string[] = [];
    async function* source() {
      for (let i = 0; i < 3; i++) {
        events.push(`read ${i}`);
        yield JSON.stringify({ rtt_ms: 24 + i });
      }
    }
    for await (const o of replay(v13Params(), source())) events.push(`out ${o.i}`);
    expect(events).toStrictEqual(['read 0', 'out 0', 'read 1', 'out 1', 'read 2', 'out 2']);
  });
});

describe('replay: achieved rates and the adaptive law', () => {
  it('checks dl_achieved_bps / ul_achieved_bps (number >= 0 or null)', () => {
    expect(
      parseReplayInput('{"rtt_ms": 20, "dl_achieved_bps": 5e8, "ul_achieved_bps": null}', 1),
    ).toStrictEqual({
      rtt_ms: 20,
      dl_achieved_bps: 5e8,
    });
    expect(() => parseReplayInput('{"rtt_ms": 20, "dl_achieved_bps": -1}', 4)).toThrow(
      /line 4: "dl_achieved_bps" must be a number >= 0/,
    );
    expect(() => parseReplayInput('{"rtt_ms": 20, "ul_achieved_bps": "9"}', 2)).toThrow(ReplayInputError);
  });

  it('checks dl_queued_bytes / ul_queued_bytes (number >= 0 or null)', () => {
    expect(
      parseReplayInput('{"rtt_ms": 20, "dl_queued_bytes": 3000, "ul_queued_bytes": null}', 1),
    ).toStrictEqual({ rtt_ms: 20, dl_queued_bytes: 3000 });
    expect(() => parseReplayInput('{"rtt_ms": 20, "ul_queued_bytes": -5}', 3)).toThrow(
      /line 3: "ul_queued_bytes" must be a number >= 0 \(bytes\)/,
    );
    expect(() => parseReplayInput('{"rtt_ms": 20, "dl_queued_bytes": "many"}', 2)).toThrow(ReplayInputError);
  });

  it('v1.3 ignores the achieved rates: same decisions with and without them', () => {
    const plain = replaySync(
      v13Params(),
      [20, 45, 60, 60, 22].map((r) => ({ rtt_ms: r })),
    );
    const withAch = replaySync(
      v13Params(),
      [20, 45, 60, 60, 22].map((r) => ({ rtt_ms: r, dl_achieved_bps: 3e8, ul_achieved_bps: 1e6 })),
    );
    expect(withAch).toStrictEqual(plain);
  });

  it('adaptive: cuts the loaded direction to what it delivered, leaves the idle one; router_write after the write policy', () => {
    const lines: object[] = [];
    for (let k = 0; k < 40; k++) lines.push({ rtt_ms: 20, dl_achieved_bps: 920 * M, ul_achieved_bps: 0 });
    for (let k = 0; k < 6; k++) lines.push({ rtt_ms: 50, dl_achieved_bps: 400 * M, ul_achieved_bps: 0 });
    const out = replaySync(v13Params(), lines, { law: 'adaptive' });
    expect(out[0]?.router_write).toStrictEqual([940 * M, 38 * M]); // first write: the ceilings
    expect(out[0]?.law).toBe('adaptive');
    const cut = out.find((o) => o.dl_action === 'cut');
    expect(cut?.bloat).toBe(true);
    expect(cut?.ul_action).not.toBe('cut');
    expect(cut?.router_write?.[0]).toBeLessThanOrEqual(400 * M * 0.9);
    expect(cut?.router_write?.[1]).toBeGreaterThan(37 * M); // idle: only a slow decay towards its base
    // Writes are change-only and within the budget: far fewer than cycles.
    expect(out.filter((o) => o.router_write !== null).length).toBeLessThanOrEqual(6);
  });

  it('adaptive without achieved rates still decides (blind cut on bloat)', () => {
    const out = replaySync(
      v13Params(),
      [20, 20, 70, 70, 70, 70].map((r) => ({ rtt_ms: r })),
      { law: 'adaptive' },
    );
    expect(out.at(-1)?.dl_load).toBe('unknown');
    expect(out.some((o) => o.dl_action === 'cut' && o.ul_action === 'cut')).toBe(true);
    expect(out.at(-1)?.dl_rate_bps).toBeLessThan(940 * M);
  });

  it('rejects an unknown law', () => {
    expect(() => new ReplaySession(v13Params(), { law: 'pid' as 'v1.3' })).toThrow(
      /unknown control law "pid"/,
    );
  });
});
