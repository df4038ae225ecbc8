/**
 * The wanctl-autorate command line (see `wanctl-autorate --help`). Exit codes: 0 clean stop,
 * 2 bad config or arguments, 1 any other fatal error.
 */
import { type AutorateConfig, ConfigError, ConfigReadError, loadAutorateConfig } from '@wanctl/config';
import {
  type CliIo,
  EXIT_STATUS_HELP,
  processIo,
  replayProblem,
  runCommand as runCommandLine,
  UsageError,
} from '@wanctl/runtime';
import { Command, Option } from 'commander';
import { controlParamsFromConfig, writePolicyFromConfig } from './config-params.js';
import { ControlParamsError } from './control/index.js';
import { startAutorateDaemon, VERSION } from './daemon/daemon.js';
import { runReplay } from './replay-cli.js';

const SUBCOMMANDS = new Set(['run', 'replay', 'help']);

/**
 * v1.3 compatibility: `wanctl-autorate --config a.yaml b.yaml --debug` (no subcommand) means
 * `run`; `--oneshot` is `--once`.
 */
export function normaliseArgv(args: string[]): string[] {
  const out = args.map((a) => (a === '--oneshot' ? '--once' : a));
  const first = out[0];
  if (first === undefined) return out;
  if (
    SUBCOMMANDS.has(first) ||
    first === '--help' ||
    first === '-h' ||
    first === '--version' ||
    first === '-V'
  )
    return out;
  return ['run', ...out];
}

function loadConfigs(files: string[]): AutorateConfig[] {
  const configs: AutorateConfig[] = [];
  const problems: string[] = [];
  for (const f of files) {
    try {
      const cfg = loadAutorateConfig(f);
      controlParamsFromConfig(cfg); // cross-field rules of the control law
      writePolicyFromConfig(cfg);
      configs.push(cfg);
    } catch (e) {
      if (e instanceof ConfigError || e instanceof ConfigReadError) problems.push(e.message);
      else if (e instanceof ControlParamsError) problems.push(`${f}: ${e.message}`);
      else throw e;
    }
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  const seen = new Map<string, string>();
  for (const c of configs) {
    for (const [what, key] of [
      ['wan_name', c.wanName.toLowerCase()],
      ['lock_file', c.lockFile],
      ['state file', c.stateFile],
    ] as const) {
      const k = `${what}:${key}`;
      const prev = seen.get(k);
      if (prev !== undefined)
        throw new UsageError(`${c.file}: ${what} "${key}" is also used by ${prev}; each WAN needs its own`);
      seen.set(k, c.file);
    }
  }
  return configs;
}

const mb = (bps: number): string => `${+(bps / 1e6).toFixed(3)}`;

/** v1.3's `--validate-config` summary. */
function validationSummary(c: AutorateConfig): string {
  const d = c.download;
  const u = c.upload;
  const t = c.thresholds;
  return [
    `Configuration valid: ${c.file}`,
    `  WAN: ${c.wanName}`,
    `  Transport: ${c.router.transport}${c.router.fallbackTransport ? ` (fallback ${c.router.fallbackTransport})` : ''}`,
    `  Router: ${c.router.host}:${c.router.user}`,
    `  Download: ${mb(d.floorRedBps)}M - ${mb(d.ceilingBps)}M`,
    `    Floors: GREEN=${mb(d.floorGreenBps)}M, YELLOW=${mb(d.floorYellowBps)}M, SOFT_RED=${mb(d.floorSoftRedBps)}M, RED=${mb(d.floorRedBps)}M`,
    `  Upload: ${mb(u.floorRedBps)}M - ${mb(u.ceilingBps)}M`,
    `    Floors: GREEN=${mb(u.floorGreenBps)}M, YELLOW=${mb(u.floorYellowBps)}M, RED=${mb(u.floorRedBps)}M`,
    `  Thresholds: GREEN<=${t.targetBloatMs}ms, SOFT_RED<=${t.warnBloatMs}ms, RED>${t.hardRedBloatMs}ms`,
    `  Ping hosts: [${c.pingHosts.map((h) => `'${h}'`).join(', ')}]`,
    `  Probe: ${c.probe.method === 'udp' ? `UDP echo on port ${c.probe.udpPort}` : 'ICMP (fping)'}`,
    `  Queue names: ${c.queues.download}, ${c.queues.upload}`,
    `  Cycle: ${c.cycleIntervalMs} ms; state file: ${c.stateFile}`,
  ].join('\n');
}

interface RunOpts {
  config?: string[];
  debug?: boolean;
  once?: boolean;
  validateConfig?: boolean;
  record?: string;
  udpReflector?: string[];
  fping?: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

async function runCommand(opts: RunOpts, io: Io): Promise<number> {
  const files = opts.config ?? [];
  if (files.length === 0) throw new UsageError('--config <yaml> is required (one per WAN)');
  if (opts.validateConfig) {
    const out: string[] = [];
    let bad = false;
    for (const f of files) {
      try {
        const [c] = loadConfigs([f]);
        out.push(validationSummary(c as AutorateConfig));
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        bad = true;
        out.push(`Configuration INVALID: ${f}\n  Error: ${e.message.replace(/\n/g, '\n  ')}`);
      }
    }
    io.out(`${out.join('\n')}\n`);
    return bad ? 2 : 0;
  }
  const configs = loadConfigs(files);
  const udp = opts.udpReflector?.flatMap((s) => s.split(',')).filter((s) => s !== '') ?? null;
  const host = await startAutorateDaemon({
    configs,
    debug: opts.debug ?? false,
    recordFile: opts.record ?? null,
    udpReflectors: udp,
    ...(opts.fping ? { fpingBinary: opts.fping } : {}),
  });
  if (opts.once) {
    try {
      await host.daemon.runOnce();
    } finally {
      await host.dispose();
    }
    return 0;
  }
  return host.run();
}

interface ReplayOpts {
  config: string;
  input: string;
  output?: string;
}

async function replayCommand(opts: ReplayOpts): Promise<number> {
  const [cfg] = loadConfigs([opts.config]);
  const params = controlParamsFromConfig(cfg as AutorateConfig);
  try {
    await runReplay({
      params,
      law: (cfg as AutorateConfig).controlLaw,
      writePolicy: writePolicyFromConfig(cfg as AutorateConfig),
      cutBelowFloor: (cfg as AutorateConfig).cutBelowFloor,
      input: opts.input,
      output: opts.output,
    });
  } catch (e) {
    throw replayProblem(opts.input, e);
  }
  return 0;
}

/** Where the command writes (stdout, stderr). */
export type Io = CliIo;

/** Parses `args` (without node and script) and runs; resolves with the exit code. */
export async function main(args: string[], io: Io = processIo): Promise<number> {
  const program = new Command();
  let result: Promise<number> = Promise.resolve(0);
  program
    .name('wanctl-autorate')
    .description(
      'Keeps a WAN fast under load: measures RTT every cycle (default 50 ms) and moves the CAKE\n' +
        "queues' max-limit on a MikroTik RouterOS router (wanctl v1.3 control law).\n\n" +
        EXIT_STATUS_HELP,
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError();

  program
    .command('run')
    .description('run the daemon for one or several WANs (one --config per WAN)')
    .option('--config <yaml...>', 'WAN config file(s); repeat or list several', collect)
    .option('--debug', 'debug log file and debug output on stderr')
    .option('--once', 'run one cycle per WAN, save state and exit (v1.3 --oneshot)')
    .option('--validate-config', 'check the config file(s), print a summary and exit')
    .option('--record <file>', "record each cycle's inputs in the replay input format")
    .addOption(
      new Option(
        '--udp-reflector <host:port...>',
        'probe these UDP echo reflectors, overriding continuous_monitoring.probe (no privileges needed)',
      ).argParser(collect),
    )
    .option('--fping <path>', 'fping binary (default: fping on PATH)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  wanctl-autorate run --config /etc/wanctl/wan1.yaml\n' +
        '  wanctl-autorate run --config /etc/wanctl/wan1.yaml --config /etc/wanctl/wan2.yaml --debug\n' +
        '  wanctl-autorate --config wan1.yaml wan2.yaml --oneshot          (v1.3 form)\n' +
        '  wanctl-autorate run --config wan1.yaml --record /var/tmp/wan1.jsonl\n' +
        '\nHealth: GET http://127.0.0.1:9101/health (503 while degraded). Signals: SIGTERM/SIGINT stop\n' +
        'within one cycle after saving state; SIGHUP reopens the log files.',
    )
    .action((opts: RunOpts) => {
      result = runCommand(opts, io);
    });

  program
    .command('replay')
    .description(
      'run the control law on recorded per-cycle inputs (JSON lines) and print one JSON line per cycle',
    )
    .requiredOption('--config <yaml>', 'WAN config file whose parameters to use')
    .requiredOption('--input <file>', 'input JSON lines file, or - for standard input (streamed)')
    .option('--output <file>', 'write here instead of standard output')
    .addHelpText(
      'after',
      '\nInput line:  {"rtt_ms": 24.1} or {"rtts_ms": [24.1, 23.9]}, optional "gateway_ok", "tcp_rtts_ms",\n' +
        '             "router_ok" (default true), "t" (seconds; default i x interval). Other fields are ignored.\n' +
        'Output line: {"i","t","ok","measured_rtt_ms","load_rtt_ms","baseline_rtt_ms","dl_zone","dl_rate_bps",\n' +
        '              "ul_zone","ul_rate_bps","router_write"}\n' +
        '\nExample:\n  wanctl-autorate replay --config wan1.yaml --input trace.jsonl > decisions.jsonl\n' +
        '  simulator | wanctl-autorate replay --config wan1.yaml --input - | simulator-feedback',
    )
    .action((opts: ReplayOpts) => {
      result = replayCommand(opts);
    });

  return runCommandLine('wanctl-autorate', io, async () => {
    await program.parseAsync(normaliseArgv(args), { from: 'user' });
    return result;
  });
}
