/**
 * End to end: a reflector that goes bad is dropped and replaced. The real daemon process (adaptive
 * law) against the RouterOS emulator, RTT by UDP echo to three loopback reflectors (127.0.0.1-3)
 * with a spare (127.0.0.4), all on one port. One reflector stops answering: the daemon swaps the
 * spare into its slot, logs why, counts it, and health shows it. Build first (`npx tsc -b`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startUdpEchoResponder, type UdpEchoResponder } from '@wanctl/rtt-probe';
import { afterAll, expect, it } from 'vitest';
import {
  type DaemonProc,
  freePort,
  getHealth,
  startDaemon,
  startRouter,
  tempDir,
  userKeyPair,
  waitFor,
  writeConfig,
} from './harness.js';

const WAN = { name: 'refl', downloadQueue: 'WAN-Download-R', uploadQueue: 'WAN-Upload-R' };

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Echo responders on 127.0.0.1 … 127.0.0.<n>, all on one port (the config has one udp_port). */
async function loopbackReflectors(n: number, delayMs: number): Promise<UdpEchoResponder[]> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const first = await startUdpEchoResponder({ port: 0, host: '127.0.0.1', delayMs });
    const all = [first];
    try {
      for (let i = 2; i <= n; i++)
        all.push(await startUdpEchoResponder({ port: first.port, host: `127.0.0.${i}`, delayMs }));
      return all;
    } catch {
      await Promise.all(all.map((r) => r.close())); // port taken on another address: try another
    }
  }
  throw new Error(`no UDP port free on 127.0.0.1-${n}`);
}

interface PoolHealth {
  in_use: string[];
  spares: string[];
  replacements: number;
  recent: Array<{ slot: number; from: string; to: string; reason: string }>;
}
type WanDoc = Awaited<ReturnType<typeof getHealth>>['body']['wans'][number] & { reflector_pool?: PoolHealth };

it('adaptive law: a reflector that stops answering is replaced by the spare; logged with why, counted, in health', async () => {
  const tmp = await tempDir();
  cleanups.push(() => tmp.cleanup());
  const key = userKeyPair();
  const keyFile = path.join(tmp.dir, 'router.key');
  await writeFile(keyFile, key.private, { mode: 0o600 });
  const emu = await startRouter([WAN], key.public);
  cleanups.push(() => emu.stop());
  const echos = await loopbackReflectors(4, 20);
  cleanups.push(() => Promise.all(echos.map((e) => e.close())));
  const port = (echos[0] as UdpEchoResponder).port;
  const name = (i: number) => `127.0.0.${i}:${port}`;
  const healthPort = await freePort();
  const metricsPort = await freePort();
  const file = await writeConfig({
    dir: tmp.dir,
    wan: WAN,
    emu,
    keyFile,
    healthPort,
    metricsPort,
    pingHosts: ['127.0.0.1', '127.0.0.2', '127.0.0.3'],
    medianOfThree: true,
    udpPort: port,
  });
  const yaml = (await readFile(file, 'utf8'))
    .replace(
      'continuous_monitoring:\n  enabled: true\n',
      'continuous_monitoring:\n  enabled: true\n  control_law: adaptive\n',
    )
    .replace(
      '  use_median_of_three: true\n',
      '  use_median_of_three: true\n  spare_ping_hosts: ["127.0.0.4"]\n',
    );
  expect(yaml).toContain('spare_ping_hosts');
  await writeFile(file, yaml);

  const daemon: DaemonProc = startDaemon(['run', '--config', file]);
  cleanups.push(async () => {
    if (daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
  });
  const wan = async () => (await getHealth(healthPort)).body.wans[0] as WanDoc | undefined;
  // all three answer; the pool shows them and the spare
  const h0 = await waitFor(
    'replies from the three reflectors',
    async () => {
      const w = await wan().catch(() => undefined);
      return w?.measurement.reflectors.length === 3 && w.measurement.reflectors.every((r) => r.replies > 0)
        ? w
        : null;
    },
    30_000,
  );
  expect(h0.reflector_pool).toEqual({
    in_use: [name(1), name(2), name(3)],
    spares: [name(4)],
    replacements: 0,
    failed_swaps: 0,
    recent: [],
  });
  expect((echos[3] as UdpEchoResponder).stats.received).toBe(0); // the spare is not probed

  // 127.0.0.2 stops answering: silent 2 s (the law), confirmed 1 s, then replaced by the spare
  const stoppedAt = performance.now();
  (echos[1] as UdpEchoResponder).setDropAll(true);
  const h1 = await waitFor(
    'the spare in slot 1, answering',
    async () => {
      const w = await wan().catch(() => undefined);
      const r = w?.measurement.reflectors[1];
      return w?.reflector_pool?.replacements === 1 && r?.reflector === name(4) && r.replies > 0 ? w : null;
    },
    30_000,
  );
  const tookS = (performance.now() - stoppedAt) / 1000;
  expect(tookS).toBeGreaterThan(2.5);
  expect(h1.reflector_pool).toMatchObject({
    in_use: [name(1), name(4), name(3)],
    spares: [name(2)],
    replacements: 1,
    recent: [{ slot: 1, from: name(2), to: name(4) }],
  });
  expect(h1.reflector_pool?.recent[0]?.reason).toMatch(/^silent \d+\.\d s$/);
  expect(h1.measurement.reflectors.map((r) => r.reflector)).toEqual([name(1), name(4), name(3)]);
  // the main log says which, by which, and why
  const line = daemon.logs().find((l) => String(l['message']).includes(' replaced by '));
  expect(line?.['message']).toMatch(
    new RegExp(
      `^reflector 127\\.0\\.0\\.2:${port} replaced by 127\\.0\\.0\\.4:${port}: silent \\d+\\.\\d s$`,
    ),
  );
  expect(line?.['level']).toBe('WARN');
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  expect(metrics).toMatch(/wanctl_reflector_replacements_total\{wan="refl"\} 1\b/);
  // one replacement only: the new slot is good, nothing else is bad
  await new Promise((r) => setTimeout(r, 1500));
  expect((await wan())?.reflector_pool?.replacements).toBe(1);

  daemon.child.kill('SIGTERM');
  expect((await daemon.exited).code).toBe(0);
}, 120_000);
