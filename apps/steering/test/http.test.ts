/** Health and metrics over real HTTP on 127.0.0.1 (the daemon in-process with typed fakes). */
import { join } from 'node:path';
import type { DaemonHost } from '@wanctl/runtime';
import { FakeNotify, FakeProbe, FakeRouter, memoryLogger } from '@wanctl/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SteeringDaemon, startSteeringDaemon } from '../src/daemon/daemon.js';
import { COMMENT, testConfig } from './helpers/config.js';
import { freePort, getJson, tempDir, writeAutorateState } from './helpers/e2e.js';

let tmp: { dir: string; cleanup(): Promise<void> };
let host: DaemonHost<SteeringDaemon> | null = null;

beforeEach(async () => {
  tmp = await tempDir();
  await writeAutorateState(join(tmp.dir, 'wan1_state.json'), 20);
});
afterEach(async () => {
  await host?.stop();
  host = null;
  await tmp.cleanup();
});

describe('health and metrics endpoints', () => {
  it('serve the state, 503 while degraded, v1.3 series on /metrics', async () => {
    const hp = await freePort();
    const mp = await freePort();
    const router = new FakeRouter(COMMENT);
    const probe = new FakeProbe({ next: 1 });
    host = await startSteeringDaemon({
      config: testConfig(tmp.dir, {
        red: 1,
        extra: `health_check: { enabled: true, port: ${hp} }\nmetrics: { enabled: true, port: ${mp} }\n`,
      }),
      signals: false,
      deps: { logger: memoryLogger().logger, routerClient: router, probe, notify: new FakeNotify() },
    });
    const d = host.daemon;
    await d.reconcile();
    router.congest(false);
    await d.runCycle();
    const h = await getJson(`http://127.0.0.1:${hp}/health`);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: 'healthy', state: 'WAN1_GOOD', rule: { on_router: 'disabled' } });

    router.congest(true);
    probe.next = 120;
    await d.runCycle();
    router.congest(true);
    await d.runCycle();
    expect(router.ruleDisabled).toBe(false);
    const m = await (await fetch(`http://127.0.0.1:${mp}/metrics`)).text();
    expect(m).toMatch(/wanctl_steering_enabled\{wan="wan1"\} 1/);
    expect(m).toMatch(/wanctl_congestion_state\{wan="wan1"\} 4/);
    expect(m).toMatch(
      /wanctl_steering_transitions_total\{wan="wan1",from="WAN1_GOOD",to="WAN1_DEGRADED"\} 1/,
    );
    expect(m).toMatch(/wanctl_steering_rule_enabled_on_router\{wan="wan1"\} 1/);
    // the process series are served with the daemon's own
    expect(m).toMatch(/^process_cpu_seconds_total /m);
    expect(m).toMatch(/^nodejs_eventloop_lag_p99_seconds /m);

    router.ruleExists = false;
    await d.runCycle();
    const h2 = await getJson(`http://127.0.0.1:${hp}/health`);
    expect(h2.status).toBe(503);
    expect(h2.body).toMatchObject({ status: 'degraded', rule: { on_router: 'missing' } });
  });
});
