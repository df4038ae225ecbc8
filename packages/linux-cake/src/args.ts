/**
 * The exact `tc` argument lists for each qdisc layout, built from the normalised config.
 * Pure: no I/O. Every list is what follows the `tc` binary (and one `-batch` line when joined
 * with spaces; interface names are checked to contain no blank).
 */
import type { CakeParamsConfig, LinuxQdiscKind } from '@wanctl/config';

/** One shaped direction: its autorate queue name, egress interface and qdisc layout. */
export interface DirectionSpec {
  direction: 'download' | 'upload';
  /** The autorate queue name (`queues.download` / `queues.upload`) that maps to this interface. */
  queue: string;
  iface: string;
  kind: LinuxQdiscKind;
}

/** Linux interface names: 1–15 characters, no blank or slash. */
export const IFACE_PATTERN = /^[A-Za-z0-9_.:@+-]{1,15}$/;

/** HTB: the class carrying the rate and the leaf qdisc's handle. */
export const HTB_CLASS = '1:1';
export const HTB_LEAF_HANDLE = '10:';

const rate = (bps: number): string => `${Math.max(8, Math.round(bps))}bit`;

/** Bucket size for tbf and htb: one millisecond at the rate, at least two full-size frames. */
export function burstBytes(bps: number): number {
  return Math.max(3028, Math.ceil(bps / 8 / 1000));
}

/**
 * The tbf bucket for a rate change, given the largest bucket this qdisc has had: never smaller.
 * A tbf takes a packet whole when it fits the bucket of the moment (GSO and GRO packets of
 * several frames included; a larger one is split at enqueue), and a `change` to a smaller bucket
 * leaves such a packet at the head of the queue, where it can never gather enough tokens: the
 * qdisc stops sending for good (seen on the testbed: the download stalled after the law lowered
 * the rate from 38 to 13 Mbit/s, burst 4750 → 3028 bytes, with 2–4 KB packets queued). A bucket
 * that only grows keeps every queued packet sendable; its cost is a burst of at most one
 * millisecond at the highest rate used.
 */
export function tbfBurstBytes(bps: number, largestSoFar: number): number {
  return Math.max(largestSoFar, burstBytes(bps));
}

/** CAKE keyword arguments (everything but `bandwidth`), in a fixed order. */
export function cakeOptionArgs(p: CakeParamsConfig): string[] {
  const a: string[] = [];
  if (p.diffserv !== undefined) a.push(p.diffserv);
  if (typeof p.overhead === 'string') a.push(p.overhead);
  else if (typeof p.overhead === 'number') a.push('overhead', String(p.overhead));
  if (p.mpu !== undefined) a.push('mpu', String(p.mpu));
  if (p.memlimit !== undefined) a.push('memlimit', String(p.memlimit));
  if (p.rttMs !== undefined) a.push('rtt', `${Math.round(p.rttMs * 1000)}us`);
  if (p.ackFilter !== undefined)
    a.push(
      p.ackFilter === 'aggressive' ? 'ack-filter-aggressive' : p.ackFilter ? 'ack-filter' : 'no-ack-filter',
    );
  if (p.splitGso !== undefined) a.push(p.splitGso ? 'split-gso' : 'no-split-gso');
  if (p.nat !== undefined) a.push(p.nat ? 'nat' : 'nonat');
  if (p.wash !== undefined) a.push(p.wash ? 'wash' : 'nowash');
  if (p.ingress !== undefined) a.push(p.ingress ? 'ingress' : 'egress');
  return a;
}

function tbfArgs(
  verb: 'replace' | 'change',
  iface: string,
  bps: number,
  p: CakeParamsConfig,
  burst: number,
): string[] {
  return [
    'qdisc',
    verb,
    'dev',
    iface,
    'root',
    'handle',
    '1:',
    'tbf',
    'rate',
    rate(bps),
    'burst',
    String(burst),
    'latency',
    `${p.tbfLatencyMs}ms`,
  ];
}

function htbClassArgs(verb: 'replace' | 'change', iface: string, bps: number): string[] {
  const b = String(burstBytes(bps));
  return [
    'class',
    verb,
    'dev',
    iface,
    'parent',
    '1:',
    'classid',
    HTB_CLASS,
    'htb',
    'rate',
    rate(bps),
    'ceil',
    rate(bps),
    'burst',
    b,
    'cburst',
    b,
  ];
}

/**
 * Commands that create (or take over) the qdisc of one direction at `bps`. `tbfBurst` is the
 * tbf bucket (default: one millisecond at `bps`; see tbfBurstBytes).
 */
export function initCommands(
  d: DirectionSpec,
  p: CakeParamsConfig,
  bps: number,
  tbfBurst = burstBytes(bps),
): string[][] {
  switch (d.kind) {
    case 'cake':
      return [
        [
          'qdisc',
          'replace',
          'dev',
          d.iface,
          'root',
          'handle',
          '1:',
          'cake',
          'bandwidth',
          rate(bps),
          ...cakeOptionArgs(p),
        ],
      ];
    case 'tbf':
      return [tbfArgs('replace', d.iface, bps, p, tbfBurst)];
    case 'htb_fq_codel': {
      const leaf = [
        'qdisc',
        'replace',
        'dev',
        d.iface,
        'parent',
        HTB_CLASS,
        'handle',
        HTB_LEAF_HANDLE,
        'fq_codel',
      ];
      if (p.ecn !== undefined) leaf.push(p.ecn ? 'ecn' : 'noecn');
      return [
        ['qdisc', 'replace', 'dev', d.iface, 'root', 'handle', '1:', 'htb', 'default', '1'],
        htbClassArgs('replace', d.iface, bps),
        leaf,
      ];
    }
  }
}

/** The one command that changes the rate of a direction in place (`tbfBurst`: see initCommands). */
export function rateCommand(
  d: DirectionSpec,
  p: CakeParamsConfig,
  bps: number,
  tbfBurst = burstBytes(bps),
): string[] {
  switch (d.kind) {
    case 'cake':
      return ['qdisc', 'change', 'dev', d.iface, 'root', 'handle', '1:', 'cake', 'bandwidth', rate(bps)];
    case 'tbf':
      return tbfArgs('change', d.iface, bps, p, tbfBurst);
    case 'htb_fq_codel':
      return htbClassArgs('change', d.iface, bps);
  }
}

/** Reads of one direction: qdiscs (and, for HTB, the classes that carry the rate). */
export function showCommands(d: DirectionSpec): string[][] {
  const q = ['qdisc', 'show', 'dev', d.iface];
  return d.kind === 'htb_fq_codel' ? [q, ['class', 'show', 'dev', d.iface]] : [q];
}
