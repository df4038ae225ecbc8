/**
 * The daemon assembled in-process with typed fakes for the probe, the router and systemd:
 * watchdog (D6), STATUS lines, /health over real HTTP, state file recovery, PID lock.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAutorateConfig } from '@wanctl/config';
import type { RouterClient } from '@wanctl/router-client';
import type { DaemonHost } from '@wanctl/runtime';
import { FakeNotify, FakeProbe, FakeRouter, freePort, waitFor } from '@wanctl/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AutorateDaemon, startAutorateDaemon } from '../../src/daemon/daemon.js';
import { configText } from './config.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'autorate-daemon-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
});

interface Built {
  host: DaemonHost<AutorateDaemon>;
  daemon: AutorateDaemon;
  probe: FakeProbe;
  router: FakeRouter;
  notify: FakeNotify;
  lines: string[];
  healthPort: number;
  done: Promise<number>;
}

async function build(
  feed: () => Array<number | null> = () => [20, 20, 20],
  opts: { run?: boolean; extra?: Record<string, string> } = {},
): Promise<Built> {
  const healthPort = await freePort();
  const cfg = parseAutorateConfig(
    configText(dir, { interval: '10', health: 'true', healthPort: String(healthPort), ...opts.extra }),
    {
      file: path.join(dir, 'wan1.yaml'),
    },
  );
  let probe: FakeProbe | null = null;
  const router = new FakeRouter();
  const notify = new FakeNotify(100);
  const lines: string[] = [];
  const host = await startAutorateDaemon({
    configs: [cfg],
    deps: {
      createProbe: () => {
        probe = new FakeProbe({
          reflectors: ['192.0.2.1', '192.0.2.2', '192.0.2.3'],
          now: () => performance.now(),
        });
        const p = probe;
        const orig = p.latest.bind(p);
        p.latest = () => {
          p.set(feed());
          return orig();
        };
        return { probe: p, kind: 'fping' };
      },
      createRouter: () => router as unknown as RouterClient,
      notify,
      installSignals: false,
      logToConsole: false,
      logSink: (l) => lines.push(l),
    },
  });
  const done = opts.run === false ? Promise.resolve(0) : host.run();
  return {
    host,
    daemon: host.daemon,
    probe: probe as unknown as FakeProbe,
    router,
    notify,
    lines,
    healthPort,
    done,
  };
}

async function health(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('AutorateDaemon (in-process, fakes)', () => {
  it('READY=1, WATCHDOG=1 while cycles run; stop() saves state, releases the lock, resolves 0', async () => {
    const b = await build();
    await waitFor('a few watchdog feeds', () => b.notify.count('WATCHDOG') >= 2, 10_000);
    expect(b.notify.messages[0]).toMatchObject({ READY: '1' });
    // after v1.3 a surrendered daemon sent a notification every cycle: notifications are rate limited (WATCHDOG=1 at half WatchdogSec, not per cycle)
    const feeds0 = b.notify.count('WATCHDOG');
    const cycles0 = b.daemon.wans[0]?.runner.cycles ?? 0;
    const t0 = performance.now();
    // 60 cycles (10 ms each; a busy machine may take longer: the bound below uses the real time)
    await waitFor('60 more cycles', () => (b.daemon.wans[0]?.runner.cycles ?? 0) >= cycles0 + 60, 20_000);
    const elapsedMs = performance.now() - t0;
    const feeds = b.notify.count('WATCHDOG') - feeds0;
    expect(feeds).toBeLessThan(30); // not one per cycle
    expect(feeds).toBeLessThanOrEqual(Math.ceil(elapsedMs / 100) + 2); // at most one per 100 ms interval
    expect(b.notify.count('STATUS')).toBeLessThanOrEqual(1);
    expect(existsSync(path.join(dir, 'wan1.lock'))).toBe(true);
    const h = await health(b.healthPort);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: 'healthy', wan_count: 1, consecutive_failures: 0 });
    expect(typeof h.body['version']).toBe('string');
    expect(await b.host.stop()).toBe(0);
    expect(await b.done).toBe(0);
    expect(existsSync(path.join(dir, 'wan1.lock'))).toBe(false);
    const state = JSON.parse(await readFile(path.join(dir, 'wan1_state.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(state).toHaveProperty('ewma.baseline_rtt');
    expect(b.notify.count('STOPPING')).toBe(1);
    expect(b.router.closed).toBe(true);
  });

  it('D6: blackout keeps the watchdog fed with STATUS=Degraded; internal cycle errors stop it and recovery re-arms at once', async () => {
    let mode: 'ok' | 'blackout' = 'ok';
    const b = await build(() => (mode === 'ok' ? [20, 20, 20] : [null, null, null]));
    await waitFor('healthy', () => b.notify.count('WATCHDOG') >= 1, 10_000);
    mode = 'blackout';
    await waitFor(
      'STATUS=Degraded',
      () => b.notify.messages.some((m) => m['STATUS']?.startsWith('Degraded')),
      10_000,
    );
    const feeds = b.notify.count('WATCHDOG');
    await waitFor(
      'watchdog still fed during the blackout',
      () => b.notify.count('WATCHDOG') > feeds + 1,
      10_000,
    );
    expect((await health(b.healthPort)).status).toBe(503);
    const degradedAt = b.notify.messages.findIndex((m) => m['STATUS']?.startsWith('Degraded'));
    mode = 'ok';
    await waitFor(
      'STATUS back to Running',
      () => b.notify.messages.some((m, i) => i > degradedAt && m['STATUS']?.startsWith('Running')),
      10_000,
    );
    await waitFor('health 200 again', async () => (await health(b.healthPort)).status === 200, 10_000);

    // internal errors (a restart could fix them): the watchdog stops being fed ...
    b.probe.throwOnLatest = true;
    await waitFor(
      'watchdog suspended',
      () =>
        b.daemon.healthBody()['watchdog'] &&
        (b.daemon.healthBody()['watchdog'] as { degraded: boolean }).degraded,
      10_000,
    );
    const suspendedAt = b.notify.count('WATCHDOG');
    await new Promise((r) => setTimeout(r, 300));
    expect(b.notify.count('WATCHDOG')).toBe(suspendedAt);
    // ... and is fed again as soon as cycles succeed (D6), with the status restored
    b.probe.throwOnLatest = false;
    await waitFor(
      're-armed',
      () => b.notify.messages.slice(-20).some((m) => m['WATCHDOG'] === '1' && 'STATUS' in m),
      10_000,
    );
    expect(b.lines.filter((l) => l.includes('cycle error')).length).toBeGreaterThan(0);
    await b.host.stop();
  });

  it('telemetry that lied: /health answers JSON even when building a WAN section throws (503 with the error)', async () => {
    const b = await build();
    await waitFor('running', () => b.notify.count('WATCHDOG') >= 1, 10_000);
    const m = b.daemon.wans[0]?.measurement;
    if (!m) throw new Error('no wan');
    m.reflectorHealth = () => {
      throw new Error('reflector table broken');
    };
    const h = await health(b.healthPort);
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({ status: 'error' });
    expect(String(h.body['error'])).toContain('reflector table broken');
    // the daemon itself keeps running
    const cycles = b.daemon.wans[0]?.runner.cycles ?? 0;
    await waitFor('cycles continue', () => (b.daemon.wans[0]?.runner.cycles ?? 0) > cycles + 5, 10_000);
    await b.host.stop();
  });

  it('health never shows a negative or made-up cycle duration: null before the first cycle, >= 0 after', async () => {
    const b = await build(undefined, { run: false });
    type Pcts = { p50: number | null; p99: number | null; max: number | null };
    const cycleOf = (body: Record<string, unknown>) =>
      body['cycle'] as { work_ms: Pcts; cpu_ms: Pcts; duration_ms: Pcts };
    const wanOf = (body: Record<string, unknown>) =>
      (body['wans'] as Array<{ cycle_work_ms: Pcts }>)[0] as { cycle_work_ms: Pcts };
    // no cycle yet: an empty window is null, not 0
    const before = b.daemon.healthBody();
    const nulls = { p50: null, p99: null, max: null };
    expect(cycleOf(before).work_ms).toMatchObject(nulls);
    expect(cycleOf(before).cpu_ms).toMatchObject(nulls);
    expect(cycleOf(before).duration_ms).toMatchObject(nulls);
    expect(wanOf(before).cycle_work_ms).toEqual(nulls);
    const done = b.host.run();
    await waitFor('50 cycles', () => (b.daemon.wans[0]?.runner.cycles ?? 0) >= 50, 20_000);
    const h = await health(b.healthPort);
    const all = [
      ...Object.values(cycleOf(h.body).work_ms),
      ...Object.values(cycleOf(h.body).cpu_ms),
      ...Object.values(cycleOf(h.body).duration_ms),
      ...Object.values(wanOf(h.body).cycle_work_ms),
    ];
    for (const v of all) {
      expect(typeof v).toBe('number');
      expect(v as number).toBeGreaterThanOrEqual(0);
    }
    await b.host.stop();
    expect(await done).toBe(0);
  });

  it('a start with a healthy router and probe logs no failure: the cycles before the first reply wait for it', async () => {
    // the probe's first replies come back 200 ms after the start (fping starting, the first RTT);
    // the first cycle runs at once. fallback_checks is disabled (every start logged
    // "cycle failed: fallback_disabled" before)
    let t0 = Number.NaN;
    const b = await build(() => {
      if (Number.isNaN(t0)) t0 = performance.now();
      return performance.now() - t0 < 200 ? [null, null, null] : [20, 20, 20];
    });
    await waitFor('30 cycles with replies', () => (b.daemon.wans[0]?.runner.cycles ?? 0) >= 30, 20_000);
    const runner = b.daemon.wans[0]?.runner;
    expect(runner?.warmupCycles).toBeGreaterThan(0);
    expect(runner?.failedCycles).toBe(0);
    expect(b.lines.filter((l) => /cycle failed|degraded|ERROR|WARN/.test(l))).toEqual([]);
    const h = await health(b.healthPort);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: 'healthy', consecutive_failures: 0 });
    expect(b.router.writes.length).toBeGreaterThan(0); // the first decision was written
    await b.host.stop();
  });

  it('adaptive law: a reflector gone silent is replaced by the spare (probe, log, health); v1.3 replaces nothing', async () => {
    let replaced = false;
    const b = await build(() => (replaced ? [20, 20, 20] : [20, null, 20]), {
      extra: { law: 'adaptive', spares: '["192.0.2.9"]' },
    });
    await waitFor('the spare swapped in', () => b.probe.replaced.length > 0, 20_000);
    replaced = true;
    expect(b.probe.replaced).toEqual([{ from: '192.0.2.2', to: '192.0.2.9' }]);
    expect(b.probe.reflectors).toEqual(['192.0.2.1', '192.0.2.9', '192.0.2.3']);
    expect(b.lines.filter((l) => l.includes('replaced by'))).toHaveLength(1);
    expect(b.lines.find((l) => l.includes('replaced by'))).toMatch(
      /reflector 192\.0\.2\.2 replaced by 192\.0\.2\.9: silent \d/,
    );
    const h = await health(b.healthPort);
    const wan = (h.body['wans'] as Array<Record<string, unknown>>)[0];
    expect(wan?.['reflector_pool']).toMatchObject({
      in_use: ['192.0.2.1', '192.0.2.9', '192.0.2.3'],
      spares: ['192.0.2.2'],
      replacements: 1,
    });
    await b.host.stop();

    // the v1.3 law reports no bad reflector: the same silence replaces nothing, no pool in health
    const v13 = await build(() => [20, null, 20], { extra: { spares: '["192.0.2.9"]' } });
    const runner = v13.daemon.wans[0]?.runner;
    const c0 = performance.now();
    await waitFor(
      '4 s of cycles',
      () => performance.now() - c0 > 4000 && (runner?.cycles ?? 0) > 100,
      20_000,
    );
    expect(v13.probe.replaced).toEqual([]);
    const h13 = await health(v13.healthPort);
    expect((h13.body['wans'] as Array<Record<string, unknown>>)[0]).not.toHaveProperty('reflector_pool');
    await v13.host.stop();
  });

  it('a probe that never answers is still a failure once the startup grace (timeouts.ping) has passed', async () => {
    const b = await build(() => [null, null, null]);
    await waitFor(
      'the failure logged',
      () => b.lines.some((l) => l.includes('cycle failed: fallback_disabled')),
      20_000,
    );
    const runner = b.daemon.wans[0]?.runner;
    // timeouts.ping is 1 s: about 100 cycles of 10 ms waited, then the failures count
    expect(runner?.warmupCycles).toBeGreaterThan(0);
    await waitFor('degraded', () => runner?.degraded === true, 10_000);
    await b.host.stop();
  });

  it('state file: a corrupt primary falls back to the backup (logged); both bad -> defaults (logged)', async () => {
    const stateFile = path.join(dir, 'wan1_state.json');
    const good = {
      download: { green_streak: 0, soft_red_streak: 0, red_streak: 0, current_rate: 33_000_000 },
      upload: { green_streak: 0, soft_red_streak: 0, red_streak: 0, current_rate: 7_000_000 },
      ewma: { baseline_rtt: 21.5, load_rtt: 22 },
      last_applied: { dl_rate: 33_000_000, ul_rate: 7_000_000 },
    };
    await writeFile(`${stateFile}.bak`, JSON.stringify(good));
    await writeFile(stateFile, '{"download":{"green_str'); // truncated
    const b = await build(() => [null, null, null]);
    expect(b.daemon.wans[0]?.runner.controller.controllerRates).toEqual({
      dlBps: 33_000_000,
      ulBps: 7_000_000,
    });
    // the restored rates are written once at start (the router may have changed meanwhile)
    await waitFor('startup write', () => b.router.writes.length > 0);
    expect(b.router.writes[0]).toEqual({ dl: 33_000_000, ul: 7_000_000 });
    expect(b.lines.some((l) => l.includes('state file:') && l.includes('WARN'))).toBe(true);
    expect(b.lines.some((l) => l.includes('state restored from backup'))).toBe(true);
    await b.host.stop();

    await writeFile(stateFile, 'garbage');
    await writeFile(`${stateFile}.bak`, '[1,2');
    const b2 = await build(() => [null, null, null]);
    expect(b2.daemon.wans[0]?.runner.controller.controllerRates).toEqual({
      dlBps: 100_000_000,
      ulBps: 20_000_000,
    });
    expect(b2.lines.some((l) => l.includes('no saved state'))).toBe(true);
    await b2.host.stop();
  });

  it('an overlong cycle is counted, never stacked (missed slots are skipped)', async () => {
    let inside = 0;
    let overlapped = false;
    let slow = true;
    const b = await build(() => {
      inside++;
      if (inside > 1) overlapped = true;
      if (slow) {
        const end = performance.now() + 25; // 2.5 intervals of work
        while (performance.now() < end) {}
      }
      inside--;
      return [20, 20, 20];
    });
    await waitFor('overruns counted', () => {
      const c = b.daemon.healthBody()['cycle'] as { overruns: number; skipped_ticks: number };
      return c.overruns >= 5 && c.skipped_ticks >= 10;
    });
    slow = false;
    // (the cycle is synchronous, so this only guards against a re-entrant ticker)
    expect(overlapped).toBe(false);
    // never stacked: the skipped slots are not run afterwards as a burst of catch-up cycles
    const runner = b.daemon.wans[0]?.runner;
    const c0 = runner?.cycles ?? 0;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 150));
    const ran = (runner?.cycles ?? 0) - c0;
    const slots = Math.ceil((performance.now() - t0) / 10); // interval: 10 ms
    expect(ran).toBeLessThanOrEqual(slots + 2);
    const w = (b.daemon.healthBody()['wans'] as Array<{ overruns: number }>)[0];
    expect(w?.overruns).toBeGreaterThanOrEqual(5);
    await b.host.stop();
  });

  it('several WANs share one timer: each slot runs every WAN once, in config order, in one wake-up; a slow WAN is its own overrun', async () => {
    const names = ['wan1', 'wan2', 'wan3'];
    const configs = names.map((wan) =>
      parseAutorateConfig(configText(dir, { interval: '10', wan }), { file: path.join(dir, `${wan}.yaml`) }),
    );
    const order: string[] = [];
    // set by the first WAN's cycle, cleared by the first microtask checkpoint after it: node
    // runs microtasks between two timer callbacks, so a WAN with a timer of its own sees it clear
    let inSlot = false;
    const sameWakeup: boolean[] = [];
    let slowWan3 = false;
    const host = await startAutorateDaemon({
      configs,
      deps: {
        createProbe: (cfg) => {
          const p = new FakeProbe({
            reflectors: ['192.0.2.1', '192.0.2.2', '192.0.2.3'],
            now: () => performance.now(),
          });
          const orig = p.latest.bind(p);
          p.latest = () => {
            order.push(cfg.wanName);
            if (cfg.wanName === 'wan1') {
              inSlot = true;
              queueMicrotask(() => {
                inSlot = false;
              });
            } else sameWakeup.push(inSlot);
            if (cfg.wanName === 'wan3' && slowWan3) {
              const end = performance.now() + 15; // 1.5 intervals of work
              while (performance.now() < end) {}
            }
            p.set([20, 20, 20]);
            return orig();
          };
          return { probe: p, kind: 'fping' };
        },
        createRouter: () => new FakeRouter() as unknown as RouterClient,
        notify: new FakeNotify(100),
        installSignals: false,
        logToConsole: false,
        logSink: () => {},
      },
    });
    const done = host.run();
    const d = host.daemon;
    expect(d.groups).toHaveLength(1);
    await waitFor('cycles', () => order.length >= 60);
    slowWan3 = true;
    await waitFor('wan3 overruns', () => (d.wans[2]?.runner.overruns ?? 0) >= 3);
    await host.stop();
    expect(await done).toBe(0);
    // in config order, slot after slot; never one WAN twice before the others ran
    const whole = order.slice(0, order.length - (order.length % 3));
    for (let i = 0; i < whole.length; i++) expect(whole[i]).toBe(names[i % 3]);
    expect(sameWakeup.length).toBeGreaterThan(30);
    expect(sameWakeup.every((x) => x)).toBe(true);
    // the slow WAN's own work is its overrun; the others' cycles stay within their interval
    expect(d.wans[0]?.runner.overruns).toBe(0);
    expect(d.wans[1]?.runner.overruns).toBe(0);
    const cycles = d.wans.map((w) => w.runner.cycles);
    expect(Math.max(...cycles) - Math.min(...cycles)).toBeLessThanOrEqual(1);
    const c = d.healthBody()['cycle'] as { overruns: number; skipped_ticks: number };
    expect(c.overruns).toBe(d.wans[2]?.runner.overruns);
    // the slow slots skipped their missed slots for all three WANs alike
    expect(c.skipped_ticks % 3).toBe(0);
    expect(c.skipped_ticks).toBeGreaterThanOrEqual(3);
  });

  it('a stale lock left by a dead process is replaced at start', async () => {
    const { spawnSync } = await import('node:child_process');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    await writeFile(path.join(dir, 'wan1.lock'), `${dead.stdout.toString()}\n`);
    const b = await build();
    expect((await readFile(path.join(dir, 'wan1.lock'), 'utf8')).trim()).toBe(String(process.pid));
    await b.host.stop();
    expect(existsSync(path.join(dir, 'wan1.lock'))).toBe(false);
  });
});
