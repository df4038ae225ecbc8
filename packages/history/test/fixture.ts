/**
 * Test stores with a realistic evening: written by the real recorder (inline), 20 Hz cycles.
 */
import { join } from 'node:path';
import { type CycleSample, HistoryRecorder } from '../src/index.js';

export interface FixtureStores {
  wanFile: string;
  steeringFile: string;
  /** Unix ms of the first and last cycle. */
  start: number;
  end: number;
}

/**
 * `minutes` of 20 Hz cycles ending at `end` (Unix ms): a congested stretch in the middle (YELLOW,
 * SOFT_RED, RED; rate cut), a write failure, a failover and return, and steering on for it.
 */
export async function makeStores(dir: string, end: number, minutes = 120): Promise<FixtureStores> {
  const wanFile = join(dir, 'cable_history.db');
  const steeringFile = join(dir, 'steering_history.db');
  const start = end - minutes * 60_000;
  // the recorders' clock is the simulated one (retention is by age relative to it)
  let clock = start;
  const now = () => clock;
  const rec = HistoryRecorder.open({
    file: wanFile,
    wan: 'cable',
    kind: 'autorate',
    thread: 'inline',
    timers: false,
    now,
  });
  const steer = HistoryRecorder.open({
    file: steeringFile,
    wan: 'steering',
    kind: 'steering',
    thread: 'inline',
    timers: false,
    now,
  });
  rec.restart('wanctl-autorate 0.1.0 pid 4242', start);
  const s: CycleSample = {
    shapedDlBps: 0,
    shapedUlBps: 0,
    achievedDlBps: 0,
    achievedUlBps: 0,
    rttMs: 0,
    baselineMs: 18,
    deltaMs: 0,
    zoneDl: 'GREEN',
    zoneUl: 'GREEN',
    overrun: false,
  };
  const total = minutes * 60 * 20;
  const c0 = Math.floor(total * 0.4);
  const c1 = Math.floor(total * 0.6);
  let steered = false;
  for (let i = 0; i < total; i++) {
    const t = start + i * 50;
    clock = t;
    const congested = i >= c0 && i < c1;
    const wave = Math.sin(i / 400) * 0.5 + 0.5;
    const delta = congested ? 12 + 40 * wave + ((i * 37) % 11) : 1 + 3 * wave + ((i * 13) % 3);
    s.deltaMs = delta;
    s.rttMs = 18 + delta;
    s.shapedDlBps = congested ? 300e6 - 150e6 * wave : 300e6;
    s.shapedUlBps = congested ? 20e6 - 5e6 * wave : 20e6;
    s.achievedDlBps = (congested ? 140e6 : 60e6) + 80e6 * wave + ((i * 7) % 13) * 1e6;
    s.achievedUlBps = (congested ? 12e6 : 4e6) + 3e6 * wave;
    s.zoneDl = delta > 45 ? 'RED' : delta > 30 ? 'SOFT_RED' : delta > 12 ? 'YELLOW' : 'GREEN';
    s.zoneUl = delta > 30 ? 'RED' : delta > 12 ? 'YELLOW' : 'GREEN';
    s.overrun = i % 9000 === 1234;
    rec.cycle(t, s);
    if (i === c0 + 2000) rec.writeFailure('WANCTL_ROUTER_TIMEOUT: no answer in 15000 ms', t);
    if (i === c0 + 4000) rec.failover('rest', 'ssh', 'REST: connection refused', t);
    if (i === c0 + 9000) rec.failback('ssh', 'rest', t);
    if (!steered && i === c0 + 600) {
      steer.steering('CABLE_GOOD', 'CABLE_DEGRADED', 'RED 2 cycles: delta 48 ms, drops 31, queue 120', t);
      steered = true;
    }
    if (steered && i === c1 + 1200) {
      steer.steering('CABLE_DEGRADED', 'CABLE_GOOD', 'GREEN 15 cycles', t);
      steered = false;
    }
    if (i % 100 === 99) rec.flush(t + 50);
  }
  await rec.close();
  await steer.close();
  return { wanFile, steeringFile, start, end: start + (total - 1) * 50 };
}
