import { describe, expect, it } from 'vitest';
import {
  parseReplayInput,
  pickRtt,
  ReplayInputError,
  type ReplayInputLine,
  replaySteering,
  replaySteeringJsonl,
  SteeringReplay,
} from '../../src/control/index.js';
import { params } from './helpers.js';

/** Builds input lines in the golden steering_daemon format with a cumulative drop counter. */
function lines() {
  let dropped = 5000; // counters already non-zero when the daemon starts
  let packets = 1e6;
  return (o: {
    base?: number | null;
    rtt?: (number | null)[];
    drops?: number;
    q?: number;
    cake?: boolean;
    ok?: boolean;
  }): ReplayInputLine => {
    dropped += o.drops ?? 0;
    packets += 1000;
    return {
      autorate_baseline_rtt_ms: o.base === undefined ? 25.0 : o.base,
      rtt_attempts_ms: o.rtt ?? [26.0],
      cake: o.cake === false ? null : { dropped, queued_packets: o.q ?? 0, packets, bytes: packets * 900 },
      router_ok: o.ok ?? true,
    };
  };
}

describe('pickRtt (3 ping attempts, first success wins)', () => {
  it.each([
    [[31.2], 31.2],
    [[null, 28.0], 28.0],
    [[null, null, 27.5], 27.5],
    [[null, null, null, 40.0], null],
    [[], null],
  ])('%j -> %s', (attempts, want) => {
    expect(pickRtt(attempts)).toBe(want);
  });
});

describe('steering replay', () => {
  it('congestion episode: enable after red_samples_required, recovery after green_samples_required; router_calls and t', () => {
    const L = lines();
    const input: ReplayInputLine[] = [
      L({}),
      L({}),
      ...Array.from({ length: 4 }, () => L({ rtt: [70.0], drops: 6, q: 90 })),
      ...Array.from({ length: 20 }, () => L({})),
    ];
    const p = params({ thresholds: { green_samples_required: 15 } });
    const out = replaySteering(p, input);
    expect(out).toHaveLength(input.length);
    expect(out.map((r) => r.i)).toEqual(input.map((_, i) => i));
    expect(out[3]!.t).toBe(1000.0 + 3 * 0.05);
    // first read re-bases (D8): the 5000 old drops never show up
    expect(out[0]!.cake_drops_delta).toBe(0);
    expect(out[2]!.cake_drops_delta).toBe(6);
    expect(out.slice(0, 6).map((r) => r.congestion_state)).toEqual([
      'GREEN',
      'GREEN',
      'YELLOW',
      'RED',
      'RED',
      'RED',
    ]);
    const enableAt = out.findIndex((r) => r.router_calls.length > 0);
    expect(enableAt).toBe(4);
    expect(out[4]).toMatchObject({
      router_calls: ['enable_steering'],
      state_changed: true,
      current_state: 'WAN1_DEGRADED',
      red_count: 0,
    });
    expect(out[5]!.router_calls).toEqual([]);
    const disableAt = out.findIndex((r) => r.router_calls[0] === 'disable_steering');
    // the first quiet cycles are still YELLOW (EWMA decay), then 15 GREEN in a row
    const firstGreen = out.findIndex((r, i) => i > 5 && r.congestion_state === 'GREEN');
    expect(disableAt).toBe(firstGreen + 14);
    expect(out[disableAt]).toMatchObject({ state_changed: true, current_state: 'WAN1_GOOD', good_count: 0 });
    expect(out[disableAt - 1]!.good_count).toBe(14);
    expect(out[0]).not.toHaveProperty('confidence');
    expect(out.every((r) => r.ok && r.baseline_rtt_ms === 25.0)).toBe(true);
    expect(out[6]!.delta_ms).toBe(1.0);
    expect(out[6]!.current_rtt_ms).toBe(26.0);
  });

  it('router failures: the toggle is retried every RED cycle until the router answers ok', () => {
    const L = lines();
    const input = [
      L({}),
      ...Array.from({ length: 3 }, () => L({ rtt: [120.0], drops: 4, q: 70, ok: false })),
      L({ rtt: [120.0], drops: 4, q: 70, ok: true }),
    ];
    const out = replaySteering(params({ thresholds: { red_samples_required: 1 } }), input);
    expect(out.map((r) => r.router_calls)).toEqual([
      [],
      ['enable_steering'],
      ['enable_steering'],
      ['enable_steering'],
      ['enable_steering'],
    ]);
    expect(out.map((r) => r.state_changed)).toEqual([false, false, false, false, true]);
    expect(out.map((r) => r.red_count)).toEqual([0, 1, 2, 3, 0]);
  });

  it('baseline missing or out of bounds: cycle fails until one is known, then the cached value is used', () => {
    const L = lines();
    const out = replaySteering(params(), [
      L({ base: null }),
      L({ base: 70.0 }),
      L({ base: 24.0 }),
      L({ base: null }),
      L({ base: 9.99 }),
    ]);
    expect(out.map((r) => r.ok)).toEqual([false, false, true, true, true]);
    expect(out.map((r) => r.baseline_rtt_ms)).toEqual([null, null, 24.0, 24.0, 24.0]);
    expect(out[0]).toMatchObject({
      current_rtt_ms: null,
      delta_ms: null,
      router_calls: [],
      history_rtt_len: 0,
    });
    // no CAKE read on a cycle that failed for lack of a baseline: the next read is still the first
    expect(out[2]!.cake_drops_delta).toBe(0);
  });

  it('ping retries and the last-RTT fallback', () => {
    const L = lines();
    const out = replaySteering(params(), [
      L({ rtt: [null, null, null] }),
      L({ rtt: [null, 30.0] }),
      L({ rtt: [null, null, null] }),
      L({ rtt: [] }),
    ]);
    expect(out.map((r) => r.ok)).toEqual([false, true, true, true]);
    expect(out.map((r) => r.current_rtt_ms)).toEqual([null, 30.0, 30.0, 30.0]);
    expect(out.map((r) => r.history_rtt_len)).toEqual([0, 1, 2, 3]);
    // the CAKE read happens before the ping: the failed first cycle still set the reference
    expect(out[0]!.cake_read_failures).toBe(0);
  });

  it('CAKE read failures count up and reset on the next good read', () => {
    const L = lines();
    const out = replaySteering(params(), [L({}), L({ cake: false }), L({ cake: false }), L({ drops: 3 })]);
    expect(out.map((r) => r.cake_read_failures)).toEqual([0, 1, 2, 0]);
    expect(out.map((r) => r.cake_drops_delta)).toEqual([0, 0, 0, 3]);
  });

  it('legacy mode: bad_count / good_count, no CAKE, no congestion_state updates', () => {
    const L = lines();
    const out = replaySteering(params({ cakeAware: false, badSamples: 2, goodSamples: 2 }), [
      L({ rtt: [60.0], drops: 9, q: 500 }),
      L({ rtt: [60.0] }),
      L({ rtt: [30.0] }),
      L({ rtt: [30.0] }),
    ]);
    expect(out.map((r) => r.bad_count)).toEqual([1, 0, 0, 0]);
    expect(out.map((r) => r.good_count)).toEqual([0, 0, 1, 0]);
    expect(out.map((r) => r.router_calls)).toEqual([[], ['enable_steering'], [], ['disable_steering']]);
    expect(out.every((r) => r.congestion_state === 'GREEN' && r.cake_drops_delta === 0)).toBe(true);
  });

  it('confidence on: each row carries the confidence block; timers step by the interval (D9)', () => {
    const L = lines();
    const p = params({
      intervalSeconds: 0.5,
      thresholds: { red_samples_required: 1000 },
      confidence: { dryRun: true },
    });
    const out = replaySteering(p, [
      L({}),
      ...Array.from({ length: 6 }, () => L({ rtt: [170.0], drops: 5, q: 80 })),
    ]);
    expect(out[0]!.confidence).toMatchObject({ score: 0, degrade_timer: null });
    const timers = out.map((r) => r.confidence?.degrade_timer ?? null);
    // start at 2.0, then -0.5 per cycle, fire when <= 0 (4 steps)
    expect(timers).toEqual([null, null, 2.0, 1.5, 1.0, 0.5, null]);
    expect(out[6]!.confidence?.hold_down_timer).toBe(30); // the would-be ENABLE started the hold-down
    expect(out.every((r) => r.router_calls.length === 0 && r.current_state === 'WAN1_GOOD')).toBe(true);
  });

  it('JSONL in, JSONL out; bad lines are typed errors with the line number', () => {
    const text =
      '{"autorate_baseline_rtt_ms": 25.0, "rtt_attempts_ms": [26.0], "cake": null, "router_ok": true}\n\n' +
      '{"autorate_baseline_rtt_ms": null, "rtt_attempts_ms": [], "cake": {"dropped": 1, "queued_packets": 0, "packets": 1, "bytes": 1}, "router_ok": false}\n';
    const out = replaySteeringJsonl(params(), text)
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out).toHaveLength(2);
    expect(out[1]).toMatchObject({ i: 1, ok: true, baseline_rtt_ms: 25.0 });
    expect(() => parseReplayInput('{"rtt_attempts_ms": "x"}')).toThrow(ReplayInputError);
    expect(() => parseReplayInput('\n\n{nope')).toThrow(/input line 3/);
    expect(() => parseReplayInput('{"router_ok": 1}')).toThrow(/router_ok/);
  });

  it('CAKE counters that are not numbers >= 0 are bad lines (issue 16: "dropped": "many")', () => {
    const line = (cake: string) =>
      `{"autorate_baseline_rtt_ms": 25, "rtt_attempts_ms": [26], "cake": ${cake}, "router_ok": true}`;
    const good = '{"dropped": 1, "queued_packets": 0, "packets": 10, "bytes": 1000}';
    expect(parseReplayInput(line(good))[0]?.cake).toEqual({
      dropped: 1,
      queued_packets: 0,
      packets: 10,
      bytes: 1000,
    });
    expect(() =>
      parseReplayInput(line('{"dropped": "many", "queued_packets": 0, "packets": 1, "bytes": 1}')),
    ).toThrow(/input line 1: cake\.dropped must be a number >= 0, got "many"/);
    expect(() =>
      parseReplayInput(
        `${line(good)}\n${line('{"dropped": 1, "queued_packets": -3, "packets": 1, "bytes": 1}')}`,
      ),
    ).toThrow(/input line 2: cake\.queued_packets must be a number >= 0, got -3/);
    expect(() => parseReplayInput(line('{"dropped": 1, "queued_packets": 0, "bytes": 1}'))).toThrow(
      /cake\.packets must be a number >= 0, got nothing/,
    );
    expect(() =>
      parseReplayInput(
        line('{"dropped": 1, "queued_packets": 0, "packets": 1, "bytes": 1, "queued_bytes": null}'),
      ),
    ).toThrow(/cake\.queued_bytes/);
  });

  it('a nonsense CAKE object is a failed read, not a crash', () => {
    const rp = new SteeringReplay(params());
    const row = rp.step({
      autorate_baseline_rtt_ms: 25,
      rtt_attempts_ms: [30],
      cake: { dropped: -1, queued_packets: 0, packets: 0, bytes: 0 },
      router_ok: true,
    });
    expect(row).toMatchObject({ ok: true, cake_read_failures: 1 });
  });
});
