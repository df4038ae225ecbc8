/**
 * Restored steering state checked before use (issue 16.5), the pure check and its wiring in the
 * daemon; and /health while the state cannot be saved (issue 16).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DaemonHost } from '@wanctl/runtime';
import { FakeNotify, FakeProbe, FakeRouter, memoryLogger } from '@wanctl/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SteeringDaemon, startSteeringDaemon } from '../src/daemon/daemon.js';
import {
  assertPlausibleState,
  MAX_RESTORED_QUEUE_PACKETS,
  MAX_RESTORED_RTT_MS,
  validateRestoredState,
} from '../src/daemon/restore-validate.js';
import { COMMENT, testConfig } from './helpers/config.js';
import { tempDir, writeAutorateState } from './helpers/e2e.js';

const B = { baselineRttMinMs: 10, baselineRttMaxMs: 60 };

function good(): Record<string, unknown> {
  return {
    current_state: 'WAN1_GOOD',
    bad_count: 0,
    good_count: 12,
    baseline_rtt: 24.1,
    history_rtt: [25, 26.5],
    history_delta: [0.9, 2.4],
    transitions: [],
    last_transition_time: null,
    rtt_delta_ewma: 1.7,
    queue_ewma: 3.2,
    cake_drops_history: [0, 1],
    queue_depth_history: [2, 5],
    cake_state_history: ['GREEN', 'GREEN'],
    red_count: 0,
    congestion_state: 'GREEN',
    cake_read_failures: 0,
    timestamp: '2026-12-04T10:00:00Z',
  };
}

const fields = (raw: unknown): string[] => validateRestoredState(raw, B).problems.map((p) => p.field);

describe('validateRestoredState (steering)', () => {
  it('a state a running daemon wrote passes unchanged', () => {
    const r = validateRestoredState(good(), B);
    expect(r.problems).toEqual([]);
    expect(r.state).toEqual(good());
  });

  it('an RTT delta EWMA of 1e9 ms (traffic would stay steered away) is dropped, naming field, value and bound', () => {
    const r = validateRestoredState({ ...good(), rtt_delta_ewma: 1e9 }, B);
    expect(r.problems).toEqual([
      {
        field: 'rtt_delta_ewma',
        value: 1e9,
        bound: `a number within [0, ${MAX_RESTORED_RTT_MS}] ms`,
        message: `rtt_delta_ewma = 1000000000 dropped: must be a number within [0, ${MAX_RESTORED_RTT_MS}] ms`,
      },
    ]);
    expect(r.state).not.toHaveProperty('rtt_delta_ewma');
    expect(r.state?.['good_count']).toBe(12);
  });

  it('counters must be whole numbers >= 0', () => {
    expect(
      fields({ ...good(), red_count: -1, good_count: 2.5, bad_count: '3', cake_read_failures: null }),
    ).toEqual(['red_count', 'good_count', 'bad_count', 'cake_read_failures']);
    expect(fields({ ...good(), red_count: 0, good_count: 1e6 })).toEqual([]);
  });

  it('queue_ewma within [0, 1e6] packets; negative, huge and non-finite values dropped', () => {
    for (const v of [-0.5, MAX_RESTORED_QUEUE_PACKETS + 1, Number.NaN, Number.POSITIVE_INFINITY, 'x'])
      expect(fields({ ...good(), queue_ewma: v })).toEqual(['queue_ewma']);
    expect(fields({ ...good(), queue_ewma: 0 })).toEqual([]);
  });

  it('baseline_rtt: null or within baseline_rtt_bounds (inclusive)', () => {
    expect(fields({ ...good(), baseline_rtt: null })).toEqual([]);
    expect(fields({ ...good(), baseline_rtt: 10 })).toEqual([]);
    expect(fields({ ...good(), baseline_rtt: 60 })).toEqual([]);
    const r = validateRestoredState({ ...good(), baseline_rtt: 0.5 }, B);
    expect(r.problems[0]?.message).toBe(
      'baseline_rtt = 0.5 dropped: must be null or a number within baseline_rtt_bounds [10, 60] ms',
    );
  });

  it('histories must be lists of plausible numbers, else the whole list is dropped', () => {
    expect(fields({ ...good(), history_rtt: [25, -1] })).toEqual(['history_rtt']);
    expect(fields({ ...good(), history_delta: [1e9] })).toEqual(['history_delta']);
    expect(fields({ ...good(), cake_drops_history: 'many' })).toEqual(['cake_drops_history']);
    expect(fields({ ...good(), queue_depth_history: [1, null] })).toEqual(['queue_depth_history']);
  });

  it('a root that is not an object gives no state; the input is never modified', () => {
    expect(validateRestoredState([1], B).state).toBeNull();
    const raw = { ...good(), rtt_delta_ewma: 1e9 };
    const before = JSON.stringify(raw);
    validateRestoredState(raw, B);
    expect(JSON.stringify(raw)).toBe(before);
  });

  it('assertPlausibleState (the .bak gate) throws exactly when something would be dropped', () => {
    expect(() => assertPlausibleState(good(), B)).not.toThrow();
    expect(() => assertPlausibleState({ ...good(), red_count: -3 }, B)).toThrow(/red_count = -3 dropped/);
  });
});

describe('the daemon restores through the check', () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let log: ReturnType<typeof memoryLogger>;
  const hosts: DaemonHost<SteeringDaemon>[] = [];
  beforeEach(async () => {
    tmp = await tempDir();
    log = memoryLogger();
    await writeAutorateState(join(tmp.dir, 'wan1_state.json'), 20);
  });
  afterEach(async () => {
    for (const h of hosts.splice(0)) await h.stop();
    await tmp.cleanup();
  });

  async function make(): Promise<SteeringDaemon> {
    const host = await startSteeringDaemon({
      config: testConfig(tmp.dir),
      dryRun: false,
      signals: false,
      serveHttp: false,
      lock: false,
      baselineStaleMs: 300_000,
      deps: {
        logger: log.logger,
        routerClient: new FakeRouter(COMMENT),
        probe: new FakeProbe(),
        notify: new FakeNotify(),
        now: () => Date.parse('2026-11-27T03:00:00Z'),
        monotonic: () => 1_000_000,
        sleep: async () => {},
      },
    });
    hosts.push(host);
    return host.daemon;
  }

  it('impossible values are dropped with a warning each; the saved state and the .bak never carry them', async () => {
    const file = join(tmp.dir, 'steering_state.json');
    await writeFile(file, JSON.stringify({ ...good(), rtt_delta_ewma: 1e9, red_count: -4 }));
    const d = await make();
    const warnings = log.lines.filter((l) => l.includes('[WARN]') && l.includes('dropped'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain(`state file ${file}: red_count = -4 dropped: must be a whole number >= 0`);
    expect(warnings[1]).toContain(`state file ${file}: rtt_delta_ewma = 1000000000 dropped`);
    const r = await d.runOnce();
    expect(r.ok).toBe(true);
    const saved = JSON.parse(await readFile(file, 'utf8'));
    expect(saved.rtt_delta_ewma).toBeLessThan(1000);
    expect(saved.red_count).toBeGreaterThanOrEqual(0);
    // the implausible file was not kept as backup (a .bak, if any, is a state this run wrote)
    if (existsSync(`${file}.bak`)) {
      const bak = JSON.parse(await readFile(`${file}.bak`, 'utf8'));
      expect(bak.rtt_delta_ewma).toBeLessThan(1000);
      expect(bak.red_count).toBeGreaterThanOrEqual(0);
    }
    expect(await readFile(`${file}.bak`, 'utf8').catch(() => '')).not.toContain('1000000000');
  });

  it('/health is degraded while the state file cannot be saved, naming the error', async () => {
    const d = await make();
    const file = join(tmp.dir, 'steering_state.json');
    await rm(file, { force: true });
    await mkdir(file); // a directory where the file should be: every save fails
    await d.runOnce().catch(() => {});
    const h = d.healthBody();
    expect(h.status).toBe('degraded');
    expect((h['problems'] as string[]).join('\n')).toMatch(
      /state file not saved \(\d+ failures in a row\): cannot write state file .*steering_state\.json/,
    );
    expect((h['state_file'] as { consecutive_failures: number }).consecutive_failures).toBeGreaterThan(0);
  });
});
