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
  dlLineShare: number;
  ulLineShare: number;
  qdisc?: string;
  daemonExit?: number;
  cpuPercent?: number;
  peaks?: { atS: number; addedMs: number }[];
}

/** Runs the testbed with ARGS and returns its exit, output and JSON result. */
async function testbed(args: string[], timeoutMs: number) {
  const out = join(mkdtempSync(join(tmpdir(), 'wanctl-testbed-test-')), 'result.json');
  const run = await new Promise<{ code: number; stdout: string; stderr: string; pid: number }>((resolve) => {
    const c = execFile(
      process.execPath,
      [SCRIPT, ...args, '--json', out],
      { timeout: timeoutMs },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, pid: c.pid ?? 0 }),
    );
  });
  expect(run.code, run.stderr).toBe(0);
  const j = JSON.parse(readFileSync(out, 'utf8')) as { results: Result[]; notes: string[] };
  return { run, j };
}

describe.skipIf(reason !== null)(`real-kernel testbed${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('wanctl on linux-cake cuts the latency under load that the bloated line adds, and leaves nothing behind', async () => {
    const { run, j } = await testbed(
      ['--variants', 'none,v1.3,adaptive', '--duration', '14', '--flows', '2'],
      170_000,
    );
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

  // Issue 13's goal, as the README's testbed table measures it: the adaptive law across the
  // capacity step (40/10 -> 20/5 Mbit/s half-way), four CUBIC flows each way for 36 s. Throughput
  // is the line's own: the frames its TBF sent over what its capacity allowed ("line busy"),
  // since iperf3's goodput leaves out headers and the other direction's ACKs (no wanctl at all
  // gets only 86-87 % upload goodput with the line 98-100 % busy). Goodput is held to a looser
  // bound beside it. Ten runs on this 2-core machine (2026-12-06): p99 16.6-28.1 ms (the step's
  // transient is the top 1 %), line busy down 0.80-0.91, up 0.87-0.93, goodput 0.73-0.84 /
  // 0.74-0.79. One retry: a run that lands on an edge (the 0.800 one) is run once more, and two
  // misses in a row fail.
  it('the goal: with the adaptive law, p99 added RTT within 30 ms and the line at least 80 % busy both ways across the step', {
    retry: 1,
    timeout: 180_000,
  }, async () => {
    const { run, j } = await testbed(['--variants', 'adaptive', '--duration', '36', '--flows', '4'], 170_000);
    process.stdout.write(`${run.stdout}\n`); // the table, in the CI log
    const a = j.results.find((r) => r.variant === 'adaptive') as Result;
    expect(a, j.notes.join('\n')).toBeDefined();
    process.stdout.write(`worst 1 % of the RTTs (s from the load's start): ${JSON.stringify(a.peaks)}\n`);
    expect(a.addedRttMs.p99).toBeLessThanOrEqual(30);
    expect(a.dlLineShare).toBeGreaterThanOrEqual(0.8);
    expect(a.ulLineShare).toBeGreaterThanOrEqual(0.8);
    expect(a.dlShare).toBeGreaterThanOrEqual(0.7);
    expect(a.ulShare).toBeGreaterThanOrEqual(0.7);
    expect(a.daemonExit).toBe(0);
  });
});
