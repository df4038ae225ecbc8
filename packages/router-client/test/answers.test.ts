/**
 * Issue 16 "also found": what the router answers is checked. Over real sockets (the emulator's
 * faults, or a tiny local HTTP server where the emulator cannot misbehave that way).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Emulator } from '@wanctl/routeros-emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  getRouterClientWithFailover,
  RestRouterClient,
  RouterBadResponseError,
  type RouterClient,
  RouterResponseTooLargeError,
} from '../src/index.js';
import { COMMENT, captureLogger, clientFor, DL, emuOptions, startEmu, UL } from './helpers.js';

describe('write answers without the expected record are failures (REST)', () => {
  let emu: Emulator;
  let client: RouterClient;
  beforeAll(async () => {
    emu = await startEmu();
    client = clientFor(emu, 'rest');
  });
  afterAll(async () => {
    await client.close();
    await emu.stop();
  });
  afterEach(async () => {
    await emu.faults.clear();
    emu.requests.clear();
  });

  it.each([
    ['null', 'null'],
    ['{}', '{}'],
    ['an empty body', ''],
    ['a list', '[]'],
  ])('a PATCH answered 200 with %s is not a successful write', async (_, body) => {
    await emu.faults.set('rest', { answerBody: { body, method: 'PATCH' } });
    const err = await client
      .setQueueLimits([{ name: DL, maxLimitBps: 123_000_000 }], { deadlineMs: 2000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RouterBadResponseError);
    expect((err as RouterBadResponseError).code).toBe('WANCTL_ROUTER_BAD_RESPONSE');
    expect((err as Error).message).toContain('not confirmed');
    const toggled = await client.enableMangleRule(COMMENT, { deadlineMs: 2000 }).catch((e: unknown) => e);
    expect(toggled).toBeInstanceOf(RouterBadResponseError);
  });

  it.each(['null', '{}', ''])(
    'a lookup answered 200 with %j is unusable, not "no such queue"',
    async (body) => {
      await emu.faults.set('rest', { answerBody: { body, method: 'GET' } });
      await expect(client.getQueueStats([DL, UL], { deadlineMs: 2000 })).rejects.toBeInstanceOf(
        RouterBadResponseError,
      );
      await expect(
        client.setQueueLimits([{ name: DL, maxLimitBps: 5_000_000 }], { deadlineMs: 2000 }),
      ).rejects.toBeInstanceOf(RouterBadResponseError);
      expect(emu.requests.rest().filter((r) => r.method !== 'GET')).toEqual([]);
    },
  );

  it('a PATCH answered with another item is retried on a fresh lookup, then reported', async () => {
    const other = JSON.stringify({ '.id': '*1000001', name: UL, 'max-limit': '123000000' });
    await emu.faults.set('rest', { answerBody: { body: other, method: 'PATCH', count: 1 } });
    const log = captureLogger();
    const c = clientFor(emu, 'rest', { logger: log });
    try {
      await c.setQueueLimits([{ name: DL, maxLimitBps: 124_000_000 }]);
      expect(emu.state.get('/queue/tree', DL)?.['max-limit']).toBe('124000000');
      // lookup, PATCH (answered with UL), lookup again, PATCH
      expect(emu.requests.rest().map((r) => r.method)).toEqual(['GET', 'PATCH', 'GET', 'PATCH']);
      expect(log.lines.filter((l) => l.level === 'error')).toHaveLength(1);
      await emu.faults.set('rest', { answerBody: { body: other, method: 'PATCH' } });
      const err = await c.setQueueLimits([{ name: DL, maxLimitBps: 125_000_000 }]).catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('WANCTL_ROUTER_WRONG_ITEM');
    } finally {
      await c.close();
    }
  });

  it('a write that changes the property it selected by is not mistaken for another item', async () => {
    const r = await client.runCommand(`/queue/tree/set [find name="${UL}"] name=UL-renamed`);
    expect(r.records[0]).toMatchObject({ name: 'UL-renamed' });
    await client.runCommand('/queue/tree/set UL-renamed name=' + UL);
    expect(emu.state.get('/queue/tree', UL)).toBeDefined();
    const rule = emu.state.find('/ip/firewall/mangle', { comment: COMMENT })[0]!;
    emu.state.set('/ip/firewall/mangle', rule['.id']!, { disabled: 'true' });
    const en = await client.runCommand('/ip/firewall/mangle/enable [find disabled=yes]');
    expect(en.records.map((x) => x['disabled'])).toEqual(['false']);
    await client.disableMangleRule(COMMENT);
  });

  it('a PATCH answered with the item but another value than written is not confirmed', async () => {
    const id = emu.state.resolveId('/queue/tree', DL);
    const clamped = JSON.stringify({
      '.id': id,
      name: DL,
      'max-limit': '100000000',
      queue: 'cake-down-wan1',
    });
    await emu.faults.set('rest', { answerBody: { body: clamped, method: 'PATCH' } });
    const err = await client
      .setQueueLimits([{ name: DL, maxLimitBps: 126_000_000, queueType: 'cake-down-wan1' }], {
        deadlineMs: 2000,
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RouterBadResponseError);
    expect((err as RouterBadResponseError).code).toBe('WANCTL_ROUTER_BAD_RESPONSE');
    expect((err as Error).message).toContain('max-limit="100000000" (written: "126000000")');
  });

  it('a router-supplied id that is not "*" plus hex never reaches a URL', async () => {
    for (const bad of ['../../system/reboot?x=', '*1/../../reboot', '1', '']) {
      await emu.faults.set('rest', {
        answerBody: {
          body: JSON.stringify([
            { '.id': bad, name: DL },
            { '.id': bad, comment: COMMENT },
          ]),
          method: 'GET',
        },
      });
      await expect(client.setQueueLimits([{ name: DL, maxLimitBps: 1_000_000 }])).rejects.toBeInstanceOf(
        RouterBadResponseError,
      );
      await expect(client.disableMangleRule(COMMENT)).rejects.toBeInstanceOf(RouterBadResponseError);
      await expect(
        client.runCommand(`/queue/tree/reset-counters [find name="${DL}"]`),
      ).rejects.toBeInstanceOf(RouterBadResponseError);
    }
    const sent = emu.requests.rest();
    expect(sent.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(sent.some((r) => r.url.includes('reboot'))).toBe(false);
  });

  it('an oversized answer is refused (emulator fault), and the next call works', async () => {
    await emu.faults.set('rest', { oversize: { bytes: 10 << 20, count: 1 } });
    const err = await client.getQueueStats([DL, UL]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RouterResponseTooLargeError);
    expect((err as RouterResponseTooLargeError).code).toBe('WANCTL_ROUTER_RESPONSE_TOO_LARGE');
    expect((err as RouterResponseTooLargeError).limitBytes).toBe(1 << 20);
    expect((await client.getQueueStats([DL, UL])).map((q) => q.name)).toEqual([DL, UL]);
  });
});

describe('REST answer size cap on a local server', () => {
  let server: http.Server;
  let port: number;
  let written = 0;
  let closed: Promise<void> = Promise.resolve();
  const TOTAL = 64 << 20;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      written = 0;
      closed = new Promise((resolve) => res.once('close', () => resolve()));
      const chunk = Buffer.alloc(64 << 10, 0x20);
      const declared = req.url?.includes('declared');
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(declared ? { 'content-length': TOTAL } : {}),
      });
      const pump = () => {
        while (written < TOTAL && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it.each(['chunked', 'declared'])('a 64 MiB %s body is aborted, not read whole', async (kind) => {
    const c = new RestRouterClient({
      host: '127.0.0.1',
      port,
      https: false,
      user: 'u',
      password: 'p',
      deadlineMs: 20_000,
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    try {
      const err = await c.runCommand(`/queue/tree/print where name=${kind}`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RouterResponseTooLargeError);
      await closed;
      // the server could not push the whole body: the client stopped reading and closed
      expect(written).toBeLessThan(TOTAL / 2);
    } finally {
      await c.close();
    }
  });
});

describe('SSH output cap', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmu();
  });
  afterAll(async () => {
    await emu.stop();
  });

  it('more than 1 MiB of output is refused; the next call reconnects and works', async () => {
    const c = clientFor(emu, 'ssh');
    try {
      await emu.faults.set('ssh', { oversize: { bytes: 4 << 20, count: 1 } });
      const err = await c.getQueueStats([DL]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RouterResponseTooLargeError);
      const [q] = await c.getQueueStats([DL]);
      expect(q?.maxLimitBps).toBe(Number(emu.state.get('/queue/tree', DL)?.['max-limit']));
    } finally {
      await c.close();
      await emu.faults.clear();
    }
  });
});

describe('transport states and the switch signal (failover)', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmu();
  });
  afterAll(async () => {
    await emu.stop();
  });
  afterEach(async () => {
    await emu.faults.clear();
  });

  it('shows the primary down after a failover, logs the switch once, and can check an idle fallback', async () => {
    const log = captureLogger();
    const c = getRouterClientWithFailover(
      emuOptions(emu, 'rest', { logger: log, deadlineMs: 3000, reprobeIntervalMs: 60_000 }),
    );
    const events: string[] = [];
    c.on('switch', (ev) => events.push(`${ev.from}->${ev.to}`));
    try {
      expect(c.transportStates().map((s) => [s.transport, s.state])).toEqual([
        ['rest', 'unknown'],
        ['ssh', 'unknown'],
      ]);
      await c.getIdentity();
      expect(c.transportStates()[0]).toMatchObject({ transport: 'rest', state: 'up' });
      // the idle SSH fallback is down: a health check shows it without a switch
      await emu.faults.set('ssh', { down: true });
      expect(await c.checkIdleTransport({ deadlineMs: 1000 })).toBe(false);
      const ssh = c.transportStates()[1]!;
      expect(ssh.state).toBe('down');
      expect(ssh.lastError?.code).toMatch(/^WANCTL_ROUTER_/);
      await emu.faults.clear('ssh');
      // (the SSH client backs off its reconnects after a failed connect)
      await vi.waitFor(async () => expect(await c.checkIdleTransport()).toBe(true), {
        timeout: 10_000,
        interval: 200,
      });
      expect(c.transportStates()[1]!.state).toBe('up');
      // REST goes down: the call fails over, one event, one log line
      await emu.faults.set('rest', { down: true });
      const before = Date.now();
      await c.getQueueStats([DL]);
      expect(c.activeTransport).toBe('ssh');
      const [rest] = c.transportStates();
      expect(rest).toMatchObject({ transport: 'rest', state: 'down' });
      expect(rest!.since).toBeGreaterThanOrEqual(before);
      expect(rest!.lastError?.code).toBe('WANCTL_ROUTER_CONNECTION');
      expect(events).toEqual(['rest->ssh']);
      expect(log.lines.filter((l) => /switch/i.test(l.message))).toHaveLength(1);
    } finally {
      await c.close();
    }
  });
});
