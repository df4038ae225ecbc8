import {
  type Emulator,
  type QueueInfo,
  StaticTrafficModel,
  startEmulator,
  type TrafficModel,
} from '@wanctl/routeros-emulator';
import { afterEach, describe, expect, it } from 'vitest';
import {
  constantLoad,
  constantTrace,
  type EmulatorQueueInfo,
  type EmulatorTrafficModel,
  LinkSim,
  LinkSimConfigError,
  linkSimTrafficModel,
} from '../src/index.js';

// Compile-time check: our structural mirror and the emulator's declarations are interchangeable.
const _toEmulator = (m: EmulatorTrafficModel): TrafficModel => m;
const _fromEmulator = (m: TrafficModel): EmulatorTrafficModel => m;
const _info = (q: QueueInfo): EmulatorQueueInfo => q;
void _toEmulator;
void _fromEmulator;
void _info;

const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;

function newSim(): LinkSim {
  return new LinkSim({
    baseRttMs: 20,
    trace: constantTrace({ downBps: 100e6, upBps: 20e6 }),
    load: constantLoad(4, 2),
  });
}

function tree(name: string, maxLimit: number, disabled = false): EmulatorQueueInfo {
  return { path: '/queue/tree', id: `*${name}`, name, maxLimit, disabled };
}

describe('linkSimTrafficModel (unit)', () => {
  it('maps queues to directions and max-limit to the shaper rate', () => {
    const sim = newSim();
    const m = linkSimTrafficModel(sim, { downQueue: 'D', upQueue: 'U', simpleQueue: 'S' });
    expect(m.directionOf(tree('D', 0))).toBe('down');
    expect(m.directionOf(tree('U', 0))).toBe('up');
    expect(m.directionOf(tree('other', 0))).toBeNull();
    expect(m.directionOf({ ...tree('S', 0), path: '/queue/simple', direction: 'upload' })).toBe('up');
    m.maxLimitChanged?.(tree('D', 50e6), 0, 0);
    expect(sim.shaperRate('down')).toBe(50e6);
    m.counters(tree('U', 10e6), 0); // a read applies the current max-limit as well
    expect(sim.shaperRate('up')).toBe(10e6);
    m.counters(tree('U', 10e6, true), 0); // a disabled queue does not shape
    expect(sim.shaperRate('up')).toBe(Number.POSITIVE_INFINITY);
    m.maxLimitChanged?.(tree('D', 0), 50e6, 0); // 0 = unlimited
    expect(sim.shaperRate('down')).toBe(Number.POSITIVE_INFINITY);
    expect(m.applied).toEqual({ down: 2, up: 2 });
    expect(m.counters(tree('other', 1e6), 0)).toEqual({
      bytes: 0,
      packets: 0,
      dropped: 0,
      queuedBytes: 0,
      queuedPackets: 0,
      rate: 0,
      packetRate: 0,
    });
  });

  it('passes unknown queues to a fallback model', () => {
    const fallback = new StaticTrafficModel();
    fallback.set('other', { bytes: 123 });
    const m = linkSimTrafficModel(newSim(), { downQueue: 'D', upQueue: 'U', fallback });
    expect(m.counters(tree('other', 0), 0).bytes).toBe(123);
  });

  it('chains through fallback for a second WAN', () => {
    const wan1 = newSim();
    const wan2 = newSim();
    const m = linkSimTrafficModel(wan1, {
      downQueue: 'D1',
      upQueue: 'U1',
      fallback: linkSimTrafficModel(wan2, { downQueue: 'D2', upQueue: 'U2' }),
    });
    m.maxLimitChanged?.(tree('D2', 30e6), 0, 0);
    m.maxLimitChanged?.(tree('D1', 70e6), 0, 0);
    expect(wan2.shaperRate('down')).toBe(30e6);
    expect(wan1.shaperRate('down')).toBe(70e6);
    wan2.step(3);
    expect(m.counters(tree('D2', 30e6), 0).bytes).toBe(wan2.counters('down').bytes);
    expect(m.counters(tree('D1', 70e6), 0).bytes).toBe(0);
  });

  it('can follow the emulator clock', () => {
    const sim = newSim();
    const m = linkSimTrafficModel(sim, {
      downQueue: 'D',
      upQueue: 'U',
      time: 'emulator-clock',
      maxAdvanceS: 2,
    });
    m.counters(tree('D', 0), 10_000); // origin
    expect(sim.now).toBe(0);
    const c1 = m.counters(tree('D', 0), 11_000);
    expect(sim.now).toBeCloseTo(1, 9);
    expect(c1.bytes).toBeGreaterThan(0);
    m.counters(tree('D', 0), 21_000); // a 10 s jump advances at most 2 s
    expect(sim.now).toBeCloseTo(3, 9);
    m.counters(tree('D', 0), 20_000); // the clock going back does nothing
    expect(sim.now).toBeCloseTo(3, 9);
  });

  it('rejects missing or equal queue names', () => {
    expect(() => linkSimTrafficModel(newSim(), { downQueue: '', upQueue: 'U' })).toThrow(LinkSimConfigError);
    expect(() => linkSimTrafficModel(newSim(), { downQueue: '', upQueue: 'U' })).toThrow(
      expect.objectContaining({ code: 'WANCTL_LINKSIM_OPTION_INVALID', option: 'downQueue/upQueue' }),
    );
    expect(() => linkSimTrafficModel(newSim(), { downQueue: 'Q', upQueue: 'Q' })).toThrow(/upQueue/);
  });
});

describe('linkSimTrafficModel in the RouterOS emulator (REST on 127.0.0.1)', () => {
  let emu: Emulator | undefined;
  afterEach(async () => {
    await emu?.stop();
    emu = undefined;
  });

  async function rest(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    const r = await fetch(`${emu!.rest!.url}${path}`, {
      method,
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    return { status: r.status, json: text ? JSON.parse(text) : null };
  }

  it('queue counters come from the sim, and a max-limit PATCH shapes the sim', async () => {
    const sim = newSim();
    const model = linkSimTrafficModel(sim, { downQueue: 'WAN-Download-1', upQueue: 'WAN-Upload-1' });
    emu = await startEmulator({ sshPort: false, trafficModel: model });
    sim.step(5);

    const list = (await rest('GET', '/queue/tree?name=WAN-Download-1')).json as Array<Record<string, string>>;
    expect(list).toHaveLength(1);
    const q = list[0]!;
    // The fixture's max-limit (940M) is above the 100M capacity: the sim is shaped at 940M.
    expect(sim.shaperRate('down')).toBe(940e6);
    const c = sim.counters('down');
    expect(Number(q['bytes'])).toBe(c.bytes);
    expect(Number(q['packets'])).toBe(c.packets);
    expect(Number(q['rate'])).toBe(c.rate);
    expect(Number(q['bytes'])).toBeGreaterThan(10_000_000);

    const patched = await rest('PATCH', `/queue/tree/${q['.id']}`, { 'max-limit': '60000000' });
    expect(patched.status).toBe(200);
    expect(sim.shaperRate('down')).toBe(60e6);
    sim.step(5);
    const after = (await rest('GET', '/queue/tree?name=WAN-Download-1')).json as Array<
      Record<string, string>
    >;
    expect(Number(after[0]!['rate'])).toBeGreaterThan(0.8 * 60e6);
    expect(Number(after[0]!['rate'])).toBeLessThanOrEqual(60e6);
    expect(Number(after[0]!['bytes'])).toBeGreaterThan(Number(q['bytes']));

    // reset-counters: the emulator re-bases, the sim keeps counting.
    const reset = await rest('POST', '/queue/tree/reset-counters', { '.id': q['.id'] });
    expect(reset.status).toBe(200);
    const zeroed = (await rest('GET', '/queue/tree?name=WAN-Download-1')).json as Array<
      Record<string, string>
    >;
    expect(Number(zeroed[0]!['bytes'])).toBe(0);
    sim.step(1);
    const grown = (await rest('GET', '/queue/tree?name=WAN-Download-1')).json as Array<
      Record<string, string>
    >;
    expect(Number(grown[0]!['bytes'])).toBeGreaterThan(0.8 * (60e6 / 8));
  });
});
