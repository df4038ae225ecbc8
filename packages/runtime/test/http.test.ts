import { Counter } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMetricsRegistry,
  type HealthBody,
  HealthServer,
  HttpBindError,
  type RunningHttpServer,
  startHttpServer,
  startMetricsServer,
} from '../src/index.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('HealthServer', () => {
  it('answers 200 while healthy and 503 while degraded, on / and /health, with metrics on /metrics', async () => {
    let body: HealthBody = { status: 'healthy', consecutive_failures: 0 };
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const c = new Counter({
      name: 'wanctl_cycles_total',
      help: 'cycles',
      labelNames: ['wan'],
      registers: [registry],
    });
    c.inc({ wan: 'wan1' }, 3);
    const hs = await HealthServer.start({ port: 0, provider: () => body, registry });
    closers.push(() => hs.close());
    expect(hs.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    let r = await fetch(`${hs.url}/health`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(await r.json()).toEqual(body);
    body = { status: 'degraded', consecutive_failures: 3 };
    r = await fetch(`${hs.url}/?x=1`);
    expect(r.status).toBe(503);
    expect(((await r.json()) as { status: string }).status).toBe('degraded');
    r = await fetch(`${hs.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/plain');
    expect(await r.text()).toContain('wanctl_cycles_total{wan="wan1"} 3');
    r = await fetch(`${hs.url}/nope`);
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: 'Not found' });
    r = await fetch(`${hs.url}/health`, { method: 'POST' });
    expect(r.status).toBe(405);
  });

  it('a provider that throws gives 503 with the error, and the server keeps serving', async () => {
    let fail = true;
    const hs = await HealthServer.start({
      port: 0,
      provider: () => {
        if (fail) throw new Error('boom');
        return { status: 'healthy' };
      },
    });
    closers.push(() => hs.close());
    let r = await fetch(`${hs.url}/health`);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ status: 'error', error: 'boom' });
    fail = false;
    r = await fetch(`${hs.url}/health`);
    expect(r.status).toBe(200);
  });

  it('a port in use is an HttpBindError that says so', async () => {
    const first: RunningHttpServer = await startHttpServer({ port: 0, routes: {} });
    closers.push(() => first.close());
    const err = await HealthServer.start({ port: first.port, provider: () => ({ status: 'healthy' }) }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HttpBindError);
    expect((err as HttpBindError).code).toBe('EADDRINUSE');
    expect((err as Error).message).toContain(`127.0.0.1:${first.port}`);
    expect((err as Error).message).toContain('already in use');
  });

  it('each daemon gets its own registry (two can coexist with the same metric names)', async () => {
    const a = createMetricsRegistry();
    const b = createMetricsRegistry();
    new Counter({ name: 'wanctl_x_total', help: 'x', registers: [a] }).inc(1);
    new Counter({ name: 'wanctl_x_total', help: 'x', registers: [b] }).inc(2);
    const ms = await startMetricsServer({ port: 0, registry: b });
    closers.push(() => ms.close());
    const text = await (await fetch(`${ms.url}/metrics`)).text();
    expect(text).toContain('wanctl_x_total 2');
    // the process series under their standard names (stock Node.js dashboards use them)
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds /m);
    expect(text).not.toContain('wanctl_process_');
    expect(await a.getSingleMetricAsString('wanctl_x_total')).toContain('wanctl_x_total 1');
  });
});
