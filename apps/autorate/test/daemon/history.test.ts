/**
 * History wired into the daemon (in-process, @wanctl/testkit fakes, a real SQLite file in a
 * temp dir): one row a second, the restart event, per-WAN health; a store that cannot be
 * written degrades history, never the daemon.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAutorateConfig } from '@wanctl/config';
import { HistoryReader } from '@wanctl/history';
import type { RouterClient } from '@wanctl/router-client';
import { FakeNotify, FakeProbe, FakeRouter, freePort, waitFor } from '@wanctl/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAutorateDaemon } from '../../src/daemon/daemon.js';
import { configText } from './config.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'autorate-history-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
});

async function start(historyFile: string, dashboardPort?: number, failWrites = false) {
  const healthPort = await freePort();
  const cfg = parseAutorateConfig(
    configText(dir, {
      interval: '50',
      health: 'true',
      healthPort: String(healthPort),
      history: 'true',
      historyFile,
      historyFlushSec: '1',
      ...(dashboardPort !== undefined ? { dashboardPort: String(dashboardPort) } : {}),
    }),
    { file: path.join(dir, 'wan1.yaml') },
  );
  const router = new FakeRouter();
  if (failWrites) router.mode = 'fail';
  const lines: string[] = [];
  const host = await startAutorateDaemon({
    configs: [cfg],
    deps: {
      createProbe: () => {
        const p = new FakeProbe({
          reflectors: ['192.0.2.1', '192.0.2.2', '192.0.2.3'],
          now: () => performance.now(),
        });
        const orig = p.latest.bind(p);
        p.latest = () => {
          p.set([20, 21, 22]);
          return orig();
        };
        return { probe: p, kind: 'fping' };
      },
      createRouter: () => router as unknown as RouterClient,
      notify: new FakeNotify(100),
      installSignals: false,
      logToConsole: false,
      logSink: (l) => lines.push(l),
    },
  });
  const done = host.run();
  return { host, done, healthPort, lines, router };
}

async function health(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('autorate daemon with history', () => {
  it('records about one row per second of cycles and a restart event; health shows history ok; serves the dashboard', async () => {
    const file = path.join(dir, 'wan1_history.db');
    const t0 = Date.now();
    const dashboardPort = await freePort();
    const b = await start(file, dashboardPort);
    const runner = b.host.daemon.wans[0]?.runner;
    // about 4 s of 20 Hz cycles (a busy machine may run fewer: the asserts use the count)
    await waitFor('80 cycles', () => (runner?.cycles ?? 0) >= 80, 30_000);
    const h = await health(b.healthPort);
    expect(h.body['status']).toBe('healthy');
    const wan = (h.body['wans'] as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
    expect(wan['history']).toMatchObject({ status: 'ok', degraded: false, file });
    expect(h.body['history_dashboard']).toEqual({
      status: 'serving',
      url: `http://127.0.0.1:${dashboardPort}`,
      problem: null,
    });
    // the dashboard (loopback) reads the store the daemon writes
    await waitFor(
      'the dashboard shows rows',
      async () => {
        const res = await fetch(`http://127.0.0.1:${dashboardPort}/api/meta`);
        const meta = (await res.json()) as { stores: Array<{ wan: string; kind: string; extent: unknown }> };
        return meta.stores.length === 1 && meta.stores[0]?.wan === 'wan1' && meta.stores[0].extent !== null;
      },
      15_000,
    );
    const page = await fetch(`http://127.0.0.1:${dashboardPort}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/html/);
    const cycles = runner?.cycles ?? 0;
    expect(await b.host.stop()).toBe(0);
    expect(await b.done).toBe(0);
    const t1 = Date.now();
    await expect(fetch(`http://127.0.0.1:${dashboardPort}/api/meta`)).rejects.toThrow(); // closed at stop

    const r = HistoryReader.open(file);
    try {
      expect(r.wan).toBe('wan1');
      expect(r.kind).toBe('autorate');
      const rows = r.rows(1, Math.floor(t0 / 1000) - 1, Math.ceil(t1 / 1000) + 1);
      const seconds = (t1 - t0) / 1000;
      // one row per second that had cycles (the first and last seconds may be partial)
      expect(rows.length).toBeGreaterThanOrEqual(3);
      expect(rows.length).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
      for (let i = 1; i < rows.length; i++) expect(rows[i]?.t).toBeGreaterThan(rows[i - 1]?.t ?? 0);
      // every cycle closed by stop() is in some row (close writes the last, partial second)
      const recorded = rows.reduce((a, x) => a + (x.cycles ?? 0), 0);
      expect(recorded).toBeGreaterThanOrEqual(cycles - 2);
      expect(recorded).toBeLessThanOrEqual((runner?.cycles ?? 0) + 1);
      const full = rows.find((x) => (x.cycles ?? 0) >= 10) as (typeof rows)[number];
      expect(full).toBeDefined();
      // calm line: shaped at the ceilings, RTT about the probe's median, GREEN
      expect(full.shaped_dl).toBeGreaterThan(50e6);
      expect(full.shaped_dl).toBeLessThanOrEqual(100e6);
      expect(full.shaped_ul).toBeLessThanOrEqual(20e6);
      expect(full.rtt).toBeGreaterThan(15);
      expect(full.rtt).toBeLessThan(30);
      expect(full.zone_dl).toBe(1);
      const restarts = r.events(t0 - 1000, t1 + 1000, ['restart']);
      expect(restarts).toHaveLength(1);
      expect(restarts[0]?.detail).toMatch(/wanctl-autorate .* pid \d+/);
    } finally {
      r.close();
    }
  }, 60_000);

  it('a dashboard port in use: the daemon starts and cycles on, health says the dashboard is down and why', async () => {
    // another program holds the dashboard's port
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
    const port = (squatter.address() as AddressInfo).port;
    try {
      const b = await start(path.join(dir, 'wan1_history.db'), port);
      const runner = b.host.daemon.wans[0]?.runner;
      await waitFor('40 cycles', () => (runner?.cycles ?? 0) >= 40, 30_000);
      const h = await health(b.healthPort);
      expect(h.status).toBe(200);
      expect(h.body['status']).toBe('healthy');
      const d = h.body['history_dashboard'] as Record<string, unknown>;
      expect(d).toMatchObject({ status: 'down', url: null, code: 'WANCTL_HTTP_BIND' });
      expect(String(d['problem'])).toMatch(
        new RegExp(`127\\.0\\.0\\.1:${port}.*already in use.*history\\.dashboard\\.port`),
      );
      expect(b.lines.some((l) => l.includes('[WARN]') && l.includes('history dashboard not served'))).toBe(
        true,
      );
      // the loop is unaffected: cycles keep coming, the history store is written
      const c = runner?.cycles ?? 0;
      await waitFor('cycles continue', () => (runner?.cycles ?? 0) > c + 10, 10_000);
      expect(runner?.failedCycles).toBe(0);
      expect(await b.host.stop()).toBe(0);
      expect(await b.done).toBe(0);
    } finally {
      await new Promise<void>((r) => squatter.close(() => r()));
    }
  });

  it('history pointing at an unwritable path: the daemon stays healthy, history is degraded', async () => {
    // a regular file where the store's directory should be: ENOTDIR for any user (root too)
    await writeFile(path.join(dir, 'not-a-dir'), 'x');
    const file = path.join(dir, 'not-a-dir', 'wan1_history.db');
    const b = await start(file);
    const runner = b.host.daemon.wans[0]?.runner;
    await waitFor('20 cycles', () => (runner?.cycles ?? 0) >= 20, 30_000);
    let wan: Record<string, unknown> = {};
    await waitFor(
      'history degraded in /health',
      async () => {
        const h = await health(b.healthPort);
        expect(h.status).toBe(200);
        expect(h.body['status']).toBe('healthy');
        wan = (h.body['wans'] as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
        return (wan['history'] as { degraded?: boolean }).degraded === true;
      },
      15_000,
    );
    expect(wan['history']).toMatchObject({ status: 'degraded', file });
    expect(String((wan['history'] as { reason: unknown }).reason)).not.toBe('');
    expect(b.lines.some((l) => l.includes('history degraded'))).toBe(true);
    const cycles = runner?.cycles ?? 0;
    await waitFor('the loop keeps running', () => (runner?.cycles ?? 0) >= cycles + 10, 15_000);
    expect(await b.host.stop()).toBe(0);
    expect(await b.done).toBe(0);
  }, 60_000);

  it('a router refusing every write: at most one write_failure event a minute, not one per cycle', async () => {
    const file = path.join(dir, 'wan1_history.db');
    const t0 = Date.now();
    const b = await start(file, undefined, true);
    const runner = b.host.daemon.wans[0]?.runner;
    await waitFor('10 failed writes', () => (runner?.writesFailed ?? 0) >= 10, 30_000);
    expect(await b.host.stop()).toBe(0);
    expect(await b.done).toBe(0);
    const r = HistoryReader.open(file);
    try {
      const fails = r.events(t0 - 1000, Date.now() + 1000, ['write_failure']);
      expect(fails).toHaveLength(1);
      expect(fails[0]?.detail).not.toBe('');
    } finally {
      r.close();
    }
  }, 60_000);
});
