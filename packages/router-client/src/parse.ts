/**
 * Parsers for RouterOS console output as it arrives over SSH: `print` / `print detail` /
 * `print stats detail` (flags column, `;;;` comment lines, wrapped continuation lines),
 * `print terse`, `print as-value`, v7 `Columns:` tables, `key: value` blocks
 * (`/system resource print`) and the error lines RouterOS prints with exit status 0.
 */

export interface PrintRecord {
  /** The item number shown by print (session-local; never use it across commands). */
  index: number | undefined;
  /** Flag letters from the flags column, e.g. 'X' (disabled), 'I', 'D', 'DL'. */
  flags: string;
  /** The `;;; comment` text, if the item has one. */
  comment: string | undefined;
  /** Properties as RouterOS printed them (values unquoted). */
  props: Record<string, string>;
}

export interface PrintOutput {
  /** Flag letter -> meaning, from the `Flags:` legend (empty when none was printed). */
  legend: Record<string, string>;
  records: PrintRecord[];
}

// Console prompts in pasted transcripts: `[admin@MikroTik] >`, `> cmd`, `user@host:~$ ssh ...`.
const PROMPT = /^\s*(?:\[[^\]]*@[^\]]*\][^>]*>|>\s|[\w.-]+@[\w.-]+:\S*\$\s)/;
const ECHO_LOG = /^\s*(?:\d{2}:\d{2}:\d{2}|[a-z]{3}\/\d{2}(?:\/\d{4})? \d{2}:\d{2}:\d{2}) echo: /;
const INDEX_LINE = /^\s{0,3}(\d+)(?=[\s;]|$)(.*)$/;
const LEGEND_ITEM = /([A-Z*])\s+-\s+([a-zA-Z][\w-]*)/g;

function parseLegend(text: string, into: Record<string, string>): void {
  for (const m of text.matchAll(LEGEND_ITEM)) into[m[1]!] = m[2]!.toLowerCase();
}

const KEY_AT = /^([a-z.][a-z0-9.-]*)=/;
const UNESCAPE: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  $: '$',
  '?': '?',
  n: '\n',
  r: '\r',
  t: '\t',
  _: ' ',
};

/**
 * Parse `key=value` text. Quoted values keep their spaces; a bare word that is not a
 * `key=` continues the previous value (terse prints `comment=this is a comment` unquoted,
 * and timestamps like `1970-01-01 01:02:03`).
 */
export function parseProps(text: string): Record<string, string> {
  const props: Record<string, string> = {};
  let last: string | undefined;
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i]!)) i++;
    if (i >= n) break;
    const m = KEY_AT.exec(text.slice(i, i + 80));
    if (m) {
      const key = m[1]!;
      i += m[0].length;
      let value = '';
      if (text[i] === '"') {
        i++;
        while (i < n && text[i] !== '"') {
          if (text[i] === '\\' && i + 1 < n) {
            value += UNESCAPE[text[i + 1]!] ?? text[i + 1]!;
            i += 2;
          } else {
            value += text[i];
            i++;
          }
        }
        i++; // closing quote
      } else {
        const start = i;
        while (i < n && !/\s/.test(text[i]!)) i++;
        value = text.slice(start, i);
      }
      props[key] = value;
      last = key;
    } else {
      const start = i;
      while (i < n && !/\s/.test(text[i]!)) i++;
      const word = text.slice(start, i);
      if (last !== undefined) props[last] = `${props[last]} ${word}`;
      else props[''] = props[''] === undefined ? word : `${props['']} ${word}`;
    }
  }
  return props;
}

function isFlagToken(tok: string, legend: Record<string, string>): boolean {
  if (!/^[A-Z*]{1,4}$/.test(tok)) return false;
  const letters = Object.keys(legend);
  if (letters.length === 0) return true;
  for (const c of tok) if (!letters.includes(c)) return false;
  return true;
}

interface Pending {
  index: number | undefined;
  flags: string;
  comment: string | undefined;
  body: string[];
}

/**
 * Parse the output of `print`, `print detail`, `print stats detail` or `print terse` into
 * records. Wrapped continuation lines join the record above them.
 */
export function parsePrint(text: string): PrintOutput {
  const legend: Record<string, string> = {};
  const pending: Pending[] = [];
  let cur: Pending | undefined;
  let inLegend = false;
  const lines = text.split(/\r?\n/);
  for (let li = 0; li < lines.length; li++) {
    const raw = lines[li]!.replace(/\s+$/, '');
    if (raw.trim() === '') {
      inLegend = false;
      continue;
    }
    if (PROMPT.test(raw) || ECHO_LOG.test(raw)) continue;
    const trimmed = raw.trim();
    if (trimmed.startsWith('Flags:')) {
      parseLegend(trimmed.slice(6), legend);
      inLegend = true;
      continue;
    }
    if (trimmed.startsWith('Columns:')) {
      return parseTable(lines.slice(li + 1).join('\n'), legend);
    }
    if (inLegend && cur === undefined && /^[A-Z*]\s+-\s+\w/.test(trimmed)) {
      parseLegend(trimmed, legend);
      continue;
    }
    inLegend = false;
    const m = INDEX_LINE.exec(raw);
    if (m) {
      const rest = m[2]!;
      const toks = rest.split(/(\s+)/);
      let flags = '';
      let pos = 0;
      // toks alternates [text, ws, text, ws, ...] starting with '' when rest begins with ws
      for (let t = 0; t < toks.length; t++) {
        const tok = toks[t]!;
        if (/^\s*$/.test(tok)) {
          pos += tok.length;
          continue;
        }
        if (isFlagToken(tok, legend)) {
          flags += tok;
          pos += tok.length;
          continue;
        }
        break;
      }
      const after = rest.slice(pos).trim();
      cur = { index: Number(m[1]), flags, comment: undefined, body: [] };
      if (after.startsWith(';;;')) cur.comment = after.slice(3).trim();
      else if (after !== '') cur.body.push(after);
      pending.push(cur);
      continue;
    }
    if (trimmed.startsWith(';;;') && cur && cur.body.length === 0 && cur.comment === undefined) {
      cur.comment = trimmed.slice(3).trim();
      continue;
    }
    if (!cur) {
      // A record printed without its index (e.g. a pasted single detail record).
      cur = { index: undefined, flags: '', comment: undefined, body: [] };
      pending.push(cur);
    }
    cur.body.push(trimmed);
  }
  return {
    legend,
    records: pending.map((p) => ({
      index: p.index,
      flags: p.flags,
      comment: p.comment,
      props: parseProps(p.body.join(' ')),
    })),
  };
}

/** Parse a v7 `Columns:` table (rows by column offsets; `;;;` rows give the next row's comment). */
function parseTable(text: string, legend: Record<string, string>): PrintOutput {
  const lines = text.split(/\r?\n/).map((l) => l.replace(/\s+$/, ''));
  const headerAt = lines.findIndex((l) => /^#\s/.test(l));
  const records: PrintRecord[] = [];
  if (headerAt < 0) return { legend, records };
  const header = lines[headerAt]!;
  const cols: Array<{ name: string; start: number }> = [];
  for (const m of header.matchAll(/\S+/g)) cols.push({ name: m[0].toLowerCase(), start: m.index ?? 0 });
  let comment: string | undefined;
  for (const line of lines.slice(headerAt + 1)) {
    if (line.trim() === '') continue;
    if (line.trim().startsWith(';;;')) {
      comment = line.trim().slice(3).trim();
      continue;
    }
    const props: Record<string, string> = {};
    let index: number | undefined;
    let flags = '';
    for (let c = 0; c < cols.length; c++) {
      const col = cols[c]!;
      const end = c + 1 < cols.length ? cols[c + 1]!.start : line.length;
      const cell = line.slice(col.start, end).trim();
      if (c === 0) {
        const m = /^(\d+)\s*([A-Z*]*)$/.exec(cell);
        index = m ? Number(m[1]) : undefined;
        flags = m ? m[2]! : '';
      } else if (cell !== '') props[col.name] = cell;
    }
    records.push({ index, flags, comment, props });
    comment = undefined;
  }
  return { legend, records };
}

/**
 * Parse `print as-value` output (`.id=*1;name=x;...`). A key seen again starts the next record.
 */
export function parseAsValue(text: string): Array<Record<string, string>> {
  const records: Array<Record<string, string>> = [];
  let cur: Record<string, string> | undefined;
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || PROMPT.test(line) || ECHO_LOG.test(line)) continue;
    for (const piece of t.split(';')) {
      if (piece === '') continue;
      const eq = piece.indexOf('=');
      if (eq <= 0) continue;
      const k = piece.slice(0, eq);
      const v = piece.slice(eq + 1);
      if (!cur || k in cur) {
        cur = {};
        records.push(cur);
      }
      cur[k] = v;
    }
  }
  return records;
}

/** Parse a right-aligned `key: value` block such as `/system resource print`. */
export function parseKeyValueBlock(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([a-z0-9][a-z0-9.-]*):\s?(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

const ERROR_LINE = new RegExp(
  '^(?:' +
    [
      'bad command name\\b',
      'expected end of command\\b',
      'expected command name\\b',
      'expected closing\\b',
      'expected value of\\b',
      'syntax error\\b',
      'input does not match any value of\\b',
      'no such item\\b',
      'no such command or directory\\b',
      'no such command prefix\\b',
      'failure:',
      'not enough permissions\\b',
      'unknown parameter\\b',
      'value of .* out of range',
      'invalid value\\b',
      'invalid internal item number\\b',
      'ambiguous value of\\b',
      'ambiguous command name\\b',
      'missing value\\(s\\) of argument',
      'bad argument\\b',
      'action cancelled\\b',
      'Script Error:',
    ].join('|') +
    ').*$',
);
const LOG_PREFIX = /^[a-z]+(?:,[a-z]+)* \([^)]*\) /;

/**
 * The first RouterOS error line in console output, or null. RouterOS prints these on the
 * channel with exit status 0, so the client must look for them.
 */
export function findRouterOsError(text: string): string | null {
  for (const line of text.split(/\r?\n/)) {
    let t = line.trim();
    if (t === '') continue;
    t = t.replace(LOG_PREFIX, '');
    if (ERROR_LINE.test(t)) return t;
  }
  return null;
}

/** True when a RouterOS error text means "the item does not exist". */
export function isNotFoundMessage(msg: string): boolean {
  return /^no such item\b/.test(msg) || /^invalid internal item number\b/.test(msg) || /Not Found/.test(msg);
}

// ---------------------------------------------------------------- units

const RATE = /^(\d+(?:\.\d+)?)\s*([kKMGT]?)(?:bps|bit\/s|b)?$/;
const RATE_MULT: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** Bits per second from `940000000`, `880M`, `512k`, `2.0Mbps` or `0bps`. */
export function parseRate(v: string): number {
  const m = RATE.exec(v.trim());
  if (!m) throw new RangeError(`not a RouterOS rate: "${v}"`);
  return Math.round(Number(m[1]) * RATE_MULT[m[2]!]!);
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB)?$/;
const SIZE_MULT: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** Bytes from `1073741824`, `32.0MiB` or `50KiB`. */
export function parseSize(v: string): number {
  const m = SIZE.exec(v.trim());
  if (!m) throw new RangeError(`not a RouterOS size: "${v}"`);
  return Math.round(Number(m[1]) * SIZE_MULT[m[2] ?? 'B']!);
}

/** A non-negative integer counter (RouterOS prints counters as plain digits). */
export function parseCount(v: string, field = 'value'): number {
  const t = v.trim();
  if (!/^\d+$/.test(t)) throw new RangeError(`${field} is not a counter: "${v}"`);
  return Number(t);
}

/** `true`/`false`/`yes`/`no` to boolean. */
export function parseBool(v: string | undefined): boolean {
  return v === 'true' || v === 'yes';
}
