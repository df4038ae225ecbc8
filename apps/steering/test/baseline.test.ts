/**
 * readAutorateBaseline against the layout wanctl-autorate really writes: the fixture is checked
 * by autorate's test against its real state-file writer, so the contract cannot drift silently.
 */
import { copyFile, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCongestion, readAutorateBaseline } from '../src/daemon/baseline.js';
import { AUTORATE_STATE_FIXTURE, tempDir } from './helpers/e2e.js';

let tmp: { dir: string; cleanup(): Promise<void> };
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

describe('readAutorateBaseline', () => {
  it("reads ewma.baseline_rtt from a state file in autorate's layout", async () => {
    const fixture = JSON.parse(await readFile(AUTORATE_STATE_FIXTURE, 'utf8')) as {
      ewma: { baseline_rtt: number };
    };
    const path = join(tmp.dir, 'wan1_state.json');
    await copyFile(AUTORATE_STATE_FIXTURE, path);
    const r = await readAutorateBaseline(path);
    expect(r).toMatchObject({ status: 'ok', problem: null, valueMs: fixture.ewma.baseline_rtt });
    expect(typeof r.valueMs).toBe('number');
  });

  it('a file untouched for longer than the limit is stale, and its baseline is still used', async () => {
    const path = join(tmp.dir, 'wan1_state.json');
    await copyFile(AUTORATE_STATE_FIXTURE, path);
    const old = new Date(Date.now() - 600_000);
    await utimes(path, old, old);
    const r = await readAutorateBaseline(path, { staleAfterMs: 300_000 });
    expect(r.status).toBe('stale');
    expect(r.valueMs).toBeGreaterThan(0);
    expect(r.problem).toContain('not updated for');
  });

  it('missing, not JSON, or without ewma.baseline_rtt: a status and a sentence, never a throw', async () => {
    const missing = await readAutorateBaseline(join(tmp.dir, 'nope.json'));
    expect(missing).toMatchObject({ status: 'missing', valueMs: null });
    expect(missing.problem).toContain('is wanctl-autorate running');
    const bad = join(tmp.dir, 'bad.json');
    await writeFile(bad, '{"ewma": ');
    expect(await readAutorateBaseline(bad)).toMatchObject({ status: 'invalid', valueMs: null });
    await writeFile(bad, JSON.stringify({ ewma: { load_rtt: 20 } }));
    const noKey = await readAutorateBaseline(bad);
    expect(noKey).toMatchObject({ status: 'invalid', valueMs: null });
    expect(noKey.problem).toContain('no ewma.baseline_rtt');
    await writeFile(bad, JSON.stringify({ ewma: { baseline_rtt: 'x' } }));
    expect((await readAutorateBaseline(bad)).problem).toContain('is not a number');
  });
});

describe('the D14 congestion report in the autorate state file', () => {
  it("is read from autorate's layout, aged by its own time; a v1.3 file has none", async () => {
    const path = join(tmp.dir, 'wan1_state.json');
    const doc = JSON.parse(await readFile(AUTORATE_STATE_FIXTURE, 'utf8')) as Record<string, unknown>;
    const at = Date.parse((doc['congestion'] as { at: string }).at);
    await writeFile(path, JSON.stringify(doc));
    const r = await readAutorateBaseline(path, { nowMs: at + 2500 });
    expect(r.congestion).toEqual({
      ageSeconds: 2.5,
      download: { zone: 'GREEN', atFloor: false, belowFloor: false, rttDeltaMs: 0.5, redForSec: 0 },
      upload: { zone: 'GREEN', atFloor: false, belowFloor: false, rttDeltaMs: 0.5, redForSec: 0 },
    });
    delete doc['congestion'];
    await writeFile(path, JSON.stringify(doc));
    expect((await readAutorateBaseline(path)).congestion).toBeNull();
  });

  it('a malformed report is unknown (no age), never a crash and never GREEN', () => {
    for (const c of [
      null,
      'RED',
      [],
      { at: 'yesterday', download: { zone: 'RED', rtt_delta_ms: 500 } },
      { at: new Date().toISOString() },
    ]) {
      const r = parseCongestion({ congestion: c }, Date.now());
      expect(r?.ageSeconds, JSON.stringify(c)).toBeNull();
    }
    const odd = parseCongestion(
      {
        congestion: {
          at: new Date(0).toISOString(),
          download: { zone: 'RED', rtt_delta_ms: 'x' },
          upload: { zone: 7 },
        },
      },
      1000,
    );
    expect(odd).toEqual({ ageSeconds: null, download: null, upload: null });
  });
});
