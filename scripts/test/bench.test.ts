/**
 * The control-quality benchmark (scripts/bench-control/run.mjs) as a user runs it, on short
 * traces: the table, the JSON and the SVG plots, with sane numbers.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BENCH = path.join(REPO, 'scripts', 'bench-control', 'run.mjs');
const NEEDED = [
  'apps/autorate/dist/index.js',
  'packages/link-sim/dist/index.js',
  'packages/config/dist/index.js',
];
const missing = NEEDED.filter((f) => !fs.existsSync(path.join(REPO, f)));
const SKIP_REASON = missing.length ? `not built: ${missing.join(', ')} (run npm run build)` : '';

const BUDGET_ORACLE = path.join(REPO, 'scripts', 'bench-control', 'write-budget-oracle.mjs');

function run(
  args: string[],
  script = BENCH,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Run {
  scenario: string;
  controller: string;
  addedLatencyMs: { p50: number; p95: number; p99: number; samples: number };
  utilisation: { down: number; up: number };
  capacityDrops: { count: number; recovered: number };
  routerWrites: number;
  ceilingDownBps: number;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wanctl-bench-test-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('bench-control: node scripts/bench-control/run.mjs', () => {
  it('rejects bad arguments with exit 2', async () => {
    const r = await run(['--traces', 'constant,moon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown trace "moon"');
    const d = await run(['--duration', '-3']);
    expect(d.code).toBe(2);
  });

  it('writes the table, the JSON and one SVG per trace; the laws beat no-autorate on latency', async (ctx) => {
    if (SKIP_REASON) ctx.skip(SKIP_REASON);
    const out = path.join(dir, 'out');
    const r = await run(['--duration', '60', '--traces', 'constant,steps', '--out', out]);
    expect(r.code, r.stderr).toBe(0);

    // Markdown table on stdout and in results.md: a header and 2 traces x 5 controllers.
    const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
    const rows = md.split('\n').filter((l) => /^\| (constant|steps) \|/.test(l));
    expect(rows).toHaveLength(10);
    expect(md).toContain('| trace | controller | added p50 ms | p95 ms | p99 ms |');
    expect(r.stdout).toContain(rows[0]);
    expect(md).toMatch(/10 runs of 60 s simulated in [\d.]+ s wall/);

    const json = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as {
      runs: Run[];
      scenarios: { name: string; config: string }[];
    };
    expect(json.runs.map((x) => `${x.scenario}/${x.controller}`)).toEqual([
      'constant/no-autorate',
      'constant/v1.3',
      'constant/adaptive',
      'constant/cake-autorate-ref',
      'constant/oracle',
      'steps/no-autorate',
      'steps/v1.3',
      'steps/adaptive',
      'steps/cake-autorate-ref',
      'steps/oracle',
    ]);
    expect(json.scenarios.find((s) => s.name === 'constant')?.config).toBe('examples/cable.yaml');
    const get = (sc: string, c: string) =>
      json.runs.find((x) => x.scenario === sc && x.controller === c) as Run;
    for (const sc of ['constant', 'steps']) {
      const none = get(sc, 'no-autorate');
      const wanctl = get(sc, 'v1.3');
      const adaptive = get(sc, 'adaptive');
      const cake = get(sc, 'cake-autorate-ref');
      const oracle = get(sc, 'oracle');
      // The adaptive law: within the p99 goal, no worse than the cake-autorate-style
      // reference, and within its RouterOS write budget (2 writes/s sustained, bursts of 4).
      expect(adaptive.addedLatencyMs.p99).toBeLessThan(25);
      expect(adaptive.addedLatencyMs.p99).toBeLessThanOrEqual(cake.addedLatencyMs.p99);
      expect(adaptive.routerWrites).toBeLessThanOrEqual(2 * 60 + 4);
      expect(adaptive.utilisation.down).toBeGreaterThan(0.7); // 60-s runs: the start weighs more
      // Bufferbloat without control (the ceiling is above the link): hundreds of ms.
      expect(none.addedLatencyMs.p95).toBeGreaterThan(200);
      expect(none.routerWrites).toBe(0);
      // wanctl's control law keeps it far lower, with router writes.
      expect(wanctl.addedLatencyMs.p95).toBeLessThan(none.addedLatencyMs.p95 / 3);
      expect(wanctl.routerWrites).toBeGreaterThan(0);
      expect(oracle.addedLatencyMs.p95).toBeLessThan(none.addedLatencyMs.p95);
      for (const x of [none, wanctl, adaptive, cake, oracle]) {
        expect(x.addedLatencyMs.samples).toBeGreaterThan(100);
        expect(x.addedLatencyMs.p50).toBeLessThanOrEqual(x.addedLatencyMs.p95);
        expect(x.addedLatencyMs.p95).toBeLessThanOrEqual(x.addedLatencyMs.p99);
        for (const u of [x.utilisation.down, x.utilisation.up]) {
          expect(u).toBeGreaterThan(0.05);
          expect(u).toBeLessThanOrEqual(1.001);
        }
      }
      // The oracle sits at 95 % of capacity.
      expect(oracle.utilisation.down).toBeGreaterThan(0.85);
    }
    // The steps trace has capacity drops, and the benchmark times the recovery.
    expect(get('steps', 'v1.3').capacityDrops.count).toBeGreaterThan(0);

    for (const name of ['constant', 'steps']) {
      const svg = fs.readFileSync(path.join(out, `${name}.svg`), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain('</svg>');
      expect(svg).toContain('<polyline');
      expect(svg).toContain('adaptive');
      expect(svg).toContain('cake-autorate-ref');
    }
  });

  it('stress traces with several reflectors run; a dead reflector does not hurt the adaptive law', async (ctx) => {
    if (SKIP_REASON) ctx.skip(SKIP_REASON);
    const out = path.join(dir, 'stress');
    const r = await run([
      '--duration',
      '60',
      '--traces',
      'dead-reflector,upload-only',
      '--out',
      out,
      '--quiet',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as { runs: Run[] };
    const dead = json.runs.find((x) => x.scenario === 'dead-reflector' && x.controller === 'adaptive') as Run;
    expect(dead.addedLatencyMs.p99).toBeLessThan(25);
    expect(dead.utilisation.down).toBeGreaterThan(0.8);
    const up = json.runs.find((x) => x.scenario === 'upload-only' && x.controller === 'adaptive') as Run;
    expect(up.utilisation.up).toBeGreaterThan(0.85);
    // --adaptive overrides are applied (a bad one is refused with exit 2).
    const bad = await run(['--adaptive', '[1]']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--adaptive must be a JSON object');
  });
});

describe('bench-control: node scripts/bench-control/write-budget-oracle.mjs', () => {
  it('rejects bad arguments with exit 2', async () => {
    const r = await run(['--traces', 'lte,moon'], BUDGET_ORACLE);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown trace "moon"');
    expect((await run(['--fraction', '0'], BUDGET_ORACLE)).code).toBe(2);
  });

  it('a capacity-knowing controller gets less of an LTE link through 2 writes/s than through 20', async (ctx) => {
    if (SKIP_REASON) ctx.skip(SKIP_REASON);
    const util = async (wps: string) => {
      const r = await run(
        [
          '--duration',
          '60',
          '--seeds',
          '1',
          '--traces',
          'lte',
          '--fraction',
          '0.9',
          '--writes-per-second',
          wps,
        ],
        BUDGET_ORACLE,
      );
      expect(r.code, r.stderr).toBe(0);
      const m = /^\| lte \| ([\d.]+) \| ([\d.]+) % \| ([\d.]+) % \|$/m.exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      return { p99: Number(m![1]), down: Number(m![2]), up: Number(m![3]) };
    };
    const two = await util('2');
    const twenty = await util('20');
    expect(twenty.down).toBeGreaterThan(two.down + 3);
    expect(twenty.up).toBeGreaterThan(two.up + 3);
    expect(twenty.p99).toBeLessThan(two.p99);
  });
});
