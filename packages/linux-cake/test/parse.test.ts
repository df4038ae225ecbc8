/**
 * Parsing real `tc -s -j qdisc show` output. Fixtures (see fixtures/README.md for sources):
 * two public CAKE captures and TBF/HTB captures made on this project's test machine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CakeParamsConfig } from '@wanctl/config';
import { describe, expect, it } from 'vitest';
import { parseHtbClassText } from '../src/client.js';
import {
  type DirectionSpec,
  directionStats,
  parseTcJson,
  rateBps,
  type TcEntry,
  TcOutputError,
  verifyDirection,
} from '../src/index.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const byDev = (entries: TcEntry[], dev: string) => entries.filter((e) => e['dev'] === dev);
const spec = (iface: string, kind: DirectionSpec['kind']): DirectionSpec => ({
  direction: 'upload',
  queue: 'WAN-Upload',
  iface,
  kind,
});
const P: CakeParamsConfig = {
  downloadInterface: 'ens17',
  uploadInterface: 'ens16',
  downloadQdisc: 'cake',
  uploadQdisc: 'cake',
  overhead: undefined,
  mpu: undefined,
  memlimit: undefined,
  rttMs: undefined,
  diffserv: undefined,
  ackFilter: undefined,
  splitGso: undefined,
  ecn: undefined,
  nat: undefined,
  wash: undefined,
  ingress: undefined,
  tbfLatencyMs: 5,
};

describe('CAKE statistics (production capture, diffserv4, four shapers)', () => {
  const all = parseTcJson(fixture('cake-diffserv4-4qdiscs.json'));

  it('reads totals, backlog, the shaped rate and every tin of one interface', () => {
    const s = directionStats(spec('ens16', 'cake'), byDev(all, 'ens16'));
    expect(s).toMatchObject({
      kind: 'cake',
      bytes: 16304449916,
      packets: 33551067,
      dropped: 7105716,
      overlimits: 62338506,
      queuedPackets: 0,
      queuedBytes: 0,
      maxLimitBps: 38_000_000, // bandwidth 4750000 bytes/s
    });
    expect(s.tins).toHaveLength(4);
    expect(s.tins[0]).toEqual({
      thresholdBps: 2_375_000,
      sentBytes: 11122264970,
      sentPackets: 16117791,
      drops: 10278,
      ecnMarks: 167436,
      ackDrops: 3032145,
      backlogBytes: 0,
      peakDelayUs: 1171,
      avgDelayUs: 266,
      baseDelayUs: 1,
    });
    expect(s.tins.reduce((a, t) => a + t.ackDrops, 0)).toBe(3032145 + 1119611 + 84208 + 2844913);
  });

  it('the 940 Mbit download shaper', () => {
    expect(directionStats(spec('ens17', 'cake'), byDev(all, 'ens17')).maxLimitBps).toBe(940_000_000);
  });

  it('read-back: docsis on ens16 matches (overhead 18, mpu 64, noatm); ethernet, diffserv3 and wash do not', () => {
    const q = byDev(all, 'ens16');
    const ok = {
      ...P,
      overhead: 'docsis',
      diffserv: 'diffserv4' as const,
      ackFilter: true,
      ingress: false,
      memlimit: 33554432,
      rttMs: 100,
    };
    expect(verifyDirection(spec('ens16', 'cake'), ok, q, undefined, 38_000_000)).toEqual([]);
    const bad = verifyDirection(
      spec('ens16', 'cake'),
      { ...P, overhead: 'ethernet', diffserv: 'diffserv3', wash: true },
      q,
    );
    expect(bad).toEqual([
      { iface: 'ens16', option: 'diffserv', expected: 'diffserv3', found: 'diffserv4' },
      { iface: 'ens16', option: 'overhead', expected: 38, found: 18 },
      { iface: 'ens16', option: 'mpu', expected: 84, found: 64 },
      { iface: 'ens16', option: 'wash', expected: true, found: false },
    ]);
    // bridged-ptm on ens27: overhead 22 over PTM
    expect(
      verifyDirection(spec('ens27', 'cake'), { ...P, overhead: 'bridged-ptm' }, byDev(all, 'ens27')),
    ).toEqual([]);
    expect(
      verifyDirection(spec('ens27', 'cake'), { ...P, overhead: 22, mpu: 64 }, byDev(all, 'ens27')),
    ).toEqual([{ iface: 'ens27', option: 'mpu', expected: 64, found: null }]);
  });

  it('a qdisc of another kind is a mismatch', () => {
    expect(verifyDirection(spec('ens18', 'cake'), P, byDev(all, 'ens18'))).toEqual([
      { iface: 'ens18', option: 'kind', expected: 'cake', found: 'fq_codel' },
    ]);
    expect(verifyDirection(spec('ens16', 'cake'), P, byDev(all, 'ens16'), undefined, 40_000_000)).toEqual([
      { iface: 'ens16', option: 'rate', expected: 40_000_000, found: 38_000_000 },
    ]);
  });

  it('fq_codel statistics (same capture)', () => {
    expect(directionStats(spec('ens18', 'htb_fq_codel'), byDev(all, 'ens18'))).toMatchObject({
      kind: 'fq_codel',
      bytes: 1055075336,
      packets: 10765526,
      dropped: 0,
      maxLimitBps: undefined,
    });
  });
});

describe('CAKE unshaped, inside an HTB class (LibreQoS example data)', () => {
  const all = parseTcJson(fixture('cake-in-htb-unlimited.json'));
  it('bandwidth "unlimited" reads as 0; raw overhead 0; tins', () => {
    // not a root qdisc (parent 3:205): the stats need the root, so this is a not-found
    expect(() => directionStats(spec('eth0', 'cake'), all)).toThrow(/no root qdisc/);
    const asRoot = [{ ...all[0], root: true } as TcEntry];
    const s = directionStats(spec('eth0', 'cake'), asRoot);
    expect(s.maxLimitBps).toBe(0);
    expect(s.dropped).toBe(1162331);
    expect(s.tins.map((t) => t.drops)).toEqual([0, 984524, 177080, 727]);
    expect(s.tins[3]?.peakDelayUs).toBe(566715);
    expect(
      verifyDirection(
        spec('eth0', 'cake'),
        { ...P, overhead: 'raw', diffserv: 'diffserv4', splitGso: true, ackFilter: false },
        asRoot,
      ),
    ).toEqual([]);
  });
});

describe('TBF and HTB (captured on this project test machine, iproute2 6.1, kernel 6.18)', () => {
  it('tbf under UDP overload: rate, drops, backlog', () => {
    const q = parseTcJson(fixture('tbf-veth-iproute2-6.1.json'));
    expect(directionStats(spec('fxa', 'tbf'), q)).toMatchObject({
      kind: 'tbf',
      bytes: 291466,
      packets: 206,
      dropped: 598,
      queuedPackets: 5,
      queuedBytes: 7450,
      maxLimitBps: 2_000_000,
      tins: [],
    });
    expect(verifyDirection(spec('fxa', 'tbf'), P, q, undefined, 2_000_000)).toEqual([]);
  });

  it('htb root with a leaf, the class rate from `tc class show` text', () => {
    const q = parseTcJson(fixture('htb-pfifo-veth-iproute2-6.1.json'));
    const c = parseHtbClassText(fixture('htb-class-show-iproute2-6.1.txt'));
    expect(c).toEqual([{ class: 'htb', handle: '1:1', rate: '2Mbit', ceil: '2Mbit' }]);
    expect(directionStats(spec('fxa', 'htb_fq_codel'), q, c)).toMatchObject({
      kind: 'htb',
      bytes: 309128,
      queuedPackets: 47,
      queuedBytes: 70030,
      maxLimitBps: 2_000_000,
    });
    // the leaf is pfifo here (this kernel has no fq_codel): a mismatch for htb_fq_codel
    expect(verifyDirection(spec('fxa', 'htb_fq_codel'), P, q, c)).toEqual([
      { iface: 'fxa', option: 'leaf 1:1 kind', expected: 'fq_codel', found: 'pfifo' },
    ]);
  });
});

describe('tc output edge cases', () => {
  it('rates as text and garbage', () => {
    expect(rateBps('100Mbit')).toBe(100_000_000);
    expect(rateBps('831Kbit')).toBe(831_000);
    expect(rateBps(1250000)).toBe(10_000_000);
    expect(rateBps('fast')).toBeUndefined();
    expect(() => parseTcJson('qdisc tbf 1: root')).toThrow(TcOutputError);
    expect(() => parseTcJson('{"kind":"tbf"}')).toThrow(/not an array/);
  });
});
