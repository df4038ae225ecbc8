/**
 * The real-kernel testbed (scripts/testbed/testbed.mjs) as CI runs it: root and network
 * namespaces needed, skipped visibly (with the reason) otherwise. Short: two CUBIC flows each
 * way for 14 s per variant.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { realKernelSkipReason } from './helpers.js';

const SCRIPT = join(import.meta.dirname, '..', 'testbed', 'testbed.mjs');

const reason = realKernelSkipReason(`wtb${process.pid}t`);

interface Result {
  variant: string;
  addedRttMs: { p50: number; p95: number; p99: number };
  dlShare: number;
  ulShare: number;
  qdisc?: string;
  daemonExit?: number;
  cpuPercent?: number;
}

describe.skipIf(reason !== null)(`real-kernel testbed${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('wanctl on linux-cake cuts the latency under load that the bloated line adds, and leaves nothing behind', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'wanctl-testbed-test-')), 'result.json');
    const run = await new Promise<{ code: number; stdout: string; stderr: string; pid: number }>(
      (resolve) => {
        const c = execFile(
          process.execPath,
          [SCRIPT, '--variants', 'none,v1.3,adaptive', '--duration', '14', '--flows', '2', '--json', out],
          { timeout: 170_000 },
          (err, stdout, stderr) =>
            resolve({
              code: err ? ((err as { code?: number }).code ?? 1) : 0,
              stdout,
              stderr,
              pid: c.pid ?? 0,
            }),
        );
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const j = JSON.parse(readFileSync(out, 'utf8')) as { results: Result[]; notes: string[] };
    const none = j.results.find((r) => r.variant === 'none') as Result;
    const v13 = j.results.find((r) => r.variant === 'v1.3') as Result;
    // the line's 300 ms buffer fills without wanctl
    expect(none.addedRttMs.p50).toBeGreaterThan(100);
    // wanctl keeps the median added RTT several times lower, and still carries traffic
    expect(v13.addedRttMs.p50).toBeLessThan(none.addedRttMs.p50 / 4);
    expect(v13.dlShare).toBeGreaterThan(0.2);
    expect(v13.ulShare).toBeGreaterThan(0.2);
    expect(v13.qdisc).toMatch(/^qdisc tbf 1: root/); // set up by wanctl-autorate on linux-cake
    expect(v13.daemonExit).toBe(0); // clean stop on SIGTERM
    expect(v13.cpuPercent).toBeGreaterThan(0);
    // the adaptive law (the shipped examples' law) does the same and carries more: it once
    // starved the line completely here (a tbf bucket shrunk under a queued GSO packet)
    const adaptive = j.results.find((r) => r.variant === 'adaptive') as Result;
    expect(adaptive, j.notes.join('\n')).toBeDefined();
    expect(adaptive.addedRttMs.p50).toBeLessThan(none.addedRttMs.p50 / 4);
    expect(adaptive.dlShare).toBeGreaterThan(0.3);
    expect(adaptive.ulShare).toBeGreaterThan(0.3);
    expect(adaptive.daemonExit).toBe(0);
    expect(run.stdout).toMatch(/\| no wanctl \|/);
    // every namespace of that run is gone
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(left).not.toContain(`wtb${run.pid}`);
  }, 180_000);
});
