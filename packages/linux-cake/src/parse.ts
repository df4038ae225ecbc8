/**
 * Parsing of `tc -s -j qdisc show` / `tc -s -j class show` output, and the read-back check of
 * what the kernel holds against the config. Pure.
 */
import type { CakeParamsConfig } from '@wanctl/config';
import { type DirectionSpec, HTB_CLASS } from './args.js';
import { type QdiscMismatch, TcNotFoundError, TcOutputError } from './errors.js';

/** One entry of tc's JSON array (qdisc or class), as tc prints it. */
export type TcEntry = Record<string, unknown> & { kind?: string; handle?: string; parent?: string };

/** Parses one line of tc JSON output into its array of entries. */
export function parseTcJson(text: string, command?: string): TcEntry[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new TcOutputError(`tc printed something that is not JSON: ${text.slice(0, 120)}`, {
      command,
      cause: err,
    });
  }
  if (!Array.isArray(v) || v.some((e) => e === null || typeof e !== 'object' || Array.isArray(e)))
    throw new TcOutputError(`tc JSON is not an array of objects: ${text.slice(0, 120)}`, { command });
  return v as TcEntry[];
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const opts = (e: TcEntry | undefined): Record<string, unknown> =>
  (e?.['options'] as Record<string, unknown> | undefined) ?? {};

const UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

/**
 * A tc rate in bit/s. tc prints rates as bytes per second (numbers); some builds print CAKE's
 * bandwidth as text (`"100Mbit"`), and an unshaped CAKE as `"unlimited"` (→ 0).
 */
export function rateBps(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v * 8;
  if (v === 'unlimited') return 0;
  if (typeof v === 'string') {
    const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)bit$/i.exec(v.trim());
    if (m) return Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1);
  }
  return undefined;
}

/** Statistics of one CAKE tin. */
export interface CakeTinStats {
  thresholdBps: number;
  sentBytes: number;
  sentPackets: number;
  drops: number;
  ecnMarks: number;
  ackDrops: number;
  backlogBytes: number;
  peakDelayUs: number;
  avgDelayUs: number;
  baseDelayUs: number;
}

/** What one direction's qdisc reports; the RouterOS QueueStats fields plus tc's extras. */
export interface DirectionStats {
  iface: string;
  kind: string;
  bytes: number;
  packets: number;
  dropped: number;
  overlimits: number;
  queuedPackets: number;
  queuedBytes: number;
  /** The shaped rate the kernel holds, bit/s (undefined when tc did not print it). */
  maxLimitBps: number | undefined;
  /** Per tin, CAKE only (empty otherwise). */
  tins: CakeTinStats[];
}

/** The root qdisc of the interface (`"root": true`, or parent `root`). */
export function rootQdisc(entries: TcEntry[]): TcEntry | undefined {
  return entries.find((e) => e['root'] === true || e['parent'] === 'root');
}

function tins(root: TcEntry): CakeTinStats[] {
  const t = root['tins'];
  if (!Array.isArray(t)) return [];
  return t.map((x: Record<string, unknown>) => ({
    thresholdBps: num(x['threshold_rate']) * 8,
    sentBytes: num(x['sent_bytes']),
    sentPackets: num(x['sent_packets']),
    drops: num(x['drops']),
    ecnMarks: num(x['ecn_mark']),
    ackDrops: num(x['ack_drops']),
    backlogBytes: num(x['backlog_bytes']),
    peakDelayUs: num(x['peak_delay_us']),
    avgDelayUs: num(x['avg_delay_us']),
    baseDelayUs: num(x['base_delay_us']),
  }));
}

/** The HTB class carrying the rate (classid 1:1). */
function htbClass(classes: TcEntry[] | undefined): TcEntry | undefined {
  return (
    classes?.find((c) => c['handle'] === HTB_CLASS && c['class'] !== undefined) ??
    classes?.find((c) => c['handle'] === HTB_CLASS)
  );
}

/**
 * Statistics of one direction from its `qdisc show` (and, for htb_fq_codel, `class show`)
 * entries. Throws TcNotFoundError when the interface has no root qdisc.
 */
export function directionStats(d: DirectionSpec, qdiscs: TcEntry[], classes?: TcEntry[]): DirectionStats {
  const root = rootQdisc(qdiscs);
  if (root === undefined) throw new TcNotFoundError(`no root qdisc on ${d.iface}`, { iface: d.iface });
  const kind = String(root.kind ?? '?');
  let maxLimitBps: number | undefined;
  let dropped = num(root['drops']);
  if (kind === 'cake') maxLimitBps = rateBps(opts(root)['bandwidth']);
  else if (kind === 'tbf') maxLimitBps = rateBps(opts(root)['rate']);
  else if (kind === 'htb') {
    const c = htbClass(classes);
    maxLimitBps = c === undefined ? undefined : rateBps(c['rate'] ?? opts(c)['rate']);
    // fq_codel counts its own drops (overflow and AQM); HTB's root sees only some of them
    const leaf = qdiscs.find((q) => q['parent'] === HTB_CLASS);
    if (leaf !== undefined) dropped = Math.max(dropped, num(leaf['drops']));
  }
  return {
    iface: d.iface,
    kind,
    bytes: num(root['bytes']),
    packets: num(root['packets']),
    dropped,
    overlimits: num(root['overlimits']),
    queuedPackets: num(root['qlen']),
    queuedBytes: num(root['backlog']),
    maxLimitBps,
    tins: kind === 'cake' ? tins(root) : [],
  };
}

/** What a CAKE overhead keyword sets, as tc prints it back (tc-cake(8), q_cake.c). */
export const OVERHEAD_KEYWORDS: Record<
  string,
  { overhead: number; atm: string; mpu?: number; raw?: boolean }
> = {
  raw: { overhead: 0, atm: 'noatm', raw: true },
  conservative: { overhead: 48, atm: 'atm' },
  ethernet: { overhead: 38, atm: 'noatm', mpu: 84 },
  docsis: { overhead: 18, atm: 'noatm', mpu: 64 },
  'ipoa-vcmux': { overhead: 8, atm: 'atm' },
  'ipoa-llcsnap': { overhead: 16, atm: 'atm' },
  'bridged-vcmux': { overhead: 24, atm: 'atm' },
  'bridged-llcsnap': { overhead: 32, atm: 'atm' },
  'pppoa-vcmux': { overhead: 10, atm: 'atm' },
  'pppoa-llc': { overhead: 14, atm: 'atm' },
  'pppoe-vcmux': { overhead: 32, atm: 'atm' },
  'pppoe-llcsnap': { overhead: 40, atm: 'atm' },
  'pppoe-ptm': { overhead: 30, atm: 'ptm' },
  'bridged-ptm': { overhead: 22, atm: 'ptm' },
};

/** Tolerance when comparing a rate read back with the one written: tc rounds to whole bytes/s. */
const RATE_SLACK_BPS = 16;

/**
 * Compares what the kernel holds on one direction with the config (and, if given, the rate
 * last written). Only options the config sets are compared. Returns the differences.
 */
export function verifyDirection(
  d: DirectionSpec,
  p: CakeParamsConfig,
  qdiscs: TcEntry[],
  classes?: TcEntry[],
  expectedBps?: number,
): QdiscMismatch[] {
  const out: QdiscMismatch[] = [];
  const miss = (option: string, expected: unknown, found: unknown) =>
    out.push({ iface: d.iface, option, expected, found });
  const root = rootQdisc(qdiscs);
  const wantRoot = d.kind === 'htb_fq_codel' ? 'htb' : d.kind;
  if (root === undefined) {
    miss('kind', wantRoot, null);
    return out;
  }
  if (root.kind !== wantRoot) {
    miss('kind', wantRoot, root.kind);
    return out;
  }
  const o = opts(root);
  if (d.kind === 'cake') {
    const eq = (key: string, want: unknown, dflt?: unknown) => {
      const found = o[key] ?? dflt;
      if (found !== want) miss(key, want, o[key] ?? null);
    };
    if (p.diffserv !== undefined) eq('diffserv', p.diffserv);
    if (typeof p.overhead === 'number') eq('overhead', p.overhead);
    else if (typeof p.overhead === 'string') {
      const k = OVERHEAD_KEYWORDS[p.overhead];
      if (k !== undefined) {
        eq('overhead', k.overhead);
        eq('atm', k.atm, 'noatm');
        if (k.mpu !== undefined && p.mpu === undefined) eq('mpu', k.mpu, 0);
        if (k.raw !== undefined) eq('raw', k.raw, false);
      }
    }
    if (p.mpu !== undefined) eq('mpu', p.mpu, 0);
    if (p.memlimit !== undefined) eq('memlimit', p.memlimit, 0);
    if (p.rttMs !== undefined) eq('rtt', Math.round(p.rttMs * 1000));
    if (p.ackFilter !== undefined)
      eq('ack-filter', p.ackFilter === 'aggressive' ? 'aggressive' : p.ackFilter ? 'enabled' : 'disabled');
    if (p.splitGso !== undefined) eq('split_gso', p.splitGso);
    if (p.nat !== undefined) eq('nat', p.nat);
    if (p.wash !== undefined) eq('wash', p.wash);
    if (p.ingress !== undefined) eq('ingress', p.ingress);
  }
  if (d.kind === 'htb_fq_codel') {
    const leaf = qdiscs.find((q) => q['parent'] === HTB_CLASS);
    if (leaf?.kind !== 'fq_codel') miss(`leaf ${HTB_CLASS} kind`, 'fq_codel', leaf?.kind ?? null);
    else if (p.ecn !== undefined && opts(leaf)['ecn'] !== p.ecn)
      miss('ecn', p.ecn, opts(leaf)['ecn'] ?? null);
    if (htbClass(classes) === undefined) miss(`class ${HTB_CLASS}`, 'present', null);
  }
  if (expectedBps !== undefined) {
    const found = directionStats(d, qdiscs, classes).maxLimitBps;
    if (found === undefined || Math.abs(found - Math.round(expectedBps)) > RATE_SLACK_BPS)
      miss('rate', Math.round(expectedBps), found ?? null);
  }
  return out;
}
