#!/usr/bin/env node
/**
 * node scripts/demo/run.mjs [--backend emulator|linux] [--duration S] [--profile cable|steps|lte|dsl]
 *                           [--seed N] [--no-steering] [--law adaptive|v1.3] [--keep] [--json FILE]
 *
 * The live demo: wanctl-autorate and wanctl-steering (real processes) against an emulated
 * RouterOS router whose queues drive a simulated WAN link (loopback only, no root); or, with
 * --backend linux (root), wanctl-autorate on linux-cake against a real-kernel line in network
 * namespaces (demo/linux.mjs, on the testbed's parts in testbed/lib.mjs).
 * Exit status: 0 when the daemons ran and stopped cleanly (exit 0), 1 otherwise, 2 bad arguments
 * or (linux) not possible on this machine.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { parseCli } from '../lib-cli.mjs';

const USAGE = `usage: node scripts/demo/run.mjs [--backend emulator|linux] [--duration S] [--profile cable|steps|lte|dsl]
                           [--seed N] [--no-steering] [--steering-mode cake|confidence|rtt] [--json FILE] ...
  --backend emulator|linux
                   emulator (default): an emulated RouterOS router driving a simulated link, loopback
                   only, no root. linux (root): the real kernel in network namespaces: a tbf line with
                   a 300 ms buffer follows the profile's capacity trace scaled to a 40/10 Mbit/s line,
                   wanctl-autorate shapes it with router.transport linux-cake (tbf), iperf3 CUBIC loads
                   it both ways and a separate ping measures the latency. Steering is not part of the
                   linux backend (its mangle rule needs a RouterOS router): --no-steering is implied, and
                   --steering-mode, --write-budget and --rest-outage do not apply. Needs ip, tc (tbf),
                   iperf3, ping and fping; refused with exit 2 and the reason otherwise
  --duration S     seconds to run (default 60; Ctrl-C stops earlier)
  --profile NAME   link profile (default cable: an evening compressed in time, with a collapse below the floors)
  --seed N         seed of the trace and the flows (default 1)
  --no-steering    run wanctl-autorate only
  --steering-mode cake|confidence|rtt
                   cake (default, as examples/steering.yaml): RED needs RTT, CAKE drops and queue,
                   or (D14) autorate's report of RED at its floor with a high RTT delta;
                   confidence: cake plus live confidence scoring (mode.use_confidence_scoring,
                   confidence.dry_run false; the WAN zone adds weight);
                   rtt: v1.3's legacy RTT-only assessment (cake_aware: false)
  --write-budget N/S
                   router write budget: N writes per S seconds (default 10/6: the demo compresses an
                   evening into a minute, so the example's 10 per 60 s is compressed too; 10/60 = the example's)
  --rest-outage A-B
                   the emulated router's REST face is down from A to B seconds: the daemons fail over
                   to SSH (key login, pinned host key) and take REST back afterwards
  --law adaptive|v1.3
                   control law of wanctl-autorate (default adaptive, as the examples; v1.3: the v1.3 law)
  --keep           keep the temporary directory (configs, logs, state files)
  --json FILE      also write the summary as JSON`;

const { args, fail } = parseCli('demo', USAGE, {
  backend: { type: 'string' },
  duration: { type: 'string' },
  profile: { type: 'string' },
  seed: { type: 'string' },
  'no-steering': { type: 'boolean' },
  'steering-mode': { type: 'string' },
  'write-budget': { type: 'string' },
  'rest-outage': { type: 'string' },
  law: { type: 'string' },
  keep: { type: 'boolean' },
  json: { type: 'string' },
});
const durationS = args.duration === undefined ? 60 : Number(args.duration);
if (!(Number.isFinite(durationS) && durationS >= 5 && durationS <= 86_400))
  fail(`--duration must be a number of seconds from 5 to 86400 (got "${args.duration}")`);
const seed = args.seed === undefined ? 1 : Number(args.seed);
if (!Number.isInteger(seed)) fail(`--seed must be an integer (got "${args.seed}")`);
const profile = args.profile ?? 'cable';
const steeringMode = args['steering-mode'] ?? 'cake';
if (!['cake', 'confidence', 'rtt'].includes(steeringMode))
  fail(`--steering-mode must be cake, confidence or rtt (got "${steeringMode}")`);
const { PROFILE_NAMES } = await import('./profiles.mjs').catch((e) => {
  process.stderr.write(`demo: cannot load the workspaces (${e.message}); build first: npm run build\n`);
  process.exit(1);
});
if (!PROFILE_NAMES.includes(profile))
  fail(`unknown profile "${profile}" (expected ${PROFILE_NAMES.join(', ')})`);

const law = args.law ?? 'adaptive';
if (!['adaptive', 'v1.3'].includes(law)) fail(`--law must be adaptive or v1.3 (got "${law}")`);

let writeBudget;
if (args['write-budget'] !== undefined) {
  const m = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(args['write-budget']);
  if (!m) fail(`--write-budget must look like 10/60 (writes/seconds), got "${args['write-budget']}"`);
  writeBudget = { maxWrites: Number(m[1]), windowSec: Number(m[2]) };
}

let restOutage;
if (args['rest-outage'] !== undefined) {
  const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(args['rest-outage']);
  if (!m || !(Number(m[1]) < Number(m[2])))
    fail(`--rest-outage must look like 20-35 (from-to seconds), got "${args['rest-outage']}"`);
  restOutage = { fromS: Number(m[1]), toS: Number(m[2]) };
}

const backend = args.backend ?? 'emulator';
if (!['emulator', 'linux'].includes(backend)) fail(`--backend must be emulator or linux (got "${backend}")`);
if (backend === 'linux') {
  const emulatorOnly = ['steering-mode', 'write-budget', 'rest-outage'].filter((k) => args[k] !== undefined);
  if (emulatorOnly.length)
    fail(
      `--${emulatorOnly.join(', --')}: emulator backend only (the linux backend has no router or steering)`,
    );
  const { preflight } = await import('../testbed/lib.mjs');
  const why = preflight(`wdm${process.pid}`);
  if (why !== null) {
    process.stderr.write(`demo: --backend linux is not possible here: ${why}\n`);
    process.exit(2);
  }
}

const { AUTORATE_CLI, STEERING_CLI, runDemo } = await import('./demo.mjs');
for (const cli of [AUTORATE_CLI, ...(args['no-steering'] || backend === 'linux' ? [] : [STEERING_CLI])]) {
  if (!existsSync(cli)) {
    process.stderr.write(`demo: ${cli} is missing; build the workspaces first (npm run build)\n`);
    process.exit(1);
  }
}

const ac = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts++;
  if (interrupts === 1) {
    process.stderr.write('\ndemo: stopping (Ctrl-C again to force)...\n');
    ac.abort();
  } else {
    process.exit(130);
  }
});
process.on('SIGTERM', () => ac.abort());

const common = {
  profile,
  durationS,
  seed,
  law,
  keep: args.keep ?? false,
  tty: Boolean(process.stdout.isTTY),
  signal: ac.signal,
};
const summary =
  backend === 'linux'
    ? await (await import('./linux.mjs')).runLinuxDemo(common)
    : await runDemo({
        ...common,
        steering: !args['no-steering'],
        steeringMode,
        writeBudget,
        restOutage,
      });
if (args.json) {
  writeFileSync(
    args.json,
    `${JSON.stringify(summary, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
  );
}
process.exit(summary.ok ? 0 : 1);
