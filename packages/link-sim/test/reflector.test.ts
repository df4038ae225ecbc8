import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import {
  constantLoad,
  constantTrace,
  type LinkReflector,
  LinkSim,
  RealtimeLinkDriver,
  startLinkReflector,
} from '../src/index.js';

const open: Array<LinkReflector | Socket | RealtimeLinkDriver> = [];

afterEach(async () => {
  for (const o of open.splice(0)) {
    if (o instanceof RealtimeLinkDriver) o.stop();
    else if ('port' in o) await o.close();
    else await new Promise<void>((r) => o.close(() => r()));
  }
});

async function client(): Promise<Socket> {
  const s = createSocket('udp4');
  open.push(s);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

/** Polls a condition every 20 ms, for at most 5 s. */
async function until(cond: () => boolean): Promise<void> {
  const deadline = performance.now() + 5000;
  while (!cond() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** Sends one datagram and resolves with the echo and the elapsed ms. */
function probe(s: Socket, port: number, payload: string): Promise<{ ms: number; body: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const timer = setTimeout(() => reject(new Error('no echo within 5 s')), 5000);
    s.once('message', (msg) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - t0, body: msg.toString() });
    });
    s.send(payload, port, '127.0.0.1');
  });
}

describe('UDP reflector on 127.0.0.1', () => {
  it('answers after the simulated path RTT, with the payload unchanged', async () => {
    // A bloated link, frozen in time: the RTT the reflector applies is fixed.
    const sim = new LinkSim({
      baseRttMs: 30,
      trace: constantTrace({ downBps: 10e6, upBps: 2e6 }),
      down: { bufferMs: 300 },
      load: constantLoad(4, 0),
    });
    sim.step(15);
    const rtt = sim.rttMs();
    expect(rtt).toBeGreaterThan(200);
    const refl = await startLinkReflector({ sim });
    open.push(refl);
    expect(refl.host).toBe('127.0.0.1');
    const c = await client();
    const r = await probe(c, refl.port, 'seq=1');
    expect(r.body).toBe('seq=1');
    expect(r.ms).toBeGreaterThanOrEqual(rtt - 5);
    expect(r.ms).toBeLessThan(rtt + 1500); // generous: busy CI machines
    expect(refl.stats.answered).toBe(1);
  });

  it('follows the simulation: an idle link answers after the base RTT', async () => {
    const sim = new LinkSim({
      baseRttMs: 40,
      trace: constantTrace({ downBps: 10e6, upBps: 2e6 }),
      load: constantLoad(0, 0),
    });
    const refl = await startLinkReflector({ sim, host: '127.0.0.1' });
    open.push(refl);
    const c = await client();
    const r = await probe(c, refl.port, 'x');
    expect(r.ms).toBeGreaterThanOrEqual(39);
    expect(r.ms).toBeLessThan(40 + 1500);
  });

  it('caps pending replies and counts what it did not answer', async () => {
    const sim = { rttMs: () => 300 };
    const refl = await startLinkReflector({ sim, maxPending: 2 });
    open.push(refl);
    const c = await client();
    const got: string[] = [];
    c.on('message', (m) => got.push(m.toString()));
    for (let i = 0; i < 5; i++) c.send(`p${i}`, refl.port, '127.0.0.1');
    await until(() => got.length >= 2 && refl.stats.received === 5);
    await new Promise((r) => setTimeout(r, 100)); // nothing more arrives
    expect(refl.stats.received).toBe(5);
    expect(refl.stats.dropped).toBe(3);
    expect(got.sort()).toEqual(['p0', 'p1']);
    expect(refl.stats.pending).toBe(0);
  });

  it('a port in use is an error, not a crash', async () => {
    const first = await startLinkReflector({ sim: { rttMs: () => 1 } });
    open.push(first);
    await expect(startLinkReflector({ sim: { rttMs: () => 1 }, port: first.port })).rejects.toThrow(
      /EADDRINUSE/,
    );
  });

  it('close cancels pending replies', async () => {
    const refl = await startLinkReflector({ sim: { rttMs: () => 500 } });
    const c = await client();
    let got = 0;
    c.on('message', () => got++);
    c.send('late', refl.port, '127.0.0.1');
    await until(() => refl.stats.received === 1);
    expect(refl.stats.pending).toBe(1);
    await refl.close();
    await refl.close(); // idempotent
    await new Promise((r) => setTimeout(r, 600));
    expect(got).toBe(0);
  });

  it('with a realtime driver, the measured RTT grows as the link bloats', async () => {
    const sim = new LinkSim({
      baseRttMs: 20,
      trace: constantTrace({ downBps: 5e6, upBps: 1e6 }),
      down: { bufferMs: 400 },
      load: constantLoad(4, 0),
    });
    const driver = new RealtimeLinkDriver(sim, { intervalMs: 5 });
    open.push(driver);
    const refl = await startLinkReflector({ sim });
    open.push(refl);
    const c = await client();
    const first = await probe(c, refl.port, 'a');
    driver.start();
    const deadline = performance.now() + 15_000;
    let last = first.ms;
    while (performance.now() < deadline && last < 150) {
      await new Promise((r) => setTimeout(r, 200));
      last = (await probe(c, refl.port, 'b')).ms;
    }
    expect(first.ms).toBeLessThan(20 + 1500);
    expect(last).toBeGreaterThanOrEqual(150);
    expect(sim.now).toBeGreaterThan(0.5);
  });
});
