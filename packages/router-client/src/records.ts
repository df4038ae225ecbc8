/**
 * Normalisation of router answers into typed values. REST JSON objects and parsed console
 * records are both string maps keyed the same way, so one function serves both transports.
 */
import { RouterConnectionError, type Transport } from './errors.js';
import { type PrintOutput, type PrintRecord, parseBool, parseCount, parseRate, parseSize } from './parse.js';
import type { MangleRule, QueueStats, SystemResource } from './types.js';

/** A console record as a REST-style string map (flags -> disabled/invalid/dynamic, `;;;` -> comment). */
export function printRecordToMap(rec: PrintRecord, legend: PrintOutput['legend']): Record<string, string> {
  const out: Record<string, string> = { ...rec.props };
  if (rec.comment !== undefined) out['comment'] = rec.comment;
  const meaning = (letter: string, fallback: string) => legend[letter] ?? fallback;
  const names = new Set<string>();
  for (const c of rec.flags)
    names.add(meaning(c, c === 'X' ? 'disabled' : c === 'I' ? 'invalid' : c === 'D' ? 'dynamic' : c));
  for (const f of ['disabled', 'invalid', 'dynamic']) {
    if (out[f] === undefined) out[f] = names.has(f) ? 'true' : 'false';
  }
  // Console booleans are yes/no; REST says true/false.
  for (const [k, v] of Object.entries(out)) {
    if (v === 'yes') out[k] = 'true';
    else if (v === 'no') out[k] = 'false';
  }
  return out;
}

/** A REST JSON value (object with string values) as a string map. */
export function jsonToMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (val === null || val === undefined) continue;
      out[k] = typeof val === 'string' ? val : String(val);
    }
  }
  return out;
}

function badResponse(msg: string, transport: Transport, host: string | undefined): RouterConnectionError {
  return new RouterConnectionError(msg, 'bad-response', { transport, host });
}

const REQUIRED_STATS = ['bytes', 'packets', 'dropped', 'queued-bytes', 'queued-packets'] as const;

/**
 * Queue stats from a queue tree record. Missing counters are an error, never a silent 0
 * (a silent 0 reads as a healthy queue;).
 */
export function queueStatsFromMap(
  m: Record<string, string>,
  transport: Transport,
  host?: string,
): QueueStats {
  const name = m['name'];
  if (name === undefined) throw badResponse('queue record without a name', transport, host);
  for (const f of REQUIRED_STATS) {
    if (m[f] === undefined) {
      throw badResponse(`queue "${name}": the router's answer has no "${f}" counter`, transport, host);
    }
  }
  try {
    return {
      name,
      id: m['.id'],
      bytes: parseCount(m['bytes']!, 'bytes'),
      packets: parseCount(m['packets']!, 'packets'),
      dropped: parseCount(m['dropped']!, 'dropped'),
      queuedPackets: parseCount(m['queued-packets']!, 'queued-packets'),
      queuedBytes: parseCount(m['queued-bytes']!, 'queued-bytes'),
      rateBps: m['rate'] === undefined ? 0 : parseRate(m['rate']),
      packetRate: m['packet-rate'] === undefined ? 0 : parseCount(m['packet-rate'], 'packet-rate'),
      maxLimitBps: m['max-limit'] === undefined ? undefined : parseRate(m['max-limit']),
      queueType: m['queue'],
      disabled: parseBool(m['disabled']),
    };
  } catch (err) {
    throw badResponse(`queue "${name}": ${(err as Error).message}`, transport, host);
  }
}

export function mangleRuleFromMap(m: Record<string, string>): MangleRule {
  return {
    id: m['.id'],
    comment: m['comment'] ?? '',
    disabled: parseBool(m['disabled']),
    invalid: parseBool(m['invalid']),
    dynamic: parseBool(m['dynamic']),
    chain: m['chain'],
    action: m['action'],
    newRoutingMark: m['new-routing-mark'],
    props: m,
  };
}

function optNumber(v: string | undefined, parse: (s: string) => number): number | undefined {
  if (v === undefined) return undefined;
  try {
    return parse(v);
  } catch {
    return undefined;
  }
}

export function resourceFromMap(m: Record<string, string>): SystemResource {
  return {
    uptime: m['uptime'],
    version: m['version'],
    boardName: m['board-name'],
    architecture: m['architecture-name'],
    cpuLoadPercent: optNumber(m['cpu-load'], (s) => parseCount(s.replace(/%$/, ''))),
    freeMemoryBytes: optNumber(m['free-memory'], parseSize),
    totalMemoryBytes: optNumber(m['total-memory'], parseSize),
    props: m,
  };
}
