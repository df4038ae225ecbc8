/**
 * Failover against the emulator's faults over real sockets (docs/decisions.md#d1, #d2).
 */
import type { Emulator } from '@wanctl/routeros-emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type FailoverRouterClient,
  getRouterClientWithFailover,
  isTransportFailure,
  RouterNotFoundError,
  RouterUnavailableError,
  type Transport,
  type TransportSwitch,
} from '../src/index.js';
import { type Captured, captureLogger, DL, emuOptions, startEmu } from './helpers.js';

const DEADLINE = 3000;
const SLACK = 1500; // scheduling slack on a busy 2-core machine

function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TLSWrap').length;
}

describe('failover against emulator faults', () => {
  let emu: Emulator;
  /** Plain-HTTP emulator: its reset fault works only without TLS (see the README's note). */
  let plainEmu: Emulator;
  let client: FailoverRouterClient | undefined;
  let log: Captured;
  let switches: TransportSwitch[];

  beforeAll(async () => {
    emu = await startEmu();
    plainEmu = await startEmu({ tls: false });
  });
  afterAll(async () => {
    await emu.stop();
    await plainEmu.stop();
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await emu.faults.clear();
    await plainEmu.faults.clear();
  });

  function make(
    primary: Transport,
    extra: Parameters<typeof emuOptions>[2] = {},
    target: Emulator = emu,
  ): FailoverRouterClient {
    log = captureLogger();
    switches = [];
    client = getRouterClientWithFailover(
      emuOptions(target, primary, { deadlineMs: DEADLINE, reprobeIntervalMs: 60_000, logger: log, ...extra }),
    );
    client.on('switch', (ev) => switches.push(ev));
    return client;
  }

  async function timed<T>(p: Promise<T>): Promise<{ value: T; ms: number }> {
    const t0 = performance.now();
    const value = await p;
    return { value, ms: performance.now() - t0 };
  }

  const maxLimit = () => emu.state.find('/queue/tree', { name: DL })[0]?.['max-limit'];

  it('primary is the configured transport; the other one is the fallback', async () => {
    const c = make('ssh');
    expect(c.activeTransport).toBe('ssh');
    expect(c.primary.activeTransport).toBe('ssh');
    expect(c.fallback?.activeTransport).toBe('rest');
    await c.setQueueLimits([{ name: DL, maxLimitBps: 123_000_000 }]);
    expect(maxLimit()).toBe('123000000');
    expect(emu.requests.rest()).toHaveLength(0);
  });

  it('no fallback without the other transport credentials', () => {
    const o = emuOptions(emu, 'rest');
    delete o.ssh;
    client = getRouterClientWithFailover(o);
    expect(client.fallback).toBeUndefined();
  });

  it.each([
    ['refused (REST face down)', { down: true }, 'https'],
    ['hung request', { hang: true }, 'https'],
    ['HTTP 500 burst', { httpError: { status: 500, count: 50 } }, 'https'],
    ['HTTP 503 burst', { httpError: { status: 503, count: 50 } }, 'http'],
    // over HTTPS the emulator's reset fault throws inside the emulator (resetAndDestroy on a TLS socket)
    ['reset mid-response', { reset: true }, 'http'],
    ['malformed JSON', { malformedJson: true }, 'https'],
  ] as const)('REST %s (%s): SSH takes over within the call deadline', async (_name, fault, proto) => {
    const target = proto === 'https' ? emu : plainEmu;
    const c = make('rest', {}, target);
    await c.getIdentity(); // warm: REST connection in the pool
    await target.faults.set('rest', fault);
    const { ms } = await timed(c.setQueueLimits([{ name: DL, maxLimitBps: 222_000_000 }]));
    expect(ms).toBeLessThan(DEADLINE + SLACK);
    expect(target.state.find('/queue/tree', { name: DL })[0]?.['max-limit']).toBe('222000000');
    expect(c.activeTransport).toBe('ssh');
    expect(switches).toHaveLength(1);
    expect(switches[0]).toMatchObject({ from: 'rest', to: 'ssh', recovered: false });
    // later calls go straight to SSH; the switch is logged once
    await c.setQueueLimits([{ name: DL, maxLimitBps: 223_000_000 }]);
    await c.getQueueStats([DL]);
    expect(target.state.find('/queue/tree', { name: DL })[0]?.['max-limit']).toBe('223000000');
    const warns = log.lines.filter((l) => l.level === 'warn' && l.message.includes('switched to ssh'));
    expect(warns).toHaveLength(1);
    expect(warns[0]!.message).toMatch(/rest failed \(.+\)/);
  });

  it('REST is taken back after it recovers (background re-probe), logged once', async () => {
    const c = make('rest', { reprobeIntervalMs: 100 });
    await emu.faults.set('rest', { down: true });
    await c.getIdentity();
    expect(c.activeTransport).toBe('ssh');
    await new Promise((r) => setTimeout(r, 400)); // several failed re-probes while down
    expect(c.activeTransport).toBe('ssh');
    await emu.faults.clear('rest');
    const t0 = performance.now();
    while (c.activeTransport !== 'rest' && performance.now() - t0 < 5000)
      await new Promise((r) => setTimeout(r, 25));
    expect(c.activeTransport).toBe('rest');
    expect(switches.map((s) => [s.from, s.to, s.recovered])).toEqual([
      ['rest', 'ssh', false],
      ['ssh', 'rest', true],
    ]);
    expect(log.lines.filter((l) => l.message.includes('healthy again'))).toHaveLength(1);
    emu.requests.clear();
    await c.setQueueLimits([{ name: DL, maxLimitBps: 333_000_000 }]);
    expect(emu.requests.ssh()).toHaveLength(0);
    // the re-probe was a read, never a production write
    expect(maxLimit()).toBe('333000000');
  });

  it('SSH down while REST is fine: nothing changes for a REST primary', async () => {
    const c = make('rest');
    await emu.faults.set('ssh', { down: true });
    await c.setQueueLimits([{ name: DL, maxLimitBps: 444_000_000 }]);
    expect(maxLimit()).toBe('444000000');
    expect(c.activeTransport).toBe('rest');
    expect(switches).toHaveLength(0);
  });

  it('SSH primary down (or disconnecting mid-command): REST takes over', async () => {
    const c = make('ssh');
    await emu.faults.set('ssh', { disconnect: true });
    await c.setQueueLimits([{ name: DL, maxLimitBps: 555_000_000 }]);
    expect(maxLimit()).toBe('555000000');
    expect(c.activeTransport).toBe('rest');
    await c.close();
    const c2 = make('ssh');
    await emu.faults.set('ssh', { disconnect: false, down: true });
    const { ms } = await timed(c2.getQueueStats([DL]));
    expect(ms).toBeLessThan(DEADLINE + SLACK);
    expect(c2.activeTransport).toBe('rest');
  });

  it('RouterOS answers do not fail over (no such item stays on the primary)', async () => {
    const c = make('rest');
    emu.requests.clear();
    const err = await c.setQueueLimits([{ name: 'NoSuchQueue', maxLimitBps: 1 }]).catch((e) => e);
    expect(err).toBeInstanceOf(RouterNotFoundError);
    expect(isTransportFailure(err)).toBe(false);
    expect(c.activeTransport).toBe('rest');
    expect(emu.requests.ssh()).toHaveLength(0);
    expect(switches).toHaveLength(0);
  });

  it.each([
    ['both refused', { down: true }, { down: true }],
    ['both hung', { hang: true }, { hang: true }],
  ] as const)(
    '%s: a typed error within the deadline, nothing hangs or leaks sockets',
    async (_n, restFault, sshFault) => {
      const before = tcpHandles();
      const c = make('rest');
      await emu.faults.set('rest', restFault);
      await emu.faults.set('ssh', sshFault);
      const t0 = performance.now();
      const err = await c.setQueueLimits([{ name: DL, maxLimitBps: 1_000_000 }]).catch((e) => e);
      const ms = performance.now() - t0;
      expect(err).toBeInstanceOf(RouterUnavailableError);
      expect(isTransportFailure(err)).toBe(true);
      expect(Object.keys(err.errors).sort()).toEqual(['rest', 'ssh']);
      expect(ms).toBeLessThan(DEADLINE + SLACK);
      await c.close();
      client = undefined;
      await emu.faults.clear();
      await new Promise((r) => setTimeout(r, 100));
      expect(tcpHandles()).toBeLessThanOrEqual(before);
    },
  );

  it('close() releases every socket after normal use of both transports', async () => {
    const before = tcpHandles();
    const c = make('rest');
    await c.getIdentity();
    await c.fallback!.getIdentity();
    expect(tcpHandles()).toBeGreaterThan(before);
    await c.close();
    client = undefined;
    await new Promise((r) => setTimeout(r, 100));
    expect(tcpHandles()).toBeLessThanOrEqual(before);
  });
});
