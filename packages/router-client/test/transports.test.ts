/**
 * Every typed operation over both transports against the emulator over real sockets, with the
 * same assertions (one table, two transports).
 */
import type { Emulator } from '@wanctl/routeros-emulator';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CommandSyntaxError,
  type RouterClient,
  RouterCommandError,
  RouterNotFoundError,
  type Transport,
} from '../src/index.js';
import { COMMENT, clientFor, DL, startEmu, traffic, UL } from './helpers.js';

describe.each<Transport>(['rest', 'ssh'])('RouterClient over %s', (transport) => {
  let emu: Emulator;
  let client: RouterClient;

  beforeAll(async () => {
    emu = await startEmu();
  });
  afterAll(async () => {
    await emu.stop();
  });
  beforeEach(() => {
    client = clientFor(emu, transport);
    emu.requests.clear();
  });
  afterEach(async () => {
    await client.close();
  });

  const maxLimit = (name: string) => emu.state.find('/queue/tree', { name })[0]?.['max-limit'];
  const queueType = (name: string) => emu.state.find('/queue/tree', { name })[0]?.['queue'];
  const ruleDisabled = () => emu.state.find('/ip/firewall/mangle', { comment: COMMENT })[0]?.['disabled'];

  it('reports its transport', () => {
    expect(client.activeTransport).toBe(transport);
  });

  it('getIdentity', async () => {
    expect(await client.getIdentity()).toBe('MikroTik');
  });

  it('getResource: typed numbers from raw (REST) or human (SSH) units', async () => {
    const r = await client.getResource();
    expect(r.version).toBe('7.16.2 (stable)');
    expect(r.boardName).toBe('RB5009UG+S+');
    expect(r.cpuLoadPercent).toBe(3);
    expect(r.totalMemoryBytes).toBe(1073741824);
  });

  it('setQueueLimits: both queues with queue types in one batched call', async () => {
    await client.setQueueLimits([
      { name: DL, maxLimitBps: 425_000_000, queueType: 'cake-down-wan1' },
      { name: UL, maxLimitBps: 45_000_000, queueType: 'cake-up-wan1' },
    ]);
    expect(maxLimit(DL)).toBe('425000000');
    expect(maxLimit(UL)).toBe('45000000');
    expect(queueType(DL)).toBe('cake-down-wan1');
    if (transport === 'ssh') {
      expect(emu.requests.ssh().map((r) => r.command)).toEqual([
        '/queue/tree/set WAN-Download-1 queue=cake-down-wan1 max-limit=425000000; /queue/tree/set WAN-Upload-1 queue=cake-up-wan1 max-limit=45000000',
      ]);
    } else {
      const patches = emu.requests.rest().filter((r) => r.method === 'PATCH');
      expect(patches.map((r) => r.json)).toEqual(
        expect.arrayContaining([
          { queue: 'cake-down-wan1', 'max-limit': '425000000' },
          { queue: 'cake-up-wan1', 'max-limit': '45000000' },
        ]),
      );
      // no id is reused across calls (issue 16): every write is one small lookup of both
      // queues, then the two PATCHes (two round trips)
      emu.requests.clear();
      await client.setQueueLimits([
        { name: DL, maxLimitBps: 400_000_000 },
        { name: UL, maxLimitBps: 40_000_000 },
      ]);
      const reqs = emu.requests.rest();
      expect(reqs.map((r) => r.method)).toEqual(['GET', 'PATCH', 'PATCH']);
      expect(reqs[0]!.query).toEqual({ '.proplist': '.id,name' });
      expect(maxLimit(DL)).toBe('400000000');
    }
  });

  it('names are quoted, never interpreted: an injection attempt is just an unknown queue', async () => {
    const evil = 'x"; /ip firewall mangle enable [find]; /queue tree set [find] max-limit=1; "';
    const before = ruleDisabled();
    await expect(client.setQueueLimits([{ name: evil, maxLimitBps: 5 }])).rejects.toBeInstanceOf(
      RouterNotFoundError,
    );
    await expect(client.getQueueStats([evil])).rejects.toBeInstanceOf(RouterNotFoundError);
    expect(ruleDisabled()).toBe(before);
    expect(maxLimit(DL)).not.toBe('1');
  });

  it('setQueueLimits: one queue', async () => {
    await client.setQueueLimits([{ name: UL, maxLimitBps: 12_345_000 }]);
    expect(maxLimit(UL)).toBe('12345000');
  });

  it('setQueueLimits: an unknown queue is RouterNotFoundError (never silently ignored)', async () => {
    const err = await client
      .setQueueLimits([{ name: 'NoSuchQueue', maxLimitBps: 1_000_000 }])
      .catch((e) => e);
    expect(err).toBeInstanceOf(RouterNotFoundError);
    expect(err.transport).toBe(transport);
    expect(err.message).toContain('NoSuchQueue');
  });

  it('setQueueLimits: a queue recreated with a new .id is still written (looked up on every write)', async () => {
    await client.setQueueLimits([{ name: DL, maxLimitBps: 300_000_000 }]);
    const old = emu.state.find('/queue/tree', { name: DL })[0]!;
    emu.state.remove('/queue/tree', old['.id']!);
    const { '.id': _id, ...props } = old;
    const counters = [
      'bytes',
      'packets',
      'dropped',
      'rate',
      'packet-rate',
      'queued-bytes',
      'queued-packets',
      'invalid',
    ];
    emu.state.add(
      '/queue/tree',
      Object.fromEntries(Object.entries(props).filter(([k]) => !counters.includes(k))),
    );
    expect(emu.state.find('/queue/tree', { name: DL })[0]!['.id']).not.toBe(old['.id']);
    await client.setQueueLimits([{ name: DL, maxLimitBps: 310_000_000 }]);
    expect(maxLimit(DL)).toBe('310000000');
  });

  it('getQueueStats: the same typed snapshot from JSON or console text', async () => {
    traffic(emu).set(DL, {
      bytes: 272603902153,
      packets: 184614358,
      dropped: 17,
      queuedBytes: 4542,
      queuedPackets: 3,
      rate: 183296,
      packetRate: 40,
    });
    await client.setQueueLimits([{ name: DL, maxLimitBps: 940_000_000, queueType: 'cake-down-wan1' }]);
    const [s] = await client.getQueueStats([DL]);
    expect(s).toMatchObject({
      name: DL,
      bytes: 272603902153,
      packets: 184614358,
      dropped: 17,
      queuedBytes: 4542,
      queuedPackets: 3,
      packetRate: 40,
      maxLimitBps: 940_000_000,
      queueType: 'cake-down-wan1',
      disabled: false,
    });
    // the console prints rates with units (e.g. 183.2kbps): within the printed precision
    expect(Math.abs(s!.rateBps - 183296)).toBeLessThanOrEqual(transport === 'ssh' ? 1000 : 0);
    emu.requests.clear();
    const both = await client.getQueueStats([DL, UL]);
    expect(both.map((q) => q.name)).toEqual([DL, UL]);
    expect(both.map((q) => q.maxLimitBps)).toEqual([
      940_000_000,
      Number(emu.state.get('/queue/tree', UL)!['max-limit']),
    ]);
    expect(both[1]!.queueType).toBe('cake-up-wan1');
    if (transport === 'rest') {
      // both queues in ONE GET, only the fields QueueStats needs
      const reqs = emu.requests.rest();
      expect(reqs.map((r) => r.method)).toEqual(['GET']);
      expect(reqs[0]!.query['.proplist']!.split(',').sort()).toEqual(
        [
          '.id',
          'name',
          'max-limit',
          'bytes',
          'packets',
          'dropped',
          'queued-bytes',
          'queued-packets',
          'rate',
          'packet-rate',
          'queue',
          'disabled',
        ].sort(),
      );
    } else {
      expect(emu.requests.ssh()).toHaveLength(1); // one exec
    }
  });

  it('getQueueStats: an unknown queue is RouterNotFoundError', async () => {
    await expect(client.getQueueStats(['Nope'])).rejects.toBeInstanceOf(RouterNotFoundError);
  });

  it('findMangleRule: by exact comment, state from structured data (D7)', async () => {
    emu.state.set(
      '/ip/firewall/mangle',
      emu.state.find('/ip/firewall/mangle', { comment: COMMENT })[0]!['.id']!,
      {
        disabled: 'true',
      },
    );
    const r = await client.findMangleRule(COMMENT);
    expect(r).toMatchObject({
      comment: COMMENT,
      disabled: true,
      chain: 'prerouting',
      action: 'mark-routing',
      newRoutingMark: 'to_WAN2',
    });
    expect(await client.findMangleRule('ADAPTIVE')).toBeNull(); // a prefix is not the comment
    expect(await client.findMangleRule('ADAPTIVE: Steer latency-sensitive to WAN')).toBeNull();
  });

  it('enableMangleRule / disableMangleRule: write and read back', async () => {
    const on = await client.enableMangleRule(COMMENT);
    expect(on.disabled).toBe(false);
    expect(ruleDisabled()).toBe('false');
    expect((await client.findMangleRule(COMMENT))?.disabled).toBe(false);
    const off = await client.disableMangleRule(COMMENT);
    expect(off.disabled).toBe(true);
    expect(ruleDisabled()).toBe('true');
  });

  it('a comment with regex and quote characters is matched literally', async () => {
    const odd = 'ADAPTIVE: to "WAN2" (a|b) $x 100%';
    emu.state.add('/ip/firewall/mangle', {
      chain: 'prerouting',
      action: 'accept',
      comment: odd,
      disabled: 'true',
    });
    try {
      expect((await client.enableMangleRule(odd)).disabled).toBe(false);
      expect(emu.state.find('/ip/firewall/mangle', { comment: odd })[0]?.['disabled']).toBe('false');
      expect(ruleDisabled()).toBe('true'); // the other rule untouched
    } finally {
      emu.state.remove(
        '/ip/firewall/mangle',
        emu.state.find('/ip/firewall/mangle', { comment: odd })[0]!['.id']!,
      );
    }
  });

  it('enableMangleRule: a missing rule is RouterNotFoundError', async () => {
    await expect(client.enableMangleRule('no such comment')).rejects.toBeInstanceOf(RouterNotFoundError);
  });

  it('resetQueueCounters', async () => {
    traffic(emu).set(UL, { bytes: 1000, packets: 10, dropped: 2 });
    expect((await client.getQueueStats([UL]))[0]?.bytes).toBe(1000);
    await client.resetQueueCounters([UL]);
    const [s] = await client.getQueueStats([UL]);
    expect(s).toMatchObject({ bytes: 0, packets: 0, dropped: 0 });
    await expect(client.resetQueueCounters(['Nope'])).rejects.toBeInstanceOf(RouterNotFoundError);
  });

  it('runCommand: print with where gives structured records', async () => {
    const res = await client.runCommand(`/queue tree print detail where name="${UL}"`);
    expect(res.transport).toBe(transport);
    expect(res.records).toHaveLength(1);
    expect(res.records[0]).toMatchObject({ name: UL, parent: 'global', disabled: 'false' });
    const m = await client.runCommand(`/ip firewall mangle print where comment~"^ADAPTIVE"`);
    expect(m.records.map((r) => r['comment'])).toEqual([COMMENT]);
  });

  it('runCommand: a ;-joined write', async () => {
    await client.runCommand(
      `/queue/tree/set [find name="${DL}"] max-limit=111000000; /queue tree set [find name="${UL}"] max-limit=22000000`,
    );
    expect(maxLimit(DL)).toBe('111000000');
    expect(maxLimit(UL)).toBe('22000000');
  });

  it('runCommand: text outside the subset is rejected locally, nothing is sent', async () => {
    await expect(client.runCommand('/queue tree print where name="a" or name="b"')).rejects.toBeInstanceOf(
      CommandSyntaxError,
    );
    expect(emu.requests.all()).toHaveLength(0);
  });

  it("runCommand: RouterOS's refusal becomes RouterCommandError with the router's message", async () => {
    const err = await client
      .runCommand('/queue/tree/set [find name="WAN-Download-1"] max-limit=lots')
      .catch((e) => e);
    expect(err).toBeInstanceOf(RouterCommandError);
    expect(err.routerMessage.length).toBeGreaterThan(0);
    expect(maxLimit(DL)).not.toBe('lots');
  });
});

describe.each(['ignore', 'empty'] as const)(
  'REST comment query quirk (%s): the rule is still found exactly (D7)',
  (quirk) => {
    let emu: Emulator;
    beforeAll(async () => {
      emu = await startEmu({ restCommentQuery: quirk });
      emu.state.add('/ip/firewall/mangle', {
        chain: 'prerouting',
        action: 'accept',
        comment: 'ADAPTIVE: other rule',
        disabled: 'true',
      });
    });
    afterAll(async () => {
      await emu.stop();
    });

    it('find / enable / runCommand with comment= and comment~', async () => {
      const c = clientFor(emu, 'rest');
      try {
        expect((await c.findMangleRule(COMMENT))?.comment).toBe(COMMENT);
        expect((await c.enableMangleRule(COMMENT)).disabled).toBe(false);
        expect(
          emu.state.find('/ip/firewall/mangle', { comment: 'ADAPTIVE: other rule' })[0]?.['disabled'],
        ).toBe('true');
        const r = await c.runCommand(`/ip firewall mangle print where comment="${COMMENT}"`);
        expect(r.records.map((x) => x['comment'])).toEqual([COMMENT]);
        expect(emu.requests.rest().some((x) => 'comment' in x.query)).toBe(false);
      } finally {
        await c.close();
      }
    });
  },
);
