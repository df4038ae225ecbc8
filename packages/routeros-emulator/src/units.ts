/**
 * RouterOS value formats: rates (`100M`, `100000000`, `100M/50M`), booleans (`yes`/`no` on the CLI,
 * `"true"`/`"false"` over REST), durations (`15s`, `2d20h12m20s`) and sizes (`32.0MiB`).
 * Sources (EMULATION.md): REF-B.4 (MikroTik's Queues page, units); routeros-samples/README.md "CLI" 4–5.
 */

const RATE_RE = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:bps)?$/;

/** Parses one rate as RouterOS accepts it (`90M`, `1G`, `512k`, `500000000`) into bit/s; null if invalid. */
export function parseRate(text: string): number | null {
  const m = RATE_RE.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  const mult = unit === 'k' ? 1e3 : unit === 'm' ? 1e6 : unit === 'g' ? 1e9 : 1;
  const v = Math.round(n * mult);
  if (!Number.isSafeInteger(v) || v < 0 || v > 4294967295000) return null;
  return v;
}

/** Rate as the CLI `print` shows a limit: `880M`, `1G`, `512k`, `0`, or plain digits. */
export function formatRateCli(bps: number): string {
  if (bps === 0) return '0';
  if (bps % 1e9 === 0) return `${bps / 1e9}G`;
  if (bps % 1e6 === 0) return `${bps / 1e6}M`;
  if (bps % 1e3 === 0) return `${bps / 1e3}k`;
  return String(bps);
}

/** Rate as `print stats` humanises it: `0bps`, `183.2kbps`, `2.0Mbps`, `1.2Gbps`. */
export function formatRateHuman(bps: number): string {
  if (bps < 1000) return `${bps}bps`;
  if (bps < 1e6) return `${(bps / 1e3).toFixed(1)}kbps`;
  if (bps < 1e9) return `${(bps / 1e6).toFixed(1)}Mbps`;
  return `${(bps / 1e9).toFixed(1)}Gbps`;
}

/** Accepts RouterOS boolean spellings; returns the REST form `"true"`/`"false"`, or null. */
export function parseBool(text: string): 'true' | 'false' | null {
  const t = text.trim().toLowerCase();
  if (t === 'yes' || t === 'true') return 'true';
  if (t === 'no' || t === 'false') return 'false';
  return null;
}

const DUR_UNITS: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1, ms: 0.001 };

/** Parses `15s`, `1h30m`, `2d20h12m20s`, `100ms`, `00:00:15`, or bare seconds; null if invalid. */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const hms = /^(\d+):(\d{2}):(\d{2})$/.exec(t);
  if (hms) return Number(hms[1]) * 3600 + Number(hms[2]) * 60 + Number(hms[3]);
  const re = /(\d+(?:\.\d+)?)(ms|w|d|h|m|s)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * (DUR_UNITS[m[2] ?? 's'] ?? 1);
    pos = re.lastIndex;
  }
  if (pos !== t.length || t.length === 0) return null;
  return total;
}

/** Seconds as RouterOS prints durations: `0s`, `59s`, `1w2d3h4m5s`, `100ms`. */
export function formatDuration(seconds: number): string {
  if (seconds > 0 && seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  let s = Math.floor(seconds);
  if (s === 0) return '0s';
  let out = '';
  for (const [u, n] of [
    ['w', 604800],
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (s >= n) {
      out += `${Math.floor(s / n)}${u}`;
      s %= n;
    }
  }
  return out;
}

/** Seconds in the scripting (`as-value`) form `HH:MM:SS`. */
export function formatDurationInternal(seconds: number): string {
  const s = Math.floor(seconds);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(Math.floor(s / 3600))}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`;
}

/** Parses a size (`32.0MiB`, `50KiB`, `1024`) into bytes; null if invalid. */
export function parseSize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(KiB|MiB|GiB|k|M|G)?$/.exec(text.trim());
  if (!m) return null;
  const mult: Record<string, number> = {
    KiB: 1024,
    MiB: 1048576,
    GiB: 1073741824,
    k: 1024,
    M: 1048576,
    G: 1073741824,
  };
  return Math.round(Number(m[1]) * (m[2] ? (mult[m[2]] ?? 1) : 1));
}

/** Bytes as the CLI prints sizes: `32.0MiB`, `50.0KiB`, or plain bytes below 1 KiB. */
export function formatSize(bytes: number): string {
  if (bytes >= 1073741824) return `${(bytes / 1073741824).toFixed(1)}GiB`;
  if (bytes >= 1048576) return `${(bytes / 1048576).toFixed(1)}MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)}KiB`;
  return String(bytes);
}
