import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyFixture, buildFixture, type Emulator, RouterState, startEmulator } from '../src/index.js';
import { rest } from './helpers.js';

const COMMENT = 'ADAPTIVE: Steer latency-sensitive to WAN2';

function seeded(): RouterState {
  const s = new RouterState({ now: () => 0 });
  applyFixture(s, buildFixture());
  return s;
}

describe('renumbering and restarts (issue 16)', () => {
  it('insert puts an item first; renumber then gives it the id the old first item had', () => {
    const s = seeded();
    const old = s.resolveId('/ip/firewall/mangle', '*1');
    expect(s.list('/ip/firewall/mangle')[0]?.['comment']).toBe(COMMENT);
    s.insert('/ip/firewall/mangle', {
      chain: 'prerouting',
      action: 'mark-routing',
      'new-routing-mark': 'blackhole',
      comment: 'other admin',
      disabled: 'true',
    });
    expect(s.list('/ip/firewall/mangle').map((r) => r['comment'])).toEqual(['other admin', COMMENT]);
    const moved = s.renumber('/ip/firewall/mangle');
    const [first, second] = s.list('/ip/firewall/mangle');
    expect(first?.['.id']).toBe(old);
    expect(first?.['comment']).toBe('other admin');
    expect(second?.['.id']).toBe('*2');
    expect(moved[old]).toBe('*2');
    // new items continue after the renumbered ones
    expect(s.add('/ip/firewall/mangle', { chain: 'forward', action: 'accept' })).toBe('*3');
  });

  it('queue tree: an inserted queue takes over the first id; default queue types keep theirs', () => {
    const s = seeded();
    const typesBefore = s.list('/queue/type').map((t) => t['.id']);
    s.insert('/queue/tree', { name: 'guest', parent: 'global', queue: 'default', 'max-limit': '1M' });
    s.renumber('/queue/tree');
    s.renumber('/queue/type');
    expect(s.get('/queue/tree', '*1000000')?.['name']).toBe('guest');
    expect(s.get('/queue/tree', 'WAN-Download-1')?.['.id']).toBe('*1000001');
    const defaults = s
      .list('/queue/type')
      .filter((t) => t['default'] === 'true')
      .map((t) => t['.id']);
    expect(typesBefore).toEqual(expect.arrayContaining(defaults));
  });

  it('reboot resets the given max-limits and counters, renumbers, restarts uptime', () => {
    const s = seeded();
    s.staticTraffic.set('WAN-Download-1', { bytes: 5000, packets: 5, dropped: 2 });
    s.set('/queue/tree', 'WAN-Download-1', { 'max-limit': '500M' });
    s.reboot({ maxLimits: { 'WAN-Download-1': '100M', 'WAN-Upload-1': '5M' } });
    const dl = s.get('/queue/tree', 'WAN-Download-1');
    expect(dl?.['max-limit']).toBe('100000000');
    expect(s.get('/queue/tree', 'WAN-Upload-1')?.['max-limit']).toBe('5000000');
    expect(dl?.['bytes']).toBe('0');
    expect(dl?.['dropped']).toBe('0');
    expect(s.get('/system/resource')?.['uptime']).toBe('0s');
  });
});

describe('admin endpoint: insert, renumber, reboot; faults answerBody and oversize', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ adminPort: 0 });
  });
  afterAll(async () => {
    await emu.stop();
  });
  afterEach(async () => {
    await emu.faults.clear();
  });
  const admin = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${emu.admin?.url}${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  };

  it('renumbers a running router from another process', async () => {
    const ins = await admin('POST', '/state/queue/tree/insert', {
      props: { name: 'guest', parent: 'global', queue: 'default' },
    });
    expect(ins.status).toBe(200);
    const moved = await admin('POST', '/state/queue/tree/renumber');
    expect(moved.json).toEqual({
      [ins.json['id'] as string]: '*1000000',
      '*1000000': '*1000001',
      '*1000001': '*1000002',
    });
    expect((await rest(emu, 'GET', '/queue/tree/*1000000')).json).toMatchObject({ name: 'guest' });
    const rb = await admin('POST', '/reboot', { maxLimits: { 'WAN-Download-1': '100M' } });
    expect(rb.status).toBe(200);
    expect(emu.state.get('/queue/tree', 'WAN-Download-1')?.['max-limit']).toBe('100000000');
    expect((await admin('POST', '/state/queue/tree/insert', {})).status).toBe(400);
  });

  it('answerBody replaces the answer of a handled request; oversize streams a large body', async () => {
    await emu.faults.set('rest', { answerBody: { body: 'null', method: 'PATCH', count: 1 } });
    const g = await rest(emu, 'GET', '/system/identity');
    expect(g.json).toEqual({ name: 'MikroTik' });
    const p = await rest(emu, 'PATCH', '/queue/tree/WAN-Upload-1', { 'max-limit': '7000000' });
    expect(p.text).toBe('null');
    expect(emu.state.get('/queue/tree', 'WAN-Upload-1')?.['max-limit']).toBe('7000000');
    await emu.faults.set('rest', { oversize: { bytes: 3 << 20, count: 1 } });
    const big = await rest(emu, 'GET', '/queue/tree');
    expect(big.text.length).toBeGreaterThanOrEqual(3 << 20);
    expect(Array.isArray(JSON.parse(big.text))).toBe(true);
    await expect(emu.faults.set('rest', { oversize: { bytes: -1 } })).rejects.toThrow(
      expect.objectContaining({ code: 'WANCTL_EMULATOR_FAULT_INVALID' }),
    );
  });
});
