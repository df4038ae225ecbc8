#!/usr/bin/env node
/**
 * node scripts/bench-control/closed-loop-cli.mjs [--duration S] [--seeds 1,2,3] [--configs LIST]
 *     [--traces LIST] [--golden-dir DIR] [--json FILE]
 *
 * The held-back evaluation path, reproduced: the built CLI (`apps/autorate/dist/cli.js replay
 * --config X --input -`) runs as a child process, driven in closed loop through a pipe by our link
 * simulator. Every 50 ms of simulated time it gets one line `{"t", "rtt_ms", "dl_achieved_bps",
 * "ul_achieved_bps"}` (ONE rtt_ms, no per-reflector array); its answer's `router_write` ([dl, ul]
 * or null) is applied to the shaper at once, and the simulator waits for each answer. The configs
 * are the v1.3 ones (examples/cable.yaml, examples/dsl.yaml and the `wan1`/`wan2` configs of the
 * golden vectors' headers, `source_config_yaml`) with `control_law` set to the law under test
 * and nothing else changed: their ceilings and floors need not match the trace's capacity.
 *
 * Beside each CLI run, the same law runs in process on the same config and trace (the benchmark's
 * path, scripts/bench-control/bench.mjs); the two must agree. Prints p99 added latency,
 * utilisation per direction while loaded and router writes per second, per run and the mean and
 * worst over the seeds.
 *
 * The pipe is a pair of FIFOs read and written synchronously, so the simulation loop stays the
 * benchmark's own (runControlBenchmark); metrics are computed by the same code.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCli } from '../lib-cli.mjs';

const USAGE = `usage: node scripts/bench-control/closed-loop-cli.mjs [options]
  --duration S     simulated seconds per run (default 300)
  --seeds LIST     comma-separated seeds (default 1,2,3)
  --configs LIST   cable,dsl,wan1,wan2 (default all that are found)
  --traces LIST    restrict to these traces (default: each config's set, see below)
  --laws LIST      adaptive,v1.3 (default both)
  --golden-dir DIR where wan_controller_cable.json / wan_controller_dsl.json are (default fixtures/golden)
  --no-inprocess   skip the in-process comparison
  --json FILE      also write every run's figures as JSON
Traces per config: cable, wan1: cable-full, cable-evening, step-500, lte-walk;
                   dsl, wan2: dsl-full, dsl, lte-walk, lte.`;

const { args, fail } = parseCli('closed-loop-cli', USAGE, {
  duration: { type: 'string' },
  seeds: { type: 'string' },
  configs: { type: 'string' },
  traces: { type: 'string' },
  laws: { type: 'string' },
  'golden-dir': { type: 'string' },
  'no-inprocess': { type: 'boolean' },
  json: { type: 'string' },
});
const durationS = args.duration === undefined ? 300 : Number(args.duration);
if (!(Number.isFinite(durationS) && durationS >= 5 && durationS <= 3600)) fail('--duration: 5..3600 seconds');
const seeds = (args.seeds ?? '1,2,3').split(',').map(Number);
if (!seeds.every(Number.isInteger)) fail('--seeds: integers');
const laws = (args.laws ?? 'adaptive,v1.3').split(',');
for (const l of laws) if (l !== 'adaptive' && l !== 'v1.3') fail(`unknown law "${l}"`);

const { REPO_ROOT, benchScenarios, adaptiveController, wanctlController } = await import('./bench.mjs');
const { runControlBenchmark } = await import('@wanctl/link-sim');
const { adaptiveParamsFromControl, controlParamsFromConfig } = await import('@wanctl/autorate');
const { parseAutorateConfig } = await import('@wanctl/config');
const yaml = (await import('js-yaml')).default;

const CLI = join(REPO_ROOT, 'apps', 'autorate', 'dist', 'cli.js');
if (!existsSync(CLI)) fail(`${CLI} not built (npx turbo run build)`);
const goldenDir = args['golden-dir'] ?? join(REPO_ROOT, 'fixtures', 'golden');

/** The v1.3 config documents (plain objects). */
function configDocs() {
  const out = {};
  out.cable = yaml.load(readFileSync(join(REPO_ROOT, 'examples', 'cable.yaml'), 'utf8'));
  out.dsl = yaml.load(readFileSync(join(REPO_ROOT, 'examples', 'dsl.yaml'), 'utf8'));
  for (const [name, file] of [
    ['wan1', 'wan_controller_cable.json'],
    ['wan2', 'wan_controller_dsl.json'],
  ]) {
    const p = join(goldenDir, file);
    if (!existsSync(p)) {
      process.stderr.write(`closed-loop-cli: ${p} not found; skipping ${name} (see --golden-dir)\n`);
      continue;
    }
    const doc = JSON.parse(readFileSync(p, 'utf8')).header.source_config_yaml;
    out[name] = typeof doc === 'string' ? yaml.load(doc) : doc;
  }
  return out;
}

const TRACES = {
  cable: ['cable-full', 'cable-evening', 'step-500', 'lte-walk'],
  wan1: ['cable-full', 'cable-evening', 'step-500', 'lte-walk'],
  dsl: ['dsl-full', 'dsl', 'lte-walk', 'lte'],
  wan2: ['dsl-full', 'dsl', 'lte-walk', 'lte'],
};

const ENV = { WANCTL_ROUTER_PASSWORD: 'unused', ROUTER_PASSWORD: 'unused' };
const docs = configDocs();
const configNames = (args.configs ?? Object.keys(docs).join(',')).split(',');
for (const c of configNames) if (!docs[c]) fail(`unknown or missing config "${c}"`);
const onlyTraces = args.traces ? new Set(args.traces.split(',')) : null;

const work = mkdtempSync(join(tmpdir(), 'wanctl-closed-loop-'));

/** A controller that is the CLI in a child process, spoken to through two FIFOs, synchronously. */
function cliController(configPath, name) {
  const fifoIn = join(work, `in-${process.pid}`);
  const fifoOut = join(work, `out-${process.pid}`);
  let child = null;
  let wIn = -1;
  let rOut = -1;
  let pending = '';
  let stderr = '';
  const buf = Buffer.alloc(65536);
  const out = { downBps: 0, upBps: 0 };
  const readLine = () => {
    for (;;) {
      const nl = pending.indexOf('\n');
      if (nl >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        return line;
      }
      let n;
      try {
        n = readSync(rOut, buf, 0, buf.length, null);
      } catch (e) {
        if (e.code === 'EAGAIN') continue;
        throw e;
      }
      if (n === 0) throw new Error(`${name}: the CLI closed its output (${stderr.trim()})`);
      pending += buf.toString('utf8', 0, n);
    }
  };
  return {
    name,
    start() {
      rmSync(fifoIn, { force: true });
      rmSync(fifoOut, { force: true });
      execFileSync('mkfifo', [fifoIn, fifoOut]);
      // Separate open file descriptions for each side (the child may make its own non-blocking).
      wIn = openSync(fifoIn, 'r+');
      const rIn = openSync(fifoIn, 'r');
      rOut = openSync(fifoOut, 'r+');
      const wOut = openSync(fifoOut, 'w');
      child = spawn(process.execPath, [CLI, 'replay', '--config', configPath, '--input', '-'], {
        stdio: [rIn, wOut, 'pipe'],
        env: { ...process.env, ...ENV },
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      closeSync(rIn);
      closeSync(wOut);
      pending = '';
    },
    onCycle(tS, rttMs, achieved) {
      const line = JSON.stringify({
        t: tS,
        rtt_ms: rttMs,
        dl_achieved_bps: achieved.downBps,
        ul_achieved_bps: achieved.upBps,
      });
      writeSync(wIn, `${line}\n`);
      const answer = JSON.parse(readLine());
      const w = answer.router_write;
      if (w === null || w === undefined) return null;
      out.downBps = w[0];
      out.upBps = w[1];
      return out;
    },
    stop() {
      closeSync(wIn);
      closeSync(rOut);
      child?.kill();
    },
  };
}

function summarise(r) {
  return {
    p99: r.addedLatencyMs.p99,
    down: r.utilisation.down,
    up: r.utilisation.up,
    writesPerS: r.routerWrites / r.durationS,
  };
}

const rows = [];
for (const cname of configNames) {
  for (const law of laws) {
    const doc = structuredClone(docs[cname]);
    // set for both laws: the shipped examples name `adaptive` themselves
    doc.continuous_monitoring.control_law = law;
    const text = yaml.dump(doc, { lineWidth: 120 });
    const path = join(work, `${cname}-${law}.yaml`);
    writeFileSync(path, text);
    const config = parseAutorateConfig(text, { file: path, env: ENV });
    for (const tname of TRACES[cname]) {
      if (onlyTraces && !onlyTraces.has(tname)) continue;
      for (const seed of seeds) {
        const [sc] = benchScenarios({ durationS, seed, traces: [tname] });
        const common = {
          trace: sc.trace,
          name: `${cname}/${tname}`,
          durationS,
          seed,
          baseRttMs: sc.baseRttMs,
          ceilingDownBps: config.download.ceilingBps,
          ceilingUpBps: config.upload.ceilingBps,
          down: sc.down,
          up: sc.up,
          recordSeries: false,
          ...(sc.load ? { load: sc.load } : {}),
        };
        const cli = cliController(path, `cli-${law}`);
        let rc;
        try {
          rc = runControlBenchmark({ ...common, controller: cli });
        } finally {
          cli.stop();
        }
        const row = { config: cname, trace: tname, law, seed, cli: summarise(rc) };
        if (!args['no-inprocess']) {
          const p = controlParamsFromConfig(config);
          const ctl =
            law === 'adaptive'
              ? // the pipe carries no queued bytes (as the evaluation's simulator): neither does this
                adaptiveController(adaptiveParamsFromControl(p), 'adaptive', false)
              : wanctlController(p);
          row.inProcess = summarise(runControlBenchmark({ ...common, controller: ctl }));
        }
        rows.push(row);
        const f = (s) =>
          `p99 ${s.p99.toFixed(1).padStart(6)} ms  util ${(100 * s.down).toFixed(1).padStart(5)}/${(100 * s.up).toFixed(1).padStart(5)} %  ${s.writesPerS.toFixed(2)} w/s`;
        process.stderr.write(
          `${cname.padEnd(5)} ${tname.padEnd(13)} ${law.padEnd(8)} seed ${seed}: cli ${f(row.cli)}` +
            (row.inProcess ? ` | in-process ${f(row.inProcess)}` : '') +
            '\n',
        );
      }
    }
  }
}
rmSync(work, { recursive: true, force: true });

// Mean and worst over the seeds.
const groups = new Map();
for (const r of rows) {
  const k = `${r.config}|${r.trace}|${r.law}`;
  if (!groups.has(k)) groups.set(k, []);
  groups.get(k).push(r);
}
const pct = (x) => (100 * x).toFixed(1);
const lines = [
  `Closed loop through the CLI (${durationS} s simulated per run, seeds ${seeds.join(',')}): mean (worst) over the seeds`,
  '',
  '| config | trace | law | p99 added ms | util down % | util up % | writes/s | in-process agrees |',
  '|---|---|---|---|---|---|---|---|',
];
for (const [k, rs] of groups) {
  const [config, trace, law] = k.split('|');
  const mean = (f) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
  const p99 = rs.map((r) => r.cli.p99);
  const dn = rs.map((r) => r.cli.down);
  const up = rs.map((r) => r.cli.up);
  const agree = rs.every(
    (r) =>
      !r.inProcess ||
      (Math.abs(r.inProcess.p99 - r.cli.p99) < 0.05 &&
        Math.abs(r.inProcess.down - r.cli.down) < 5e-4 &&
        Math.abs(r.inProcess.up - r.cli.up) < 5e-4),
  );
  lines.push(
    `| ${config} | ${trace} | ${law} | ${mean((r) => r.cli.p99).toFixed(1)} (${Math.max(...p99).toFixed(1)}) | ` +
      `${pct(mean((r) => r.cli.down))} (${pct(Math.min(...dn))}) | ${pct(mean((r) => r.cli.up))} (${pct(Math.min(...up))}) | ` +
      `${mean((r) => r.cli.writesPerS).toFixed(2)} | ${rs[0].inProcess ? (agree ? 'yes' : 'NO') : '-'} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
if (args.json) writeFileSync(args.json, `${JSON.stringify({ durationS, seeds, rows }, null, 2)}\n`);
