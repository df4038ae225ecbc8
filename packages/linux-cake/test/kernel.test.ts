/**
 * LinuxCakeClient against the real kernel: a veth pair in a network namespace this test
 * creates and removes. Needs root and `ip netns`; skipped visibly otherwise. Uses tbf (this
 * CI kernel has no sch_cake or fq_codel).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CakeParamsConfig } from '@wanctl/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinuxCakeClient, TcMismatchError, TcNotFoundError } from '../src/index.js';

const ns = `wtb${process.pid}k`;
function skipReason(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  try {
    execFileSync('ip', ['netns', 'add', ns], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `ip netns not allowed here (${String((err as { stderr?: Buffer }).stderr ?? err).trim()})`;
  }
}
const reason = skipReason();
const tcIn = (...a: string[]) => execFileSync('ip', ['netns', 'exec', ns, 'tc', ...a], { encoding: 'utf8' });

let tcBinary = '';
const P: CakeParamsConfig = {
  downloadInterface: 'kva',
  uploadInterface: 'kvb',
  downloadQdisc: 'tbf',
  uploadQdisc: 'tbf',
  overhead: undefined,
  mpu: undefined,
  memlimit: undefined,
  rttMs: undefined,
  diffserv: undefined,
  ackFilter: undefined,
  splitGso: undefined,
  ecn: undefined,
  nat: undefined,
  wash: undefined,
  ingress: undefined,
  tbfLatencyMs: 5,
};
const queues = { download: 'WAN-Download', upload: 'WAN-Upload' };

describe.skipIf(reason !== null)(
  `linux-cake on the real kernel${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    beforeAll(() => {
      const ip = (...a: string[]) => execFileSync('ip', ['-n', ns, ...a]);
      ip('link', 'add', 'name', 'kva', 'type', 'veth', 'peer', 'name', 'kvb');
      ip('link', 'set', 'kva', 'up');
      ip('link', 'set', 'kvb', 'up');
      const dir = mkdtempSync(join(tmpdir(), 'linux-cake-kernel-'));
      tcBinary = join(dir, 'tc');
      writeFileSync(tcBinary, `#!/bin/sh\nexec ip netns exec ${ns} tc "$@"\n`);
      chmodSync(tcBinary, 0o755);
    });
    afterAll(() => {
      execFileSync('ip', ['netns', 'del', ns]);
    });

    it('creates the qdiscs, changes the rate in place, and the kernel holds it (read by a separate tc)', async () => {
      const c = new LinuxCakeClient({ queues, params: P, tcBinary });
      try {
        await c.start({ mode: 'replace', rates: { download: 50_000_000, upload: 10_000_000 } });
        const handle = JSON.parse(tcIn('-j', 'qdisc', 'show', 'dev', 'kva'))[0].handle;
        for (const bps of [40_000_000, 12_345_000, 99_000_000]) {
          await c.setQueueLimits([
            { name: 'WAN-Download', maxLimitBps: bps },
            { name: 'WAN-Upload', maxLimitBps: bps / 10 },
          ]);
          const q = JSON.parse(tcIn('-j', 'qdisc', 'show', 'dev', 'kva'))[0];
          expect(q.kind).toBe('tbf');
          expect(q.options.rate * 8).toBe(bps);
          expect(q.handle).toBe(handle); // changed in place, not re-created
        }
        expect(await c.getLimits()).toEqual({ downloadBps: 99_000_000, uploadBps: 9_900_000 });
        // the bucket never shrinks (a queued packet larger than a smaller bucket would stall
        // the qdisc for good): 99 Mbit/s set 12375 bytes, and a lower rate keeps them
        await c.setQueueLimits([{ name: 'WAN-Download', maxLimitBps: 8_000_000 }]);
        const low = JSON.parse(tcIn('-j', 'qdisc', 'show', 'dev', 'kva'))[0];
        expect(low.options.rate * 8).toBe(8_000_000);
        expect(low.options.burst).toBeGreaterThan(12_300); // the kernel rounds to its time unit (12374)
        const [s] = await c.getQueueStats(['WAN-Download']);
        expect(s).toMatchObject({ iface: 'kva', kind: 'tbf', dropped: 0 });
        expect(c.tcSpawns).toBe(1);
      } finally {
        await c.close();
      }
    });

    it('takes over a root qdisc of another kind; verify mode refuses one', async () => {
      tcIn('qdisc', 'del', 'dev', 'kva', 'root');
      tcIn('qdisc', 'add', 'dev', 'kva', 'root', 'handle', '1:', 'htb', 'default', '1');
      const verify = new LinuxCakeClient({ queues, params: P, tcBinary });
      const err = await verify.start({ mode: 'verify' }).catch((e: unknown) => e);
      await verify.close();
      expect(err).toBeInstanceOf(TcMismatchError);
      expect((err as TcMismatchError).mismatches).toEqual([
        { iface: 'kva', option: 'kind', expected: 'tbf', found: 'htb' },
      ]);
      const c = new LinuxCakeClient({ queues, params: P, tcBinary });
      try {
        await c.start({ mode: 'replace', rates: { download: 30_000_000, upload: 5_000_000 } });
        expect(JSON.parse(tcIn('-j', 'qdisc', 'show', 'dev', 'kva'))[0].kind).toBe('tbf');
      } finally {
        await c.close();
      }
    });

    it('an interface that does not exist: WANCTL_TC_NOT_FOUND from the kernel', async () => {
      const c = new LinuxCakeClient({ queues, params: { ...P, uploadInterface: 'kvnone' }, tcBinary });
      try {
        const err = await c
          .start({ mode: 'replace', rates: { download: 1e7, upload: 1e6 } })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TcNotFoundError);
        expect((err as TcNotFoundError).code).toBe('WANCTL_TC_NOT_FOUND');
        expect((err as Error).message).toMatch(/kvnone/);
      } finally {
        await c.close();
      }
    });
  },
);
