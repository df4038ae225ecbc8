import http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/index.js';
import { AUTH, rest, sshConnect } from './helpers.js';

/** Opens a raw TCP connection; resolves whether the server closed it within `ms`. */
function closedWithin(port: number, ms: number): Promise<{ closed: boolean; sock: net.Socket }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let done = false;
    sock.on('error', () => {
      /* reset counts as closed */
    });
    sock.on('close', () => {
      if (!done) {
        done = true;
        resolve({ closed: true, sock });
      }
    });
    sock.on('connect', () => {
      setTimeout(() => {
        if (!done) {
          done = true;
          resolve({ closed: false, sock });
        }
      }, ms);
    });
    sock.on('error', (e) => {
      if (!done && (e as NodeJS.ErrnoException).code === 'ECONNREFUSED') reject(e);
    });
  });
}

async function waitUntil(fn: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('faults', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ adminPort: 0 });
  });
  afterAll(async () => {
    await emu.stop();
  });
  afterEach(async () => {
    await emu.faults.clear();
    emu.requests.clear();
  });

  describe('REST', () => {
    it('latency delays every answer', async () => {
      await emu.faults.set('rest', { latencyMs: 300 });
      const t0 = performance.now();
      const r = await rest(emu, 'GET', '/system/identity');
      expect(r.status).toBe(200);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(280);
    });

    it('a write held by latency when the face goes down is dropped with its connection, not run', async () => {
      // a restart drops every connection: what they carried never runs, even on the new ids
      await emu.faults.set('rest', { latencyMs: 400 });
      const before = emu.state.get('/queue/tree', 'WAN-Download-1')?.['max-limit'];
      const write = rest(emu, 'PATCH', '/queue/tree/*1000000', { 'max-limit': '123M' }).then(
        (r) => r.status,
        () => 'dropped',
      );
      await waitUntil(() => emu.requests.rest().some((e) => e.method === 'PATCH'));
      await emu.faults.set('rest', { down: true });
      await emu.faults.set('rest', { down: false, latencyMs: 0 });
      expect(await write).toBe('dropped');
      await new Promise((r) => setTimeout(r, 500)); // past the latency
      expect(emu.state.get('/queue/tree', 'WAN-Download-1')?.['max-limit']).toBe(before);
      expect(emu.requests.rest().find((e) => e.method === 'PATCH')?.fault).toBe('dropped');
    });

    it('down closes the listener (refused) and comes back on the same port', async () => {
      const port = emu.rest?.port;
      await emu.faults.set('rest', { down: true });
      await expect(rest(emu, 'GET', '/system/identity')).rejects.toThrow();
      await emu.faults.set('rest', { down: false });
      expect(emu.rest?.port).toBe(port);
      expect((await rest(emu, 'GET', '/system/identity')).status).toBe(200);
    });

    it('reset cuts the connection mid-response (once)', async () => {
      await emu.faults.set('rest', { reset: 1 });
      const got = await new Promise<{ status?: number; partial: string; error?: string }>((resolve) => {
        let status: number | undefined;
        let partial = '';
        const finish = (error?: string) => resolve({ status, partial, ...(error ? { error } : {}) });
        const req = http.get(`${emu.rest?.url}/queue/tree`, { headers: { authorization: AUTH } }, (res) => {
          status = res.statusCode;
          res.on('data', (d) => {
            partial += d;
          });
          res.on('error', (e) => finish(e.message));
          res.on('end', () => finish());
        });
        req.on('error', (e) => finish(e.message));
      });
      expect(got.status).toBe(200);
      expect(got.error).toBeDefined();
      expect(got.partial.length).toBeGreaterThan(0);
      expect(() => JSON.parse(got.partial)).toThrow();
      expect(emu.requests.rest()[0]?.fault).toBe('reset');
      // one-shot: the next request is fine
      expect((await rest(emu, 'GET', '/queue/tree')).status).toBe(200);
    });

    it('hang never answers; the client must time out', async () => {
      await emu.faults.set('rest', { hang: 1 });
      await expect(
        fetch(`${emu.rest?.url}/system/identity`, {
          headers: { authorization: AUTH },
          signal: AbortSignal.timeout(400),
        }),
      ).rejects.toThrow();
      expect(emu.requests.rest()[0]).toMatchObject({ path: '/rest/system/identity', fault: 'hang' });
      expect((await rest(emu, 'GET', '/system/identity')).status).toBe(200);
    });

    it('sessionClosed holds the request for the command timeout, then 400 Session closed', async () => {
      const fresh = await startEmulator({ sshPort: false, restCommandTimeoutMs: 200 });
      try {
        await fresh.faults.set('rest', { sessionClosed: 1 });
        const t0 = performance.now();
        const r = await rest(fresh, 'POST', '/queue/tree/print', {});
        expect(performance.now() - t0).toBeGreaterThanOrEqual(180);
        expect(r.status).toBe(400);
        expect(r.json).toEqual({ detail: 'Session closed', error: 400, message: 'Bad Request' });
      } finally {
        await fresh.stop();
      }
    });

    it('HTTP 503 / 500 bursts with a RouterOS envelope, then normal answers', async () => {
      await emu.faults.set('rest', { httpError: { status: 503, count: 2 } });
      const a = await rest(emu, 'GET', '/system/identity');
      const b = await rest(emu, 'GET', '/system/identity');
      const c = await rest(emu, 'GET', '/system/identity');
      expect([a.status, b.status, c.status]).toEqual([503, 503, 200]);
      expect(a.json).toEqual({ detail: 'emulated fault', error: 503, message: 'Service Unavailable' });
      await emu.faults.set('rest', { httpError: { status: 500 } });
      expect((await rest(emu, 'GET', '/system/identity')).status).toBe(500);
      expect((await rest(emu, 'GET', '/system/identity')).status).toBe(500);
    });

    it('malformed JSON: 200 with a body that does not parse', async () => {
      await emu.faults.set('rest', { malformedJson: true });
      const r = await rest(emu, 'GET', '/queue/tree');
      expect(r.status).toBe(200);
      expect(r.text.length).toBeGreaterThan(0);
      expect(() => JSON.parse(r.text)).toThrow();
    });

    it('max-sessions closes connections beyond the limit', async () => {
      const fresh = await startEmulator({ sshPort: false });
      try {
        await fresh.faults.set('rest', { maxSessions: 1 });
        const first = await closedWithin(fresh.rest?.port as number, 200);
        expect(first.closed).toBe(false);
        const second = await closedWithin(fresh.rest?.port as number, 1000);
        expect(second.closed).toBe(true);
        first.sock.destroy();
        second.sock.destroy();
      } finally {
        await fresh.stop();
      }
    });

    it('rejects unknown faults and bad values', async () => {
      await expect(emu.faults.set('rest', { latencyMs: -1 })).rejects.toThrow(/latencyMs/);
      await expect(emu.faults.set('rest', { httpError: { status: 200 } })).rejects.toThrow(/httpError/);
      await expect(emu.faults.set('rest', { bogus: 1 } as never)).rejects.toThrow(/unknown fault/);
    });
  });

  describe('SSH', () => {
    it('latency delays each command', async () => {
      const c = await sshConnect(emu);
      await emu.faults.set('ssh', { latencyMs: 300 });
      const t0 = performance.now();
      expect((await c.exec('/system identity print')).code).toBe(0);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(280);
      c.end();
    });

    it('a command held by latency when the face goes down is not run', async () => {
      const c = await sshConnect(emu);
      c.client.on('error', () => {
        /* dropped by the fault */
      });
      await emu.faults.set('ssh', { latencyMs: 400 });
      const before = emu.state.get('/queue/tree', 'WAN-Download-1')?.['max-limit'];
      const ran = c.exec('/queue tree set [find name="WAN-Download-1"] max-limit=123M').then(
        (r) => r.code,
        () => 'dropped',
      );
      await waitUntil(() => emu.requests.ssh().some((e) => e.command.includes('max-limit=123M')));
      await emu.faults.set('ssh', { down: true });
      await emu.faults.set('ssh', { down: false, latencyMs: 0 });
      await Promise.race([ran, new Promise((r) => setTimeout(r, 1000))]);
      await new Promise((r) => setTimeout(r, 500)); // past the latency
      expect(emu.state.get('/queue/tree', 'WAN-Download-1')?.['max-limit']).toBe(before);
      expect(emu.requests.ssh().find((e) => e.command.includes('max-limit=123M'))?.fault).toBe('dropped');
    });

    it('down refuses connections and drops open ones; back up on the same port', async () => {
      const c = await sshConnect(emu);
      const closed = new Promise<void>((r) => c.client.once('close', () => r()));
      await emu.faults.set('ssh', { down: true });
      await closed;
      await expect(sshConnect(emu)).rejects.toThrow(/ECONNREFUSED/);
      await emu.faults.set('ssh', { down: false });
      const d = await sshConnect(emu);
      expect((await d.exec('/system identity print')).out).toContain('MikroTik');
      d.end();
    });

    it('disconnect drops the connection mid-command without an exit status', async () => {
      const c = await sshConnect(emu);
      c.client.on('error', () => {
        /* expected */
      });
      await emu.faults.set('ssh', { disconnect: 1 });
      const closed = new Promise<void>((r) => c.client.once('close', () => r()));
      const r = await c.exec('/queue tree print');
      await closed;
      expect(r.code).toBeUndefined();
      expect(r.out.length).toBeGreaterThan(0);
      expect(r.out).not.toContain('WAN-Upload-1');
      expect(emu.requests.ssh()[0]).toMatchObject({ command: '/queue tree print', fault: 'disconnect' });
    });

    it('hang never finishes the command', async () => {
      const c = await sshConnect(emu);
      await emu.faults.set('ssh', { hang: 1 });
      const result = await Promise.race([
        c.exec('/system identity print').then(() => 'answered'),
        new Promise((r) => setTimeout(() => r('timeout'), 500)),
      ]);
      expect(result).toBe('timeout');
      c.end();
    });

    it('max-sessions rejects extra connections', async () => {
      const fresh = await startEmulator({ restPort: false });
      try {
        await fresh.faults.set('ssh', { maxSessions: 1 });
        const a = await sshConnect(fresh);
        await expect(sshConnect(fresh)).rejects.toThrow(/Connection lost before handshake|ECONNRESET/);
        a.end();
      } finally {
        await fresh.stop();
      }
    });
  });

  describe('admin HTTP endpoint', () => {
    const admin = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${emu.admin?.url}${path}`, {
        method,
        ...(body !== undefined
          ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
          : {}),
      });
      return { status: r.status, json: (await r.json()) as unknown };
    };

    it('switches faults, reads the request log and state', async () => {
      const set = await admin('PUT', '/faults/rest', { httpError: { status: 500, count: 1 } });
      expect(set.json).toEqual({ httpError: { status: 500, count: 1 } });
      expect((await rest(emu, 'GET', '/system/identity')).status).toBe(500);
      expect((await rest(emu, 'GET', '/system/identity')).status).toBe(200);
      await admin('PUT', '/faults/ssh', { latencyMs: 5 });
      expect((await admin('GET', '/faults')).json).toEqual({ rest: {}, ssh: { latencyMs: 5 } });
      await admin('DELETE', '/faults');
      expect(emu.faults.get('ssh')).toEqual({});
      const log = await admin('GET', '/requests?face=rest');
      expect((log.json as { path: string }[]).map((e) => e.path)).toEqual([
        '/rest/system/identity',
        '/rest/system/identity',
      ]);
      const st = await admin('GET', '/state/queue/tree');
      expect((st.json as { name: string }[]).map((q) => q.name)).toEqual(['WAN-Download-1', 'WAN-Upload-1']);
      await admin('PUT', '/traffic/WAN-Download-1', { dropped: 12 });
      expect(emu.state.get('/queue/tree', 'WAN-Download-1')?.['dropped']).toBe('12');
      emu.state.staticTraffic.clear();
      await admin('PUT', '/faults/rest', { down: true });
      await expect(rest(emu, 'GET', '/system/identity')).rejects.toThrow();
      await admin('DELETE', '/faults/rest');
      expect((await rest(emu, 'GET', '/system/identity')).status).toBe(200);
      expect((await admin('PUT', '/faults/rest', { nonsense: true })).status).toBe(400);
    });
  });
});

describe('whether a faulted write took effect', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator();
  });
  afterAll(async () => {
    await emu.stop();
  });
  const maxLimit = () => emu.state.get('/queue/tree', 'WAN-Upload-1')?.['max-limit'];

  it('REST reset: the write was made, the answer lost; REST hang: nothing was done', async () => {
    const id = emu.state.resolveId('/queue/tree', 'WAN-Upload-1');
    await emu.faults.set('rest', { reset: 1 });
    await expect(rest(emu, 'PATCH', `/queue/tree/${id}`, { 'max-limit': '11000000' })).rejects.toThrow();
    expect(maxLimit()).toBe('11000000');
    await emu.faults.set('rest', { hang: 1 });
    await expect(
      fetch(`${emu.rest?.url}/queue/tree/${id}`, {
        method: 'PATCH',
        headers: { authorization: AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ 'max-limit': '12000000' }),
        signal: AbortSignal.timeout(300),
      }),
    ).rejects.toThrow();
    expect(maxLimit()).toBe('11000000');
  });

  it('SSH disconnect: the write was made; SSH hang: nothing was done', async () => {
    const c = await sshConnect(emu);
    c.client.on('error', () => {
      /* expected */
    });
    await emu.faults.set('ssh', { disconnect: 1 });
    await c.exec('/queue tree set [find name="WAN-Upload-1"] max-limit=13M');
    expect(maxLimit()).toBe('13000000');
    const d = await sshConnect(emu);
    await emu.faults.set('ssh', { hang: 1 });
    const r = await Promise.race([
      d.exec('/queue tree set [find name="WAN-Upload-1"] max-limit=14M').then(() => 'answered'),
      new Promise((res) => setTimeout(() => res('timeout'), 300)),
    ]);
    expect(r).toBe('timeout');
    expect(maxLimit()).toBe('13000000');
    d.end();
  });
});
