/**
 * The daemon's per-WAN orchestration with fake clock, fake probe and fake router:
 * each failure mode seen in production after v1.3 that applies to the daemon is a test named after it.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMetricsRegistry, StateStore } from '@wanctl/runtime';
import { FakeProbe, FakeRouter, manualClock, memoryLogger } from '@wanctl/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { controlParamsFromConfig } from '../../src/config-params.js';
import { type ControllerSnapshot, ReplaySession } from '../../src/control/index.js';
import { type FallbackChecks, WanMeasurement } from '../../src/daemon/measurement.js';
import { AutorateMetrics, type WanMetrics } from '../../src/daemon/metrics.js';
import { Recorder } from '../../src/daemon/recorder.js';
import { type CongestionReport, WanRunner } from '../../src/daemon/wan-runner.js';
import { config } from './config.js';

/**
 * The state file's change key, the reference the runner's incremental key must equal: rates,
 * last applied, baseline rounded to 0.1 ms (not load RTT, not streaks).
 */
function stateChangeKey(s: ControllerSnapshot): string {
  return `${s.download.current_rate}|${s.upload.current_rate}|${s.last_applied.dl_rate}|${s.last_applied.ul_rate}|${s.ewma.baseline_rtt.toFixed(1)}`;
}

/** The D14 part of the key: zones, floor flags, and the second while the WAN is not calm. */
function congestionKey(b: { congestion: CongestionReport }, nowMs: number): string {
  const c = b.congestion;
  const calm =
    (c.download.zone === null || c.download.zone === 'GREEN') &&
    (c.upload.zone === null || c.upload.zone === 'GREEN') &&
    !c.download.at_floor &&
    !c.upload.at_floor;
  const bits =
    (c.download.at_floor ? 1 : 0) |
    (c.upload.at_floor ? 2 : 0) |
    (c.download.below_floor ? 4 : 0) |
    (c.upload.below_floor ? 8 : 0);
  return `${c.download.zone}|${c.upload.zone}|${bits}${calm ? '' : `|${Math.floor(nowMs / 1000)}`}`;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'autorate-runner-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
});

interface Rig {
  runner: WanRunner;
  probe: FakeProbe;
  router: FakeRouter;
  clock: ReturnType<typeof manualClock>;
  lines: string[];
  measurement: WanMeasurement;
  /** One cycle: set the replies, advance the clock by the interval, run, let promises settle. */
  step(rtts: Array<number | null>): Promise<void>;
  store: StateStore<WanRunner> | null;
  degradedEvents: boolean[];
}

async function rig(
  opts: {
    store?: boolean;
    recorder?: Recorder;
    fallback?: boolean;
    checks?: FallbackChecks;
    metrics?: WanMetrics;
  } = {},
): Promise<Rig> {
  const cfg = config(dir, { fallback: String(opts.fallback ?? false) });
  const clock = manualClock();
  const probe = new FakeProbe({ reflectors: ['192.0.2.1', '192.0.2.2', '192.0.2.3'], now: clock.now });
  const router = new FakeRouter();
  const { logger, lines } = memoryLogger('wan1', 'info');
  const measurement = new WanMeasurement({
    probe,
    probeKind: 'fping',
    medianOfThree: true,
    holdMs: 250,
    fallback: {
      enabled: opts.fallback ?? false,
      checkGateway: true,
      checkTcp: true,
      gatewayIp: '192.0.2.254',
      tcpTargets: [['192.0.2.10', 443]],
    },
    pingTimeoutMs: 1000,
    checks: opts.checks ?? {
      gateway: async () => null,
      tcp: async () => ({ ok: false, rttMs: null, results: [null] }),
    },
    now: clock.now,
  });
  // the store's delayed writes run on the fake clock
  const timers: Array<{ at: number; fn: () => void } | null> = [];
  const runTimers = () => {
    for (let i = 0; i < timers.length; i++) {
      const t = timers[i];
      if (t && t.at <= clock.now()) {
        timers[i] = null;
        t.fn();
      }
    }
  };
  const store = opts.store
    ? new StateStore<WanRunner>({
        setTimer: (fn, ms) => timers.push({ at: clock.now() + ms, fn }) - 1,
        clearTimer: (h) => {
          timers[h as number] = null;
        },
        path: path.join(dir, 'wan1_state.json'),
        serialize: (r) => r.stateBody(),
        changeKey: (r) => r.stateChangeKey(), // as the daemon
        now: clock.now,
        minIntervalMs: 1000,
        forceIntervalMs: 60_000,
      })
    : null;
  const degradedEvents: boolean[] = [];
  const runner = new WanRunner({
    name: 'wan1',
    params: controlParamsFromConfig(cfg),
    queues: cfg.queues,
    measurement,
    probeKind: 'fping',
    router,
    writeDeadlineMs: 1000,
    logger,
    now: clock.now,
    store,
    recorder: opts.recorder ?? null,
    metrics: opts.metrics ?? null,
    onDegradedChange: (d) => degradedEvents.push(d),
  });
  return {
    runner,
    probe,
    router,
    clock,
    lines,
    measurement,
    store,
    degradedEvents,
    async step(rtts) {
      probe.set(rtts);
      clock.advance(50);
      runTimers();
      runner.runCycle();
      await new Promise((r) => setImmediate(r));
    },
  };
}

const IDLE = [20, 21, 20];

/**
 * The autorate state file is a contract with wanctl-steering, which reads `ewma.baseline_rtt`
 * from it (apps/steering/test/baseline.test.ts reads this same fixture with its real reader).
 */
const STATE_FIXTURE = path.resolve(import.meta.dirname, '../fixtures/autorate-state.json');

/** Key paths with the JSON type of each leaf. */
function layout(v: unknown, at = ''): string[] {
  if (v !== null && typeof v === 'object' && !Array.isArray(v))
    return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => layout(x, at ? `${at}.${k}` : k));
  return [`${at}: ${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v}`];
}

describe('WanRunner', () => {
  it('state file contract: the daemon writes the layout of test/fixtures/autorate-state.json, which steering reads', async () => {
    const r = await rig({ store: true });
    for (let i = 0; i < 20; i++) await r.step(IDLE);
    await r.store?.flush(r.runner);
    const written = JSON.parse(await readFile(path.join(dir, 'wan1_state.json'), 'utf8')) as {
      ewma: { baseline_rtt: number };
      timestamp: string;
    };
    const fixture = JSON.parse(readFileSync(STATE_FIXTURE, 'utf8')) as unknown;
    expect(layout(written).sort(), JSON.stringify(written)).toEqual(layout(fixture).sort());
    expect(written.ewma.baseline_rtt).toBeGreaterThan(19);
    expect(written.ewma.baseline_rtt).toBeLessThan(22);
    expect(written.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  });

  it('first cycle writes the ceilings with the queue types v1.3 uses, and health shows both rates', async () => {
    const r = await rig();
    await r.step(IDLE);
    expect(r.router.writes).toEqual([{ dl: 100_000_000, ul: 20_000_000 }]);
    await r.step(IDLE);
    const h = r.runner.health() as {
      download: { current_rate_mbps: number; router_rate_mbps: number; state: string };
      router: { download_bps: number; transport: string; writes_ok: number };
      measurement: { replies: number; probe: string };
      status: string;
    };
    expect(h.download.current_rate_mbps).toBe(100);
    expect(h.download.router_rate_mbps).toBe(100);
    expect(h.download.state).toBe('GREEN');
    expect(h.router).toMatchObject({ download_bps: 100_000_000, transport: 'rest', writes_ok: 1 });
    expect(h.measurement).toMatchObject({ replies: 3, probe: 'fping' });
    expect(h.status).toBe('healthy');
  });

  it('D14 congestion report: RED at the floor with the RTT delta is on disk within a second and refreshed every second; GREEN idle stays quiet', async () => {
    const r = await rig({ store: true });
    for (let i = 0; i < 40; i++) await r.step(IDLE);
    await r.store?.flush(r.runner);
    type Body = { congestion: CongestionReport; download: { current_rate: number } };
    const read = async () => JSON.parse(await readFile(path.join(dir, 'wan1_state.json'), 'utf8')) as Body;
    const calm = await read();
    expect(calm.congestion.download).toEqual({
      zone: 'GREEN',
      at_floor: false,
      below_floor: false,
      rtt_delta_ms: expect.any(Number),
      red_for_sec: 0,
    });
    expect(calm.congestion.upload.zone).toBe('GREEN');
    expect(Date.now() - Date.parse(calm.congestion.at)).toBeLessThan(60_000);
    // the line collapses: 600 ms for 3 s (60 cycles) drives both directions to their floors
    for (let i = 0; i < 20; i++) await r.step([600, 600, 600]);
    await new Promise((res) => setTimeout(res, 30));
    const w0 = r.store?.stats.writes ?? 0;
    for (let i = 0; i < 100; i++) {
      await r.step([600, 600, 600]);
      if (i % 10 === 0) await new Promise((res) => setTimeout(res, 10)); // let the file writes finish
    }
    await new Promise((res) => setTimeout(res, 30));
    const heartbeats = (r.store?.stats.writes ?? 0) - w0;
    await r.store?.flush(r.runner);
    const red = await read();
    expect(red.congestion.download.zone).toBe('RED');
    expect(red.congestion.download.at_floor).toBe(true);
    expect(red.congestion.upload.at_floor).toBe(true);
    expect(red.congestion.download.below_floor).toBe(false); // the v1.3 law never goes under it
    expect(red.congestion.download.rtt_delta_ms).toBeGreaterThan(300);
    // RED for the whole collapse so far: 120 cycles of 50 ms (within a cycle or two)
    expect(red.congestion.download.red_for_sec).toBeGreaterThan(5.5);
    expect(red.congestion.download.red_for_sec).toBeLessThanOrEqual(6.05);
    // at the floor the rates no longer change, yet the report is rewritten about once a second
    // (rates at the floor: nothing else changed in these 5 s; minIntervalMs 1000 caps it at 5)
    expect(r.runner.controller.snapshot().download.current_rate).toBe(red.download.current_rate);
    expect(heartbeats).toBeGreaterThanOrEqual(3);
    expect(heartbeats).toBeLessThanOrEqual(6);
    // v1.3's keys are unchanged next to it
    expect(red.download.current_rate).toBe(r.runner.controller.snapshot().download.current_rate);
  });

  it('RTT to decision: a sample over the RED threshold is written in the same cycle', async () => {
    const r = await rig();
    for (let i = 0; i < 5; i++) await r.step(IDLE);
    const before = r.router.writes.length;
    await r.step([300, 310, 305]); // load = 0.5*20 + 0.5*305 -> delta > 60 -> RED
    expect(r.router.writes.length).toBe(before + 1);
    expect(r.router.writes.at(-1)?.dl).toBe(50_000_000);
  });

  it('unbounded I/O: a hung router never blocks the cycle and a write in flight is never sent twice', async () => {
    const r = await rig();
    r.router.mode = 'hang';
    await r.step(IDLE); // first write hangs
    for (let i = 0; i < 20; i++) await r.step([300, 300, 300]); // RED every cycle: rates keep falling
    expect(r.router.writes.length).toBe(1); // never duplicated, never queued
    expect(r.runner.writeInFlight).toBe(true);
    expect(r.runner.cycles).toBe(21); // the loop went on
    const h = r.runner.health() as { router: { throttled_cycles: number; coalesced_changes: number } };
    expect(h.router.throttled_cycles).toBeGreaterThan(0);
    expect(h.router.coalesced_changes).toBeGreaterThan(0);
    // the answer arrives: the next cycle writes the LATEST rate (coalesced), once
    r.router.mode = 'ok';
    r.router.release();
    await new Promise((res) => setImmediate(res));
    await r.step([300, 300, 300]);
    expect(r.router.writes.length).toBe(2);
    expect(r.router.writes[1]?.dl).toBe(r.runner.controller.controllerRates.dlBps);
  });

  it('metrics: /metrics shows the cycle values at scrape time; counters add up across scrapes, coalesced changes included', async () => {
    const am = new AutorateMetrics(createMetricsRegistry());
    const r = await rig({ metrics: am.forWan('wan1') });
    const scrape = async () => {
      const text = await am.registry.metrics();
      const get = (series: string) => {
        const line = text.split('\n').find((l) => l.startsWith(`${series} `));
        return line === undefined ? undefined : Number(line.slice(series.length + 1));
      };
      return get;
    };
    r.router.mode = 'hang';
    for (let i = 0; i < 5; i++) await r.step(IDLE);
    let m = await scrape();
    expect(m('wanctl_cycles_total{wan="wan1"}')).toBe(5);
    expect(m('wanctl_reflector_replies{wan="wan1"}')).toBe(3);
    expect(m('wanctl_state{direction="download",wan="wan1"}')).toBe(1); // GREEN
    expect(m('wanctl_bandwidth_mbps{direction="download",wan="wan1"}')).toBe(
      r.runner.controller.controllerRates.dlBps / 1e6,
    );
    expect(m('wanctl_rtt_baseline_ms{wan="wan1"}')).toBe(r.runner.controller.baselineRttMs);
    expect(m('wanctl_router_writes_coalesced_total{wan="wan1"}')).toBe(0); // nothing yet, but the series exists
    for (let i = 0; i < 10; i++) await r.step([300, 300, 300]); // RED while the first write hangs
    m = await scrape();
    expect(m('wanctl_cycles_total{wan="wan1"}')).toBe(15); // 5 + 10: increments are added once, then cleared
    expect(m('wanctl_state{direction="download",wan="wan1"}')).toBe(4); // RED
    const h = r.runner.health() as { router: { throttled_cycles: number; coalesced_changes: number } };
    expect(h.router.coalesced_changes).toBeGreaterThan(0);
    expect(m('wanctl_router_writes_coalesced_total{wan="wan1"}')).toBe(h.router.coalesced_changes);
    expect(m('wanctl_router_writes_throttled_total{wan="wan1"}')).toBe(h.router.throttled_cycles);
    m = await scrape(); // a scrape without cycles in between changes nothing
    expect(m('wanctl_cycles_total{wan="wan1"}')).toBe(15);
    expect(m('wanctl_router_writes_coalesced_total{wan="wan1"}')).toBe(h.router.coalesced_changes);
    r.router.mode = 'ok';
    r.router.release();
  });

  it('watchdog restarts during blackouts: blackout -> stays alive, holds rates, reports degraded; recovery -> healthy', async () => {
    const r = await rig();
    for (let i = 0; i < 10; i++) await r.step(IDLE);
    const rates = { ...r.runner.controller.controllerRates };
    const writes = r.router.writes.length;
    for (let i = 0; i < 200; i++) await r.step([null, null, null]); // 10 s of total loss
    expect(r.runner.cycles).toBe(210);
    expect(r.runner.controller.controllerRates).toEqual(rates); // held
    expect(r.router.writes.length).toBe(writes);
    expect(r.runner.degraded).toBe(true);
    expect((r.runner.health() as { status: string }).status).toBe('degraded');
    expect(r.runner.reasons.join(' ')).toMatch(/no RTT reply/);
    // one WARN when entering, not one per cycle
    expect(r.lines.filter((l) => l.includes('degraded:')).length).toBe(1);
    await r.step(IDLE);
    expect(r.runner.degraded).toBe(false);
    expect(r.degradedEvents).toEqual([true, false]);
    expect(r.lines.some((l) => l.includes('healthy again'))).toBe(true);
  });

  it('stale RTT: 0/3 reflectors is marked stale/degraded with the quorum exposed; 1/3 is a reduced quorum', async () => {
    const r = await rig();
    await r.step(IDLE);
    await r.step([22, null, null]);
    let h = r.runner.health() as { measurement: { replies: number; stale_cycles: number } };
    // the other two replies are still within the hold window; after it, 1/3
    r.clock.advance(300);
    await r.step([22, null, null]);
    h = r.runner.health() as { measurement: { replies: number; stale_cycles: number } };
    expect(h.measurement.replies).toBe(1);
    expect(r.runner.degraded).toBe(false);
    r.clock.advance(300);
    for (let i = 0; i < 3; i++) await r.step([null, null, null]);
    h = r.runner.health() as { measurement: { replies: number; stale_cycles: number } };
    expect(h.measurement.replies).toBe(0);
    expect(h.measurement.stale_cycles).toBe(3);
    expect(r.runner.degraded).toBe(true);
    expect(r.runner.lastOk).toBe(false); // no stale value fed as if it were fresh
  });

  it('extreme RTT: 0, negative, NaN and 10 000 ms samples never crash the cycle; the absurd one is clamped (D12)', async () => {
    const r = await rig();
    await r.step(IDLE);
    for (const bad of [
      [0, 0, 0],
      [-5, -5, -5],
      [Number.NaN, Number.NaN, 20],
      [10_000, 10_000, 10_000],
    ]) {
      await r.step(bad);
    }
    const h = r.runner.health() as { measurement: { clamped_samples: number; invalid_samples: number } };
    expect(h.measurement.clamped_samples).toBeGreaterThan(0);
    expect(h.measurement.invalid_samples).toBeGreaterThan(0);
    expect(r.runner.cycles).toBe(5);
  });

  it('write amplification: change-only persistence (idle jitter does not rewrite the state file)', async () => {
    const r = await rig({ store: true });
    for (let i = 0; i < 40; i++) await r.step(IDLE); // climb settles at the ceiling
    await r.store?.flush(r.runner);
    const w0 = r.store?.stats.writes ?? 0;
    for (let i = 0; i < 400; i++) await r.step([20 + (i % 3) * 0.7, 21 - (i % 2) * 0.4, 20.3]); // 20 s of idle jitter
    await new Promise((res) => setTimeout(res, 20));
    // v1.3 rewrote the file (with fsync) on nearly all 400 cycles; here only a baseline that moved
    // by 0.1 ms is worth a write, at most once a second
    expect((r.store?.stats.writes ?? 0) - w0).toBeLessThanOrEqual(20);
    // load RTT moving every cycle (4..7 ms above the baseline: GREEN, baseline frozen), nothing
    // worth keeping changes: no write at all
    const b = r.runner.controller.snapshot().ewma.baseline_rtt;
    const pattern = (i: number) => {
      const x = b + 4 + (i % 2) * 3;
      return [x, x, x];
    };
    for (let i = 0; i < 5; i++) await r.step(pattern(i));
    await r.store?.flush(r.runner);
    const w2 = r.store?.stats.writes ?? 0;
    const loads = new Set<number>();
    for (let i = 0; i < 400; i++) {
      await r.step(pattern(i));
      loads.add(r.runner.controller.snapshot().ewma.load_rtt);
    }
    await new Promise((res) => setTimeout(res, 20));
    expect(loads.size).toBeGreaterThan(1);
    expect((r.store?.stats.writes ?? 0) - w2).toBe(0);
    const body = JSON.parse(await readFile(path.join(dir, 'wan1_state.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(Object.keys(body)).toEqual([
      'download',
      'upload',
      'ewma',
      'last_applied',
      'timestamp',
      'congestion',
    ]);
    // a rate change is persisted
    const w1 = r.store?.stats.writes ?? 0;
    // keep cycling (the store's delayed writes run on the fake clock) until the cut is on disk
    for (let i = 0; i < 200 && (r.store?.stats.writes ?? 0) === w1; i++) {
      r.clock.advance(1100);
      await r.step([300, 300, 300]);
      await new Promise((res) => setTimeout(res, 10));
    }
    expect(r.store?.stats.writes ?? 0).toBeGreaterThan(w1);
    const saved = JSON.parse(await readFile(path.join(dir, 'wan1_state.json'), 'utf8')) as {
      download: { current_rate: number };
    };
    expect(saved.download.current_rate).toBeLessThan(100_000_000); // the cut is on disk
  });

  it('the cached state change key always equals the key of a fresh snapshot (rates, router rates, baseline)', async () => {
    const r = await rig();
    const keys = new Set<string>();
    const check = () => {
      const k = r.runner.stateChangeKey();
      expect(k).toBe(
        `${stateChangeKey(r.runner.controller.snapshot())}|${congestionKey(r.runner.stateBody(), r.clock.now())}`,
      );
      keys.add(k);
    };
    check(); // before the first cycle: ceilings, nothing written yet
    for (let i = 0; i < 30; i++) {
      await r.step(IDLE.map((x) => x + (i % 3) * 0.4));
      check();
    }
    for (let i = 0; i < 20; i++) {
      await r.step([300, 300, 300]); // RED: rates cut, writes complete
      check();
    }
    r.runner.restore({ ewma: { baseline_rtt: 33.3, load_rtt: 40 } });
    check();
    expect(keys.size).toBeGreaterThan(3);
  });

  it('logging filled disks: INFO volume per cycle is bounded and repeats are rate limited', async () => {
    const r = await rig();
    for (let i = 0; i < 1200; i++) await r.step(IDLE); // 60 s idle
    expect(r.lines.length).toBeLessThanOrEqual(3); // the periodic summary, not 1200 lines
    const n = r.lines.length;
    // a zone flapping every cycle for 60 s: at most the throttle's burst, with the suppressed count
    for (let i = 0; i < 1200; i++) await r.step(i % 2 === 0 ? [45, 45, 45] : IDLE);
    const zoneLines = r.lines.slice(n).filter((l) => l.includes('zone '));
    expect(zoneLines.length).toBeLessThanOrEqual(10);
    expect(r.lines.slice(n).join('\n')).toMatch(/suppressed(_lines)?=\d+/);
  });

  it('the main log: a RED episode inside a burst of other lines (zone flapping, bad samples) is logged, entry and exit', async () => {
    const r = await rig();
    for (let i = 0; i < 20; i++) await r.step(IDLE);
    const n = r.lines.length;
    // 10 s of a GREEN/YELLOW flap every cycle, with an invalid sample in every other cycle
    for (let i = 0; i < 200; i++) await r.step(i % 2 === 0 ? [45, 45, -1] : IDLE);
    const flap = r.lines.slice(n);
    expect(flap.filter((l) => l.includes('zone ')).length).toBeGreaterThanOrEqual(2);
    expect(flap.filter((l) => l.includes('invalid RTT sample')).length).toBeGreaterThan(0);
    // then a RED episode, and back
    const m = r.lines.length;
    for (let i = 0; i < 5; i++) await r.step([300, 300, 300]);
    for (let i = 0; i < 60; i++) await r.step(IDLE);
    const after = r.lines.slice(m).filter((l) => l.includes('zone '));
    expect(after.find((l) => /-> RED\//.test(l))).toBeDefined();
    expect(after.at(-1)).toMatch(/-> GREEN\/GREEN/);
    expect(r.runner.lastZones.dl).toBe('GREEN');
  });

  it('features silently not running: fallback checks run (liveness counter) while ICMP fails, and feed the cycle', async () => {
    let tcpCalls = 0;
    const r = await rig({
      fallback: true,
      checks: {
        gateway: async () => 1.2,
        tcp: async () => {
          tcpCalls++;
          return { ok: true, rttMs: 30, results: [30] };
        },
      },
    });
    await r.step(IDLE);
    r.clock.advance(300);
    await r.step([null, null, null]); // starts the checks in the background (none cached yet)
    await r.step([null, null, null]); // uses their result
    expect(tcpCalls).toBe(1);
    expect(r.measurement.checksRun).toBe(1);
    expect(r.runner.lastOk).toBe(true);
    expect(r.runner.lastMeasuredMs).toBe(30); // the TCP RTT fed the EWMAs (v1.3)
  });

  it('router write failure: the cycle keeps running, health shows unreachable after 3 cycles, the latest rate goes out on recovery', async () => {
    const r = await rig();
    await r.step(IDLE);
    r.router.mode = 'fail';
    for (let i = 0; i < 6; i++) await r.step([300, 300, 300]);
    expect(r.runner.degraded).toBe(true);
    expect((r.runner.health() as { router: { reachable: boolean } }).router.reachable).toBe(false);
    r.router.mode = 'ok';
    await r.step(IDLE);
    await r.step(IDLE);
    expect(r.runner.controller.routerRates.dlBps).toBe(r.runner.controller.controllerRates.dlBps);
    expect(r.runner.degraded).toBe(false);
    expect(r.lines.filter((l) => l.includes('router write failed')).length).toBeLessThanOrEqual(5);
  });

  it('--record: the recorded inputs replay bit for bit (same rates and writes per cycle)', async () => {
    const file = path.join(dir, 'rec.jsonl');
    const rec = new Recorder(file);
    const r = await rig({ recorder: rec });
    const trace: Array<Array<number | null>> = [];
    for (let i = 0; i < 300; i++) {
      const x = 20 + 60 * Math.abs(Math.sin(i / 17)) + (i % 7);
      trace.push(i % 50 === 49 ? [null, null, null] : [x, x + 1, x - 2]);
    }
    const seen: Array<[number, number]> = [];
    for (const t of trace) {
      await r.step(t);
      const c = r.runner.controller.controllerRates;
      seen.push([c.dlBps, c.ulBps]);
    }
    await r.runner.settle(100);
    rec.close();
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines.length).toBe(300);
    const s = new ReplaySession(r.runner.controller.params);
    const replayed = lines.map((l) => s.step(l));
    const got = replayed.map((o) => [o?.dl_rate_bps ?? null, o?.ul_rate_bps ?? null]);
    for (let i = 0; i < 300; i++) {
      if (got[i]?.[0] === null) continue; // frozen/failed cycle: no new rate
      expect(got[i], `cycle ${i}`).toEqual(seen[i]);
    }
    expect(s.controller.routerRates).toEqual(r.runner.controller.routerRates);
  });
});
