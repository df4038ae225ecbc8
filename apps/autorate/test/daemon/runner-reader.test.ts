/**
 * The runner with the queue reader (fake clock, fake probe, a scripted router): the adaptive law
 * in the runner (state file keys, achieved rates recorded), reconciliation ordering (a law write
 * never overlaps a correction), and reads clearing "router unreachable" (docs/decisions.md#d15).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CallOptions, QueueLimit } from '@wanctl/router-client';
import { FakeProbe, manualClock, memoryLogger } from '@wanctl/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { controlParamsFromConfig } from '../../src/config-params.js';
import { adaptiveParamsFromControl } from '../../src/control/index.js';
import { WanMeasurement } from '../../src/daemon/measurement.js';
import { QueueReader } from '../../src/daemon/queue-reader.js';
import { Recorder } from '../../src/daemon/recorder.js';
import { WanRunner } from '../../src/daemon/wan-runner.js';
import { config } from './config.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'autorate-reader-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A router whose writes the test answers by hand and whose queues it sets. */
class ScriptedRouter {
  activeTransport = 'rest';
  held = new Map<string, number>();
  bytes = new Map<string, number>();
  writes: Array<{ limits: number[]; resolve: () => void; reject: (e: Error) => void }> = [];
  inFlight = 0;
  maxInFlight = 0;
  readsFail = false;
  setQueueLimits(limits: readonly QueueLimit[], _o?: CallOptions): Promise<void> {
    const vals = limits.map((l) => l.maxLimitBps);
    const names = limits.map((l) => l.name);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise((res, rej) => {
      this.writes.push({
        limits: vals,
        resolve: () => {
          names.forEach((n, i) => {
            this.held.set(n, vals[i] as number);
          });
          this.inFlight--;
          res();
        },
        reject: (e) => {
          this.inFlight--;
          rej(e);
        },
      });
    });
  }
  async getQueueStats(names: readonly string[]) {
    if (this.readsFail) throw new Error('connect ECONNREFUSED');
    return names.map((n) => ({ bytes: this.bytes.get(n) ?? 0, maxLimitBps: this.held.get(n) }));
  }
  /** Answers every write waiting. */
  answerAll(ok = true): void {
    for (const w of this.writes.splice(0)) {
      if (ok) w.resolve();
      else w.reject(new Error('connect ECONNREFUSED'));
    }
  }
}

function rig(law: 'v1.3' | 'adaptive', recorder: Recorder | null = null) {
  const cfg = config(dir, {});
  const clock = manualClock();
  const probe = new FakeProbe({ reflectors: ['192.0.2.1', '192.0.2.2', '192.0.2.3'], now: clock.now });
  const router = new ScriptedRouter();
  const { logger, lines } = memoryLogger('wan1', 'info');
  const measurement = new WanMeasurement({
    probe,
    probeKind: 'fping',
    medianOfThree: true,
    holdMs: 250,
    fallback: { enabled: false, checkGateway: false, checkTcp: false, gatewayIp: null, tcpTargets: [] },
    pingTimeoutMs: 1000,
    checks: { gateway: async () => null, tcp: async () => ({ ok: false, rttMs: null, results: [] }) },
    now: clock.now,
  });
  const params = controlParamsFromConfig(cfg);
  const reader = new QueueReader({
    source: router,
    names: [cfg.queues.download, cfg.queues.upload],
    deadlineMs: 1000,
    now: clock.now,
    minWindowMs: 0,
    minIntervalMs: 0,
  });
  const runner = new WanRunner({
    name: 'wan1',
    params,
    law,
    ...(law === 'adaptive' ? { adaptive: adaptiveParamsFromControl(params) } : {}),
    reader,
    queues: cfg.queues,
    measurement,
    probeKind: 'fping',
    router,
    writeDeadlineMs: 1000,
    logger,
    now: clock.now,
    recorder,
  });
  const step = async (rtts: Array<number | null> = [20, 21, 22]) => {
    probe.set(rtts);
    clock.advance(50);
    runner.runCycle();
    await new Promise((r) => setImmediate(r));
  };
  return { runner, router, clock, lines, step, cfg };
}

describe('WanRunner with the queue reader', () => {
  it('adaptive: the state file keeps the v1.3 keys, with the law rates and the v1.3 baseline', async () => {
    const { runner, router, step } = rig('adaptive');
    for (let i = 0; i < 10; i++) {
      await step();
      router.answerAll();
    }
    const body = runner.stateBody() as unknown as Record<string, Record<string, unknown>>;
    // v1.3's keys plus the D14 congestion report
    expect(Object.keys(body).sort()).toEqual([
      'congestion',
      'download',
      'ewma',
      'last_applied',
      'timestamp',
      'upload',
    ]);
    const h = runner.health() as {
      controller: { download_bps: number; upload_bps: number };
      control_law: string;
    };
    expect(h.control_law).toBe('adaptive');
    expect(body['download']?.['current_rate']).toBe(h.controller.download_bps);
    expect(body['upload']?.['current_rate']).toBe(h.controller.upload_bps);
    expect(body['last_applied']?.['dl_rate']).toBe(router.held.get('WAN-Download-1'));
    expect(body['ewma']?.['baseline_rtt']).toBeGreaterThan(19);
    expect(body['ewma']?.['baseline_rtt']).toBeLessThan(23);
  });

  it('adaptive: the recorder writes the achieved rates the law was given', async () => {
    const file = path.join(dir, 'rec.jsonl');
    const rec = new Recorder(file, 1);
    const { router, step } = rig('adaptive', rec);
    let bytes = 0;
    for (let i = 0; i < 8; i++) {
      bytes += 62_500; // 10 Mbit/s at 50 ms
      router.bytes.set('WAN-Download-1', bytes);
      router.bytes.set('WAN-Upload-1', bytes / 10);
      await step();
      router.answerAll();
    }
    rec.close();
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    const withRate = lines.filter((l) => 'dl_achieved_bps' in l);
    expect(withRate.length).toBeGreaterThan(3);
    expect(withRate.at(-1)?.['dl_achieved_bps']).toBe(10_000_000);
    expect(withRate.at(-1)?.['ul_achieved_bps']).toBe(1_000_000);
  });

  it('a correction and a law write are never in flight together; the law write follows the correction', async () => {
    const { runner, router, step } = rig('v1.3');
    await step();
    router.answerAll(); // the first write (ceilings)
    for (let i = 0; i < 4; i++) await step();
    expect(router.held.get('WAN-Download-1')).toBe(100_000_000);
    // the router loses its max-limit (reboot): the next reading shows it, a correction goes out
    router.held.set('WAN-Download-1', 30_000_000);
    for (let i = 0; i < 3 && router.writes.length === 0; i++) await step();
    expect(router.writes).toHaveLength(1);
    expect(router.writes[0]?.limits).toEqual([100_000_000, 20_000_000]);
    // meanwhile the law wants a cut (high RTT): it waits for the correction
    for (let i = 0; i < 6; i++) await step([400, 400, 400]);
    expect(router.writes).toHaveLength(1);
    expect(router.maxInFlight).toBe(1);
    router.answerAll();
    await step([400, 400, 400]);
    await step([400, 400, 400]);
    expect(router.maxInFlight).toBe(1);
    expect(router.writes.length).toBe(1);
    expect(router.writes[0]?.limits[0]).toBeLessThan(100_000_000); // the law's cut, after the correction
    const h = runner.health() as {
      router: { corrections: number; corrections_download: number; corrections_upload: number };
    };
    expect(h.router).toMatchObject({ corrections: 1, corrections_download: 1, corrections_upload: 0 });
  });

  it('"router unreachable" clears on a successful read when no write is due', async () => {
    const { runner, router, step } = rig('v1.3');
    await step();
    router.answerAll();
    for (let i = 0; i < 3; i++) await step();
    // reads fail: the router counts as unreachable after 3 failures, health degraded
    router.readsFail = true;
    for (let i = 0; i < 8; i++) await step();
    expect((runner.health() as { router: { reachable: boolean } }).router.reachable).toBe(false);
    expect(runner.degraded).toBe(true);
    // the router is back: the next read clears it (the rate is unchanged: no write)
    router.readsFail = false;
    for (let i = 0; i < 3; i++) await step();
    expect(router.writes).toHaveLength(0);
    expect((runner.health() as { router: { reachable: boolean } }).router.reachable).toBe(true);
    for (let i = 0; i < 3; i++) await step();
    expect(runner.degraded).toBe(false);
  });
});
