/**
 * The per-evening summary: time in each zone, RTT delta percentiles, minutes steered, failovers
 * and write failures, for each WAN and each evening (local time, default 18:00–24:00).
 */
import type { HistoryReader } from './reader.js';
import type { HistoryEvent, SampleRow } from './schema.js';

export interface EveningSummary {
  /** Local date of the evening, YYYY-MM-DD. */
  date: string;
  wan: string;
  /** Window (Unix ms). */
  from: number;
  to: number;
  /** Seconds with data. */
  seconds: number;
  /** Seconds in each download zone (cycles in the zone × the row's seconds / its cycles). */
  zoneSeconds: { GREEN: number; YELLOW: number; SOFT_RED: number; RED: number };
  /** RTT delta percentiles (ms) of the per-row means, weighted by the seconds each row covers. */
  deltaP50: number | null;
  deltaP95: number | null;
  deltaP99: number | null;
  /** Resolution (s) of the rows the figures come from. */
  resolution: number;
  /** Minutes the steering stores recorded a steered state (see {@link isSteeredState}). */
  minutesSteered: number;
  failovers: number;
  writeFailures: number;
}

/** A steering state that means "traffic steered": `<WAN>_DEGRADED` (v1.3 names), or one naming steering on. */
export function isSteeredState(state: string | null): boolean {
  return state !== null && /DEGRADED|STEERED|ENABLED/i.test(state);
}

/** Minutes within [from, to) spent in a steered state, from the steering events of a store. */
export function steeredMinutes(reader: HistoryReader, from: number, to: number): number {
  let steered = isSteeredState(reader.lastEventBefore('steering', from)?.to ?? null);
  let since = from;
  let ms = 0;
  for (const e of reader.events(from, to, ['steering'])) {
    const now = isSteeredState(e.to);
    if (steered && !now) ms += e.t - since;
    if (!steered && now) since = e.t;
    steered = now;
  }
  if (steered) ms += to - since;
  return ms / 60_000;
}

function weightedPercentile(values: Array<[number, number]>, p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((a, v) => a + v[1], 0);
  let acc = 0;
  for (const [v, w] of sorted) {
    acc += w;
    if (acc >= (p / 100) * total) return v;
  }
  return (sorted.at(-1) as [number, number])[0];
}

const pad = (n: number) => String(n).padStart(2, '0');
const localDate = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

/** Summary figures of rows and events within one window. */
export function summarizeWindow(
  wan: string,
  date: string,
  from: number,
  to: number,
  rows: SampleRow[],
  resolution: number,
  events: HistoryEvent[],
  minutesSteered: number,
): EveningSummary {
  const zoneSeconds = { GREEN: 0, YELLOW: 0, SOFT_RED: 0, RED: 0 };
  const deltas: Array<[number, number]> = [];
  let seconds = 0;
  for (const r of rows) {
    const n = r.n ?? 0;
    const cycles = r.cycles ?? 0;
    seconds += n;
    if (cycles > 0) {
      zoneSeconds.GREEN += ((r.dl_green ?? 0) * n) / cycles;
      zoneSeconds.YELLOW += ((r.dl_yellow ?? 0) * n) / cycles;
      zoneSeconds.SOFT_RED += ((r.dl_soft_red ?? 0) * n) / cycles;
      zoneSeconds.RED += ((r.dl_red ?? 0) * n) / cycles;
    }
    if (r.dmean !== null) deltas.push([r.dmean, n]);
  }
  return {
    date,
    wan,
    from,
    to,
    seconds,
    zoneSeconds,
    deltaP50: weightedPercentile(deltas, 50),
    deltaP95: weightedPercentile(deltas, 95),
    deltaP99: weightedPercentile(deltas, 99),
    resolution,
    minutesSteered,
    failovers: events.filter((e) => e.kind === 'failover').length,
    writeFailures: events.filter((e) => e.kind === 'write_failure').length,
  };
}

/** Options of {@link summarizeEvenings}. */
export interface EveningOptions {
  /** Local hour the evening starts (default 18). */
  startHour?: number;
  /** Local hour it ends, 1–24 (default 24 = midnight). */
  endHour?: number;
}

/**
 * One summary per evening in [from, to) (Unix ms) and per autorate store; the steering minutes
 * come from every steering store given. Evenings without data are left out.
 */
export function summarizeEvenings(
  readers: HistoryReader[],
  from: number,
  to: number,
  options: EveningOptions = {},
): EveningSummary[] {
  const startHour = options.startHour ?? 18;
  const endHour = options.endHour ?? 24;
  const steering = readers.filter((r) => r.kind === 'steering');
  const wans = readers.filter((r) => r.kind !== 'steering');
  const out: EveningSummary[] = [];
  const day = new Date(from);
  day.setHours(0, 0, 0, 0);
  for (; day.getTime() < to; day.setDate(day.getDate() + 1)) {
    const a = new Date(day);
    a.setHours(startHour, 0, 0, 0);
    const b = new Date(day);
    b.setHours(endHour, 0, 0, 0);
    const lo = Math.max(a.getTime(), from);
    const hi = Math.min(b.getTime(), to);
    if (hi <= lo) continue;
    const steered = steering.reduce((m, r) => Math.max(m, steeredMinutes(r, lo, hi)), 0);
    const steerEvents = steering.flatMap((r) => r.events(lo, hi, ['failover', 'write_failure']));
    for (const r of wans) {
      const s = r.series(Math.floor(lo / 1000), Math.ceil(hi / 1000), { maxPoints: 30_000 });
      const rows = s.columns.t.map((_t, i) => {
        const row: Record<string, number | null> = {};
        for (const [k, v] of Object.entries(s.columns)) row[k] = v[i] ?? null;
        return row as SampleRow;
      });
      if (rows.length === 0) continue;
      const events = r.events(lo, hi, ['failover', 'write_failure']);
      out.push(summarizeWindow(r.wan, localDate(day), lo, hi, rows, s.resolution, events, steered));
    }
    if (wans.length === 0 && steering.length > 0 && steerEvents.length + steered > 0) {
      out.push(summarizeWindow(steering[0]?.wan ?? '', localDate(day), lo, hi, [], 0, steerEvents, steered));
    }
  }
  return out;
}
