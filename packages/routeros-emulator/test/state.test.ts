import { describe, expect, it } from 'vitest';
import {
  applyFixture,
  buildFixture,
  LoadTrafficModel,
  NoSuchItemError,
  type QueueCounters,
  type QueueInfo,
  RouterOsError,
  RouterState,
  startEmulator,
  type TrafficModel,
} from '../src/index.js';
import { rest } from './helpers.js';

function seeded(now = () => 0): RouterState {
  const s = new RouterState({ now });
  applyFixture(s, buildFixture());
  return s;
}

describe('RouterState', () => {
  it('finds, gets by id or name, and allocates RouterOS-style ids', () => {
    const s = seeded();
    const [dl] = s.find('/queue/tree', { name: 'WAN-Download-1' });
    expect(dl?.['.id']).toBe('*1000000');
    expect(s.get('/queue/tree', 'WAN-Upload-1')?.['.id']).toBe('*1000001');
    expect(s.get('/queue/tree', '*1000001')?.['name']).toBe('WAN-Upload-1');
    expect(s.find('/queue/tree', (r) => r['parent'] === 'global').map((r) => r['name'])).toEqual([
      'WAN-Upload-1',
    ]);
    expect(s.get('/ip/firewall/mangle', '*1')?.['comment']).toBe('ADAPTIVE: Steer latency-sensitive to WAN2');
    expect(s.get('/queue/type', 'default')?.['.id']).toBe('*FFFFFFFF');
    expect(s.indexOf('/queue/tree', '*1000001')).toBe(1);
  });

  it('validates writes with RouterOS texts and typed errors', () => {
    const s = seeded();
    expect(() => s.set('/queue/tree', 'nope', { 'max-limit': '1' })).toThrow(NoSuchItemError);
    expect(() => s.set('/queue/tree', 'WAN-Download-1', { 'max-limit': 'x' })).toThrow(
      'invalid value for argument max-limit',
    );
    expect(() => s.set('/queue/tree', 'WAN-Download-1', { bytes: '5' })).toThrow(RouterOsError);
    expect(() => s.set('/queue/type', 'default', { 'pfifo-limit': '5' })).toThrow(/default queue/);
    expect(() => s.set('/queue/type', 'cake-down-wan1', { 'pfifo-limit': '5' })).toThrow(
      'unknown parameter pfifo-limit',
    );
    expect(() => s.add('/queue/tree', { parent: 'global' })).toThrow(/name/);
    expect(() => s.list('/interface')).toThrow('no such command or directory (interface)');
    // a failed write changes nothing
    expect(() => s.set('/queue/tree', 'WAN-Download-1', { 'max-limit': '5M', queue: 'nope' })).toThrow();
    expect(s.get('/queue/tree', 'WAN-Download-1')?.['max-limit']).toBe('940000000');
  });

  it('applies kind before kind-specific properties, whatever the key order', () => {
    const s = seeded();
    const id = s.add('/queue/type', { 'pfifo-limit': '20', name: 't', kind: 'pfifo' });
    s.set('/queue/type', id, { 'cake-nat': 'yes', kind: 'cake' });
    expect(s.get('/queue/type', id)).toMatchObject({ kind: 'cake', 'cake-nat': 'true' });
    expect(s.get('/queue/type', id)).not.toHaveProperty('pfifo-limit');
  });

  it('emits change events', () => {
    const s = seeded();
    const events: string[] = [];
    const off = s.onChange((e) =>
      events.push(`${e.action} ${e.path} ${e.id} ${JSON.stringify(e.props ?? {})}`),
    );
    s.set('/queue/tree', 'WAN-Download-1', { 'max-limit': '100M' });
    s.resetCounters('/queue/tree', 'WAN-Download-1');
    off();
    s.set('/queue/tree', 'WAN-Download-1', { 'max-limit': '1M' });
    expect(events).toEqual([
      'set /queue/tree *1000000 {"max-limit":"100000000"}',
      'reset-counters /queue/tree *1000000 {}',
    ]);
  });

  it('clear() keeps built-in queue types only', () => {
    const s = seeded();
    s.clear();
    expect(s.list('/queue/tree')).toEqual([]);
    expect(s.list('/ip/firewall/mangle')).toEqual([]);
    expect(s.list('/queue/type')).toHaveLength(10);
  });
});

describe('traffic models', () => {
  it('LoadTrafficModel drives counters from max-limit over (fake) time, piecewise across changes', () => {
    let t = 0;
    const s = seeded(() => t);
    s.setTrafficModel(new LoadTrafficModel({ utilisation: 0.5, packetBytes: 1000 }));
    s.set('/queue/tree', 'WAN-Download-1', { 'max-limit': '80M' });
    expect(s.get('/queue/tree', 'WAN-Download-1')).toMatchObject({ bytes: '0', rate: '40000000' });
    t = 1000; // 1 s at 40 Mbit/s = 5 MB
    expect(s.get('/queue/tree', 'WAN-Download-1')).toMatchObject({ bytes: '5000000', packets: '5000' });
    s.set('/queue/tree', 'WAN-Download-1', { 'max-limit': '16M' });
    t = 2000; // + 1 s at 8 Mbit/s = 1 MB
    expect(s.get('/queue/tree', 'WAN-Download-1')).toMatchObject({
      bytes: '6000000',
      rate: '8000000',
      'packet-rate': '1000',
      dropped: '0',
    });
    s.resetCounters('/queue/tree', 'WAN-Download-1');
    expect(s.get('/queue/tree', 'WAN-Download-1')?.['bytes']).toBe('0');
    t = 3000;
    expect(s.get('/queue/tree', 'WAN-Download-1')?.['bytes']).toBe('1000000');
  });

  it('a custom model is asked per queue and told about max-limit changes', async () => {
    const calls: string[] = [];
    const model: TrafficModel = {
      counters(q: QueueInfo): QueueCounters {
        return {
          bytes: q.maxLimit / 1000,
          packets: 1,
          dropped: q.name === 'WAN-Download-1' ? 3 : 0,
          queuedBytes: 0,
          queuedPackets: 0,
          rate: 0,
          packetRate: 0,
        };
      },
      maxLimitChanged(q, prev) {
        calls.push(`${q.name} ${prev}->${q.maxLimit}`);
      },
    };
    const emu = await startEmulator({ sshPort: false });
    try {
      emu.setTrafficModel(model);
      const id = emu.state.resolveId('/queue/tree', 'WAN-Download-1');
      await rest(emu, 'PATCH', `/queue/tree/${id}`, { 'max-limit': '500000000' });
      expect(calls).toEqual(['WAN-Download-1 940000000->500000000']);
      const r = await rest(emu, 'GET', `/queue/tree/${id}`);
      expect(r.json).toMatchObject({ bytes: '500000', dropped: '3' });
      // a model whose counters go backwards (e.g. swapped) never yields negative counters
      emu.setTrafficModel({ counters: () => ({ ...model.counters({} as QueueInfo, 0), bytes: 10 }) });
      const after = (await rest(emu, 'GET', `/queue/tree/${id}`)).json as Record<string, string>;
      expect(Number(after['bytes'])).toBeGreaterThanOrEqual(0);
    } finally {
      await emu.stop();
    }
  });

  it('StaticTrafficModel rejects negative counters', () => {
    const s = new RouterState();
    expect(() => s.staticTraffic.set('q', { bytes: -1 })).toThrow(RangeError);
  });
});
