#!/usr/bin/env node
/**
 * wanctl-router: probe the router a wanctl config points at, or send it one command.
 *
 *   wanctl-router probe --config <yaml> [--count N] [--json]
 *   wanctl-router run --config <yaml> [--transport rest|ssh] [--json] '<cli command>'
 *   wanctl-router get-limits --config <yaml>
 *   wanctl-router set-limits --config <yaml> --download BPS --upload BPS
 *
 * get-limits/set-limits work for every transport (rest, ssh, linux-cake); probe checks the
 * interfaces and qdiscs for linux-cake.
 *
 * Exit codes: 0 ok; 1 router unreachable or something the config needs is missing;
 * 2 bad config or bad arguments.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// Types only: @wanctl/config and @wanctl/linux-cake are optional peer dependencies, loaded when a
// command needs a config or drives a linux-cake shaper.
import type { LoadedConfig } from '@wanctl/config';
import type { TcMismatchError } from '@wanctl/linux-cake';
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

type LinuxCakeLib = typeof import('@wanctl/linux-cake');

/** @wanctl/linux-cake, imported only for a config whose transport is linux-cake. */
async function linuxCakeLib(): Promise<LinuxCakeLib> {
  try {
    return await import('@wanctl/linux-cake');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && /@wanctl\/linux-cake/.test((err as Error).message)) {
      throw new ExitError(
        'this config shapes with linux-cake, which needs the package @wanctl/linux-cake; install it next to @wanctl/router-client, or run wanctl-router from a wanctl installation',
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

/** linux-cake: the two interfaces and their qdiscs, checked against cake_params (nothing changed). */
async function probeLinuxCake(loaded: LoadedConfig, file: string, json: boolean): Promise<number> {
  if (loaded.kind !== 'autorate') throw new ExitError('linux-cake is an autorate transport', 2);
  const { LinuxCakeClient, linuxCakeOptionsFromConfig, TcError, TcMismatchError } = await linuxCakeLib();
  const client = new LinuxCakeClient(linuxCakeOptionsFromConfig(loaded.config));
  const lines: Array<{ direction: string; queue: string; iface: string; ok: boolean; detail: string }> = [];
  let error: string | undefined;
  try {
    let mismatches: TcMismatchError['mismatches'] = [];
    try {
      await client.start({ mode: 'verify' });
    } catch (err) {
      if (!(err instanceof TcMismatchError)) throw err;
      mismatches = err.mismatches;
    }
    for (const d of client.directions) {
      const bad = mismatches.filter((m) => m.iface === d.iface);
      let detail: string;
      if (bad.length > 0)
        detail = bad
          .map((m) => `${m.option} is ${JSON.stringify(m.found)}, expected ${JSON.stringify(m.expected)}`)
          .join('; ');
      else {
        const [s] = await client.getQueueStats([d.queue]);
        detail = `${s?.kind} (${d.kind} configured), rate ${s?.maxLimitBps ?? '?'} bit/s, ${s?.packets ?? 0} packets, ${s?.dropped ?? 0} dropped`;
      }
      lines.push({ direction: d.direction, queue: d.queue, iface: d.iface, ok: bad.length === 0, detail });
    }
  } catch (err) {
    if (!(err instanceof TcError)) throw err;
    error = `${err.code}: ${err.message}`;
  } finally {
    await client.close();
  }
  const ok = error === undefined && lines.every((l) => l.ok);
  if (json)
    process.stdout.write(
      `${JSON.stringify({ ok, transport: 'linux-cake', directions: lines, ...(error ? { error } : {}) })}\n`,
    );
  else {
    process.stdout.write(`linux-cake (autorate config ${file})\n`);
    for (const l of lines)
      process.stdout.write(
        `  ${l.ok ? 'ok      ' : 'MISMATCH'} ${l.direction} "${l.queue}" on ${l.iface}: ${l.detail}\n`,
      );
    if (error) process.stdout.write(`  error: ${error}\n`);
    process.stdout.write(ok ? 'OK\n' : 'FAILED: see the lines above\n');
  }
  return ok ? 0 : 1;
}

/** The two queue names a config controls (autorate: queues; steering: the primary CAKE queues). */
function queueNames(loaded: LoadedConfig): { download: string; upload: string } {
  return loaded.kind === 'autorate'
    ? loaded.config.queues
    : { download: loaded.config.cakeQueues.primaryDownload, upload: loaded.config.cakeQueues.primaryUpload };
}

/** get-limits / set-limits over whichever transport the config names. */
async function limits(file: string, set: { download: number; upload: number } | null): Promise<number> {
  const loaded = await loadConfig(file);
  const q = queueNames(loaded);
  if (loaded.kind === 'autorate' && loaded.config.router.transport === 'linux-cake') {
    const { LinuxCakeClient, linuxCakeOptionsFromConfig, TcError } = await linuxCakeLib();
    const client = new LinuxCakeClient(linuxCakeOptionsFromConfig(loaded.config));
    try {
      if (set !== null) {
        await client.start({ mode: 'verify' }); // never write to a qdisc that is not ours
        await client.setQueueLimits([
          { name: q.download, maxLimitBps: set.download },
          { name: q.upload, maxLimitBps: set.upload },
        ]);
      }
      const l = await client.getLimits();
      process.stdout.write(
        `${JSON.stringify({ transport: 'linux-cake', download_bps: l.downloadBps ?? null, upload_bps: l.uploadBps ?? null })}\n`,
      );
      return 0;
    } catch (err) {
      if (err instanceof TcError) throw new ExitError(`${err.code}: ${err.message}`, 1);
      throw err;
    } finally {
      await client.close();
    }
  }
  const client = getRouterClientWithFailover(routerOptionsFromConfig(loaded.config.router, stderrLogger));
  try {
    if (set !== null)
      await client.setQueueLimits([
        { name: q.download, maxLimitBps: set.download },
        { name: q.upload, maxLimitBps: set.upload },
      ]);
    const [dl, ul] = await client.getQueueStats([q.download, q.upload]);
    process.stdout.write(
      `${JSON.stringify({ transport: client.activeTransport, download_bps: dl?.maxLimitBps ?? null, upload_bps: ul?.maxLimitBps ?? null })}\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof RouterError) throw new ExitError(`${err.name}: ${err.message}`, 1);
    throw err;
  } finally {
    await client.close();
  }
}

function bps(v: string, flag: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1 || n > 1e12)
    throw new ExitError(`${flag} must be a whole number of bit/s between 1 and 1e12, got "${v}"`, 2);
  return n;
}

async function probe(file: string, count: number, json: boolean): Promise<number> {
  const loaded = await loadConfig(file);
  if (loaded.kind === 'autorate' && loaded.config.router.transport === 'linux-cake')
    return probeLinuxCake(loaded, file, json);
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
    .description(
      'Probe the shaper of a wanctl config (RouterOS or linux-cake), read or set its rates, or send RouterOS one command',
    )
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
  program
    .command('get-limits')
    .description('print the download and upload rates the shaper holds, as JSON (bit/s)')
    .requiredOption('--config <yaml>', 'wanctl autorate (or steering) config')
    .action(async (o: { config: string }) => {
      code = await limits(o.config, null);
    });
  program
    .command('set-limits')
    .description('set both rates (bit/s), then print what the shaper holds, as JSON')
    .requiredOption('--config <yaml>', 'wanctl autorate (or steering) config')
    .requiredOption('--download <bps>', 'download rate, bit/s')
    .requiredOption('--upload <bps>', 'upload rate, bit/s')
    .action(async (o: { config: string; download: string; upload: string }) => {
      code = await limits(o.config, {
        download: bps(o.download, '--download'),
        upload: bps(o.upload, '--upload'),
      });
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
