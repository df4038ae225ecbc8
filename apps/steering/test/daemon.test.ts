/**
 * The daemon shell in-process, with typed fakes (router, probe, systemd) and injected clocks:
 * cycles are driven one by one with runCycle(), no ticker, no sleeps.
 */
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DaemonHost } from '@wanctl/runtime';
import { FakeNotify, FakeProbe, FakeRouter, memoryLogger } from '@wanctl/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RULE_CHECK_PERIOD_MS, type SteeringDaemon, startSteeringDaemon } from '../src/daemon/daemon.js';
import { STALE_DECISION_MS } from '../src/daemon/restore.js';
import { retryPlan } from '../src/daemon/rtt.js';
import { COMMENT, testConfig } from './helpers/config.js';
import { tempDir, writeAutorateState } from './helpers/e2e.js';

let tmp: { dir: string; cleanup(): Promise<void> };
let router: FakeRouter;
let probe: FakeProbe;
let notify: FakeNotify;
let log: ReturnType<typeof memoryLogger>;
let wall: number;
let mono: number;
const hosts = new Map<SteeringDaemon, DaemonHost<SteeringDaemon>>();

/** Stops a daemon made by make() (its host: the stop sequence, state saved). */
function stop(d: SteeringDaemon): Promise<number> {
  const h = hosts.get(d);
  if (h === undefined) throw new Error('not a daemon of this test');
  return h.stop();
}

beforeEach(async () => {
  tmp = await tempDir();
  router = new FakeRouter(COMMENT);
  probe = new FakeProbe({ next: 1 });
  notify = new FakeNotify();
  log = memoryLogger();
  wall = Date.parse('2026-11-27T03:00:00Z');
  mono = 1_000_000;
  await writeAutorateState(join(tmp.dir, 'wan1_state.json'), 20);
});

afterEach(async () => {
  for (const h of hosts.values()) await h.stop();
  hosts.clear();
  await tmp.cleanup();
});

type Cfg = Parameters<typeof testConfig>[1];

async function make(
  o: Cfg & { dryRun?: boolean; lock?: boolean; comment?: string } = {},
): Promise<SteeringDaemon> {
  if (o.comment) router.comment = o.comment;
  const host = await startSteeringDaemon({
    config: testConfig(tmp.dir, o),
    dryRun: o.dryRun ?? false,
    signals: false,
    serveHttp: false,
    lock: o.lock ?? false,
    baselineStaleMs: 300_000,
    deps: {
      logger: log.logger,
      routerClient: router,
      probe,
      notify,
      now: () => wall,
      monotonic: () => mono,
      sleep: async () => {},
    },
  });
  hosts.set(host.daemon, host);
  return host.daemon;
}

/** One cycle with the router's counters moved first (congested or not), clocks stepped by 2 s. */
async function cycle(d: SteeringDaemon, congested: boolean) {
  router.congest(congested);
  probe.next = congested ? 100 : 21;
  wall += 2000;
  mono += 2000;
  return d.runCycle();
}

describe('cycles against a fake router', () => {
  it('enables after red_samples_required RED cycles and disables after green_samples_required GREEN cycles, each read back', async () => {
    const d = await make({ red: 2, green: 3 });
    await d.reconcile();
    await cycle(d, false); // first CAKE read sets the reference (D8)
    expect((await cycle(d, true)).action).toBeNull(); // EWMA 0.3*79 = 23.7 > 15, drops, queue 80: RED 1
    const r = await cycle(d, true);
    expect(r.action).toBe('enable');
    expect(r.stateChanged).toBe(true);
    expect(router.ruleDisabled).toBe(false);
    expect(d.healthBody()).toMatchObject({
      state: 'WAN1_DEGRADED',
      steering_enabled: true,
      rule: { on_router: 'enabled', in_sync: true },
    });
    const toGood: string[] = [];
    for (let i = 0; i < 20 && d.controller.steeringEnabled; i++)
      toGood.push(String((await cycle(d, false)).goodCount));
    expect(d.controller.currentState).toBe('WAN1_GOOD');
    expect(router.ruleDisabled).toBe(true);
    expect(toGood.slice(-3)).toEqual(['1', '2', '0']); // 3 GREEN samples, then the transition resets the count
    expect(log.lines.join('\n')).toMatch(
      /State transition: WAN1_DEGRADED -> WAN1_GOOD \(WAN1 RECOVERED .*sustained 3 samples\)/,
    );
  });

  it('a failed toggle is reported and retried on the next cycle', async () => {
    const d = await make({ red: 1 });
    await d.reconcile();
    await cycle(d, false);
    router.failNext['toggle'] = 1;
    const r1 = await cycle(d, true);
    expect(r1.action).toBe('enable');
    expect(r1.routerOk).toBe(false);
    expect(r1.stateChanged).toBe(false);
    expect(d.healthBody()).toMatchObject({ status: 'degraded', state: 'WAN1_GOOD' });
    expect((d.healthBody()['problems'] as string[]).join()).toMatch(
      /rule toggle failing: connection refused/,
    );
    const r2 = await cycle(d, true);
    expect(r2.action).toBe('enable');
    expect(r2.stateChanged).toBe(true);
    expect(router.ruleDisabled).toBe(false);
    expect(d.healthBody()['problems']).toEqual([]);
  });

  it('a toggle that reads back wrong is a failed toggle (D7)', async () => {
    const d = await make({ red: 1 });
    await d.reconcile();
    await cycle(d, false);
    router.ignoreToggles = true;
    const r = await cycle(d, true);
    expect(r.routerOk).toBe(false);
    expect(d.controller.currentState).toBe('WAN1_GOOD');
    expect(log.lines.join('\n')).toMatch(/reads back disabled after enable/);
  });

  it('a rule toggled behind its back is corrected on the next rule check', async () => {
    const d = await make();
    await d.reconcile();
    await cycle(d, false);
    router.ruleDisabled = false; // someone enabled it on the router
    await cycle(d, false);
    expect(router.ruleDisabled).toBe(true);
    expect(d.healthBody()).toMatchObject({ rule: { corrections: 1, on_router: 'disabled', in_sync: true } });
    expect(log.lines.join('\n')).toMatch(
      /Drift: rule ".*" is enabled on the router but the state is WAN1_GOOD/,
    );
  });

  it(`reads the rule every cycle at 2 s, every ${RULE_CHECK_PERIOD_MS / 500} cycles at 0.5 s`, async () => {
    const d = await make({ interval: 0.5 });
    await d.reconcile();
    router.calls = [];
    for (let i = 0; i < 8; i++) await cycle(d, false);
    expect(router.ops().filter((o) => o === 'find')).toHaveLength(2);
  });

  it('--dry-run decides and logs but never changes the rule, and never corrects it', async () => {
    const d = await make({ red: 1, dryRun: true });
    await d.reconcile();
    await cycle(d, false);
    const r = await cycle(d, true);
    expect(r.action).toBe('enable');
    expect(d.controller.currentState).toBe('WAN1_DEGRADED');
    expect(router.ops().filter((o) => o === 'enable' || o === 'disable')).toEqual([]);
    expect(router.ruleDisabled).toBe(true);
    expect(log.lines.join('\n')).toMatch(/DRY RUN: would enable the steering rule/);
    expect(d.healthBody()).toMatchObject({ dry_run: true, rule: { on_router: 'disabled', in_sync: false } });
  });

  it('every router call carries a deadline that fits the cycle (D2)', async () => {
    const d = await make({ interval: 2 });
    await d.reconcile();
    await cycle(d, false);
    await cycle(d, true);
    await cycle(d, true);
    expect(router.calls.length).toBeGreaterThan(4);
    for (const c of router.calls) expect(c.opts?.deadlineMs).toBe(4000);
  });

  it('a missing autorate state file is reported (not fatal); the cached baseline is used', async () => {
    const d = await make();
    await d.reconcile();
    await cycle(d, false);
    await writeFile(join(tmp.dir, 'wan1_state.json'), '{"ewma": {}}');
    const r = await cycle(d, false);
    expect(r.ok).toBe(true);
    expect(r.baselineSource).toBe('cached');
    expect(d.healthBody()).toMatchObject({ status: 'degraded', baseline_file: { status: 'invalid' } });
    const { rm } = await import('node:fs/promises');
    await rm(join(tmp.dir, 'wan1_state.json'));
    await cycle(d, false);
    expect(d.healthBody()).toMatchObject({ baseline_file: { status: 'missing' } });
    expect(log.lines.join('\n')).toMatch(/Primary WAN state file not found/);
  });

  it('a stale autorate state file is reported but its baseline still used', async () => {
    const d = await make();
    const f = join(tmp.dir, 'wan1_state.json');
    const old = (wall - 600_000) / 1000;
    await utimes(f, old, old);
    const r = await cycle(d, false);
    expect(r.baselineSource).toBe('fresh');
    expect(d.healthBody()).toMatchObject({ status: 'degraded', baseline_file: { status: 'stale' } });
  });

  it('--once path: state file written atomically with the v1.3 fields', async () => {
    const d = await make();
    const r = await d.runOnce();
    expect(r.ok).toBe(true);
    const st = JSON.parse(await readFile(join(tmp.dir, 'steering_state.json'), 'utf8'));
    expect(Object.keys(st)).toEqual(
      expect.arrayContaining([
        'current_state',
        'red_count',
        'good_count',
        'rtt_delta_ewma',
        'queue_ewma',
        'transitions',
        'timestamp',
      ]),
    );
  });

  it('the RTT retry plan fits the deadline', () => {
    for (const [deadline, attempt] of [
      [120, 2000],
      [1200, 2000],
      [10_000, 2000],
    ] as const) {
      const p = retryPlan(deadline, 3, attempt);
      expect(3 * p.timeoutMs + 2 * p.delayMs).toBeLessThanOrEqual(deadline);
      expect(p.timeoutMs).toBeLessThanOrEqual(attempt);
    }
  });
});

describe('modes wired through the daemon', () => {
  it('legacy RTT-only mode: no CAKE reads; bad_samples (8) cycles of delta > 25 ms enable', async () => {
    const d = await make({ extra: 'mode: { cake_aware: false }\n' });
    await d.reconcile();
    const n: number[] = [];
    for (let i = 0; i < 12 && !d.controller.steeringEnabled; i++) {
      probe.next = 60;
      wall += 2000;
      await d.runCycle();
      n.push(i);
    }
    expect(n).toHaveLength(8);
    expect(router.ruleDisabled).toBe(false);
    expect(router.ops()).not.toContain('stats');
    expect(d.healthBody()).toMatchObject({ mode: 'legacy_rtt' });
  });

  it('confidence scoring, live: sustained high confidence enables, timers stepping by the real interval (D9)', async () => {
    const d = await make({
      extra:
        'mode: { use_confidence_scoring: true }\nconfidence: { dry_run: false, sustain_duration_sec: 4 }\n',
    });
    await d.reconcile();
    await cycle(d, false);
    let cycles = 0;
    while (!d.controller.steeringEnabled && cycles < 30) {
      await cycle(d, true);
      cycles++;
    }
    expect(d.controller.steeringEnabled).toBe(true);
    expect(router.ruleDisabled).toBe(false);
    // 4 s at 2 s per cycle: the timer starts, then two steps (v1.3 stepped 0.05 s: 80 cycles)
    expect(cycles).toBeLessThanOrEqual(6);
    expect(d.healthBody()).toMatchObject({ mode: 'cake_aware+confidence' });
  });
});

describe('failure modes seen in production after v1.3 (lesson N: the number its authors gave it)', () => {
  it('lesson 1: the rule is found and toggled by its exact comment, whatever the words (no "ADAPTIVE" needed)', async () => {
    const d = await make({ red: 1, comment: 'Steer VoIP to wan2' });
    await d.reconcile();
    await cycle(d, false);
    expect((await cycle(d, true)).stateChanged).toBe(true);
    expect(router.ruleDisabled).toBe(false);
  });

  it('lesson 2: every call through the (failover) client passes its options (deadline)', async () => {
    const d = await make({ red: 1 });
    await d.reconcile();
    await cycle(d, false);
    await cycle(d, true);
    const ops = new Set(router.calls.map((c) => c.op));
    expect(ops).toEqual(new Set(['find', 'stats', 'enable']));
    expect(router.calls.every((c) => typeof c.opts?.deadlineMs === 'number')).toBe(true);
  });

  it('lesson 3: a hung router does not block a cycle beyond the call deadline', async () => {
    const d = await make({ interval: 0.2 });
    router.hang = true;
    const t0 = performance.now();
    const r = await cycle(d, false);
    const ms = performance.now() - t0;
    expect(r.ok).toBe(true); // RTT and baseline still decide (RTT-only)
    expect(ms).toBeLessThan(10_000);
    expect(router.calls.every((c) => c.opts?.deadlineMs === 2000)).toBe(true);
    expect(d.healthBody()['problems']).toEqual(
      expect.arrayContaining([expect.stringMatching(/router: find timed out/)]),
    );
  });

  it('lesson 4: an RTT blackout keeps the daemon alive and feeding the watchdog, reported degraded; recovery is healthy', async () => {
    const d = await make();
    await d.reconcile();
    await cycle(d, false);
    probe.next = null;
    probe.waited = null;
    for (let i = 0; i < 5; i++) {
      wall += 2000;
      const r = await d.runCycle();
      expect(r.ok).toBe(true);
      expect(r.rttSource).toBe('fallback');
    }
    expect(d.healthBody()).toMatchObject({ status: 'degraded', probe: { last_source: 'none' } });
    expect(probe.measureCalls).toBe(15); // 3 attempts per cycle
    await cycle(d, false);
    expect(d.healthBody()).toMatchObject({ status: 'healthy' });
  });

  it('lesson 5: extreme RTTs (0, 10 000 ms, huge queues) never crash a cycle (D12)', async () => {
    const d = await make();
    await d.reconcile();
    for (const rtt of [0, 10_000, 1e9, 20, 5000]) {
      router.congest(true);
      router.counters.queuedPackets = 50_000;
      probe.next = rtt;
      wall += 2000;
      const r = await d.runCycle();
      expect(r.ok).toBe(true);
      expect(Number.isFinite(r.rttDeltaEwmaMs)).toBe(true);
    }
    expect(log.lines.join('\n')).toMatch(/clamped/);
  });

  it('lesson 6: a zero-reply cycle is not presented as healthy', async () => {
    const d = await make();
    await d.reconcile();
    await cycle(d, false);
    probe.next = null;
    wall += 2000;
    const r = await d.runCycle();
    expect(r.rttSource).toBe('fallback');
    const h = d.healthBody();
    expect(h.status).toBe('degraded');
    expect(h['signals']).toMatchObject({ rtt_source: 'fallback' });
    expect((h['problems'] as string[]).join()).toMatch(/no RTT reply/);
  });

  it('the main log: every steering state change is logged, however many (never throttled)', async () => {
    const d = await make({ historySize: 5, red: 1, green: 1 });
    await d.reconcile();
    for (let i = 0; i < 100; i++) await cycle(d, i % 16 < 3);
    const text = await d.metrics.registry.metrics();
    const counted = [...text.matchAll(/^wanctl_steering_transitions_total\{[^}]*\} (\d+)$/gm)].reduce(
      (a, m) => a + Number(m[1]),
      0,
    );
    expect(counted).toBeGreaterThan(10);
    const changes = log.lines.filter((l) => /Steering (ENABLED|DISABLED): /.test(l));
    expect(changes.length).toBe(counted);
    expect(log.lines.filter((l) => l.includes('State transition:')).length).toBe(counted);
    await stop(d);
  });

  it('lesson 21: every persisted history is bounded by state.history_size', async () => {
    const d = await make({ historySize: 5, red: 1, green: 1 });
    await d.reconcile();
    for (let i = 0; i < 100; i++) await cycle(d, i % 16 < 3);
    expect(log.lines.filter((l) => l.includes('State transition:')).length).toBeGreaterThan(5);
    await stop(d);
    const st = JSON.parse(await readFile(join(tmp.dir, 'steering_state.json'), 'utf8'));
    for (const k of [
      'history_rtt',
      'history_delta',
      'cake_drops_history',
      'queue_depth_history',
      'transitions',
    ])
      expect(st[k].length, k).toBeLessThanOrEqual(5);
    expect(st.cake_state_history.length).toBeLessThanOrEqual(10);
    expect(st.transitions.length).toBe(5);
  });

  it('lesson 22: RTT-only degradation never steers, and a disable is only sent after an enable', async () => {
    const d = await make({ red: 1, green: 1 });
    await d.reconcile();
    await cycle(d, false);
    for (let i = 0; i < 10; i++) {
      probe.next = 200; // high RTT, but no drops and no queue: YELLOW at most
      wall += 2000;
      const r = await d.runCycle();
      expect(r.congestionState).not.toBe('RED');
    }
    expect(router.ruleDisabled).toBe(true);
    expect(router.ops().filter((o) => o === 'enable' || o === 'disable')).toEqual([]);
  });

  it('lesson 23: a pre-enabled rule with a fresh state is disabled before the first cycle', async () => {
    router.ruleDisabled = false;
    const d = await make();
    await d.reconcile();
    expect(router.ruleDisabled).toBe(true);
    expect(router.ops()).toEqual(['find', 'disable']);
  });

  it('lesson 23: a recent persisted DEGRADED decision is carried over and the rule made to match', async () => {
    await writeFile(join(tmp.dir, 'steering_state.json'), JSON.stringify({ current_state: 'WAN1_DEGRADED' }));
    const d = await make();
    expect(d.controller.currentState).toBe('WAN1_DEGRADED');
    await d.reconcile();
    expect(router.ruleDisabled).toBe(false);
  });

  it('lesson 23: a stale persisted DEGRADED decision is dropped: start GOOD and disable the rule', async () => {
    const f = join(tmp.dir, 'steering_state.json');
    await writeFile(f, JSON.stringify({ current_state: 'WAN1_DEGRADED' }));
    const old = (wall - STALE_DECISION_MS - 60_000) / 1000;
    await utimes(f, old, old);
    router.ruleDisabled = false;
    const d = await make();
    expect(d.controller.currentState).toBe('WAN1_GOOD');
    await d.reconcile();
    expect(router.ruleDisabled).toBe(true);
  });

  it('lesson 23: a foreign state name (another primary_wan) never steers at start-up', async () => {
    await writeFile(
      join(tmp.dir, 'steering_state.json'),
      JSON.stringify({ current_state: 'SPECTRUM_DEGRADED' }),
    );
    router.ruleDisabled = false;
    const d = await make();
    expect(d.controller.currentState).toBe('WAN1_GOOD');
    await d.reconcile();
    expect(router.ruleDisabled).toBe(true);
    expect(log.lines.join('\n')).toMatch(
      /current_state "SPECTRUM_DEGRADED" is neither WAN1_GOOD nor WAN1_DEGRADED/,
    );
  });

  it('lesson 24: /health is plain JSON with the documented fields and the real interval', async () => {
    const d = await make({ interval: 0.5 });
    await d.reconcile();
    await cycle(d, false);
    const h = d.healthBody();
    expect(JSON.parse(JSON.stringify(h))).toEqual(h);
    expect(Object.keys(h)).toEqual(
      expect.arrayContaining([
        'status',
        'version',
        'state',
        'state_since',
        'last_transition',
        'signals',
        'rule',
        'router',
        'cycles',
        'problems',
      ]),
    );
    expect(h['cycles']).toMatchObject({ interval_ms: 500 });
    expect(h['router']).toMatchObject({ transport: 'rest' });
  });
});

describe('the loop (real ticker, injected fakes)', () => {
  it('D6 / lesson 4: the watchdog is fed through an RTT blackout, stops after 3 broken cycles, and is fed again at once when they recover', async () => {
    notify = new FakeNotify(1); // feed at most every 1 ms: every successful cycle
    const host = await startSteeringDaemon({
      config: testConfig(tmp.dir, { interval: 0.05 }),
      signals: false,
      serveHttp: false,
      lock: false,
      deps: { logger: log.logger, routerClient: router, probe, notify, sleep: async () => {} },
    });
    const d = host.daemon;
    hosts.set(d, host);
    const done = host.run();
    const count = (m: string) => notify.texts().filter((x) => x.startsWith(m)).length;
    const until = async (what: string, f: () => boolean) => {
      const end = Date.now() + 20_000;
      while (!f()) {
        if (Date.now() > end)
          throw new Error(`timed out: ${what}; messages ${notify.texts().slice(-10).join(' | ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until('READY and a first WATCHDOG', () => count('READY=1') === 1 && count('WATCHDOG=1') >= 1);
    probe.next = null; // blackout: no RTT at all
    const before = count('WATCHDOG=1');
    await until('watchdog fed during the blackout', () => count('WATCHDOG=1') >= before + 3);
    probe.throwOnLatest = true; // now every cycle breaks
    await until('STATUS=Degraded after 3 broken cycles', () =>
      notify.texts().some((m) => m.startsWith('STATUS=Degraded')),
    );
    expect(d.healthBody()).toMatchObject({ status: 'degraded' });
    const fedBefore = count('WATCHDOG=1');
    probe.throwOnLatest = false;
    probe.next = 21;
    await until('watchdog fed again after recovery', () => count('WATCHDOG=1') > fedBefore);
    await stop(d);
    expect(await done).toBe(0);
    expect(notify.texts().at(-1)).toBe('STOPPING=1');
  });
});

describe('lessons after v1.3: persistence and log volume', () => {
  it('lesson 19: the state file is written on change (and as a heartbeat), not every cycle', async () => {
    const d = await make({ red: 1, green: 1 });
    await d.reconcile();
    // the test's clock jumps 2 s per cycle; a write (two fsyncs) gets a few real ms to land between
    // cycles, as it has in a daemon, else a write still in flight across several fake seconds
    // makes the count depend on how many event-loop turns a write takes
    for (let i = 0; i < 40; i++) {
      await cycle(d, false);
      await new Promise((r) => setTimeout(r, 5));
    }
    const steady = (d.healthBody()['state_file'] as { writes: number }).writes;
    expect(steady).toBeLessThanOrEqual(2);
    await cycle(d, true);
    await cycle(d, true);
    await stop(d);
    const st = JSON.parse(await readFile(join(tmp.dir, 'steering_state.json'), 'utf8'));
    expect(st.current_state).toBe('WAN1_DEGRADED');
  });

  it('lesson 19: a CAKE queue that cannot be read does not cause a state write every cycle', async () => {
    const d = await make();
    await d.reconcile();
    // every write the store decided on is finished before the next cycle: counts are exact
    const settle = () => d.store.flush();
    const writes = () => (d.healthBody()['state_file'] as { writes: number }).writes;
    await cycle(d, false);
    await settle();
    router.failNext = { stats: 1000 };
    const before = writes();
    for (let i = 0; i < 20; i++) {
      await cycle(d, false);
      await settle();
    }
    expect(d.healthBody()).toMatchObject({ signals: { cake_read_failures: 20 } });
    // failures 1, 2 and 3 (the count that makes /health degraded) are written, later ones are not
    expect(writes() - before).toBe(3);
    router.failNext = {};
    await cycle(d, false);
    await settle();
    expect(writes() - before).toBe(4); // the recovery (count back to 0) is written
  });

  it('with metrics disabled, no process series are collected (their lag sampler would wake the process 100 times a second)', async () => {
    const d = await make();
    expect(d.config.metrics.enabled).toBe(false);
    expect(d.metrics.registry.getSingleMetric('nodejs_eventloop_lag_p99_seconds')).toBeUndefined();
    expect(d.metrics.registry.getSingleMetric('process_cpu_seconds_total')).toBeUndefined();
    expect(d.metrics.registry.getSingleMetric('wanctl_steering_enabled')).toBeDefined();
  });

  it('lesson 20: log volume is bounded: nothing per quiet cycle at INFO, repeated router failures throttled', async () => {
    const d = await make();
    await d.reconcile();
    const info = () => log.lines.filter((l) => !l.includes('[DEBUG]')).length;
    await cycle(d, false); // "Initialized baseline RTT" once
    const n0 = info();
    for (let i = 0; i < 50; i++) await cycle(d, false);
    expect(log.lines.filter((l) => !l.includes('[DEBUG]')).slice(n0)).toEqual([]);
    router.failNext = { find: 1000, stats: 1000 };
    const n1 = info();
    for (let i = 0; i < 60; i++) await cycle(d, false); // 120 s of a dead router
    expect(info() - n1).toBeLessThanOrEqual(10);
    expect(d.healthBody()).toMatchObject({ status: 'degraded' });
  });
});
