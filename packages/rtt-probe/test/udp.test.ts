import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  measureWithRetries,
  medianRtt,
  ProbeConfigError,
  type ProbeEvent,
  parseHostPort,
  startUdpEchoResponder,
  tcpConnectCheck,
  tcpFallbackCheck,
  UdpEchoProbe,
  type UdpEchoResponder,
} from '../src/index.js';

const until = async (cond: () => boolean, ms = 8000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
async function responder(delayMs = 0): Promise<UdpEchoResponder> {
  const r = await startUdpEchoResponder({ port: 0, delayMs });
  cleanups.push(() => r.close());
  return r;
}
function probe(opts: ConstructorParameters<typeof UdpEchoProbe>[0]): UdpEchoProbe {
  const p = new UdpEchoProbe(opts);
  cleanups.push(() => p.stop());
  return p;
}

describe('UdpEchoProbe against the echo responder', () => {
  it('measures the delay the responder adds, and follows a delay change at run time', async () => {
    const r = await responder(40);
    const p = probe({ reflectors: [r.address], periodMs: 20, timeoutMs: 1000 });
    await p.start();
    await until(() => p.health()[0]!.replies >= 3);
    const first = p.latest().samples[0];
    expect(first?.rttMs).toBeGreaterThanOrEqual(39);
    r.setDelay(150);
    // wait until a reply carrying the new delay arrives
    let last = 0;
    await until(() => {
      const s = p.latest().samples[0];
      if (s) last = s.rttMs;
      return last >= 149;
    });
    expect(last).toBeGreaterThanOrEqual(149);
  });

  it('takes only the newest reply per reflector since the last call, and medians three reflectors', async () => {
    const a = await responder(10);
    const b = await responder(30);
    const c = await responder(60);
    const p = probe({ reflectors: [a.address, b.address, c.address], periodMs: 20 });
    await p.start();
    await until(() => p.health().every((h) => h.replies >= 3));
    const round = p.latest();
    expect(round.samples.map((s) => s.reflector)).toEqual([a.address, b.address, c.address]);
    const m = medianRtt(round.samples);
    expect(m).toBeGreaterThanOrEqual(30);
    expect(m).toBeLessThan(60);
    // right after, nothing newer has arrived for at least the slowest reflector
    const again = p.latest();
    expect(again.samples.length).toBeLessThan(3);
    // fresh() does not consume: all three replies of the last 500 ms, again and again
    expect(p.fresh(500).samples.map((s) => s.reflector)).toEqual([a.address, b.address, c.address]);
    expect(p.fresh(500).samples).toHaveLength(3);
    expect(p.fresh(0).samples.length).toBeLessThan(3);
  });

  it('notices a dead reflector, reports loss, and notices its recovery', async () => {
    const good = await responder(0);
    const bad = await responder(0);
    const events: ProbeEvent[] = [];
    const p = probe({
      reflectors: [good.address, bad.address],
      periodMs: 20,
      // generous, so that event-loop stalls on a loaded machine do not make the good one lossy
      timeoutMs: 1000,
      deadAfterMs: 1500,
      onEvent: (e) => events.push(e),
    });
    await p.start();
    await until(() => p.health()[1]!.replies >= 2);
    bad.setDropAll(true);
    await until(() => events.some((e) => e.kind === 'reflector-down'));
    expect(events.find((e) => e.kind === 'reflector-down')).toMatchObject({ reflector: bad.address });
    await until(() => p.health()[1]!.lossPct >= 50);
    const h = p.health();
    expect(h[0]).toMatchObject({ alive: true });
    expect(h[0]!.lossPct).toBeLessThan(20);
    expect(h[1]).toMatchObject({ alive: false });
    expect(h[1]!.lastReplyAgeMs).toBeGreaterThan(1500);
    bad.setDropAll(false);
    await until(() => events.some((e) => e.kind === 'reflector-up'));
    expect(p.health()[1]!.alive).toBe(true);
  });

  it('a reply later than the timeout is a loss, not a sample', async () => {
    const r = await responder(250);
    const p = probe({ reflectors: [r.address], periodMs: 25, timeoutMs: 100 });
    await p.start();
    await until(() => r.stats.echoed >= 5);
    await new Promise((res) => setTimeout(res, 100));
    expect(p.latest().samples).toEqual([]);
    expect(p.health()[0]!.replies).toBe(0);
    expect(p.health()[0]!.lossPct).toBeGreaterThan(50);
  });

  it('a port with nothing listening gives no samples and measureOnce times out with null', async () => {
    const r = await responder(0);
    const port = r.port;
    await r.close();
    cleanups.pop();
    const p = probe({ reflectors: [`127.0.0.1:${port}`], periodMs: 20, timeoutMs: 100 });
    await p.start();
    expect(await p.measureOnce(300)).toBeNull();
    expect(p.latest().samples).toEqual([]);
  });

  it('measureWithRetries returns the first successful attempt, null after all fail', async () => {
    const r = await responder(5);
    const p = probe({ reflectors: [r.address], periodMs: 20 });
    await p.start();
    expect(await measureWithRetries(p, { attempts: 3, timeoutMs: 1000, delayMs: 10 })).toBeGreaterThanOrEqual(
      4,
    );
    r.setDropAll(true);
    await new Promise((res) => setTimeout(res, 50));
    const failed: number[] = [];
    expect(
      await measureWithRetries(p, {
        attempts: 2,
        timeoutMs: 100,
        delayMs: 10,
        onAttemptFailed: (i) => failed.push(i),
      }),
    ).toBeNull();
    expect(failed).toEqual([1, 2]);
  });

  it('works over IPv6 loopback and with a per-datagram delay function that drops', async () => {
    const r = await startUdpEchoResponder({
      port: 0,
      host: '::1',
      delayFn: (msg) => (msg.readUInt32BE(12) % 2 ? null : 5),
    });
    cleanups.push(() => r.close());
    expect(r.address).toMatch(/^\[::1\]:\d+$/);
    const p = probe({ reflectors: [r.address], periodMs: 20, timeoutMs: 300 });
    await p.start();
    await until(() => p.health()[0]!.replies >= 20 && p.health()[0]!.lossPct > 20);
    expect(p.health()[0]!.lossPct).toBeGreaterThan(20);
    expect(p.health()[0]!.lossPct).toBeLessThan(80);
  });

  it('rejects bad reflector strings with a ProbeConfigError', () => {
    expect(() => parseHostPort('127.0.0.1')).toThrow(ProbeConfigError);
    expect(() => parseHostPort('127.0.0.1:99999')).toThrow(/host:port/);
    expect(parseHostPort('[::1]:7')).toEqual({ host: '::1', port: 7 });
    expect(() => new UdpEchoProbe({ reflectors: [] })).toThrow(ProbeConfigError);
  });
});

describe('TCP fallback checks', () => {
  let server: Server | null = null;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = null;
  });

  it('times a connect to a listening port; a closed port gives null', async () => {
    server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const rtt = await tcpConnectCheck('127.0.0.1', port, 1000);
    expect(rtt).toBeTypeOf('number');
    expect(rtt).toBeLessThan(1000);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await tcpConnectCheck('127.0.0.1', closedPort, 1000)).toBeNull();
    const res = await tcpFallbackCheck(
      [
        ['127.0.0.1', closedPort],
        ['127.0.0.1', port],
      ],
      500,
    );
    expect(res.ok).toBe(true);
    expect(res.results[0]).toBeNull();
    expect(res.rttMs).toBe(res.results[1]);
  });
});
