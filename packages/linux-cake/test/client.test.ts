/**
 * LinuxCakeClient over the batch protocol, against a stand-in tc (fake-tc.mjs) that answers
 * with real CAKE output: needs no root. The real kernel is in kernel.test.ts.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CakeParamsConfig } from '@wanctl/config';
import { afterEach, describe, expect, it } from 'vitest';
import {
  LinuxCakeClient,
  TcCommandError,
  TcMismatchError,
  TcNotFoundError,
  TcTimeoutError,
  TcUnavailableError,
  TcUnknownQueueError,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'linux-cake-test-'));
const capture = JSON.parse(
  readFileSync(join(import.meta.dirname, 'fixtures', 'cake-diffserv4-4qdiscs.json'), 'utf8'),
) as Array<Record<string, unknown>>;

function fakeTc(env: Record<string, string> = {}): string {
  const state = join(dir, `state-${Math.random().toString(36).slice(2)}.json`);
  // ens16 (upload) and ens17 (download) as captured in production
  writeFileSync(
    state,
    JSON.stringify({
      ens16: capture.filter((e) => e['dev'] === 'ens16'),
      ens17: capture.filter((e) => e['dev'] === 'ens17'),
    }),
  );
  const bin = join(dir, `tc-${Math.random().toString(36).slice(2)}`);
  const vars = Object.entries({ FAKE_TC_STATE: state, ...env })
    .map(([k, v]) => `${k}='${v}'`)
    .join(' ');
  writeFileSync(
    bin,
    `#!/bin/sh\n${vars} exec "${process.execPath}" "${join(import.meta.dirname, 'fake-tc.mjs')}" "$@"\n`,
  );
  chmodSync(bin, 0o755);
  return bin;
}

const P: CakeParamsConfig = {
  downloadInterface: 'ens17',
  uploadInterface: 'ens16',
  downloadQdisc: 'cake',
  uploadQdisc: 'cake',
  overhead: 'docsis',
  mpu: undefined,
  memlimit: undefined,
  rttMs: undefined,
  diffserv: 'diffserv4',
  ackFilter: undefined,
  splitGso: undefined,
  ecn: undefined,
  nat: undefined,
  wash: undefined,
  ingress: undefined,
  tbfLatencyMs: 5,
};
const queues = { download: 'WAN-Download', upload: 'WAN-Upload' };
const clients: LinuxCakeClient[] = [];
const client = (params: CakeParamsConfig, tcBinary: string, deadlineMs = 3000) => {
  const c = new LinuxCakeClient({ queues, params, tcBinary, deadlineMs });
  clients.push(c);
  return c;
};
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe('LinuxCakeClient over tc -batch', () => {
  it('checks what the kernel holds, writes both rates, reads them back and the stats per tin', async () => {
    const c = client(P, fakeTc());
    await c.start({ mode: 'verify' });
    expect(await c.getLimits()).toEqual({ downloadBps: 940_000_000, uploadBps: 38_000_000 });
    await c.setQueueLimits([
      { name: 'WAN-Download', maxLimitBps: 612_000_000, queueType: 'cake-down-wan1' },
      { name: 'WAN-Upload', maxLimitBps: 30_000_000 },
    ]);
    expect(await c.getLimits()).toEqual({ downloadBps: 612_000_000, uploadBps: 30_000_000 });
    const [ul] = await c.getQueueStats(['WAN-Upload']);
    expect(ul).toMatchObject({
      name: 'WAN-Upload',
      iface: 'ens16',
      kind: 'cake',
      dropped: 7105716,
      maxLimitBps: 30_000_000,
    });
    expect(ul?.tins).toHaveLength(4);
    expect(c.writes).toBe(2);
    expect(c.tcSpawns).toBe(1); // one child for everything
  });

  it('refuses to start when the qdisc differs from cake_params (typed, with every difference)', async () => {
    const c = client({ ...P, overhead: 'ethernet', diffserv: 'besteffort' }, fakeTc());
    const err = await c.start({ mode: 'verify' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TcMismatchError);
    expect((err as TcMismatchError).code).toBe('WANCTL_TC_MISMATCH');
    expect((err as TcMismatchError).mismatches.map((m) => `${m.iface} ${m.option}`)).toEqual([
      'ens17 diffserv',
      'ens17 overhead',
      'ens17 mpu',
      'ens16 diffserv',
      'ens16 overhead',
      'ens16 mpu',
    ]);
    expect((err as Error).message).toMatch(/ens17 overhead is 18, expected 38/);
  });

  it('per-direction options: ingress on download, ack-filter on upload, as the capture holds', async () => {
    const none = { ...P, overhead: undefined, diffserv: undefined };
    const ok = client(
      {
        ...P,
        download: { ...none, overhead: 'docsis', diffserv: 'diffserv4', ingress: true, ackFilter: false },
        upload: { ...none, overhead: 'docsis', diffserv: 'diffserv4', ingress: false, ackFilter: true },
      },
      fakeTc(),
    );
    await ok.start({ mode: 'verify' });
    // the same options for both directions cannot match both interfaces
    const flat = client({ ...P, ingress: true, ackFilter: false }, fakeTc());
    const err = (await flat.start({ mode: 'verify' }).catch((e: unknown) => e)) as TcMismatchError;
    expect(err.mismatches).toEqual([
      { iface: 'ens16', option: 'ack-filter', expected: 'disabled', found: 'enabled' },
      { iface: 'ens16', option: 'ingress', expected: true, found: false },
    ]);
  });

  it('a write the kernel does not hold afterwards is a mismatch', async () => {
    const c = client(P, fakeTc({ FAKE_TC_FREEZE: 'ens16' }));
    await c.start({ mode: 'verify' });
    const err = await c
      .setQueueLimits([
        { name: 'WAN-Download', maxLimitBps: 800_000_000 },
        { name: 'WAN-Upload', maxLimitBps: 20_000_000 },
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TcMismatchError);
    expect((err as TcMismatchError).mismatches).toEqual([
      { iface: 'ens16', option: 'rate', expected: 20_000_000, found: 38_000_000 },
    ]);
  });

  it('a failed command is a typed error with tc own words, and the child keeps serving', async () => {
    const c = client({ ...P, uploadInterface: 'nope0' }, fakeTc());
    const err = await c.setQueueLimits([{ name: 'WAN-Upload', maxLimitBps: 1e6 }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TcNotFoundError);
    expect((err as TcNotFoundError).code).toBe('WANCTL_TC_NOT_FOUND');
    expect((err as Error).message).toMatch(/Cannot find device "nope0"/);
    await c.setQueueLimits([{ name: 'WAN-Download', maxLimitBps: 5e8 }]);
    expect((await c.getLimits().catch((e: Error) => e)) instanceof TcNotFoundError).toBe(true);
    expect(c.tcSpawns).toBe(1);
  });

  it('an unknown queue name is refused before tc is asked', async () => {
    const c = client(P, fakeTc());
    await expect(c.setQueueLimits([{ name: 'WAN-Download-2', maxLimitBps: 1e6 }])).rejects.toBeInstanceOf(
      TcUnknownQueueError,
    );
    expect(c.tcSpawns).toBe(0);
  });

  it('tc that stops answering: TcTimeoutError, then a fresh child', async () => {
    const c = client(P, fakeTc({ FAKE_TC_HANG: 'bandwidth 1234bit' }));
    await c.start({ mode: 'verify' });
    const err = await c
      .setQueueLimits([{ name: 'WAN-Download', maxLimitBps: 1234 }], { deadlineMs: 300 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TcTimeoutError);
    expect((err as TcTimeoutError).code).toBe('WANCTL_TC_TIMEOUT');
    expect(await c.getLimits()).toEqual({ downloadBps: 940_000_000, uploadBps: 38_000_000 });
    expect(c.tcSpawns).toBe(2);
  });

  it('no tc binary: TcUnavailableError', async () => {
    const c = client(P, join(dir, 'no-such-tc'));
    const err = await c.start({ mode: 'verify' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TcUnavailableError);
    expect((err as TcUnavailableError).code).toBe('WANCTL_TC_UNAVAILABLE');
  });

  it('refuses an interface name tc -batch could not carry', () => {
    expect(() => client({ ...P, downloadInterface: 'eth0 root' }, 'tc')).toThrow(
      /not a valid interface name/,
    );
    expect(TcCommandError.name).toBe('TcCommandError');
  });
});
