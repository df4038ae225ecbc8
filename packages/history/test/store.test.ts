import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type CycleSample,
  HistoryCorruptError,
  HistoryNotFoundError,
  HistoryReader,
  HistoryRecorder,
  type RecorderOptions,
} from '../src/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wanctl-history-test-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0); // a whole hour
const sample = (over: Partial<CycleSample> = {}): CycleSample => ({
  shapedDlBps: 100e6,
  shapedUlBps: 10e6,
  achievedDlBps: 50e6,
  achievedUlBps: 5e6,
  rttMs: 30,
  baselineMs: 20,
  deltaMs: 10,
  zoneDl: 'GREEN',
  zoneUl: 'GREEN',
  overrun: false,
  ...over,
});

function open(over: Partial<RecorderOptions> = {}): {
  rec: HistoryRecorder;
  file: string;
  clock: { t: number };
} {
  const clock = { t: T0 };
  const file = over.file ?? join(dir, 'wan1_history.db');
  const rec = HistoryRecorder.open({
    file,
    wan: 'wan1',
    kind: 'autorate',
    thread: 'inline',
    timers: false,
    now: () => clock.t,
    ...over,
  });
  return { rec, file, clock };
}

describe('recorder → one-second rows', () => {
  it('summarises the cycles of each second (means, min/max, worst zone, zone counts, overruns)', async () => {
    const { rec, file } = open();
    // second 0: four cycles
    rec.cycle(T0 + 0, sample({ deltaMs: 2, rttMs: 22, achievedDlBps: 40e6 }));
    rec.cycle(T0 + 250, sample({ deltaMs: 12, rttMs: 32, zoneDl: 'YELLOW', achievedDlBps: 80e6 }));
    rec.cycle(T0 + 500, sample({ deltaMs: 30, rttMs: 50, zoneDl: 'SOFT_RED', zoneUl: 'RED', overrun: true }));
    rec.cycle(T0 + 750, sample({ deltaMs: Number.NaN, rttMs: Number.NaN, achievedDlBps: Number.NaN }));
    // second 1: one cycle
    rec.cycle(T0 + 1000, sample({ shapedDlBps: 90e6 }));
    rec.flush(T0 + 2000);
    await rec.close();
    const r = HistoryReader.open(file);
    const rows = r.rows(1, 0, 2 ** 31);
    expect(rows).toHaveLength(2);
    const [a, b] = rows;
    expect(a).toMatchObject({
      t: T0 / 1000,
      n: 1,
      cycles: 4,
      overruns: 1,
      shaped_dl: 100e6,
      dmin: 2,
      dmax: 30,
      zone_dl: 3,
      zone_ul: 4,
      dl_green: 2,
      dl_yellow: 1,
      dl_soft_red: 1,
      dl_red: 0,
      ul_green: 3,
      ul_red: 1,
      peak_dl: 80e6,
    });
    // NaN cycles do not count in the means
    expect(a?.dmean).toBeCloseTo((2 + 12 + 30) / 3, 9);
    expect(a?.rtt).toBeCloseTo((22 + 32 + 50) / 3, 9);
    expect(a?.achieved_dl).toBeCloseTo((40e6 + 80e6 + 50e6) / 3, 3);
    expect(b).toMatchObject({ t: T0 / 1000 + 1, cycles: 1, shaped_dl: 90e6, zone_dl: 1 });
    // zone changes became events
    const ev = r.events(0, 2 ** 52, ['zone']);
    expect(ev.map((e) => `${e.dir} ${e.from}->${e.to}`)).toEqual([
      'dl GREEN->YELLOW',
      'dl YELLOW->SOFT_RED',
      'ul GREEN->RED',
      'dl SOFT_RED->GREEN',
      // the fifth change in one second is over the zone-event budget (the rows carry the zones)
    ]);
    expect(rec.health().eventsDropped).toBe(1);
    r.close();
  });

  it('records events of every kind with their details', async () => {
    const { rec, file } = open();
    rec.restart('wanctl-autorate 0.1.0 pid 42', T0);
    rec.writeFailure('WANCTL_ROUTER_TIMEOUT: no answer in 15000 ms', T0 + 10);
    rec.failover('rest', 'ssh', 'REST refused', T0 + 20);
    rec.failback('ssh', 'rest', T0 + 30);
    rec.steering('WAN1_GOOD', 'WAN1_DEGRADED', 'RED 2 cycles: delta 42 ms, drops 12, queue 80', T0 + 40);
    rec.reflectorReplaced('9.9.9.9', '208.67.222.222', 'silent 3.0 s', T0 + 50);
    await rec.close();
    const r = HistoryReader.open(file);
    expect(r.events(T0, T0 + 1000).map((e) => [e.kind, e.from, e.to, e.detail])).toEqual([
      ['restart', null, null, 'wanctl-autorate 0.1.0 pid 42'],
      ['write_failure', null, null, 'WANCTL_ROUTER_TIMEOUT: no answer in 15000 ms'],
      ['failover', 'rest', 'ssh', 'REST refused'],
      ['failback', 'ssh', 'rest', null],
      ['steering', 'WAN1_GOOD', 'WAN1_DEGRADED', 'RED 2 cycles: delta 42 ms, drops 12, queue 80'],
      ['reflector', '9.9.9.9', '208.67.222.222', 'silent 3.0 s'],
    ]);
    expect(r.lastEventBefore('steering', T0 + 1000)?.to).toBe('WAN1_DEGRADED');
    r.close();
  });

  it('keeps at most maxEventsPerSecond events a second and counts the rest', async () => {
    const { rec, file } = open({ maxEventsPerSecond: 3 });
    for (let i = 0; i < 10; i++) rec.writeFailure(`failure ${i}`, T0 + i);
    rec.writeFailure('next second', T0 + 1000);
    await rec.close();
    expect(rec.health().eventsDropped).toBe(7);
    const r = HistoryReader.open(file);
    expect(r.events(0, 2 ** 52).map((e) => e.detail)).toEqual([
      'failure 0',
      'failure 1',
      'failure 2',
      'next second',
    ]);
    r.close();
  });

  it('writes through its worker thread (the daemon default)', async () => {
    const { rec, file } = open({ thread: 'worker' });
    for (let i = 0; i < 100; i++) rec.cycle(T0 + i * 50, sample({ deltaMs: i }));
    rec.writeFailure('x', T0 + 10);
    await rec.close();
    expect(rec.health()).toMatchObject({
      rowsWritten: 5,
      eventsWritten: 1,
      degraded: false,
      status: 'closed',
    });
    const r = HistoryReader.open(file);
    expect(r.rows(1, 0, 2 ** 31).map((x) => x.cycles)).toEqual([20, 20, 20, 20, 20]);
    r.close();
  });
});

describe('downsampling', () => {
  it('minute rows are the cycle-weighted means, extremes and sums of their seconds; hour rows of their minutes', async () => {
    const { rec, file } = open();
    // two hours and one minute of seconds; second k has (k % 7) + 1 cycles with delta k % 100
    const seconds = 2 * 3600 + 60;
    for (let k = 0; k < seconds; k++) {
      const cycles = (k % 7) + 1;
      for (let c = 0; c < cycles; c++)
        rec.cycle(
          T0 + k * 1000 + c,
          sample({
            deltaMs: (k % 100) + c,
            zoneDl: k % 60 === 59 ? 'RED' : 'GREEN',
            shapedDlBps: 1e6 * (k % 13),
          }),
        );
      if (k % 300 === 299) rec.flush(T0 + (k + 1) * 1000);
    }
    rec.flush(T0 + seconds * 1000 + 1000);
    rec.maintain(T0 + seconds * 1000 + 1000);
    await rec.close();
    const r = HistoryReader.open(file);
    const secs = r.rows(1, 0, 2 ** 31);
    const mins = r.rows(60, 0, 2 ** 31);
    const hours = r.rows(3600, 0, 2 ** 31);
    expect(secs).toHaveLength(seconds);
    expect(mins).toHaveLength(121);
    expect(hours).toHaveLength(2);
    for (const m of mins) {
      const inMin = secs.filter((s) => s.t >= m.t && s.t < m.t + 60);
      const cyc = inMin.reduce((a, s) => a + (s.cycles ?? 0), 0);
      expect(m.n).toBe(60);
      expect(m.cycles).toBe(cyc);
      expect(m.dmin).toBe(Math.min(...inMin.map((s) => s.dmin ?? Number.POSITIVE_INFINITY)));
      expect(m.dmax).toBe(Math.max(...inMin.map((s) => s.dmax ?? Number.NEGATIVE_INFINITY)));
      const wmean = inMin.reduce((a, s) => a + (s.dmean ?? 0) * (s.cycles ?? 0), 0) / cyc;
      expect(m.dmean).toBeCloseTo(wmean, 9);
      const shaped = inMin.reduce((a, s) => a + (s.shaped_dl ?? 0) * (s.cycles ?? 0), 0) / cyc;
      expect(m.shaped_dl).toBeCloseTo(shaped, 3);
      expect(m.zone_dl).toBe(4);
      expect(m.dl_red).toBe(inMin.reduce((a, s) => a + (s.dl_red ?? 0), 0));
      expect(m.dl_green).toBe(inMin.reduce((a, s) => a + (s.dl_green ?? 0), 0));
    }
    for (const h of hours) {
      const inHour = mins.filter((m) => m.t >= h.t && m.t < h.t + 3600);
      expect(inHour).toHaveLength(60);
      expect(h.n).toBe(3600);
      expect(h.cycles).toBe(inHour.reduce((a, m) => a + (m.cycles ?? 0), 0));
      expect(h.dmax).toBe(Math.max(...inHour.map((m) => m.dmax ?? 0)));
      const all = secs.filter((s) => s.t >= h.t && s.t < h.t + 3600);
      const wmean = all.reduce((a, s) => a + (s.dmean ?? 0) * (s.cycles ?? 0), 0) / (h.cycles ?? 1);
      expect(h.dmean).toBeCloseTo(wmean, 6);
    }
    // a range older than the one-second rows comes from the coarser tiers
    const s = r.series(T0 / 1000, T0 / 1000 + seconds, { maxPoints: 200 });
    expect(s.resolution).toBe(60);
    expect(s.columns.t).toHaveLength(121);
    r.close();
  });
});

describe('retention and size', () => {
  it('drops one-second rows older than raw_hours after they were downsampled, and keeps the minutes', async () => {
    const { rec, file } = open({ retention: { rawHours: 1, minuteDays: 30, hourDays: 400 } });
    for (let k = 0; k < 3 * 3600; k += 1) {
      rec.cycle(T0 + k * 1000, sample({ deltaMs: k % 50 }));
      if (k % 600 === 599) rec.flush(T0 + (k + 1) * 1000);
    }
    const end = T0 + 3 * 3600 * 1000;
    rec.flush(end);
    rec.maintain(end);
    await rec.close();
    const r = HistoryReader.open(file);
    const secs = r.rows(1, 0, 2 ** 31);
    expect(secs.length).toBeGreaterThan(3500);
    expect(secs.length).toBeLessThanOrEqual(3600);
    expect(secs[0]?.t).toBeGreaterThanOrEqual(end / 1000 - 3600);
    expect(r.rows(60, 0, 2 ** 31)).toHaveLength(180);
    // the whole range still reads, from minutes where seconds are gone
    const s = r.series(T0 / 1000, end / 1000, { maxPoints: 20_000 });
    expect(s.resolution).toBe(1);
    expect(s.columns.t[0]).toBe(T0 / 1000);
    r.close();
  });

  it('drops minute rows older than minute_days and events older than hour_days', async () => {
    const { rec, file } = open({ retention: { rawHours: 1, minuteDays: 1, hourDays: 2 } });
    const day = 86_400_000;
    rec.writeFailure('old', T0);
    for (let k = 0; k < 3 * 24 * 60; k += 10) {
      rec.cycle(T0 + k * 60_000, sample());
      rec.flush(T0 + k * 60_000 + 1000);
    }
    rec.writeFailure('new', T0 + 3 * day - 1000);
    const end = T0 + 3 * day;
    rec.flush(end);
    for (let i = 0; i < 20; i++) rec.maintain(end);
    await rec.close();
    const r = HistoryReader.open(file);
    const mins = r.rows(60, 0, 2 ** 31);
    expect(mins.length).toBeGreaterThan(0);
    expect(mins[0]?.t).toBeGreaterThanOrEqual((end - day) / 1000);
    expect(r.rows(3600, 0, 2 ** 31).length).toBeGreaterThan(0);
    expect(r.events(0, 2 ** 52).map((e) => e.detail)).toEqual(['new']);
    r.close();
  });

  it('keeps the file under max_size_mb by dropping the oldest rows first', async () => {
    const { rec, file } = open({
      maxSizeMb: 1,
      retention: { rawHours: 720, minuteDays: 366, hourDays: 3660 },
    });
    // 25 000 one-second rows (~2.5 MiB uncapped)
    const seconds = 25_000;
    for (let k = 0; k < seconds; k++) {
      rec.cycle(T0 + k * 1000, sample({ deltaMs: k % 97, rttMs: 20 + (k % 97), shapedDlBps: k }));
      if (k % 3600 === 3599) {
        rec.flush(T0 + (k + 1) * 1000);
        rec.maintain(T0 + (k + 1) * 1000);
      }
    }
    rec.flush(T0 + seconds * 1000);
    rec.maintain(T0 + seconds * 1000);
    await rec.close();
    const size = statSync(file).size + (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);
    expect(size).toBeLessThanOrEqual(1024 * 1024);
    const r = HistoryReader.open(file);
    const secs = r.rows(1, 0, 2 ** 31);
    expect(secs.length).toBeGreaterThan(3000);
    expect(secs.length).toBeLessThan(seconds);
    // the newest second is kept, the oldest went
    expect(secs.at(-1)?.t).toBe(T0 / 1000 + seconds - 1);
    expect(secs[0]?.t).toBeGreaterThan(T0 / 1000);
    // minutes of the dropped seconds are still there
    expect(r.rows(60, 0, 2 ** 31)[0]?.t).toBe(T0 / 1000);
    r.close();
  }, 120_000);
});

describe('a broken store degrades history and never the caller', () => {
  it('a damaged file is moved aside, a new one is created, and health says so', async () => {
    const file = join(dir, 'wan1_history.db');
    writeFileSync(file, 'this is not an SQLite database, just some bytes '.repeat(200));
    expect(() => HistoryReader.open(file)).toThrow(HistoryCorruptError);
    const seen: string[] = [];
    const { rec } = open({ file, onStatus: (h) => seen.push(h.recovery?.movedTo ?? 'none') });
    const h = rec.health();
    expect(h.degraded).toBe(false);
    expect(h.recovery?.movedTo).toMatch(/wan1_history\.db\.corrupt-/);
    expect(h.recovery?.reason).toMatch(/SQLITE_NOTADB|SQLITE_CORRUPT/);
    expect(seen).toEqual([h.recovery?.movedTo]);
    expect(existsSync(h.recovery?.movedTo as string)).toBe(true);
    rec.cycle(T0, sample());
    await rec.close();
    const r = HistoryReader.open(file);
    expect(r.rows(1, 0, 2 ** 31)).toHaveLength(1);
    expect(r.wan).toBe('wan1');
    r.close();
  });

  it('a file replaced by a damaged one while running is moved aside and a new one started', async () => {
    const { rec, file } = open();
    rec.cycle(T0, sample());
    rec.flush(T0 + 1000);
    expect(rec.health().rowsWritten).toBe(1);
    // something else puts garbage where the store was
    rmSync(file);
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });
    writeFileSync(file, Buffer.alloc(64 * 1024, 0x5a));
    rec.cycle(T0 + 2000, sample());
    rec.flush(T0 + 3000);
    const h = rec.health();
    expect(h.degraded).toBe(false);
    expect(h.recovery?.movedTo).toMatch(/wan1_history\.db\.corrupt-/);
    expect(existsSync(h.recovery?.movedTo as string)).toBe(true);
    await rec.close();
    const r = HistoryReader.open(file);
    expect(r.rows(1, 0, 2 ** 31).map((x) => x.t)).toEqual([T0 / 1000 + 2]);
    r.close();
  });

  it('a store file deleted while running is created again at the next write', async () => {
    const { rec, file } = open();
    rec.cycle(T0, sample());
    rec.flush(T0 + 1000);
    rmSync(file);
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });
    rec.cycle(T0 + 2000, sample());
    rec.flush(T0 + 3000);
    expect(rec.health()).toMatchObject({ degraded: false, recovery: null });
    await rec.close();
    const r = HistoryReader.open(file);
    expect(r.rows(1, 0, 2 ** 31)).toHaveLength(1);
    r.close();
  });

  it('a directory that cannot be created: degraded with the reason, cycles go on, recovers when fixed', async () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'a file where the directory should be');
    const statuses: boolean[] = [];
    const { rec, file, clock } = open({
      file: join(blocker, 'wan1_history.db'),
      retryIntervalMs: 10_000,
      onStatus: (h) => statuses.push(h.degraded),
    });
    expect(rec.health()).toMatchObject({ status: 'degraded', degraded: true });
    expect(rec.health().reason).toMatch(/^(ENOTDIR|EEXIST): .*not-a-dir/);
    for (let i = 0; i < 60; i++) {
      expect(() => rec.cycle(T0 + i * 100, sample())).not.toThrow();
    }
    clock.t = T0 + 6000;
    rec.flush();
    expect(rec.health().pendingSeconds).toBe(6);
    // fixed by the operator; the next try after the retry interval writes what was kept
    rmSync(blocker);
    clock.t = T0 + 20_000;
    rec.flush();
    expect(rec.health()).toMatchObject({ degraded: false, rowsWritten: 6, pendingSeconds: 0 });
    expect(statuses).toEqual([true, false]);
    await rec.close();
    const r = HistoryReader.open(file);
    expect(r.rows(1, 0, 2 ** 31)).toHaveLength(6);
    r.close();
  });

  it('a full disk (SQLITE_FULL): degraded, rows kept up to the buffer then dropped and counted', async () => {
    const { rec, clock } = open({ maxPageCount: 12, bufferSeconds: 120 });
    let k = 0;
    for (; k < 600; k++) {
      clock.t = T0 + k * 1000;
      expect(() => rec.cycle(clock.t, sample({ deltaMs: k }))).not.toThrow();
      if (k % 5 === 4) rec.flush();
      if (rec.health().degraded) break;
    }
    const h = rec.health();
    expect(h.degraded).toBe(true);
    expect(h.code).toBe('SQLITE_FULL');
    for (let i = 0; i < 300; i++) {
      clock.t += 1000;
      rec.cycle(clock.t, sample());
      if (i % 5 === 4) rec.flush();
    }
    const after = rec.health();
    expect(after.degraded).toBe(true);
    expect(after.pendingSeconds).toBeLessThanOrEqual(120 + 24);
    expect(after.rowsDropped).toBeGreaterThan(100);
    await rec.close();
  });

  it('reading a missing file is a clear error', () => {
    expect(() => HistoryReader.open(join(dir, 'nope.db'))).toThrow(HistoryNotFoundError);
  });
});
