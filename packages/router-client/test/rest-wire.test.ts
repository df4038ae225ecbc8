/**
 * The REST response path over a real socket: bodies split into chunks (UTF-8 split inside a
 * character), a router that never answers, and one that drops the connection mid-body.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestRouterClient, RouterConnectionError, RouterTimeoutError } from '../src/index.js';

type Behaviour = 'chunked-utf8' | 'hang' | 'reset-mid-body';

describe('REST response path', () => {
  let server: http.Server;
  let port: number;
  let behaviour: Behaviour = 'chunked-utf8';
  const timers = new Set<NodeJS.Timeout>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (behaviour === 'hang') return; // never answers
        const body = Buffer.from(JSON.stringify({ name: 'Büro-Router ✓' }));
        // split inside the 3-byte check mark
        const cut = body.indexOf(Buffer.from('✓')) + 1;
        if (behaviour === 'reset-mid-body') {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
          res.write(body.subarray(0, cut));
          const t = setTimeout(() => {
            timers.delete(t);
            req.socket.destroy();
          }, 20);
          timers.add(t);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(body.subarray(0, cut));
        const t = setTimeout(() => {
          timers.delete(t);
          res.end(body.subarray(cut));
        }, 20);
        timers.add(t);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const t of timers) clearTimeout(t);
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  function client(deadlineMs = 3000) {
    return new RestRouterClient({
      host: '127.0.0.1',
      port,
      https: false,
      user: 'u',
      password: 'p',
      deadlineMs,
      retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    });
  }

  it('a body that arrives in chunks, split inside a UTF-8 character, is read whole', async () => {
    behaviour = 'chunked-utf8';
    const c = client();
    try {
      expect(await c.getIdentity()).toBe('Büro-Router ✓');
    } finally {
      await c.close();
    }
  });

  it('a router that never answers gives RouterTimeoutError at the deadline', async () => {
    behaviour = 'hang';
    const c = client(300);
    const t0 = performance.now();
    try {
      const err = await c.getIdentity().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RouterTimeoutError);
      expect((err as RouterTimeoutError).deadlineMs).toBe(300);
      expect(performance.now() - t0).toBeLessThan(5000);
    } finally {
      await c.close();
    }
  });

  it('a connection dropped mid-body is a RouterConnectionError (a transport failure), not a short answer', async () => {
    behaviour = 'reset-mid-body';
    const c = client();
    try {
      const err = await c.getIdentity().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RouterConnectionError);
      expect((err as RouterConnectionError).kind, (err as Error).message).toBe('reset');
    } finally {
      await c.close();
    }
  });
});
