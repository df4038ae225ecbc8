/**
 * The wanctl-steering command line (see `wanctl-steering --help`). Exit codes: 0 clean stop,
 * 2 bad config or arguments, 1 any other fatal error.
 */
import { ConfigError, ConfigReadError, loadSteeringConfig, type SteeringConfig } from '@wanctl/config';
import {
  type CliIo,
  EXIT_STATUS_HELP,
  processIo,
  replayProblem,
  runCommand as runCommandLine,
  UsageError,
} from '@wanctl/runtime';
import { Command, Option } from 'commander';
import { steeringParamsFromConfig } from './config-params.js';
import { StateThresholdsError, type SteeringParams, SteeringParamsError } from './control/index.js';
import { startSteeringDaemon } from './daemon/daemon.js';
import { runReplay } from './replay-cli.js';
import { VERSION } from './version.js';

const SUBCOMMANDS = new Set(['run', 'replay', 'help']);

/** v1.3 compatibility: `wanctl-steering --config steering.yaml [--reset] [--debug]` (no subcommand) means `run`. */
export function normaliseArgv(args: string[]): string[] {
  const first = args[0];
  if (first === undefined) return args;
  if (SUBCOMMANDS.has(first) || ['--help', '-h', '--version', '-V'].includes(first)) return args;
  return ['run', ...args];
}

/** Loads and checks a steering config: UsageError (exit 2) naming file, key and expectation. */
export function loadConfig(file: string): { config: SteeringConfig; params: SteeringParams } {
  try {
    const config = loadSteeringConfig(file);
    return { config, params: steeringParamsFromConfig(config) };
  } catch (e) {
    if (e instanceof ConfigError || e instanceof ConfigReadError) throw new UsageError(e.message);
    if (e instanceof SteeringParamsError || e instanceof StateThresholdsError)
      throw new UsageError(`${file}: ${e.message}`);
    throw e;
  }
}

/** v1.3-style `--validate-config` summary. */
export function validationSummary(c: SteeringConfig, p: SteeringParams): string {
  const t = c.thresholds;
  return [
    `Configuration valid: ${c.file}`,
    `  Steering: ${c.topology.primaryWan} -> ${c.topology.alternateWan} (states ${c.stateGood} / ${c.stateDegraded})`,
    `  Rule: mangle rule with comment "${c.mangleRule.comment}"`,
    `  Router: ${c.router.host} as ${c.router.user} over ${c.router.transport}${c.router.fallbackTransport ? ` (fallback ${c.router.fallbackTransport})` : ''}`,
    `  Baseline: ${c.primaryStateFile} (bounds ${t.baselineRttMinMs}-${t.baselineRttMaxMs} ms)`,
    p.cakeAware
      ? `  Mode: CAKE-aware, queue ${c.cakeQueues.primaryDownload}; RED after ${t.redSamplesRequired} samples, GREEN after ${t.greenSamplesRequired}`
      : `  Mode: legacy RTT-only; bad > ${t.badThresholdMs} ms x${t.badSamples}, recovered < ${t.recoveryThresholdMs} ms x${t.goodSamples}`,
    `  Thresholds: yellow ${t.yellowRttMs} ms / queue ${t.minQueueYellow}; red ${t.redRttMs} ms + drops >= ${t.minDropsRed} + queue >= ${t.minQueueRed}`,
    `  Confidence scoring: ${p.confidence ? `on (steer ${p.confidence.steerThreshold}, recover ${p.confidence.recoveryThreshold}${p.confidence.dryRun ? ', dry run' : ''})` : 'off'}`,
    `  Measurement: every ${c.measurement.intervalSec} s, ping ${c.measurement.pingHost} x${c.measurement.pingCount}` +
      ` (${c.measurement.probe.method === 'udp' ? `UDP echo on port ${c.measurement.probe.udpPort}` : 'ICMP, fping'})`,
    `  State: ${c.state.file} (history ${c.state.historySize}); lock ${c.lockFile}`,
    `  Health: ${c.healthCheck.enabled ? `http://${c.healthCheck.host}:${c.healthCheck.port}/health` : 'off'}; metrics: ${c.metrics.enabled ? `http://${c.metrics.host}:${c.metrics.port}/metrics` : 'off'}`,
  ].join('\n');
}

interface RunOpts {
  config?: string;
  debug?: boolean;
  once?: boolean;
  validateConfig?: boolean;
  dryRun?: boolean;
  reset?: boolean;
  udpReflector?: string[];
  fping?: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Where the command writes (stdout, stderr). */
export type Io = CliIo;

async function runCommand(opts: RunOpts, io: Io): Promise<number> {
  if (!opts.config) throw new UsageError('--config <yaml> is required');
  const modes = [opts.once, opts.validateConfig, opts.reset].filter(Boolean).length;
  if (modes > 1) throw new UsageError('use only one of --once, --validate-config, --reset');
  if (opts.validateConfig) {
    try {
      const { config, params } = loadConfig(opts.config);
      io.out(`${validationSummary(config, params)}\n`);
      for (const w of config.warnings) io.out(`  Warning: ${w.path ? `${w.path}: ` : ''}${w.message}\n`);
      return 0;
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      io.out(`Configuration INVALID: ${opts.config}\n  ${e.message.replace(/\n/g, '\n  ')}\n`);
      return 2;
    }
  }
  const { config, params } = loadConfig(opts.config);
  const udp = opts.udpReflector?.flatMap((s) => s.split(',')).filter((s) => s !== '') ?? null;
  const base = {
    config,
    params,
    debug: opts.debug ?? false,
    dryRun: opts.dryRun ?? false,
    udpReflectors: udp,
    ...(opts.fping ? { fpingBinary: opts.fping } : {}),
  };
  if (opts.reset) {
    const host = await startSteeringDaemon({ ...base, serveHttp: false, startProbe: false });
    const ok = await host.daemon.reset();
    await host.stop();
    return ok ? 0 : 1;
  }
  const host = await startSteeringDaemon({ ...base, serveHttp: !opts.once });
  if (opts.once) {
    let r: Awaited<ReturnType<typeof host.daemon.runOnce>>;
    try {
      r = await host.daemon.runOnce();
    } finally {
      await host.stop();
    }
    if (!r.ok) {
      io.err(`wanctl-steering: the cycle could not decide (${r.failure})\n`);
      return 1;
    }
    return 0;
  }
  return host.run();
}

interface ReplayOpts {
  config: string;
  input: string;
  t0?: string;
  dt?: string;
}

function parseNumberOpt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`${name}: expected a number, got "${v}"`);
  return n;
}

async function replayCommand(opts: ReplayOpts): Promise<number> {
  const { params } = loadConfig(opts.config);
  const t0 = parseNumberOpt('--t0', opts.t0);
  const dt = parseNumberOpt('--dt', opts.dt);
  try {
    await runReplay({
      params,
      input: opts.input,
      ...(t0 !== undefined ? { t0 } : {}),
      ...(dt !== undefined ? { dt } : {}),
    });
  } catch (e) {
    throw replayProblem(opts.input, e);
  }
  return 0;
}

/** Parses `args` (without node and script) and runs; resolves with the exit code. */
export async function main(args: string[], io: Io = processIo): Promise<number> {
  const program = new Command();
  let result: Promise<number> = Promise.resolve(0);
  program
    .name('wanctl-steering')
    .description(
      'Moves latency-sensitive traffic to the alternate WAN while the primary WAN is congested, by ' +
        'enabling a RouterOS mangle rule (found by its exact comment), and back when it recovers. ' +
        "Signals: the primary WAN's baseline RTT (its autorate state file), its own RTT probe, and the " +
        'CAKE drops and queue depth of the primary download queue (wanctl v1.3 steering).\n\n' +
        EXIT_STATUS_HELP,
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError();

  program
    .command('run')
    .description('run the steering daemon')
    .option('--config <yaml>', 'steering config file (e.g. /etc/wanctl/steering.yaml)')
    .option('--debug', 'debug log file (logging.debug_log) and debug output on stderr')
    .option('--once', 'reconcile the rule, run one cycle, save the state and exit (1 if it could not decide)')
    .option('--validate-config', 'check the config file, print a summary and exit (0 valid, 2 invalid)')
    .option('--dry-run', 'decide and log what would be done, but never change the rule on the router')
    .option('--reset', 'reset the steering state to GOOD, disable the rule (read back) and exit')
    .addOption(
      new Option(
        '--udp-reflector <host:port...>',
        'probe these UDP echo reflectors, overriding measurement.probe (no privileges needed)',
      ).argParser(collect),
    )
    .option('--fping <path>', 'fping binary (default: fping on PATH)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  wanctl-steering run --config /etc/wanctl/steering.yaml\n' +
        '  wanctl-steering --config /etc/wanctl/steering.yaml --debug          (v1.3 form)\n' +
        '  wanctl-steering run --config steering.yaml --validate-config\n' +
        '  wanctl-steering run --config steering.yaml --dry-run\n' +
        '  wanctl-steering --config steering.yaml --reset                     (un-steer now)\n' +
        '\nHealth: GET http://127.0.0.1:9102/health (503 while degraded); metrics on 127.0.0.1:9103 when\n' +
        'metrics.enabled. Signals: SIGTERM/SIGINT stop after the current cycle, state saved (exit 0);\n' +
        'SIGHUP reopens the log files.',
    )
    .action((opts: RunOpts) => {
      result = runCommand(opts, io);
    });

  program
    .command('replay')
    .description(
      'run the steering control law on recorded per-cycle inputs (JSON lines), one JSON line out per cycle',
    )
    .requiredOption('--config <yaml>', 'steering config file whose parameters to use')
    .requiredOption('--input <file>', 'input JSON lines file, or - for standard input (streamed)')
    .option('--t0 <seconds>', 'virtual time of the first cycle (default 1000)')
    .option('--dt <seconds>', 'virtual time step per cycle (default 0.05, as the golden vectors)')
    .addHelpText(
      'after',
      '\nInput line:  {"autorate_baseline_rtt_ms": number|null, "rtt_attempts_ms": [number|null, ...],\n' +
        '              "cake": {"dropped", "queued_packets", "packets", "bytes"}|null, "router_ok": bool}\n' +
        'Output line: {"i","t","ok","baseline_rtt_ms","current_rtt_ms","delta_ms","rtt_delta_ewma_ms",\n' +
        '              "queue_ewma_packets","cake_drops_delta","cake_queued_packets","congestion_state",\n' +
        '              "current_state","state_changed","red_count","bad_count","good_count","router_calls",\n' +
        '              "cake_read_failures","cake_state_history","history_rtt_len", "confidence"?}\n' +
        '\nExample:\n  wanctl-steering replay --config steering.yaml --input cycles.jsonl > decisions.jsonl\n' +
        '  simulator | wanctl-steering replay --config steering.yaml --input -',
    )
    .action((opts: ReplayOpts) => {
      result = replayCommand(opts);
    });

  return runCommandLine('wanctl-steering', io, async () => {
    await program.parseAsync(normaliseArgv(args), { from: 'user' });
    return result;
  });
}
