#!/usr/bin/env node
// History figures: the per-cycle cost of recorder.cycle(), the cost of one batched write and of
// one maintenance pass, and the store's size per day per WAN. Simulated time (20 Hz cycles), real
// SQLite file in a temporary directory. Usage: node bench/history-bench.mjs [--days N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryReader, HistoryRecorder } from '../dist/index.js';

const days = Number(process.argv[process.argv.indexOf('--days') + 1]) || 1;
const dir = mkdtempSync(join(tmpdir(), 'wanctl-history-bench-'));
const file = join(dir, 'bench.db');
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
const CYCLE_MS = 50;
const FLUSH_MS = 5000;

const sample = {
  shapedDlBps: 0,
  shapedUlBps: 0,
  achievedDlBps: 0,
  achievedUlBps: 0,
  rttMs: 0,
  baselineMs: 20,
  deltaMs: 0,
  zoneDl: 'GREEN',
  zoneUl: 'GREEN',
  overrun: false,
};
const ZONES = ['GREEN', 'YELLOW', 'SOFT_RED', 'RED'];
let clock = T0;
const rec = HistoryRecorder.open({
  file,
  wan: 'bench',
  kind: 'autorate',
  timers: false,
  now: () => clock,
  retention: { rawHours: 48, minuteDays: 30, hourDays: 400 },
  maxSizeMb: 1024,
  // inline: the SQLite costs below are measured on this thread (in a daemon they are the worker's)
  thread: 'inline',
});

function fill(i) {
  // a plausible day: evening congestion, zone changes now and then
  const evening = (i % 1_728_000) / 1_728_000 > 0.75;
  const d = evening ? 5 + ((i * 7919) % 40) : (i * 7919) % 4;
  sample.shapedDlBps = 300e6 - d * 1e6;
  sample.shapedUlBps = 20e6;
  sample.achievedDlBps = evening ? 250e6 + ((i * 31) % 50) * 1e6 : ((i * 31) % 50) * 1e6;
  sample.achievedUlBps = 5e6;
  sample.rttMs = 20 + d;
  sample.deltaMs = d;
  sample.zoneDl = ZONES[d < 5 ? 0 : d < 15 ? 1 : d < 40 ? 2 : 3];
  sample.zoneUl = d < 15 ? 'GREEN' : 'YELLOW';
  sample.overrun = i % 5000 === 0;
}

const cyclesPerFlush = FLUSH_MS / CYCLE_MS;
const totalCycles = Math.round((days * 86_400_000) / CYCLE_MS);
let cycleNs = 0n;
const flushMs = [];
const maintMs = [];
for (let i = 0; i < totalCycles; i += cyclesPerFlush) {
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < cyclesPerFlush; k++) {
    fill(i + k);
    rec.cycle(clock, sample);
    clock += CYCLE_MS;
  }
  cycleNs += process.hrtime.bigint() - t0;
  const before = rec.health().maxMaintenanceMs;
  const m0 = rec.health().lastMaintenanceMs;
  const f0 = performance.now();
  rec.flush(clock);
  const spent = performance.now() - f0;
  const h = rec.health();
  if (h.lastMaintenanceMs !== m0 || h.maxMaintenanceMs !== before) maintMs.push(h.lastMaintenanceMs);
  flushMs.push(spent - (h.lastMaintenanceMs !== m0 ? h.lastMaintenanceMs : 0));
}
// fill() is part of the loop; measure it alone and subtract
const f0 = process.hrtime.bigint();
for (let i = 0; i < totalCycles; i++) fill(i);
const fillNs = process.hrtime.bigint() - f0;
rec.maintain(clock);
const h = rec.health();
await rec.close();

const pct = (arr, p) => {
  const s = [...arr].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
const r = HistoryReader.open(file);
const counts = {};
for (const t of ['1s', '1m', '1h'])
  counts[t] = r.rows(t === '1s' ? 1 : t === '1m' ? 60 : 3600, 0, 2 ** 31).length;
r.close();

const perCycleUs = Number(cycleNs - fillNs) / totalCycles / 1000;
console.log(
  `history bench: ${days} simulated day(s), ${totalCycles} cycles at ${CYCLE_MS} ms, flush every ${FLUSH_MS} ms`,
);
console.log(`recorder.cycle(): ${perCycleUs.toFixed(3)} µs per cycle on average (loop minus sample filling)`);
console.log(
  `batched write (${cyclesPerFlush / (1000 / CYCLE_MS)} s of rows + events, one transaction): p50 ${pct(flushMs, 50).toFixed(3)} ms, p99 ${pct(flushMs, 99).toFixed(3)} ms, max ${Math.max(...flushMs).toFixed(3)} ms over ${flushMs.length}`,
);
console.log(
  `maintenance pass (downsample, retention, checkpoint): p50 ${pct(maintMs, 50).toFixed(3)} ms, p99 ${pct(maintMs, 99).toFixed(3)} ms, max ${Math.max(...maintMs).toFixed(3)} ms over ${maintMs.length}`,
);
const perDay = h.sizeBytes / days;
console.log(
  `store: ${(h.sizeBytes / 1048576).toFixed(2)} MiB after ${days} day(s) = ${(perDay / 1048576).toFixed(2)} MiB per day per WAN; rows 1s ${counts['1s']}, 1m ${counts['1m']}, 1h ${counts['1h']}; events ${h.eventsWritten} (dropped ${h.eventsDropped})`,
);
const rawPerDay = perDay; // a day is almost all one-second rows
console.log(
  `steady state with the defaults (48 h raw, 30 d minutes, 400 d hours) ≈ ${((2 * rawPerDay + (30 * rawPerDay) / 60 + (400 * rawPerDay) / 3600) / 1048576).toFixed(0)} MiB (upper estimate: minute/hour rows taken as 1/60, 1/3600 of a day of seconds)`,
);

// The daemon's view: worker thread (default). Per-cycle cost and the cost of flush() on the
// caller's thread (slice + postMessage), one simulated hour.
{
  const wfile = join(dir, 'worker.db');
  let wclock = T0;
  const w = HistoryRecorder.open({
    file: wfile,
    wan: 'bench',
    kind: 'autorate',
    timers: false,
    now: () => wclock,
  });
  const hourCycles = 3_600_000 / CYCLE_MS;
  let ns = 0n;
  const handMs = [];
  for (let i = 0; i < hourCycles; i += cyclesPerFlush) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < cyclesPerFlush; k++) {
      fill(i + k);
      w.cycle(wclock, sample);
      wclock += CYCLE_MS;
    }
    ns += process.hrtime.bigint() - t0;
    const f0 = performance.now();
    w.flush(wclock);
    handMs.push(performance.now() - f0);
    if (i % (cyclesPerFlush * 50) === 0) await new Promise((r) => setImmediate(r));
  }
  const g0 = process.hrtime.bigint();
  for (let i = 0; i < hourCycles; i++) fill(i);
  const gns = process.hrtime.bigint() - g0;
  await w.close();
  const wh = w.health();
  console.log(
    `worker mode (daemon default), 1 simulated hour: recorder.cycle() ${(Number(ns - gns) / hourCycles / 1000).toFixed(3)} µs per cycle; flush() on the caller's thread p50 ${pct(handMs, 50).toFixed(3)} ms, p99 ${pct(handMs, 99).toFixed(3)} ms, max ${Math.max(...handMs).toFixed(3)} ms; rows written ${wh.rowsWritten}, dropped ${wh.rowsDropped}`,
  );
}
rmSync(dir, { recursive: true, force: true });
