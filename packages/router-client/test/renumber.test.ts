/**
 * Issue 16 must-fix 1 and 2: never act on an unconfirmed `.id`. The router renumbers under a
 * running client (another admin inserts a rule/queue first, or a reboot with an import) and
 * the client's next write must still touch only the item with its comment / name, over the
 * emulator's real sockets.
 */
import type { Emulator } from '@wanctl/routeros-emulator';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RouterClient, Transport } from '../src/index.js';
import { COMMENT, clientFor, DL, startEmu, UL } from './helpers.js';

const BLACKHOLE = 'other admin: send to blackhole';

describe.each<Transport>(['rest', 'ssh'])('renumbered router over %s', (transport) => {
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
  });
  afterEach(async () => {
    await client.close();
    // back to the fixture: drop what a test inserted, renumber
    for (const r of emu.state.list('/ip/firewall/mangle'))
      if (r['comment'] !== COMMENT) emu.state.remove('/ip/firewall/mangle', r['.id']!);
    for (const q of emu.state.list('/queue/tree'))
      if (q['name'] !== DL && q['name'] !== UL) emu.state.remove('/queue/tree', q['.id']!);
    emu.state.renumber('/ip/firewall/mangle');
    emu.state.renumber('/queue/tree');
    emu.state.set('/ip/firewall/mangle', emu.state.list('/ip/firewall/mangle')[0]!['.id']!, {
      disabled: 'true',
    });
  });

  const mangle = () => emu.state.list('/ip/firewall/mangle');
  const byComment = (c: string) => mangle().find((r) => r['comment'] === c);

  it('enable/disable touch only the commented rule after another rule took its id', async () => {
    // the client learns the rule (and, before the fix, caches its id *1)
    expect((await client.enableMangleRule(COMMENT)).disabled).toBe(false);
    expect((await client.disableMangleRule(COMMENT)).disabled).toBe(true);
    const oldId = byComment(COMMENT)!['.id'];
    // another admin adds a rule before it; the router renumbers (import / reboot)
    emu.state.insert('/ip/firewall/mangle', {
      chain: 'prerouting',
      action: 'mark-routing',
      'new-routing-mark': 'blackhole',
      passthrough: 'no',
      comment: BLACKHOLE,
      disabled: 'true',
    });
    emu.state.renumber('/ip/firewall/mangle');
    expect(byComment(BLACKHOLE)!['.id']).toBe(oldId);

    for (let cycle = 0; cycle < 3; cycle++) {
      const on = await client.enableMangleRule(COMMENT);
      expect(on.comment).toBe(COMMENT);
      expect(on.disabled).toBe(false);
      expect(byComment(COMMENT)!['disabled']).toBe('false');
      expect(byComment(BLACKHOLE)!['disabled']).toBe('true');
      const off = await client.disableMangleRule(COMMENT);
      expect(off.disabled).toBe(true);
      expect(byComment(COMMENT)!['disabled']).toBe('true');
      expect(byComment(BLACKHOLE)!['disabled']).toBe('true');
    }
  });

  it('setQueueLimits writes the named queues only after an unrelated queue took their ids', async () => {
    const limits = (dl: number, ul: number) => [
      { name: DL, maxLimitBps: dl, queueType: 'cake-down-wan1' },
      { name: UL, maxLimitBps: ul, queueType: 'cake-up-wan1' },
    ];
    await client.setQueueLimits(limits(500_000_000, 30_000_000));
    const oldDlId = emu.state.get('/queue/tree', DL)!['.id'];
    emu.state.insert('/queue/tree', { name: 'guest', parent: 'global', queue: 'default', 'max-limit': '2M' });
    emu.state.renumber('/queue/tree');
    expect(emu.state.get('/queue/tree', 'guest')!['.id']).toBe(oldDlId);

    await client.setQueueLimits(limits(600_000_000, 31_000_000));
    const guest = emu.state.get('/queue/tree', 'guest')!;
    expect(guest['max-limit']).toBe('2000000');
    expect(guest['queue']).toBe('default');
    expect(emu.state.get('/queue/tree', DL)!['max-limit']).toBe('600000000');
    expect(emu.state.get('/queue/tree', UL)!['max-limit']).toBe('31000000');
    const stats = await client.getQueueStats([DL, UL]);
    expect(stats.map((s) => s.maxLimitBps)).toEqual([600_000_000, 31_000_000]);
  });

  it('after a reboot (renumbered, max-limits back at 100M/5M) the next write lands on the named queues', async () => {
    await client.setQueueLimits([{ name: DL, maxLimitBps: 400_000_000 }]);
    emu.state.insert('/queue/tree', { name: 'guest', parent: 'global', queue: 'default', 'max-limit': '2M' });
    emu.state.reboot({ maxLimits: { [DL]: '100M', [UL]: '5M' } });
    const [dl] = await client.getQueueStats([DL]);
    expect(dl!.maxLimitBps).toBe(100_000_000);
    await client.setQueueLimits([{ name: DL, maxLimitBps: 450_000_000 }]);
    expect(emu.state.get('/queue/tree', DL)!['max-limit']).toBe('450000000');
    expect(emu.state.get('/queue/tree', 'guest')!['max-limit']).toBe('2000000');
  });
});
