import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  RestRouterClient,
  type RouterClient,
  type RouterLogger,
  RouterNotFoundError,
  SshRouterClient,
  type Transport,
} from '@wanctl/router-client';
import { type Emulator, type StaticTrafficModel, startEmulator } from '@wanctl/routeros-emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CakeDeltaTracker,
  type CakeSnapshot,
  CakeStatsReader,
  computeDelta,
  InvalidQueueNameError,
  snapshotFromCli,
  snapshotFromRest,
} from '../src/index.js';

const GOLDEN = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../../fixtures/golden/cake_stats.json'), 'utf8'),
);
const SAMPLES = join(import.meta.dirname, '../../../fixtures/routeros-samples');

function logger(): RouterLogger & { warns: string[] } {
  const warns: string[] = [];
  return { warns, info() {}, error() {}, debug() {}, warn: (m: string) => warns.push(m) };
}

type V13 = { packets: number; bytes: number; dropped: number; queued_packets: number; queued_bytes: number };
const asV13 = (s: CakeSnapshot) => ({
  packets: s.packets,
  bytes: s.bytes,
  dropped: s.dropped,
  queued_packets: s.queuedPackets,
  queued_bytes: s.queuedBytes,
});

describe('golden cake_stats.json', () => {
  describe('text_parse', () => {
    const cases: Array<{ name: string; text: string; parsed: V13 }> = GOLDEN.text_parse.cases;
    it('counters_before_queued: same values', () => {
      const c = cases.find((x) => x.name === 'counters_before_queued')!;
      expect(asV13(snapshotFromCli(`name=q ${c.text}`, 0))).toEqual(c.parsed);
    });
    it('routeros_detail_order: v1.3 read queued-packets/queued-bytes as packets/bytes; ours reads each field by name (D8)', () => {
      const c = cases.find((x) => x.name === 'routeros_detail_order')!;
      expect(c.parsed.packets).toBe(1); // v1.3's mistake
      const s = snapshotFromCli(c.text, 0);
      expect(asV13(s)).toEqual({ ...c.parsed, packets: 184614358, bytes: 272603902153 });
    });
    it.each(['missing_fields', 'empty', 'multiline'])(
      '%s: v1.3 filled missing counters with 0; ours refuses a record without them (D8, reference §4.3)',
      (name) => {
        const c = cases.find((x) => x.name === name)!;
        expect(() => snapshotFromCli(c.text, 0, 'q')).toThrow();
      },
    );
  });

  describe('json_parse', () => {
    const cases: Array<{ name: string; text: string; parsed?: V13 | null; exception?: string }> =
      GOLDEN.json_parse.cases;
    it('list: same values', () => {
      const c = cases.find((x) => x.name === 'list')!;
      expect(asV13(snapshotFromRest(c.text, 0, 'q'))).toEqual(c.parsed);
    });
    it.each(['dict', 'empty_list', 'list_of_non_dict', 'invalid_json', 'string_number_float'])(
      '%s: rejected (v1.3: null, zero-filled or ValueError; ours never invents zeros, D8)',
      (name) => {
        const c = cases.find((x) => x.name === name)!;
        expect(() => snapshotFromRest(c.text, 0, 'q')).toThrow();
      },
    );
  });

  it('delta_sequence: parity except the first read (reference only) and the reset (from zero), D8', () => {
    const log = logger();
    const t = new CakeDeltaTracker(log);
    const steps: Array<{ current: V13; returned: V13 }> = GOLDEN.delta_sequence.steps;
    steps.forEach((st, i) => {
      const snap: CakeSnapshot = {
        queue: GOLDEN.delta_sequence.queue,
        at: i * 2000,
        packets: st.current.packets,
        bytes: st.current.bytes,
        dropped: st.current.dropped,
        queuedPackets: st.current.queued_packets,
        queuedBytes: st.current.queued_bytes,
        rateBps: 0,
        packetRate: 0,
      };
      const d = t.update(snap);
      if (i === 0) {
        expect(d).toBeNull(); // D8: v1.3 returned the cumulative values as if they were new
        expect(st.returned.dropped).toBe(5);
        return;
      }
      const got = {
        packets: d!.packets,
        bytes: d!.bytes,
        dropped: d!.dropped,
        queued_packets: d!.queuedPackets,
        queued_bytes: d!.queuedBytes,
      };
      if (st.returned.dropped < 0) {
        // D8: v1.3 returned negative deltas after a reset; ours counts from zero and logs
        expect(d!.reset).toBe(true);
        expect(got).toEqual({
          ...st.returned,
          packets: st.current.packets,
          bytes: st.current.bytes,
          dropped: st.current.dropped,
        });
        expect(log.warns).toHaveLength(1);
        expect(log.warns[0]).toContain('went backwards');
      } else {
        expect(got).toEqual(st.returned);
        expect(d!.reset).toBe(false);
      }
    });
  });

  it('read_stats: bad queue names are refused before anything is sent; a read sends one command', async () => {
    const sent: string[][] = [];
    const fake = {
      async getQueueStats(names: readonly string[]) {
        sent.push([...names]);
        return names.map((name) => ({
          name,
          id: undefined,
          bytes: 0,
          packets: 0,
          dropped: 7,
          queuedPackets: 3,
          queuedBytes: 0,
          rateBps: 0,
          packetRate: 0,
          maxLimitBps: undefined,
          queueType: undefined,
          disabled: false,
        }));
      },
    } as unknown as RouterClient;
    const reader = new CakeStatsReader(fake);
    for (const c of GOLDEN.read_stats.cases as Array<{
      queue_name: string;
      commands_sent: string[];
      result: V13 | null;
    }>) {
      if (c.commands_sent.length === 0) {
        await expect(reader.readOne(c.queue_name)).rejects.toBeInstanceOf(InvalidQueueNameError);
      } else {
        const r = await reader.readOne(c.queue_name);
        expect(asV13(r.snapshot)).toEqual(c.result);
        expect(r.delta).toBeNull(); // D8
      }
    }
    expect(sent).toEqual([['WAN-Download-1']]);
  });
});

describe('rates and resets', () => {
  const snap = (at: number, bytes: number, packets: number, dropped: number): CakeSnapshot => ({
    queue: 'q',
    at,
    bytes,
    packets,
    dropped,
    queuedPackets: 1,
    queuedBytes: 2,
    rateBps: 3,
    packetRate: 4,
  });
  it('per-second rates use the snapshots times', () => {
    const d = computeDelta(snap(1000, 0, 0, 0), snap(3000, 10_000, 100, 4));
    expect(d).toMatchObject({
      intervalMs: 2000,
      bytesPerSec: 5000,
      packetsPerSec: 50,
      dropsPerSec: 2,
      reset: false,
    });
  });
  it('zero interval gives zero rates, not Infinity', () => {
    expect(computeDelta(snap(5, 0, 0, 0), snap(5, 10, 1, 1)).dropsPerSec).toBe(0);
  });
});

describe('the real console sample parses', () => {
  it('queue tree print stats (doc)', () => {
    const s = snapshotFromCli(readFileSync(join(SAMPLES, 'cli/queue_tree_print_stats_doc.txt'), 'utf8'), 0);
    expect(s).toMatchObject({ queue: 'Limiting-Youtube', bytes: 67887, packets: 355, dropped: 0 });
  });
  it('REST queue tree item with live counters', () => {
    const body = readFileSync(
      join(SAMPLES, 'rest/queue_tree_item_nonzero_get_mikrotik_api_2influx_ros7.json'),
      'utf8',
    );
    expect(snapshotFromRest(body, 0).rateBps).toBe(254232);
  });
});

describe.each<Transport>(['rest', 'ssh'])('CakeStatsReader over %s against the emulator', (transport) => {
  let emu: Emulator;
  let client: RouterClient;
  beforeAll(async () => {
    // a narrow console so detail lines wrap, as on a real exec channel
    emu = await startEmulator({ tls: true, sshWidth: 60 });
  });
  afterAll(async () => {
    await emu.stop();
  });
  afterEach(async () => {
    await client.close();
  });
  const model = () => emu.state.trafficModel as StaticTrafficModel;

  function make(): RouterClient {
    const fp = new X509Certificate(emu.rest!.cert!).fingerprint256;
    client =
      transport === 'rest'
        ? new RestRouterClient({
            host: '127.0.0.1',
            port: emu.rest!.port,
            user: 'admin',
            password: 'admin',
            certFingerprint: fp,
          })
        : new SshRouterClient({
            host: '127.0.0.1',
            port: emu.ssh!.port,
            user: 'admin',
            password: 'admin',
            hostKeyFingerprint: emu.ssh!.hostKeyFingerprint,
          });
    return client;
  }

  it('first read sets the reference; then deltas and rates; a reset counts from zero', async () => {
    let now = 10_000;
    const log = logger();
    const reader = new CakeStatsReader(make(), { now: () => now, logger: log });
    model().set('WAN-Download-1', {
      bytes: 272603902153,
      packets: 184614358,
      dropped: 17,
      queuedBytes: 4542,
      queuedPackets: 3,
    });
    const [first, up] = await reader.read(['WAN-Download-1', 'WAN-Upload-1']);
    expect(first!.delta).toBeNull();
    expect(up!.delta).toBeNull();
    expect(first!.snapshot).toMatchObject({
      queue: 'WAN-Download-1',
      at: 10_000,
      bytes: 272603902153,
      packets: 184614358,
      dropped: 17,
      queuedBytes: 4542,
      queuedPackets: 3,
    });
    now = 12_000;
    model().add('WAN-Download-1', { bytes: 2_000_000, packets: 2000, dropped: 6 });
    const second = await reader.readOne('WAN-Download-1');
    expect(second.delta).toMatchObject({
      intervalMs: 2000,
      bytes: 2_000_000,
      packets: 2000,
      dropped: 6,
      dropsPerSec: 3,
      reset: false,
    });
    await client.resetQueueCounters(['WAN-Download-1']);
    model().add('WAN-Download-1', { bytes: 500, packets: 5, dropped: 1 });
    now = 14_000;
    const third = await reader.readOne('WAN-Download-1');
    expect(third.delta).toMatchObject({ bytes: 500, packets: 5, dropped: 1, reset: true });
    expect(log.warns).toHaveLength(1);
  });

  it('an unknown queue is RouterNotFoundError; a bad name is refused locally', async () => {
    const reader = new CakeStatsReader(make());
    await expect(reader.readOne('No-Such-Queue')).rejects.toBeInstanceOf(RouterNotFoundError);
    emu.requests.clear();
    await expect(reader.readOne('bad"name')).rejects.toBeInstanceOf(InvalidQueueNameError);
    expect(emu.requests.all()).toHaveLength(0);
  });
});
