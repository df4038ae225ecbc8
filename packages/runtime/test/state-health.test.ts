/**
 * The state store tells when saving fails (issue 16: /health said "healthy" while every save
 * failed), and a .bak is only ever made from a state that passed validation (issue 16.5).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readJsonWithRecovery, StateStore, writeJsonAtomic } from '../src/index.js';
import { createFakeClock } from './fake-clock.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runtime-state-health-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('StateStore.failure', () => {
  it('null while saving works; counts failures in a row with the last error; clears on the next success', async () => {
    const clock = createFakeClock(1000);
    const blocker = join(dir, 'state'); // a file where the state directory should be
    await writeFile(blocker, 'x');
    const store = new StateStore<{ n: number }>({
      path: join(blocker, 'wan1.json'),
      minIntervalMs: 0,
      now: () => clock.now(),
    });
    expect(store.failure).toBeNull();
    await expect(store.flush({ n: 1 })).rejects.toThrow(/cannot write state file/);
    clock.advance(5000);
    await expect(store.flush({ n: 2 })).rejects.toThrow();
    const f = store.failure;
    expect(f).not.toBeNull();
    expect(f?.consecutiveFailures).toBe(2);
    expect(f?.lastError).toMatch(/^cannot write state file .*wan1\.json: /);
    expect(f?.forMs).toBe(5000);
    expect(store.stats.consecutiveFailures).toBe(2);
    await rm(blocker); // the operator fixes it
    await store.flush({ n: 3 });
    expect(store.failure).toBeNull();
    expect(store.stats.errors).toBe(2); // the total stays
    expect(JSON.parse(await readFile(join(blocker, 'wan1.json'), 'utf8'))).toEqual({ n: 3 });
  });
});

describe('.bak only from a validated state', () => {
  const plausible = (raw: unknown): unknown => {
    const rate = (raw as { rate?: unknown }).rate;
    if (typeof rate !== 'number' || rate > 1e10) throw new Error(`rate ${String(rate)} out of bounds`);
    return raw;
  };

  it('a primary this process did not write and that fails validateBackup is not kept as .bak', async () => {
    const p = join(dir, 'wan1.json');
    await writeFile(`${p}.bak`, '{"rate":5}');
    await writeFile(p, '{"rate":1e300}'); // valid JSON, impossible value (left by an older run)
    await writeJsonAtomic(p, { rate: 6 }, { validateBackup: plausible });
    expect(JSON.parse(await readFile(`${p}.bak`, 'utf8'))).toEqual({ rate: 5 }); // the good backup stays
    expect(JSON.parse(await readFile(p, 'utf8'))).toEqual({ rate: 6 });
    // from now on the primary is what this process wrote: it becomes the backup
    await writeJsonAtomic(p, { rate: 7 }, { validateBackup: plausible });
    expect(JSON.parse(await readFile(`${p}.bak`, 'utf8'))).toEqual({ rate: 6 });
  });

  it('reading a primary does not vouch for it: the first write still validates it', async () => {
    const p = join(dir, 'wan2.json');
    await writeFile(p, '{"rate":1e300}');
    // the daemon's read accepts any object (it drops the bad fields itself afterwards)
    const r = await readJsonWithRecovery(p, (raw) => raw, null);
    expect(r.source).toBe('primary');
    await writeJsonAtomic(p, { rate: 6 }, { validateBackup: plausible });
    expect(existsSync(`${p}.bak`)).toBe(false);
  });

  it('a plausible primary from an earlier run is kept as .bak as before', async () => {
    const p = join(dir, 'wan3.json');
    await writeFile(p, '{"rate":4}');
    await writeJsonAtomic(p, { rate: 6 }, { validateBackup: plausible });
    expect(JSON.parse(await readFile(`${p}.bak`, 'utf8'))).toEqual({ rate: 4 });
  });
});
