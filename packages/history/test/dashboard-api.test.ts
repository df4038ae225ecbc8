import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorCode, exitStatusForCode, HttpBindError } from '@wanctl/runtime';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDashboardServer,
  type DashboardServer,
  HistoryRecorder,
  registerHistoryMetrics,
} from '../src/index.js';
import { type FixtureStores, makeStores } from './fixture.js';

let dir: string;
let fx: FixtureStores;
let server: DashboardServer;
const END = Date.UTC(2026, 0, 5, 19, 0, 0);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wanctl-history-api-'));
  fx = await makeStores(dir, END, 30);
  server = await createDashboardServer({
    files: [fx.wanFile, fx.steeringFile, join(dir, 'later.db')],
    port: 0,
  });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = async (path: string) => {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
};

describe('dashboard API over HTTP (loopback)', () => {
  it('serves the page and its assets from the package, nothing from elsewhere', async () => {
    expect(server.host).toBe('127.0.0.1');
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/text\/html/);
    expect(page.body).toContain('<script src="app.js"></script>');
    expect(page.body).not.toMatch(/https?:\/\//);
    const js = await get('/app.js');
    expect(js.type).toMatch(/javascript/);
    expect(js.body).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect((await get('/app.css')).status).toBe(200);
  });

  it('/api/meta lists the stores, and a file that does not exist yet as a problem', async () => {
    const meta = JSON.parse((await get('/api/meta')).body) as {
      stores: Array<{ wan: string; kind: string; extent: { first: number; last: number } }>;
      problems: Array<{ file: string; code: string }>;
    };
    expect(meta.stores.map((s) => [s.wan, s.kind])).toEqual([
      ['cable', 'autorate'],
      ['steering', 'steering'],
    ]);
    expect(meta.stores[0]?.extent.first).toBe(Math.floor(fx.start / 1000));
    expect(meta.problems).toEqual([
      expect.objectContaining({ file: join(dir, 'later.db'), code: 'WANCTL_HISTORY_NOT_FOUND' }),
    ]);
  });

  it('/api/series picks the resolution by the range; /api/events gives steering state at the start', async () => {
    const to = Math.floor(END / 1000);
    const fine = JSON.parse((await get(`/api/series?from=${to - 600}&to=${to}&points=2000`)).body) as {
      series: Array<{ wan: string; resolution: number; columns: { t: number[]; shaped_dl: number[] } }>;
    };
    expect(fine.series).toHaveLength(1);
    expect(fine.series[0]?.resolution).toBe(1);
    expect(fine.series[0]?.columns.t).toHaveLength(600);
    const coarse = JSON.parse(
      (await get(`/api/series?from=${to - 1800}&to=${to}&points=100`)).body,
    ) as typeof fine;
    expect(coarse.series[0]?.resolution).toBe(60);
    const ev = JSON.parse((await get(`/api/events?from=${to - 600}&to=${to}`)).body) as {
      steeringAtStart: Array<{ wan: string; state: string }>;
    };
    // steering was switched on 12.5 min into the 30 min and off at 18.5 min: before the last 10 min
    expect(ev.steeringAtStart).toEqual([{ wan: 'steering', state: 'CABLE_GOOD' }]);
  });

  it('bad queries are 400 with the reason; other methods 405', async () => {
    const bad = await get('/api/series?from=abc');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toEqual({ error: 'query parameter from: "abc" is not a number' });
    expect((await get('/api/series?from=10&to=5')).status).toBe(400);
    expect((await get('/api/series?from=0&to=10&resolution=7')).status).toBe(400);
    expect((await fetch(`${server.url}/api/series`, { method: 'POST' })).status).toBe(405);
  });

  it('a store damaged after it was opened answers an error, not a crash; the page is still served', async () => {
    const file = join(dir, 'fragile.db');
    const rec = HistoryRecorder.open({
      file,
      wan: 'fragile',
      kind: 'autorate',
      thread: 'inline',
      timers: false,
    });
    rec.cycle(END - 1000, {
      shapedDlBps: 1,
      shapedUlBps: 1,
      achievedDlBps: 1,
      achievedUlBps: 1,
      rttMs: 1,
      baselineMs: 1,
      deltaMs: 1,
      zoneDl: 'GREEN',
      zoneUl: 'GREEN',
      overrun: false,
    });
    await rec.close();
    const s = await createDashboardServer({ files: [file], port: 0 });
    try {
      const to = Math.floor(END / 1000);
      expect((await fetch(`${s.url}/api/series?from=${to - 60}&to=${to}`)).status).toBe(200);
      writeFileSync(file, Buffer.alloc(8192, 0x41));
      const r = await fetch(`${s.url}/api/series?from=${to - 60}&to=${to}`);
      expect([500, 503]).toContain(r.status);
      expect((await fetch(`${s.url}/`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});

describe('dashboard server bind failure', () => {
  it('a port in use is a typed HttpBindError (WANCTL_HTTP_BIND) naming the address and the cause', async () => {
    const err = await createDashboardServer({ files: [fx.wanFile], port: server.port }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HttpBindError);
    const e = err as HttpBindError;
    expect(errorCode(e)).toBe('WANCTL_HTTP_BIND');
    expect(exitStatusForCode(errorCode(e))).toBe(1);
    expect({ host: e.host, port: e.port, code: e.code }).toEqual({
      host: '127.0.0.1',
      port: server.port,
      code: 'EADDRINUSE',
    });
    expect(e.message).toMatch(
      new RegExp(`cannot listen on 127\\.0\\.0\\.1:${server.port}: the port is already in use`),
    );
    // the server that holds the port is unaffected
    expect((await fetch(`${server.url}/api/meta`)).status).toBe(200);
  });
});

describe('wanctl_history_degraded', () => {
  it('is 0 while the store is written and 1 while it cannot be', async () => {
    const registry = new Registry();
    const ok = HistoryRecorder.open({
      file: join(dir, 'ok.db'),
      wan: 'ok',
      kind: 'autorate',
      thread: 'inline',
      timers: false,
    });
    writeFileSync(join(dir, 'blocker'), '');
    const bad = HistoryRecorder.open({
      file: join(dir, 'blocker', 'x.db'),
      wan: 'bad',
      kind: 'autorate',
      thread: 'inline',
      timers: false,
    });
    registerHistoryMetrics(registry, () => [
      { wan: 'ok', recorder: ok },
      { wan: 'bad', recorder: bad },
    ]);
    const text = await registry.metrics();
    expect(text).toContain('wanctl_history_degraded{wan="ok"} 0');
    expect(text).toContain('wanctl_history_degraded{wan="bad"} 1');
    await ok.close();
    await bad.close();
  });
});
