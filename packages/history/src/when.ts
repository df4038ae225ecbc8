/**
 * Times as an operator types them: `2h` (ago), `30m`, `7d`, `now`, `today`, `yesterday 18:00`,
 * `18:00` (today), or ISO 8601 (`2026-01-05T18:00`, `2026-01-05 18:00:00Z`). Local time zone.
 */
import { HistoryUsageError } from './errors.js';

const UNIT_MS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

export const WHEN_HELP = '"2h" (ago), "30m", "7d", "now", "today", "yesterday 18:00", "18:00", or ISO 8601';

/** Unix ms of `text` relative to `now` (Unix ms). @throws {HistoryUsageError} */
export function parseWhen(text: string, now: number, option = 'time'): number {
  const s = text.trim().toLowerCase();
  if (s === 'now') return now;
  const rel = /^(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)(?:\s+ago)?$/.exec(s);
  if (rel) return now - Number(rel[1]) * (UNIT_MS[rel[2] as string] as number);
  const day = /^(today|yesterday)(?:\s+(\d{1,2}):(\d{2}))?$/.exec(s);
  const clock = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (day || clock) {
    const d = new Date(now);
    d.setHours(0, 0, 0, 0);
    if (day?.[1] === 'yesterday') d.setDate(d.getDate() - 1);
    const hh = Number(day ? (day[2] ?? 0) : clock?.[1]);
    const mm = Number(day ? (day[3] ?? 0) : clock?.[2]);
    if (hh > 23 || mm > 59)
      throw new HistoryUsageError(`${option}: "${text}" is not a time of day (00:00–23:59)`);
    d.setHours(hh, mm, 0, 0);
    return d.getTime();
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) {
    const t = Date.parse(text.trim().replace(' ', 'T'));
    if (Number.isFinite(t)) return t;
  }
  throw new HistoryUsageError(`${option}: cannot read "${text}" as a time; use ${WHEN_HELP}`);
}
