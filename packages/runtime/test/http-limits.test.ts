/**
 * The health server against many idle or slow connections (issue 16: 22,400 loopback connections
 * until the daemon ran out of file descriptors). Real sockets on 127.0.0.1.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_CONNECTIONS,
  HealthServer,
  type RunningHttpServer,
  startHttpServer,
} from '../src/index.js';

const sockets: Socket[] = [];
let server: RunningHttpServer | null = null;
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  server = null;
});

/** Opens a raw TCP connection and resolves once it is established. */
function openIdle(port: number, partial?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      if (partial) s.write(partial);
      resolve(s);
    });
    s.on('error', () => {}); // the server may close it: that is the point
    s.resume(); // read (and drop) whatever comes, so the server's FIN is seen
    s.once('error', reject);
    sockets.push(s);
  });
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('connection cap', () => {
  it('N + 20 idle and half-sent connections never make more than N open, and /health keeps answering', async () => {
    const N = 8;
    server = await startHttpServer({
      port: 0,
      routes: { '/health': () => ({ status: 200, body: '{"status":"healthy"}' }) },
      maxConnections: N,
    });
    const port = server.port;
    let closedByServer = 0;
    for (let i = 0; i < N + 20; i++) {
      // half of them send part of a request and stall (slowloris), half send nothing
      const s = await openIdle(port, i % 2 === 0 ? 'GET /health HTTP/1.1\r\nHost: x\r\n' : undefined);
      s.once('close', () => closedByServer++);
    }
    await waitFor(() => closedByServer >= 20);
    expect(server.connections).toBeLessThanOrEqual(N);
    // a real client still gets its answer, several times, while the idle ones are held open
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${server.url}/health`);
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ status: 'healthy' });
      expect(server.connections).toBeLessThanOrEqual(N);
    }
  });

  it('a connection that sends nothing is closed after the idle timeout', async () => {
    server = await startHttpServer({ port: 0, routes: {}, idleTimeoutMs: 300 });
    const s = await openIdle(server.port);
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    await closed; // within about idleTimeoutMs (plus the 1 s check interval at most)
    await waitFor(() => server?.connections === 0);
  });

  it('the health server has the cap by default', async () => {
    expect(DEFAULT_MAX_CONNECTIONS).toBe(32);
    const hs = await HealthServer.start({ port: 0, provider: () => ({ status: 'healthy' }) });
    try {
      let closedByServer = 0;
      for (let i = 0; i < DEFAULT_MAX_CONNECTIONS + 10; i++) {
        const s = await openIdle(hs.port);
        s.once('close', () => closedByServer++);
      }
      await waitFor(() => closedByServer >= 10);
      const r = await fetch(`${hs.url}/health`);
      expect(r.status).toBe(200);
    } finally {
      await hs.close();
    }
  });
});
