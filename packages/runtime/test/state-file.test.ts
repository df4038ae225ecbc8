import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readJsonWithRecovery, StateStore, StateWriteError, writeJsonAtomic } from '../src/index.js';
import { createFakeClock } from './fake-clock.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runtime-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface S {
  rate: number;
}
const validate = (raw: unknown): S => {
  const r = raw as { rate?: unknown };
  if (typeof r !== 'object' || r === null || typeof r.rate !== 'number')
    throw new Error('rate: expected a number');
  return { rate: r.rate };
};

describe('writeJsonAtomic / readJsonWithRecovery', () => {
  it('writes JSON, keeps the previous good file as .bak, creates the directory', async () => {
    const p = join(dir, 'sub', 'wan1_state.json');
    await writeJsonAtomic(p, { rate: 1 });
    await writeJsonAtomic(p, { rate: 2 });
    expect(JSON.parse(await readFile(p, 'utf8'))).toEqual({ rate: 2 });
    expect(JSON.parse(await readFile(`${p}.bak`, 'utf8'))).toEqual({ rate: 1 });
    expect(await readJsonWithRecovery(p, validate, { rate: 0 })).toEqual({
      value: { rate: 2 },
      source: 'primary',
      problems: [],
    });
  });

  it('recovers from a truncated primary with the backup, and keeps the corrupt file for inspection', async () => {
    const p = join(dir, 's.json');
    await writeJsonAtomic(p, { rate: 1 });
    await writeJsonAtomic(p, { rate: 2 });
    await writeFile(p, '{"rate": 2'); // power loss
    const r = await readJsonWithRecovery(p, validate, { rate: 0 });
    expect(r.value).toEqual({ rate: 1 });
    expect(r.source).toBe('backup');
    expect(r.problems.join(' ')).toMatch(/invalid JSON/);
    expect(await readFile(`${p}.corrupt`, 'utf8')).toBe('{"rate": 2');
  });

  it('a corrupt primary never overwrites a good backup on the next write', async () => {
    const p = join(dir, 's.json');
    await writeFile(`${p}.bak`, '{"rate":5}');
    await writeFile(p, 'garbage');
    // a fresh process (no knowledge of the file) writes
    await writeJsonAtomic(p, { rate: 6 });
    expect(JSON.parse(await readFile(`${p}.bak`, 'utf8'))).toEqual({ rate: 5 });
  });

  it('falls back to defaults when both files are bad or fail validation; never throws', async () => {
    const p = join(dir, 's.json');
    await writeFile(p, '');
    await writeFile(`${p}.bak`, '{"rate":"fast"}');
    const r = await readJsonWithRecovery(p, validate, () => ({ rate: 42 }));
    expect(r).toMatchObject({ value: { rate: 42 }, source: 'default' });
    expect(r.problems.join(' | ')).toMatch(/empty file.*rate: expected a number.*using defaults/);
  });

  it('a missing file is simply defaults without problems', async () => {
    expect(await readJsonWithRecovery(join(dir, 'none.json'), validate, { rate: 7 })).toEqual({
      value: { rate: 7 },
      source: 'default',
      problems: [],
    });
  });

  it('a failed write is a StateWriteError and leaves the old file', async () => {
    const p = join(dir, 's.json');
    await writeJsonAtomic(p, { rate: 1 });
    const err = await writeJsonAtomic(join(p, 'x.json'), { rate: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateWriteError);
    expect(JSON.parse(await readFile(p, 'utf8'))).toEqual({ rate: 1 });
  });
});

describe('StateStore', () => {
  it('writes on change, skips unchanged values, and forces a write at the slow interval', async () => {
    const clock = createFakeClock();
    const p = join(dir, 'st.json');
    const store = new StateStore<S>({
      path: p,
      now: clock.now,
      setTimer: clock.setTimeout,
      clearTimer: clock.clearTimeout,
      minIntervalMs: 0,
      forceIntervalMs: 60_000,
    });
    const waitIdle = async () => {
      while (store.writing) await new Promise((r) => setTimeout(r, 5));
    };
    expect(store.update({ rate: 1 })).toBe(true);
    await waitIdle();
    for (let i = 0; i < 100; i++) {
      await clock.advance(50);
      expect(store.update({ rate: 1 })).toBe(false);
    }
    expect(store.stats.writes).toBe(1);
    await clock.advance(60_000);
    expect(store.update({ rate: 1 })).toBe(true);
    await waitIdle();
    expect(store.stats.writes).toBe(2);
    store.update({ rate: 2 });
    await waitIdle();
    expect(JSON.parse(await readFile(p, 'utf8'))).toEqual({ rate: 2 });
    expect(store.stats.writes).toBe(3);
  });

  it('never blocks the caller, keeps one write in flight, and the latest value wins', async () => {
    const p = join(dir, 'st.json');
    const store = new StateStore<S>({ path: p, minIntervalMs: 0 });
    for (let i = 1; i <= 500; i++) store.update({ rate: i });
    await store.flush();
    expect(JSON.parse(await readFile(p, 'utf8'))).toEqual({ rate: 500 });
    expect(store.stats.writes).toBeLessThan(10);
    expect(store.stats.writes + store.stats.skipped).toBeGreaterThanOrEqual(500);
  });

  it('coalesces changes within minIntervalMs into one delayed write', async () => {
    const clock = createFakeClock();
    const p = join(dir, 'st.json');
    const store = new StateStore<S>({
      path: p,
      now: clock.now,
      setTimer: clock.setTimeout,
      clearTimer: clock.clearTimeout,
      minIntervalMs: 1000,
    });
    store.update({ rate: 1 });
    await store.flush();
    for (let i = 2; i <= 20; i++) {
      await clock.advance(50);
      store.update({ rate: i });
    }
    expect(store.stats.writes).toBe(1);
    await clock.advance(1000);
    while (store.writing) await new Promise((r) => setTimeout(r, 5));
    expect(store.stats.writes).toBe(2);
    expect(JSON.parse(await readFile(p, 'utf8'))).toEqual({ rate: 20 });
  });

  it('a change that is undone before its delayed write is not written (the file keeps the current value)', async () => {
    const clock = createFakeClock();
    const p = join(dir, 'st.json');
    const store = new StateStore<S>({
      path: p,
      now: clock.now,
      setTimer: clock.setTimeout,
      clearTimer: clock.clearTimeout,
      minIntervalMs: 1000,
    });
    store.update({ rate: 1 });
    await store.flush();
    await clock.advance(50);
    expect(store.update({ rate: 2 })).toBe(true); // delayed by minIntervalMs
    await clock.advance(50);
    expect(store.update({ rate: 1 })).toBe(false); // back to what is on disk
    await clock.advance(2000);
    while (store.writing) await new Promise((r) => setTimeout(r, 5));
    expect(JSON.parse(await readFile(p, 'utf8'))).toEqual({ rate: 1 });
    expect(store.stats.writes).toBe(1);
  });

  it('going back to the file value while another value is being written still ends with the current value on disk', async () => {
    const p = join(dir, 'st.json');
    const store = new StateStore<S>({ path: p, minIntervalMs: 0 });
    store.update({ rate: 1 });
    await store.flush();
    store.update({ rate: 2 }); // write starts now
    expect(store.writing).toBe(true);
    expect(store.update({ rate: 1 })).toBe(true); // differs from what is being written
    await store.flush();
    expect(JSON.parse(await readFile(p, 'utf8'))).toEqual({ rate: 1 });
  });

  it('reports write errors through onError and keeps going', async () => {
    const errors: string[] = [];
    await writeFile(join(dir, 'file'), 'x');
    const store = new StateStore<S>({
      path: join(dir, 'file', 'st.json'),
      minIntervalMs: 0,
      onError: (e) => errors.push(e.message),
    });
    store.update({ rate: 1 });
    await expect(store.flush({ rate: 2 })).rejects.toBeInstanceOf(StateWriteError);
    expect(store.stats.errors).toBeGreaterThanOrEqual(1);
    expect(errors[0]).toContain('cannot write state file');
  });
});
