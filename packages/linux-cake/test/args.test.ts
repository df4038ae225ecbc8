import type { CakeParamsConfig } from '@wanctl/config';
import { describe, expect, it } from 'vitest';
import {
  burstBytes,
  cakeOptionArgs,
  type DirectionSpec,
  initCommands,
  rateCommand,
  showCommands,
  tbfBurstBytes,
} from '../src/index.js';

const base: CakeParamsConfig = {
  downloadInterface: 'eth1',
  uploadInterface: 'eth0',
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
const dl = (kind: DirectionSpec['kind']): DirectionSpec => ({
  direction: 'download',
  queue: 'WAN-Download',
  iface: 'eth1',
  kind,
});

describe('tc argument lists', () => {
  it('cake with every option, in tc spelling', () => {
    const p: CakeParamsConfig = {
      ...base,
      overhead: 'docsis',
      mpu: 64,
      memlimit: 33554432,
      rttMs: 40,
      diffserv: 'diffserv4',
      ackFilter: false,
      splitGso: true,
      nat: false,
      wash: true,
      ingress: true,
    };
    expect(initCommands(dl('cake'), p, 940_000_000)).toEqual([
      [
        'qdisc',
        'replace',
        'dev',
        'eth1',
        'root',
        'handle',
        '1:',
        'cake',
        'bandwidth',
        '940000000bit',
        'diffserv4',
        'docsis',
        'mpu',
        '64',
        'memlimit',
        '33554432',
        'rtt',
        '40000us',
        'no-ack-filter',
        'split-gso',
        'nonat',
        'wash',
        'ingress',
      ],
    ]);
    // a rate change touches nothing but the bandwidth
    expect(rateCommand(dl('cake'), p, 512_345_678)).toEqual([
      'qdisc',
      'change',
      'dev',
      'eth1',
      'root',
      'handle',
      '1:',
      'cake',
      'bandwidth',
      '512345678bit',
    ]);
  });

  it('cake: an option left out is not passed (kernel default); numeric overhead; the other spellings', () => {
    expect(cakeOptionArgs(base)).toEqual([]);
    expect(
      cakeOptionArgs({
        ...base,
        overhead: -4,
        ackFilter: 'aggressive',
        splitGso: false,
        nat: true,
        wash: false,
        ingress: false,
      }),
    ).toEqual(['overhead', '-4', 'ack-filter-aggressive', 'no-split-gso', 'nat', 'nowash', 'egress']);
    expect(cakeOptionArgs({ ...base, ackFilter: true })).toEqual(['ack-filter']);
  });

  it('tbf: full parameters on every change (tc requires rate, burst and latency)', () => {
    expect(initCommands(dl('tbf'), base, 20_000_000)).toEqual([
      [
        'qdisc',
        'replace',
        'dev',
        'eth1',
        'root',
        'handle',
        '1:',
        'tbf',
        'rate',
        '20000000bit',
        'burst',
        '3028',
        'latency',
        '5ms',
      ],
    ]);
    expect(rateCommand(dl('tbf'), { ...base, tbfLatencyMs: 8 }, 100_000_000)).toEqual([
      'qdisc',
      'change',
      'dev',
      'eth1',
      'root',
      'handle',
      '1:',
      'tbf',
      'rate',
      '100000000bit',
      'burst',
      '12500',
      'latency',
      '8ms',
    ]);
    expect(burstBytes(1e9)).toBe(125000);
  });

  it('tbf: the bucket of a change never shrinks below the largest so far', () => {
    expect(tbfBurstBytes(38_000_000, 0)).toBe(4750);
    // the law lowers the rate: the bucket stays, so a 4 KB packet already queued still fits
    expect(tbfBurstBytes(13_000_000, 4750)).toBe(4750);
    expect(tbfBurstBytes(100_000_000, 4750)).toBe(12500);
    const cmd = rateCommand(dl('tbf'), base, 13_000_000, tbfBurstBytes(13_000_000, 4750));
    expect(cmd.slice(cmd.indexOf('burst'), cmd.indexOf('burst') + 2)).toEqual(['burst', '4750']);
  });

  it('htb_fq_codel: HTB root, the rate on class 1:1, fq_codel leaf with ecn', () => {
    expect(initCommands(dl('htb_fq_codel'), { ...base, ecn: false }, 50_000_000)).toEqual([
      ['qdisc', 'replace', 'dev', 'eth1', 'root', 'handle', '1:', 'htb', 'default', '1'],
      [
        'class',
        'replace',
        'dev',
        'eth1',
        'parent',
        '1:',
        'classid',
        '1:1',
        'htb',
        'rate',
        '50000000bit',
        'ceil',
        '50000000bit',
        'burst',
        '6250',
        'cburst',
        '6250',
      ],
      ['qdisc', 'replace', 'dev', 'eth1', 'parent', '1:1', 'handle', '10:', 'fq_codel', 'noecn'],
    ]);
    expect(rateCommand(dl('htb_fq_codel'), base, 30_000_000)).toEqual([
      'class',
      'change',
      'dev',
      'eth1',
      'parent',
      '1:',
      'classid',
      '1:1',
      'htb',
      'rate',
      '30000000bit',
      'ceil',
      '30000000bit',
      'burst',
      '3750',
      'cburst',
      '3750',
    ]);
    expect(showCommands(dl('htb_fq_codel'))).toEqual([
      ['qdisc', 'show', 'dev', 'eth1'],
      ['class', 'show', 'dev', 'eth1'],
    ]);
  });

  it('rates are whole bits', () => {
    expect(rateCommand(dl('cake'), base, 12_345_678.9)[9]).toBe('12345679bit');
  });
});
