/**
 * End to end, real daemon process against the RouterOS emulator (real REST and SSH sockets):
 * the daemon reconciles the router's max-limit with the rate it decided and wrote
 * (docs/decisions.md#d15), and health follows the router's reachability now (issue 16.4).
 * Build first (`npx tsc -b`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Emulator } from '@wanctl/routeros-emulator';
import { startUdpEchoResponder, type UdpEchoResponder } from '@wanctl/rtt-probe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type DaemonProc,
  freePort,
  getHealth,
  maxLimit,
  startDaemon,
  startRouter,
  tempDir,
  userKeyPair,
  waitFor,
  writeConfig,
} from './harness.js';

const WAN = { name: 'rec', downloadQueue: 'WAN-Download-REC', uploadQueue: 'WAN-Upload-REC' };
const IDLE_MS = 20;
/** RED needs a delay far above a busy 2-core machine's stalls (the thresholds below). */
const SPIKE_MS = IDLE_MS + 700;
/** Wide thresholds: on a busy machine a stalled reply must not move the rate (these tests need a steady rate). */
const calm = (y: string) =>
  y
    .replace('target_bloat_ms: 40', 'target_bloat_ms: 100')
    .replace('warn_bloat_ms: 80', 'warn_bloat_ms: 200')
    .replace('hard_red_bloat_ms: 150', 'hard_red_bloat_ms: 400')
    .replace('alpha_load: 0.5', 'alpha_load: 0.2');
const DL_CEIL = 100_000_000;
const UL_CEIL = 20_000_000;

interface RouterHealth {
  download_bps: number | null;
  upload_bps: number | null;
  reachable: boolean;
  corrections: number;
  corrections_download: number;
  corrections_upload: number;
  reads_ok: number;
  transports: Array<{ transport: string }> | null;
}

describe('wanctl-autorate reconciles the router (real process, emulator)', () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let emu: Emulator;
  let echo: UdpEchoResponder;
  let keyFile: string;
  let daemon: DaemonProc | null = null;

  beforeAll(async () => {
    tmp = await tempDir();
    const key = userKeyPair();
    keyFile = path.join(tmp.dir, 'router.key');
    await writeFile(keyFile, key.private, { mode: 0o600 });
    emu = await startRouter([WAN], key.public);
    echo = await startUdpEchoResponder({ port: 0, delayMs: IDLE_MS });
  });

  afterEach(async () => {
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    daemon = null;
    await emu.faults.clear();
    echo.setDelay(IDLE_MS);
  });

  afterAll(async () => {
    await echo?.close();
    await emu?.stop();
    await tmp?.cleanup();
  });

  /** A daemon at its ceilings on the router; returns its health and metrics ports. */
  async function startAtCeiling(
    tag: string,
    edit: (yaml: string) => string = calm,
  ): Promise<{ healthPort: number; metricsPort: number }> {
    const dir = path.join(tmp.dir, tag);
    await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
    const healthPort = await freePort();
    const metricsPort = await freePort();
    const cfgFile = await writeConfig({
      dir,
      wan: WAN,
      emu,
      keyFile,
      healthPort,
      metricsPort,
      udpPort: echo.port,
    });
    await writeFile(cfgFile, edit(await readFile(cfgFile, 'utf8')));
    daemon = startDaemon(['run', '--config', cfgFile]);
    await waitFor(
      'rates at the ceilings on the router',
      () => maxLimit(emu, WAN.downloadQueue) === DL_CEIL && maxLimit(emu, WAN.uploadQueue) === UL_CEIL,
      30_000,
    );
    await waitFor('health 200 with a queue read done', async () => {
      const h = await getHealth(healthPort);
      const r = h.body.wans[0]?.router as unknown as RouterHealth | undefined;
      return h.status === 200 && r !== undefined && r.reads_ok > 0 ? h : null;
    });
    // settled: the start-up (a busy first second can cost a cut) is over, no write for 1.5 s
    let last = -1;
    await waitFor(
      'no write for 1.5 s at the ceilings',
      async () => {
        const h = await getHealth(healthPort);
        const w = h.body.wans[0];
        const n = w?.router.writes_ok ?? -2;
        const steady =
          n === last && w?.controller.download_bps === DL_CEIL && w.controller.upload_bps === UL_CEIL;
        last = n;
        if (!steady) return null;
        return maxLimit(emu, WAN.downloadQueue) === DL_CEIL && maxLimit(emu, WAN.uploadQueue) === UL_CEIL
          ? true
          : null;
      },
      { timeoutMs: 30_000, intervalMs: 1500 },
    );
    return { healthPort, metricsPort };
  }

  const routerHealth = async (port: number) =>
    (await getHealth(port)).body.wans[0]?.router as unknown as RouterHealth;

  it('a router reboot that reset max-limit: the daemon rewrites its rates within ~2 s and counts the correction', async () => {
    const { healthPort, metricsPort } = await startAtCeiling('reboot');
    // the rate does not change (idle at the ceilings): no write of the law would fix the router
    const t0 = performance.now();
    emu.state.reboot({ maxLimits: { [WAN.downloadQueue]: '30M', [WAN.uploadQueue]: '5M' } });
    expect(maxLimit(emu, WAN.uploadQueue)).toBe(5_000_000);
    await waitFor(
      "the daemon's rates on the router again",
      () => maxLimit(emu, WAN.downloadQueue) === DL_CEIL && maxLimit(emu, WAN.uploadQueue) === UL_CEIL,
      10_000,
    );
    const took = performance.now() - t0;
    // ~2 s on a quiet machine (one read, one write); generous on a busy 2-core one
    expect(took).toBeLessThan(6000);
    const r = await routerHealth(healthPort);
    if (process.env.E2E_DEBUG) console.log(JSON.stringify(r), daemon?.logs().slice(-15));
    expect(r.corrections).toBeGreaterThanOrEqual(1);
    expect(r.corrections_download).toBeGreaterThanOrEqual(1);
    expect(r.corrections_upload).toBeGreaterThanOrEqual(1);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/wanctl_router_corrections_total\{direction="upload",wan="rec"\} [1-9]/);
    expect(metrics).toMatch(/wanctl_router_corrections_total\{direction="download",wan="rec"\} [1-9]/);
    // one log line says what the router held and what was written
    const line = daemon?.logs().find((l) => String(l['msg'] ?? l['message'] ?? '').includes('rewritten'));
    expect(line).toMatchObject({ router_ul_bps: 5_000_000, written_ul_bps: UL_CEIL });
  }, 60_000);

  it('an operator edit of max-limit is put back; it does not count while the router agrees', async () => {
    const { healthPort } = await startAtCeiling('edit');
    const before = (await routerHealth(healthPort)).corrections;
    // the router agrees with the daemon: reads go on, nothing is rewritten
    await new Promise((r) => setTimeout(r, 500));
    expect((await routerHealth(healthPort)).corrections).toBe(before);
    emu.state.set('/queue/tree', WAN.downloadQueue, { 'max-limit': '77M' });
    await waitFor('download back at the ceiling', () => maxLimit(emu, WAN.downloadQueue) === DL_CEIL, 10_000);
    const r = await routerHealth(healthPort);
    expect(r.corrections_download).toBe(before + 1);
    expect(r.corrections_upload).toBe(0);
  }, 60_000);

  it('a late REST write that lands after the SSH fallback wrote a newer rate does not stay on the router', async () => {
    const { healthPort } = await startAtCeiling('late');
    // REST answers every request 700 ms late: a write's GET answers, its PATCH is sent and then
    // abandoned at the REST attempt's share of the deadline (1 s); the emulator still applies it
    // after 700 ms, by then the SSH fallback has written the same rate and the next cut.
    await emu.faults.set('rest', { latencyMs: 700 });
    echo.setDelay(SPIKE_MS); // RED: the daemon cuts, cut after cut, to the floor
    await waitFor(
      'the daemon at its download floor (20M)',
      async () => {
        const h = await getHealth(healthPort);
        return h.body.wans[0]?.controller.download_bps === 20_000_000 ? h : null;
      },
      20_000,
    );
    // whatever landed late, the router ends with the daemon's rate
    await waitFor(
      "the router holds the daemon's rate",
      async () => {
        const r = await routerHealth(healthPort);
        return maxLimit(emu, WAN.downloadQueue) === 20_000_000 && r.download_bps === 20_000_000 ? r : null;
      },
      10_000,
    );
    // and keeps it (a late write landing now would be put back too)
    await new Promise((r) => setTimeout(r, 1500));
    expect(maxLimit(emu, WAN.downloadQueue)).toBe(20_000_000);
  }, 60_000);

  it('health returns to 200 within seconds after the router is back, while the rate is unchanged', async () => {
    const { healthPort } = await startAtCeiling('health');
    // both faces down, then a short RED spike: the cut cannot be written; the RTT recovers and
    // the rate climbs back to the ceiling the router still holds: no write is due any more
    await emu.faults.set('rest', { down: true });
    await emu.faults.set('ssh', { down: true });
    echo.setDelay(SPIKE_MS);
    await waitFor(
      'health 503 (router unreachable)',
      async () => {
        const h = await getHealth(healthPort);
        return h.status === 503 ? h : null;
      },
      20_000,
    );
    echo.setDelay(IDLE_MS);
    await waitFor(
      'the controller back at the ceilings',
      async () => {
        const h = await getHealth(healthPort);
        const c = h.body.wans[0]?.controller;
        return c?.download_bps === DL_CEIL && c.upload_bps === UL_CEIL ? h : null;
      },
      30_000,
    );
    expect(maxLimit(emu, WAN.downloadQueue)).toBe(DL_CEIL);
    await emu.faults.clear();
    const back = performance.now();
    const h = await waitFor(
      'health 200 again',
      async () => {
        const x = await getHealth(healthPort);
        return x.status === 200 ? x : null;
      },
      15_000,
    );
    expect(performance.now() - back).toBeLessThan(10_000);
    const r = h.body.wans[0]?.router as unknown as RouterHealth;
    expect(r.reachable).toBe(true);
    // each transport's last known state is shown
    expect(r.transports?.map((t) => t.transport).sort()).toEqual(['rest', 'ssh']);
  }, 90_000);
});
