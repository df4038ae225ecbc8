/**
 * CLI text layout of `print` output: record layout (index, flags column, `;;;` comment line,
 * wrapped `key=value` lines), `terse`, `as-value`, and key/value blocks for singletons.
 * Layout sources: routeros-samples/cli/queue_tree_print_cake_ros7.14_mktxp-issue152.txt,
 * queue_tree_print_stats_doc.txt, ip_firewall_filter_print_all_without-paging_flags_comments_ntc.txt,
 * interface_print_terse_without-paging_v7_ntc.txt, ip_route_print_as-value_doc.txt,
 * system_resource_print_ccr2004_ros7.12.2_ntc.txt.
 */
import { fieldDef, type MenuDef } from './schema.js';
import type { ItemRecord } from './state.js';
import {
  formatDurationInternal,
  formatRateCli,
  formatRateHuman,
  formatSize,
  parseDuration,
} from './units.js';

export interface PrintMode {
  stats: boolean;
  detail: boolean;
  terse: boolean;
  asValue: boolean;
  countOnly: boolean;
  proplist?: string[];
}

export interface IndexedRecord {
  index: number;
  rec: ItemRecord;
}

const RATE_COUNTERS = new Set(['rate', 'total-rate']);

function quote(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A value as `print` shows it (units, yes/no, quoting). */
export function cliValue(menu: MenuDef, key: string, v: string, stats: boolean): string {
  if (stats && RATE_COUNTERS.has(key)) {
    // The queue tree example in the Queues manual prints an idle rate as `rate=0`; simple queues
    // print `0bps` (queue_simple_print_stats sample).
    if (menu.path === '/queue/tree' && v === '0') return '0';
    return v
      .split('/')
      .map((p) => formatRateHuman(Number(p)))
      .join('/');
  }
  const f = fieldDef(menu, key);
  switch (f?.type) {
    case 'name':
      return quote(v);
    case 'rate':
      return /^\d+$/.test(v) ? formatRateCli(Number(v)) : v;
    case 'rate2':
      return v
        .split('/')
        .map((p) => (/^\d+$/.test(p) ? formatRateCli(Number(p)) : p))
        .join('/');
    case 'bool':
      return v === 'true' ? 'yes' : v === 'false' ? 'no' : v;
    case 'size':
      return /^\d+$/.test(v) ? formatSize(Number(v)) : v;
    case 'kib':
      return `${v}KiB`;
    default:
      if (v === '' || /[\s";\\]/.test(v)) return quote(v);
      return v;
  }
}

/** A value as `terse` shows it: CLI units, never quoted. */
function terseValue(menu: MenuDef, key: string, v: string, stats: boolean): string {
  const c = cliValue(menu, key, v, stats);
  const f = fieldDef(menu, key);
  if (f?.type === 'name' || (c.startsWith('"') && c.endsWith('"'))) return v;
  return c;
}

function flagsOf(menu: MenuDef, rec: ItemRecord): string {
  return menu.flags.map((pos) => pos.letters.find((l) => rec[l.field] === 'true')?.letter ?? ' ').join('');
}

function keysFor(menu: MenuDef, rec: ItemRecord, mode: PrintMode): string[] {
  const order = mode.stats && menu.statsOrder ? menu.statsOrder : menu.printOrder;
  const keys = order.filter((k) => rec[k] !== undefined);
  if (mode.proplist) return keys.filter((k) => mode.proplist?.includes(k));
  return keys;
}

/** Wraps words into lines no wider than `width` (first line after `prefix`, others indented). */
function wrap(prefix: string, words: string[], width: number): string[] {
  const indent = ' '.repeat(prefix.length);
  const lines: string[] = [];
  let cur = prefix;
  let n = 0;
  for (const w of words) {
    if (n > 0 && cur.length + w.length + 1 > width) {
      lines.push(cur);
      cur = indent;
      n = 0;
    }
    cur += `${w} `;
    n++;
  }
  lines.push(cur);
  return lines;
}

/**
 * Record-style `print` / `print detail` / `print stats`: legend, then per item the right-aligned
 * index, the flags column, an optional `;;; comment` line, and wrapped `key=value` lines; a blank
 * line between items. Returns lines without line endings.
 */
export function printRecords(
  menu: MenuDef,
  items: IndexedRecord[],
  mode: PrintMode,
  width: number,
): string[] {
  if (mode.countOnly) return [String(items.length)];
  if (mode.asValue)
    return [
      asValue(
        items.map((i) => i.rec),
        mode,
      ),
    ].filter((l) => l !== '');
  const idxWidth = Math.max(2, ...items.map((i) => String(i.index).length));
  const out: string[] = [];
  if (!mode.terse && menu.legend) out.push(`${menu.legend} `);
  items.forEach((it, n) => {
    const prefix = `${String(it.index).padStart(idxWidth)} ${flagsOf(menu, it.rec)} `;
    const keys = keysFor(menu, it.rec, mode);
    if (mode.terse) {
      const words: string[] = [];
      if (menu.hasComment && it.rec['comment'] !== undefined && !mode.proplist) {
        words.push(`comment=${it.rec['comment']}`);
      }
      for (const k of keys) words.push(`${k}=${terseValue(menu, k, it.rec[k] as string, mode.stats)}`);
      out.push(prefix + words.join(' '));
      return;
    }
    if (n > 0) out.push('');
    const words = keys.map((k) => `${k}=${cliValue(menu, k, it.rec[k] as string, mode.stats)}`);
    const comment = menu.hasComment ? it.rec['comment'] : undefined;
    if (comment !== undefined) {
      out.push(`${prefix};;; ${comment}`);
      out.push(...wrap(' '.repeat(prefix.length), words, width));
    } else {
      out.push(...wrap(prefix, words, width));
    }
  });
  return out;
}

/** `print as-value`: `.id=*1;key=value;…` with `.id` first, then alphabetical; records run together. */
export function asValue(recs: ItemRecord[], mode: Pick<PrintMode, 'proplist'>): string {
  const parts: string[] = [];
  for (const r of recs) {
    const keys = Object.keys(r).filter((k) => !mode.proplist || k === '.id' || mode.proplist.includes(k));
    for (const k of keys) {
      let v = r[k] as string;
      if (/^(\d+[wdhms])+$|^\d+ms$/.test(v)) {
        const d = parseDuration(v);
        if (d !== null) v = formatDurationInternal(d);
      }
      parts.push(`${k}=${v}`);
    }
  }
  return parts.join(';');
}

const HUMAN_BYTES = new Set(['free-memory', 'total-memory', 'free-hdd-space', 'total-hdd-space']);

/** Singleton `print`: right-aligned `key: value` lines (system resource, identity). */
export function printKeyValues(menu: MenuDef, rec: ItemRecord, mode: PrintMode): string[] {
  if (mode.asValue) return [asValue([rec], mode)];
  const keys = menu.printOrder.filter(
    (k) => rec[k] !== undefined && (!mode.proplist || mode.proplist.includes(k)),
  );
  const w = Math.max(...keys.map((k) => k.length)) + 2;
  return keys.map((k) => {
    let v = rec[k] as string;
    if (HUMAN_BYTES.has(k) && /^\d+$/.test(v)) v = `${(Number(v) / 1048576).toFixed(1)}MiB`;
    if (k === 'cpu-load') v = `${v}%`;
    if (k === 'cpu-frequency') v = `${v}MHz`;
    return `${k.padStart(w)}: ${v}`;
  });
}
