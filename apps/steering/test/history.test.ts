/**
 * History wired into the steering daemon (in-process fakes, a real SQLite file in a temp dir):
 * the restart, a failed rule toggle and the transition with its reason are in the store after
 * stop; a store that cannot be written degrades history, never steering.
 */
import { writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { HistoryReader } from '@wanctl/history';
import type { DaemonHost } from '@wanctl/runtime';
import { FakeNotify, FakeProbe, FakeRouter, memoryLogger, waitFor } from '@wanctl/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SteeringDaemon, startSteeringDaemon } from '../src/daemon/daemon.js';
import { COMMENT, testConfig } from './helpers/config.js';
import { tempDir, writeAutorateState } from './helpers/e2e.js';

let tmp: { dir: string; cleanup(): Promise<void> };
let router: FakeRouter;
let probe: FakeProbe;
let log: ReturnType<typeof memoryLogger>;
let host: DaemonHost<SteeringDaemon> | null = null;
let mono: number;

beforeEach(async () => {
  tmp = await tempDir();
  router = new FakeRouter(COMMENT);
  probe = new FakeProbe({ next: 1 });
  log = memoryLogger();
  mono = 1_000_000;
  await writeAutorateState(join(tmp.dir, 'wan1_state.json'), 20);
});

afterEach(async () => {
  if (host) await host.stop();
  host = null;
  await tmp.cleanup();
});

async function make(historyFile: string, dashboardPort?: number): Promise<SteeringDaemon> {
  const dash = dashboardPort === undefined ? '' : `, dashboard: { enabled: true, port: ${dashboardPort} }`;
  host = await startSteeringDaemon({
    config: testConfig(tmp.dir, {
      red: 1,
      extra: `history: { enabled: true, file: "${historyFile}", flush_interval_sec: 1${dash} }`,
    }),
    signals: false,
    serveHttp: false,
    lock: false,
    baselineStaleMs: 300_000,
    deps: {
      logger: log.logger,
      routerClient: router,
      probe,
      notify: new FakeNotify(),
      monotonic: () => mono,
      sleep: async () => {},
    },
  });
  return host.daemon;
}

async function cycle(d: SteeringDaemon, congested: boolean) {
  router.congest(congested);
  probe.next = congested ? 100 : 21;
  mono += 2000;
  return d.runCycle();
}

describe('steering daemon with history', () => {
  it('records the restart, a failed toggle and the transition with its reason', async () => {
    const file = join(tmp.dir, 'steering_history.db');
    const t0 = Date.now();
    const d = await make(file);
    await d.reconcile();
    await cycle(d, false);
    router.failNext['toggle'] = 1;
    expect((await cycle(d, true)).routerOk).toBe(false);
    const r = await cycle(d, true);
    expect(r.stateChanged).toBe(true);
    expect(d.healthBody()['history']).toMatchObject({ status: 'ok', degraded: false, file });
    expect(await host?.stop()).toBe(0);
    host = null;
    const reader = HistoryReader.open(file);
    try {
      expect(reader.kind).toBe('steering');
      const ev = reader.events(t0 - 1000, Date.now() + 1000);
      const kinds = ev.filter((e) => e.kind !== 'zone').map((e) => e.kind);
      expect(kinds).toEqual(['restart', 'write_failure', 'steering']);
      const s = ev.find((e) => e.kind === 'steering');
      expect(s).toMatchObject({ from: 'WAN1_GOOD', to: 'WAN1_DEGRADED' });
      expect(s?.detail).toMatch(/WAN1/);
      expect(ev.find((e) => e.kind === 'write_failure')?.detail).toMatch(/toggle/);
    } finally {
      reader.close();
    }
  });

  it('an unwritable history path: steering runs on, history shows degraded', async () => {
    await writeFile(join(tmp.dir, 'not-a-dir'), 'x');
    const file = join(tmp.dir, 'not-a-dir', 'steering_history.db');
    const d = await make(file);
    await d.reconcile();
    await cycle(d, false);
    await waitFor(
      'history degraded',
      () => (d.healthBody()['history'] as { degraded: boolean }).degraded,
      15_000,
    );
    await cycle(d, false);
    const h = d.healthBody();
    expect(h['status']).toBe('healthy');
    expect(h['history']).toMatchObject({ status: 'degraded', file });
    expect(log.lines.join('\n')).toMatch(/history degraded/);
  });

  it('a dashboard port in use: steering starts and decides on, health says the dashboard is down and why', async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
    const port = (squatter.address() as AddressInfo).port;
    try {
      const d = await make(join(tmp.dir, 'steering_history.db'), port);
      await d.reconcile();
      await cycle(d, false);
      expect((await cycle(d, true)).stateChanged).toBe(true);
      const h = d.healthBody();
      expect(h.status).toBe('healthy');
      const dash = h['history_dashboard'] as Record<string, unknown>;
      expect(dash).toMatchObject({ status: 'down', url: null, code: 'WANCTL_HTTP_BIND' });
      expect(String(dash['problem'])).toMatch(/already in use/);
      expect(log.lines.some((l) => l.includes('history dashboard not served'))).toBe(true);
    } finally {
      await new Promise<void>((r) => squatter.close(() => r()));
    }
  });
});
