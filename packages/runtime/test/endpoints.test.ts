/** startEndpoints over real HTTP on 127.0.0.1, including ports that are already taken. */
import { createServer, type Server } from 'node:net';
import { Counter } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsRegistry, type Endpoints, type HealthBody, startEndpoints } from '../src/index.js';

const FILE = '/etc/wanctl/wan1.yaml';
const eps: Endpoints[] = [];
const blockers: Server[] = [];

afterEach(async () => {
  for (const e of eps.splice(0)) await e.close();
  for (const b of blockers.splice(0)) await new Promise<void>((r) => b.close(() => r()));
});

/** A port on 127.0.0.1 held by a plain TCP server, so binding it fails with EADDRINUSE. */
async function takenPort(): Promise<number> {
  const s = createServer();
  blockers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const a = s.address();
  if (a === null || typeof a === 'string') throw new Error('no port');
  return a.port;
}

function recorder() {
  const lines: Array<{ level: 'info' | 'warn'; msg: string; fields?: Record<string, unknown> }> = [];
  return {
    lines,
    log: {
      info: (msg: string, fields?: Record<string, unknown>) =>
        lines.push({ level: 'info', msg, ...(fields ? { fields } : {}) }),
      warn: (msg: string, fields?: Record<string, unknown>) =>
        lines.push({ level: 'warn', msg, ...(fields ? { fields } : {}) }),
    },
  };
}

function registry() {
  const reg = createMetricsRegistry({ defaultMetrics: false });
  new Counter({ name: 'wanctl_cycles_total', help: 'cycles', registers: [reg] }).inc(7);
  return reg;
}

const on = (port = 0) => ({ enabled: true, host: '127.0.0.1', port });
const off = { enabled: false, host: '127.0.0.1', port: 0 };

describe('startEndpoints', () => {
  it('serves health (200 healthy, 503 otherwise) and metrics on their own ports, and logs where', async () => {
    let body: HealthBody = { status: 'healthy' };
    const r = recorder();
    const ep = await startEndpoints({
      file: FILE,
      health: on(),
      metrics: on(),
      registry: registry(),
      provider: () => body,
      log: r.log,
    });
    eps.push(ep);
    expect(ep.notes).toEqual([]);
    expect(ep.health).not.toBeNull();
    expect(ep.metrics).not.toBeNull();
    const hp = ep.health?.port;
    const mp = ep.metrics?.port;
    expect(hp).not.toBe(mp);

    let res = await fetch(`http://127.0.0.1:${hp}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'healthy' });
    body = { status: 'degraded' };
    res = await fetch(`http://127.0.0.1:${hp}/health`);
    expect(res.status).toBe(503);
    // metrics are not on the health port unless asked for
    expect((await fetch(`http://127.0.0.1:${hp}/metrics`)).status).toBe(404);

    res = await fetch(`http://127.0.0.1:${mp}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('wanctl_cycles_total 7');

    expect(r.lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(r.lines.map((l) => l.msg)).toEqual([
      `metrics at http://127.0.0.1:${mp}/metrics`,
      `health at http://127.0.0.1:${hp}/health`,
    ]);

    await ep.close();
    await expect(fetch(`http://127.0.0.1:${hp}/health`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${mp}/metrics`)).rejects.toThrow();
    await ep.close(); // a second close is harmless
  });

  it('with metricsOnHealthPort also serves /metrics on the health port', async () => {
    const ep = await startEndpoints({
      file: FILE,
      health: on(),
      metrics: on(),
      registry: registry(),
      metricsOnHealthPort: true,
      provider: () => ({ status: 'healthy' }),
      log: recorder().log,
    });
    eps.push(ep);
    const res = await fetch(`http://127.0.0.1:${ep.health?.port}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('wanctl_cycles_total 7');
  });

  it('a health port in use is a warning naming health_check.port and the file; metrics still served', async () => {
    const port = await takenPort();
    const r = recorder();
    const ep = await startEndpoints({
      file: FILE,
      health: on(port),
      metrics: on(),
      registry: registry(),
      provider: () => ({ status: 'healthy' }),
      log: r.log,
    });
    eps.push(ep);
    expect(ep.health).toBeNull();
    expect(ep.notes).toEqual([`health not served (127.0.0.1:${port} unavailable)`]);
    const warns = r.lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]?.msg).toContain('health endpoint NOT served');
    expect(warns[0]?.msg).toContain('already in use');
    expect(warns[0]?.msg).toContain(`set health_check.port in ${FILE} to a free port`);
    expect(warns[0]?.fields).toEqual({ key: 'health_check.port', port });
    const res = await fetch(`http://127.0.0.1:${ep.metrics?.port}/metrics`);
    expect(res.status).toBe(200);
  });

  it('a metrics port in use is a warning naming metrics.port; health still served', async () => {
    const port = await takenPort();
    const r = recorder();
    const ep = await startEndpoints({
      file: FILE,
      health: on(),
      metrics: on(port),
      registry: registry(),
      provider: () => ({ status: 'healthy' }),
      log: r.log,
    });
    eps.push(ep);
    expect(ep.metrics).toBeNull();
    expect(ep.notes).toEqual([`metrics not served (127.0.0.1:${port} unavailable)`]);
    const warns = r.lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]?.msg).toContain(`set metrics.port in ${FILE}`);
    expect(warns[0]?.fields).toEqual({ key: 'metrics.port', port });
    expect((await fetch(`http://127.0.0.1:${ep.health?.port}/health`)).status).toBe(200);
  });

  it('both ports in use: both noted, nothing thrown, close still resolves', async () => {
    const p1 = await takenPort();
    const p2 = await takenPort();
    const r = recorder();
    const ep = await startEndpoints({
      file: FILE,
      health: on(p1),
      metrics: on(p2),
      registry: registry(),
      provider: () => ({ status: 'healthy' }),
      log: r.log,
    });
    expect(ep.health).toBeNull();
    expect(ep.metrics).toBeNull();
    expect(ep.notes).toHaveLength(2);
    expect(r.lines.filter((l) => l.level === 'warn')).toHaveLength(2);
    await expect(ep.close()).resolves.toBeUndefined();
  });

  it('starts nothing when disabled, and no metrics without a registry', async () => {
    const r = recorder();
    const none = await startEndpoints({
      file: FILE,
      health: off,
      metrics: off,
      registry: registry(),
      provider: () => ({ status: 'healthy' }),
      log: r.log,
    });
    expect(none.health).toBeNull();
    expect(none.metrics).toBeNull();
    const noReg = await startEndpoints({
      file: FILE,
      health: off,
      metrics: on(),
      registry: null,
      provider: () => ({ status: 'healthy' }),
      log: r.log,
    });
    expect(noReg.metrics).toBeNull();
    expect(r.lines).toEqual([]);
    expect(none.notes).toEqual([]);
    expect(noReg.notes).toEqual([]);
  });
});
