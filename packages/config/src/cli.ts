#!/usr/bin/env node
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is wanctl config syntax, not a template
/**
 * wanctl-check-config: validates wanctl config files.
 * Exit codes: 0 all valid, 2 at least one invalid (or bad arguments), 1 at least one unreadable.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, ConfigReadError, formatProblem } from './errors.js';
import { loadConfigFile } from './load.js';
import type { ConfigKind, LoadedConfig } from './types.js';

const mbps = (bps: number): string => `${+(bps / 1_000_000).toFixed(3)}`;

function summary(loaded: LoadedConfig): string[] {
  if (loaded.kind === 'autorate') {
    const c = loaded.config;
    const d = c.download;
    const u = c.upload;
    const t = c.thresholds;
    return [
      `  WAN ${c.wanName}: queues ${c.queues.download} / ${c.queues.upload}; router ${c.router.transport}${c.router.fallbackTransport ? ` (fallback ${c.router.fallbackTransport})` : ''} ${c.router.host}`,
      `  download floors green/yellow/soft_red/red ${mbps(d.floorGreenBps)}/${mbps(d.floorYellowBps)}/${mbps(d.floorSoftRedBps)}/${mbps(d.floorRedBps)} Mbps, ceiling ${mbps(d.ceilingBps)} Mbps`,
      `  upload floors green/yellow/red ${mbps(u.floorGreenBps)}/${mbps(u.floorYellowBps)}/${mbps(u.floorRedBps)} Mbps, ceiling ${mbps(u.ceilingBps)} Mbps`,
      `  thresholds target/warn/hard_red ${t.targetBloatMs}/${t.warnBloatMs}/${t.hardRedBloatMs} ms; alpha baseline ${t.alphaBaseline}, load ${t.alphaLoad} (cycle ${c.cycleIntervalMs} ms)`,
    ];
  }
  const c = loaded.config;
  const t = c.thresholds;
  return [
    `  primary ${c.topology.primaryWan} -> alternate ${c.topology.alternateWan}; rule "${c.mangleRule.comment}"; router ${c.router.transport}${c.router.fallbackTransport ? ` (fallback ${c.router.fallbackTransport})` : ''} ${c.router.host}`,
    `  queue ${c.cakeQueues.primaryDownload}; every ${c.measurement.intervalSec} s ping ${c.measurement.pingHost} x${c.measurement.pingCount}`,
    `  thresholds green/yellow/red ${t.greenRttMs}/${t.yellowRttMs}/${t.redRttMs} ms; drops ≥ ${t.minDropsRed}, queue yellow/red ${t.minQueueYellow}/${t.minQueueRed}; samples red/green ${t.redSamplesRequired}/${t.greenSamplesRequired}`,
    `  alpha rtt ${t.rttEwmaAlpha}, queue ${t.queueEwmaAlpha}; confidence scoring ${c.mode.useConfidenceScoring ? 'on' : 'off'}`,
  ];
}

interface FileResult {
  file: string;
  status: 'ok' | 'invalid' | 'unreadable';
  kind?: ConfigKind;
  problems?: unknown[];
  warnings?: unknown[];
  error?: string;
  summary?: Record<string, unknown>;
}

function jsonSummary(loaded: LoadedConfig): Record<string, unknown> {
  // Through JSON so Secret values print as <redacted>; raw is left out.
  const { raw: _raw, ...rest } = loaded.config;
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
}

function main(argv: string[]): number {
  const program = new Command();
  let code = 0;
  program
    .name('wanctl-check-config')
    .description(
      'Check wanctl config files (autorate or steering) and print a summary or every problem found.\n\n' +
        'Exit status: 0 all files valid; 1 a file cannot be read; 2 a file is invalid (or bad arguments).\n' +
        '${VAR} references are expanded from the environment; an unset variable is an error.',
    )
    .argument('<file...>', 'YAML config files to check')
    .addOption(
      new Option('--kind <kind>', 'config kind instead of detecting it').choices(['autorate', 'steering']),
    )
    .option('--json', 'print one JSON document with a result per file')
    .option('-q, --quiet', 'print only problems')
    .addHelpText(
      'after',
      '\nExamples:\n  wanctl-check-config /etc/wanctl/wan1.yaml /etc/wanctl/steering.yaml\n  WANCTL_ROUTER_PASSWORD=x wanctl-check-config --json examples/cable.yaml',
    )
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .action((files: string[], opts: { kind?: ConfigKind; json?: boolean; quiet?: boolean }) => {
      const results: FileResult[] = [];
      for (const file of files) {
        try {
          const loaded = loadConfigFile(file, opts.kind ? { kind: opts.kind } : {});
          results.push({
            file,
            status: 'ok',
            kind: loaded.kind,
            warnings: loaded.config.warnings,
            summary: jsonSummary(loaded),
          });
          if (!opts.json) {
            process.stdout.write(`OK ${file} (${loaded.kind})\n`);
            if (!opts.quiet) {
              for (const line of summary(loaded)) process.stdout.write(`${line}\n`);
              for (const w of loaded.config.warnings)
                process.stdout.write(`  warning: ${formatProblem(w)}\n`);
            }
          }
        } catch (err) {
          if (err instanceof ConfigReadError) {
            code = 1; // an unreadable file outranks an invalid one
            results.push({ file, status: 'unreadable', error: err.message });
            if (!opts.json) process.stderr.write(`UNREADABLE ${err.message}\n`);
          } else if (err instanceof ConfigError) {
            if (code === 0) code = 2;
            results.push({ file, status: 'invalid', problems: [...err.problems] });
            if (!opts.json) {
              process.stderr.write(
                `INVALID ${file} (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'})\n`,
              );
              for (const p of err.problems) process.stderr.write(`  ${formatProblem(p)}\n`);
            }
          } else {
            throw err;
          }
        }
      }
      if (opts.json) process.stdout.write(`${JSON.stringify({ ok: code === 0, results }, null, 2)}\n`);
    });
  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
    }
    throw err;
  }
  return code;
}

/**
 * A reader that goes away early (`wanctl-check-config … | head -1`) closes the pipe: the next
 * write fails with EPIPE, emitted as an 'error' event that would otherwise crash with a stack
 * trace. Nobody is reading any more, so stop quietly with the status decided so far.
 * (@wanctl/config depends on no other wanctl package, so this is not runtime's shared guard.)
 */
function exitQuietlyOnEpipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}
exitQuietlyOnEpipe(process.stdout);
exitQuietlyOnEpipe(process.stderr);

process.exitCode = main(process.argv);
