/** The shared fakes behave as the apps' tests rely on. */
import { RouterConnectionError, RouterNotFoundError } from '@wanctl/router-client';
import { Watchdog } from '@wanctl/runtime';
import { describe, expect, it } from 'vitest';
import {
  FakeNotify,
  FakeProbe,
  FakeRouter,
  manualClock,
  memoryLogger,
  tempDir,
  waitFor,
} from '../src/index.js';

describe('FakeRouter', () => {
  it('holds one rule found by its exact comment; toggles, failures and calls are recorded', async () => {
    const r = new FakeRouter('Steer VoIP');
    expect(await r.findMangleRule('steer voip')).toBeNull();
    expect((await r.findMangleRule('Steer VoIP', { deadlineMs: 100 }))?.disabled).toBe(true);
    await r.enableMangleRule('Steer VoIP');
    expect(r.ruleDisabled).toBe(false);
    r.failNext = { stats: 1 };
    await expect(r.getQueueStats(['q'])).rejects.toBeInstanceOf(RouterConnectionError);
    r.ruleExists = false;
    await expect(r.disableMangleRule('Steer VoIP')).rejects.toBeInstanceOf(RouterNotFoundError);
    expect(r.ops()).toEqual(['find', 'find', 'enable', 'stats', 'disable']);
    expect(r.calls[1]?.opts).toEqual({ deadlineMs: 100 });
  });

  it('records queue writes; a hanging write is answered by release() or close()', async () => {
    const r = new FakeRouter();
    await r.setQueueLimits([
      { name: 'd', maxLimitBps: 5 },
      { name: 'u', maxLimitBps: 2 },
    ]);
    r.mode = 'hang';
    let done = false;
    const w = r.setQueueLimits([{ name: 'd', maxLimitBps: 7 }]).then(() => (done = true));
    await new Promise((x) => setImmediate(x));
    expect(done).toBe(false);
    await r.close();
    await w;
    expect(r.writes).toEqual([
      { dl: 5, ul: 2 },
      { dl: 7, ul: -1 },
    ]);
    r.mode = 'fail';
    await expect(r.setQueueLimits([])).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('FakeProbe', () => {
  it('set() scripts one round per reflector; otherwise the standing reply of the first', () => {
    const clock = manualClock(500);
    const p = new FakeProbe({ reflectors: ['a', 'b', 'c'], now: clock.now });
    expect(p.latest().samples).toEqual([]);
    p.set([20, null, 22]);
    expect(p.latest().samples.map((s) => [s.reflector, s.rttMs, s.at])).toEqual([
      ['a', 20, 500],
      ['c', 22, 500],
    ]);
    expect(p.latest().samples).toEqual([]); // the round was consumed
    p.next = 30;
    expect(p.latest().samples.map((s) => s.rttMs)).toEqual([30]);
    expect(p.health()[0]?.replies).toBe(3);
    p.throwOnLatest = true;
    expect(() => p.latest()).toThrow('probe exploded');
  });

  it('without a clock each reply is newer than the last', () => {
    const p = new FakeProbe({ next: 21 });
    const a = p.latest().samples[0]?.at ?? 0;
    const b = p.latest().samples[0]?.at ?? 0;
    expect(b).toBeGreaterThan(a);
  });
});

describe('FakeNotify', () => {
  it('records fields and lines; the watchdog re-arm (raw notify) is a JSON line', async () => {
    const n = new FakeNotify(1);
    const wd = new Watchdog({ notify: n, healthyStatus: 'Running' });
    await n.ready('Running');
    wd.cycleSucceeded();
    for (let i = 0; i < 3; i++) wd.cycleFailed('broken');
    wd.cycleSucceeded();
    await n.stopping('Stopping');
    expect(n.texts()).toEqual([
      'READY=1 Running',
      'WATCHDOG=1',
      'STATUS=Degraded - broken',
      '{"WATCHDOG":"1","STATUS":"Running"}',
      'STOPPING=1',
    ]);
    expect(n.count('WATCHDOG')).toBe(2);
    expect(n.messages[0]).toEqual({ READY: '1', STATUS: 'Running' });
  });
});

describe('helpers', () => {
  it('memoryLogger keeps lines at its level; waitFor returns the value or names what it waited for', async () => {
    const { logger, lines } = memoryLogger('wan1', 'info');
    logger.debug('hidden');
    logger.info('shown');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('[wan1] [INFO] shown');
    expect(await waitFor('a value', () => 7)).toBe(7);
    await expect(waitFor('never', () => false, { timeoutMs: 30, intervalMs: 5 })).rejects.toThrow(
      /timed out waiting for never \(last: false\)/,
    );
    const t = await tempDir();
    await t.cleanup();
  });
});
