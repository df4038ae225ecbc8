#!/usr/bin/env node
/**
 * wanctl-router: probe the router a wanctl config points at, or send it one command.
 *
 *   wanctl-router probe --config <yaml> [--count N] [--json]
 *   wanctl-router run --config <yaml> [--transport rest|ssh] [--json] '<cli command>'
 *
 * Exit codes: 0 ok; 1 router unreachable or something the config needs is missing;
 * 2 bad config or bad arguments.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// Types only: @wanctl/config is an optional peer dependency, loaded when a command needs a config.
import type { LoadedConfig } from '@wanctl/config';
import { Command, CommanderError } from 'commander';
import { CommandSyntaxError, RouterError, type Transport } from './errors.js';
import { createRouterClient, getRouterClientWithFailover } from './failover.js';
import { routerOptionsFromConfig } from './from-config.js';
import type { RouterClient, RouterClientOptions, RouterLogger } from './types.js';

const stderrLogger: RouterLogger = {
  info: (m) => process.stderr.write(`info: ${m}\n`),
  warn: (m) => process.stderr.write(`warning: ${m}\n`),
  error: (m) => process.stderr.write(`error: ${m}\n`),
  debug: () => {},
};

class ExitError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

type ConfigLib = typeof import('@wanctl/config');

/** @wanctl/config, imported on first use: the library part of this package works without it. */
async function configLib(): Promise<ConfigLib> {
  try {
    return await import('@wanctl/config');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && /@wanctl\/config/.test((err as Error).message)) {
      throw new ExitError(
        'reading a wanctl config needs the package @wanctl/config, which is not installed; install it next to @wanctl/router-client (npm install @wanctl/config), or run wanctl-router from a wanctl installation',
        1,
      );
    }
    throw err;
  }
}

async function loadConfig(file: string): Promise<LoadedConfig> {
  const { ConfigError, ConfigReadError, loadConfigFile } = await configLib();
  try {
    return loadConfigFile(file);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof ConfigReadError) throw new ExitError(err.message, 2);
    throw err;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

interface TransportReport {
  transport: Transport;
  role: 'primary' | 'fallback';
  reachable: boolean;
  error?: string;
  identity?: string;
  latencyMs?: { p50: number; p99: number; n: number };
  checks: Check[];
}

async function probeTransport(
  opts: RouterClientOptions,
  transport: Transport,
  role: 'primary' | 'fallback',
  loaded: LoadedConfig,
  count: number,
): Promise<TransportReport> {
  const report: TransportReport = { transport, role, reachable: false, checks: [] };
  let client: RouterClient | undefined;
  try {
    client = createRouterClient(
      { ...opts, retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 } },
      transport,
    );
    report.identity = await client.getIdentity();
    report.reachable = true;
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await client.getIdentity();
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    report.latencyMs = { p50: percentile(samples, 50), p99: percentile(samples, 99), n: count };
    const queues: Array<{ name: string; type?: string }> = [];
    let comment: string | undefined;
    if (loaded.kind === 'autorate') {
      const wan = loaded.config.wanName.toLowerCase();
      queues.push({ name: loaded.config.queues.download, type: `cake-down-${wan}` });
      queues.push({ name: loaded.config.queues.upload, type: `cake-up-${wan}` });
    } else {
      queues.push({ name: loaded.config.cakeQueues.primaryDownload });
      comment = loaded.config.mangleRule.comment;
    }
    for (const q of queues) {
      try {
        const [s] = await client.getQueueStats([q.name]);
        report.checks.push({
          what: `queue tree "${q.name}"`,
          ok: true,
          detail: `max-limit ${s?.maxLimitBps ?? '?'} bit/s, type ${s?.queueType ?? '?'}`,
        });
      } catch (err) {
        report.checks.push({ what: `queue tree "${q.name}"`, ok: false, detail: (err as Error).message });
      }
      if (q.type) {
        const res = await client.runCommand(`/queue/type/print where name="${q.type}"`);
        const kind = res.records[0]?.['kind'];
        report.checks.push({
          what: `queue type "${q.type}"`,
          ok: res.records.length > 0,
          detail:
            res.records.length === 0
              ? 'missing: autorate sets queue=<type> on every write, so it must exist'
              : `kind ${kind ?? '?'}${kind && kind !== 'cake' ? ' (not cake)' : ''}`,
        });
      }
    }
    if (comment !== undefined) {
      const rule = await client.findMangleRule(comment);
      report.checks.push({
        what: `mangle rule "${comment}"`,
        ok: rule !== null,
        detail:
          rule === null
            ? 'no rule has exactly this comment'
            : rule.disabled
              ? 'present, disabled'
              : 'present, enabled',
      });
    }
  } catch (err) {
    report.error = (err as Error).message;
  } finally {
    await client?.close();
  }
  return report;
}

async function probe(file: string, count: number, json: boolean): Promise<number> {
  const loaded = await loadConfig(file);
  const opts = routerOptionsFromConfig(loaded.config.router, stderrLogger);
  const transports: Array<[Transport, 'primary' | 'fallback']> = [[opts.transport, 'primary']];
  const other: Transport = opts.transport === 'rest' ? 'ssh' : 'rest';
  if (loaded.config.router.fallbackTransport === other) transports.push([other, 'fallback']);
  const reports: TransportReport[] = [];
  for (const [t, role] of transports) reports.push(await probeTransport(opts, t, role, loaded, count));
  const ok = reports.every((r) => r.reachable && r.checks.every((c) => c.ok));
  if (json) {
    process.stdout.write(`${JSON.stringify({ ok, host: opts.host, transports: reports })}\n`);
  } else {
    process.stdout.write(`router ${opts.host} (${loaded.kind} config ${file})\n`);
    for (const r of reports) {
      if (!r.reachable) {
        process.stdout.write(`  ${r.transport} (${r.role}): UNREACHABLE: ${r.error}\n`);
        continue;
      }
      const l = r.latencyMs!;
      process.stdout.write(
        `  ${r.transport} (${r.role}): identity "${r.identity}", latency p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms (n=${l.n})\n`,
      );
      for (const c of r.checks)
        process.stdout.write(`    ${c.ok ? 'ok     ' : 'MISSING'} ${c.what}: ${c.detail}\n`);
      if (r.error) process.stdout.write(`    error: ${r.error}\n`);
    }
    process.stdout.write(ok ? 'OK\n' : 'FAILED: see the lines above\n');
  }
  return ok ? 0 : 1;
}

async function run(file: string, cli: string, transport: string | undefined, json: boolean): Promise<number> {
  const loaded = await loadConfig(file);
  const opts = routerOptionsFromConfig(loaded.config.router, stderrLogger);
  if (transport !== undefined && transport !== 'rest' && transport !== 'ssh') {
    throw new ExitError(`--transport must be rest or ssh, got "${transport}"`, 2);
  }
  const client: RouterClient =
    transport === undefined
      ? getRouterClientWithFailover(opts)
      : createRouterClient(opts, transport as Transport);
  try {
    const res = await client.runCommand(cli);
    if (json) process.stdout.write(`${JSON.stringify({ transport: res.transport, records: res.records })}\n`);
    else {
      for (const r of res.records) {
        process.stdout.write(
          `${Object.entries(r)
            .map(([k, v]) => `${k}=${/[\s"]/.test(v) || v === '' ? JSON.stringify(v) : v}`)
            .join(' ')}\n`,
        );
      }
      process.stderr.write(`(${res.records.length} record(s) via ${res.transport})\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof CommandSyntaxError) throw new ExitError(err.message, 2);
    if (err instanceof RouterError) throw new ExitError(`${err.name}: ${err.message}`, 1);
    throw err;
  } finally {
    await client.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  let code = 0;
  program
    .name('wanctl-router')
    .description('Probe the RouterOS router of a wanctl config, or send it one command')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program
    .command('probe')
    .description('connect over each configured transport; report latency, identity and what the config needs')
    .requiredOption('--config <yaml>', 'wanctl autorate or steering config')
    .option('--count <n>', 'calls to time per transport', '20')
    .option('--json', 'machine-readable output')
    .action(async (o: { config: string; count: string; json?: boolean }) => {
      const n = Number(o.count);
      if (!Number.isInteger(n) || n < 1 || n > 10_000)
        throw new ExitError(`--count must be 1..10000, got "${o.count}"`, 2);
      code = await probe(o.config, n, !!o.json);
    });
  program
    .command('run')
    .description('send one command (RouterOS CLI subset) and print the records')
    .requiredOption('--config <yaml>', 'wanctl autorate or steering config')
    .option('--transport <t>', 'rest or ssh (default: the configured one, with failover)')
    .option('--json', 'machine-readable output')
    .argument('<cli>', 'command, e.g. \'/queue/tree/print where name="WAN-Download-1"\'')
    .action(async (cli: string, o: { config: string; transport?: string; json?: boolean }) => {
      code = await run(o.config, cli, o.transport, !!o.json);
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof ExitError) {
      process.stderr.write(`wanctl-router: ${err.message}\n`);
      return err.code;
    }
    process.stderr.write(`wanctl-router: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

function invokedDirectly(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then((c) => {
    process.exitCode = c;
  });
}
