/**
 * The daemon's start-up restore (issue 16.5) and its health while state saves fail (issue 16):
 * impossible restored values are dropped with a warning and never reach the .bak; a store that
 * cannot save makes /health degraded with the reason.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAutorateConfig } from '@wanctl/config';
import type { RouterClient } from '@wanctl/router-client';
import type { DaemonHost } from '@wanctl/runtime';
import { FakeProbe, FakeRouter } from '@wanctl/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AutorateDaemon, startAutorateDaemon } from '../../src/daemon/daemon.js';
import { configText } from './config.js';

let dir: string;
let host: DaemonHost<AutorateDaemon> | null = null;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'autorate-restore-'));
});
afterEach(async () => {
  await host?.dispose();
  host = null;
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
});

const M = 1_000_000;

async function setUp(): Promise<{ d: AutorateDaemon; lines: string[]; stateFile: string }> {
  const cfg = parseAutorateConfig(configText(dir), { file: path.join(dir, 'wan1.yaml') });
  const lines: string[] = [];
  host = await startAutorateDaemon({
    configs: [cfg],
    deps: {
      createProbe: () => ({
        probe: new FakeProbe({ reflectors: ['192.0.2.1', '192.0.2.2', '192.0.2.3'], now: () => 0 }),
        kind: 'fping',
      }),
      createRouter: () => new FakeRouter() as unknown as RouterClient,
      installSignals: false,
      logToConsole: false,
      logSink: (l: string) => lines.push(l),
    },
  });
  return { d: host.daemon, lines, stateFile: cfg.stateFile };
}

function stateWith(baseline: number, dlRate: number) {
  return {
    download: { green_streak: 0, soft_red_streak: 0, red_streak: 0, current_rate: dlRate },
    upload: { green_streak: 0, soft_red_streak: 0, red_streak: 0, current_rate: 10 * M },
    ewma: { baseline_rtt: baseline, load_rtt: 22 },
    last_applied: { dl_rate: dlRate, ul_rate: 10 * M },
  };
}

describe('restored state is checked against the config (bounds 10–60 ms, download 20–100 Mbit/s)', () => {
  it('a 0.5 ms baseline and a 1e300 rate are dropped loudly; the defaults are used and saved; no .bak of them', async () => {
    const cfg = parseAutorateConfig(configText(dir), { file: path.join(dir, 'wan1.yaml') });
    await mkdir(path.dirname(cfg.stateFile), { recursive: true });
    await writeFile(cfg.stateFile, JSON.stringify(stateWith(0.5, 1e300)));
    const { d, lines, stateFile } = await setUp();
    const w = d.wans[0];
    if (!w) throw new Error('no WAN');
    expect(w.runner.controller.baselineRttMs).toBe(20); // baseline_rtt_initial
    expect(w.runner.controller.controllerRates.dlBps).toBe(100 * M); // the ceiling
    expect(w.runner.controller.controllerRates.ulBps).toBe(10 * M); // the plausible value is kept
    const warnings = lines.filter((l) => l.includes('[WARN]') && l.includes('dropped'));
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toContain(
      'state file: ewma.baseline_rtt = 0.5 dropped: must be a number within baseline_rtt_bounds [10, 60] ms',
    );
    expect(warnings[1]).toContain('state file: download.current_rate = 1e+300 dropped');
    expect(warnings[2]).toContain('state file: last_applied.dl_rate = 1e+300 dropped');
    // the corrected state is written at once (not marked as already persisted) and the bad file
    // does not become the backup
    await w.store.flush(w.runner);
    const saved = JSON.parse(await readFile(stateFile, 'utf8'));
    expect(saved.ewma.baseline_rtt).toBe(20);
    expect(saved.download.current_rate).toBe(100 * M);
    expect(existsSync(`${stateFile}.bak`)).toBe(false);
    // the next save backs up the corrected one
    await w.store.flush(w.runner);
    expect(JSON.parse(await readFile(`${stateFile}.bak`, 'utf8')).ewma.baseline_rtt).toBe(20);
  });

  it('a plausible state is restored as it was, without warnings', async () => {
    const cfg = parseAutorateConfig(configText(dir), { file: path.join(dir, 'wan1.yaml') });
    await mkdir(path.dirname(cfg.stateFile), { recursive: true });
    await writeFile(cfg.stateFile, JSON.stringify(stateWith(24, 55 * M)));
    const { d, lines } = await setUp();
    expect(d.wans[0]?.runner.controller.baselineRttMs).toBe(24);
    expect(d.wans[0]?.runner.controller.controllerRates.dlBps).toBe(55 * M);
    expect(lines.filter((l) => l.includes('dropped'))).toEqual([]);
  });
});

describe('health while the state cannot be saved', () => {
  it('is degraded, naming the state file error; healthy again once a save works', async () => {
    const { d, stateFile } = await setUp();
    const w = d.wans[0];
    if (!w) throw new Error('no WAN');
    expect(d.healthBody().status).toBe('healthy');
    await mkdir(stateFile, { recursive: true }); // a directory where the file should be: saves fail
    await expect(w.store.flush(w.runner)).rejects.toThrow(/cannot write state file/);
    const h = d.healthBody();
    expect(h.status).toBe('degraded');
    expect(h['state_file_problems']).toEqual([
      expect.stringMatching(/^wan1: state file not saved \(1 failures in a row\): cannot write state file /),
    ]);
    await rm(stateFile, { recursive: true });
    await w.store.flush(w.runner);
    expect(d.healthBody().status).toBe('healthy');
    expect(d.healthBody()['state_file_problems']).toEqual([]);
  });
});
