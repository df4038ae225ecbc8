/**
 * `wanctl-history`: read a history store (table, JSON, CSV; events; per-evening summary), or
 * serve its dashboard. Exit status: 0 ok, 2 bad arguments or config, 1 anything else.
 */
import { loadHistorySettings } from '@wanctl/config';
import { type CliIo, EXIT_STATUS_HELP, installSignalHandlers, processIo, reportFatal } from '@wanctl/runtime';
import { Command, CommanderError, Option } from 'commander';
import { createDashboardServer } from './dashboard.js';
import { HistoryUsageError } from './errors.js';
import { HistoryReader } from './reader.js';
import { type HistoryEvent, type Resolution, SAMPLE_COLUMNS, ZONE_NAMES } from './schema.js';
import { type EveningSummary, summarizeEvenings } from './summary.js';
import { parseWhen, WHEN_HELP } from './when.js';

const PROGRAM = 'wanctl-history';

/**
 * Tells an error that ended the command and returns its exit status: by its `WANCTL_` code
 * (WANCTL_USAGE and WANCTL_CONFIG_* → 2, any other → 1); anything else through the runtime's
 * reportFatal (an unexpected error is told with its stack, exit 1).
 */
function fatal(e: unknown, io: CliIo): number {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && code.startsWith('WANCTL_')) {
    io.err(`${PROGRAM}: ${e instanceof Error ? e.message : String(e)}\n`);
    return code === 'WANCTL_USAGE' || code.startsWith('WANCTL_CONFIG_') ? 2 : 1;
  }
  return reportFatal(PROGRAM, e, io.err);
}

interface StoreRef {
  file: string;
  /** Dashboard port from the config (serve). */
  port?: number;
}

interface CommonOpts {
  config: string[];
  db: string[];
  wan?: string;
}

/**
 * The store files named by --config (their history.file) and --db. A config is read for its
 * `history` section and `wan_name` alone: the router's secrets are not resolved (reading history
 * needs neither WANCTL_ROUTER_PASSWORD nor the router's key file).
 */
function storeFiles(opts: CommonOpts): StoreRef[] {
  const out: StoreRef[] = [];
  for (const c of opts.config) {
    const h = loadHistorySettings(c).history;
    out.push({ file: h.file, port: h.dashboard.port });
  }
  for (const f of opts.db) out.push({ file: f });
  if (out.length === 0)
    throw new HistoryUsageError('name a store: --config FILE (its history.file) or --db FILE');
  return out;
}

function openReaders(opts: CommonOpts): HistoryReader[] {
  const readers = storeFiles(opts).map((s) => HistoryReader.open(s.file));
  if (opts.wan === undefined) return readers;
  const chosen = readers.filter((r) => r.wan === opts.wan);
  if (chosen.length === 0) {
    for (const r of readers) r.close();
    throw new HistoryUsageError(
      `--wan ${opts.wan}: no such WAN in the stores given (they hold: ${readers.map((r) => r.wan).join(', ')})`,
    );
  }
  for (const r of readers) if (!chosen.includes(r)) r.close();
  return chosen;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
function localTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
const mbps = (v: number | null | undefined) => (v === null || v === undefined ? '' : (v / 1e6).toFixed(1));
const ms1 = (v: number | null | undefined) => (v === null || v === undefined ? '' : v.toFixed(1));

function table(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i] as number)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
const csv = (header: string[], rows: unknown[][]) =>
  `${[header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n')}\n`;

interface QueryOpts extends CommonOpts {
  since: string;
  until: string;
  json?: boolean;
  csv?: boolean;
  events?: boolean;
  summary?: boolean;
  evening: string;
  resolution: string;
}

function parseEvening(text: string): { startHour: number; endHour: number } {
  const m = /^(\d{1,2})-(\d{1,2})$/.exec(text.trim());
  const a = Number(m?.[1]);
  const b = Number(m?.[2]);
  if (!m || a > 23 || b < 1 || b > 24 || a >= b)
    throw new HistoryUsageError(`--evening: "${text}" is not START-END in whole hours, e.g. 18-24`);
  return { startHour: a, endHour: b };
}

function resolutionOf(text: string): Resolution | undefined {
  const r = { auto: undefined, '1s': 1, '1m': 60, '1h': 3600 }[text];
  if (!(text in { auto: 0, '1s': 0, '1m': 0, '1h': 0 }))
    throw new HistoryUsageError(`--resolution: "${text}" is not one of auto, 1s, 1m, 1h`);
  return r as Resolution | undefined;
}

function runQuery(opts: QueryOpts, io: CliIo, now: number): number {
  const from = parseWhen(opts.since, now, '--since');
  const to = parseWhen(opts.until, now, '--until');
  if (from >= to)
    throw new HistoryUsageError(`--since (${localTime(from)}) must be before --until (${localTime(to)})`);
  if (opts.json && opts.csv) throw new HistoryUsageError('--json and --csv: choose one');
  const modes = [opts.events, opts.summary].filter(Boolean).length;
  if (modes > 1) throw new HistoryUsageError('--events and --summary: choose one');
  const evening = parseEvening(opts.evening);
  const resolution = resolutionOf(opts.resolution);
  const readers = openReaders(opts);
  try {
    if (opts.summary) {
      const rows = summarizeEvenings(readers, from, to, evening);
      io.out(formatSummary(rows, opts));
      return 0;
    }
    if (opts.events) {
      const events = readers
        .flatMap((r) => r.events(from, to).map((e) => ({ ...e, wan: r.wan })))
        .sort((a, b) => a.t - b.t);
      io.out(formatEvents(events, opts));
      return 0;
    }
    const series = readers
      .filter((r) => r.kind !== 'steering')
      .map((r) =>
        r.series(Math.floor(from / 1000), Math.ceil(to / 1000), {
          maxPoints: 100_000,
          ...(resolution ? { resolution } : {}),
        }),
      );
    if (opts.json) {
      io.out(
        `${JSON.stringify(
          series.map((s) => ({
            wan: s.wan,
            resolution: s.resolution,
            rows: s.columns.t.map((_t, i) =>
              Object.fromEntries(SAMPLE_COLUMNS.map((c) => [c, s.columns[c][i] ?? null])),
            ),
          })),
        )}\n`,
      );
      return 0;
    }
    if (opts.csv) {
      const header = ['wan', 'time', 'resolution_s', ...SAMPLE_COLUMNS];
      const rows = series.flatMap((s) =>
        s.columns.t.map((t, i) => [
          s.wan,
          new Date((t as number) * 1000).toISOString(),
          s.resolution,
          ...SAMPLE_COLUMNS.map((c) => s.columns[c][i]),
        ]),
      );
      io.out(csv(header, rows));
      return 0;
    }
    const header = [
      'time',
      'wan',
      'res',
      'shaped dl/ul Mbps',
      'achieved dl/ul',
      'rtt ms',
      'base',
      'delta min/mean/max',
      'zone dl/ul',
      'cycles',
      'overruns',
    ];
    const rows = series.flatMap((s) =>
      s.columns.t.map((t, i) => {
        const c = (k: (typeof SAMPLE_COLUMNS)[number]) => s.columns[k][i] ?? null;
        return [
          localTime((t as number) * 1000),
          s.wan,
          s.resolution === 1 ? '1s' : s.resolution === 60 ? '1m' : '1h',
          `${mbps(c('shaped_dl'))}/${mbps(c('shaped_ul'))}`,
          `${mbps(c('achieved_dl'))}/${mbps(c('achieved_ul'))}`,
          ms1(c('rtt')),
          ms1(c('baseline')),
          `${ms1(c('dmin'))}/${ms1(c('dmean'))}/${ms1(c('dmax'))}`,
          `${ZONE_NAMES[c('zone_dl') ?? 0] || '-'}/${ZONE_NAMES[c('zone_ul') ?? 0] || '-'}`,
          String(c('cycles') ?? ''),
          String(c('overruns') ?? ''),
        ];
      }),
    );
    if (rows.length === 0) {
      io.err(`${PROGRAM}: no samples between ${localTime(from)} and ${localTime(to)}\n`);
      return 0;
    }
    io.out(table(header, rows));
    return 0;
  } finally {
    for (const r of readers) r.close();
  }
}

function formatEvents(events: Array<HistoryEvent & { wan: string }>, opts: QueryOpts): string {
  if (opts.json) return `${JSON.stringify(events)}\n`;
  if (opts.csv)
    return csv(
      ['time', 'wan', 'kind', 'dir', 'from', 'to', 'detail'],
      events.map((e) => [new Date(e.t).toISOString(), e.wan, e.kind, e.dir, e.from, e.to, e.detail]),
    );
  return table(
    ['time', 'wan', 'event', 'change', 'detail'],
    events.map((e) => [
      localTime(e.t),
      e.wan,
      e.kind + (e.dir ? ` ${e.dir}` : ''),
      e.from || e.to ? `${e.from ?? ''} -> ${e.to ?? ''}` : '',
      e.detail ?? '',
    ]),
  );
}

function formatSummary(rows: EveningSummary[], opts: QueryOpts): string {
  if (opts.json) return `${JSON.stringify(rows)}\n`;
  const m = (s: number) => (s / 60).toFixed(1);
  const p = (v: number | null) => (v === null ? '' : v.toFixed(1));
  const flat = rows.map((r) => [
    r.date,
    r.wan,
    m(r.zoneSeconds.GREEN),
    m(r.zoneSeconds.YELLOW),
    m(r.zoneSeconds.SOFT_RED),
    m(r.zoneSeconds.RED),
    p(r.deltaP50),
    p(r.deltaP95),
    p(r.deltaP99),
    r.minutesSteered.toFixed(1),
    String(r.failovers),
    String(r.writeFailures),
  ]);
  const header = [
    'evening',
    'wan',
    'green min',
    'yellow min',
    'soft_red min',
    'red min',
    'delta p50 ms',
    'p95',
    'p99',
    'steered min',
    'failovers',
    'write failures',
  ];
  return opts.csv ? csv(header, flat) : table(header, flat);
}

interface ServeOpts extends CommonOpts {
  host: string;
  port?: string;
}

async function runServe(opts: ServeOpts, io: CliIo, signal: Promise<void>): Promise<number> {
  const refs = storeFiles(opts);
  let port =
    opts.port === undefined ? (refs.find((r) => r.port !== undefined)?.port ?? 9104) : Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new HistoryUsageError(`--port: "${opts.port}" is not a port number (0–65535)`);
  port = Math.floor(port);
  const server = await createDashboardServer({ files: refs.map((r) => r.file), host: opts.host, port });
  const { problems } = server.stores.open();
  for (const p of problems) io.err(`${PROGRAM}: warning: ${p.error}\n`);
  io.out(`${PROGRAM}: dashboard on ${server.url}/ (${refs.map((r) => r.file).join(', ')}); Ctrl-C stops\n`);
  await signal;
  await server.close();
  return 0;
}

const collect = (v: string, prev: string[]) => [...prev, v];

/** Runs the command line `argv` (without node and script). Resolves with the exit status. */
export async function main(
  argv: string[],
  io: CliIo = processIo,
  hooks: { now?: () => number; stop?: Promise<void> } = {},
): Promise<number> {
  const now = (hooks.now ?? Date.now)();
  let result: Promise<number> = Promise.resolve(0);
  const program = new Command()
    .name(PROGRAM)
    .description(
      'Read the history a wanctl daemon records (one SQLite file per WAN): one-second summaries (coarser ' +
        'for older ranges), events, and a per-evening summary; or serve the dashboard page.',
    )
    .option('--config <file>', 'a daemon config: its history.file is read (repeatable)', collect, [])
    .option('--db <file>', 'a history file (repeatable)', collect, [])
    .option('--wan <name>', 'only this WAN (of the stores given)')
    .option('--since <when>', `start of the range: ${WHEN_HELP}`, '1h')
    .option('--until <when>', 'end of the range (same forms)', 'now')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV')
    .option('--events', 'print the events (zone changes, write failures, failovers, steering, restarts)')
    .option(
      '--summary',
      'print one line per evening: time in each zone, delta p50/p95/p99, minutes steered, failovers',
    )
    .option('--evening <hours>', 'the evening window of --summary, START-END in local hours', '18-24')
    .addOption(
      new Option(
        '--resolution <res>',
        'auto, 1s, 1m or 1h: rows of this resolution instead of the finest kept',
      ).default('auto'),
    )
    .addHelpText(
      'after',
      `\nExamples:\n  ${PROGRAM} --config /etc/wanctl/wan1.yaml --since 2h\n  ${PROGRAM} --db /var/lib/wanctl/wan1_history.db --since "yesterday 18:00" --until "yesterday 23:00" --csv\n  ${PROGRAM} --config /etc/wanctl/wan1.yaml --config /etc/wanctl/steering.yaml --summary --since 7d\n  ${PROGRAM} --config /etc/wanctl/wan1.yaml --events --since today\n  ${PROGRAM} serve --config /etc/wanctl/wan1.yaml --port 9104\n\n${EXIT_STATUS_HELP}`,
    )
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .action((opts: QueryOpts) => {
      result = Promise.resolve(runQuery(opts, io, now));
    });
  program
    .command('serve')
    .description('Serve the dashboard page and its JSON API from the stores alone (loopback by default).')
    .option('--config <file>', 'a daemon config: its history.file is shown (repeatable)', collect, [])
    .option('--db <file>', 'a history file (repeatable)', collect, [])
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', "port (default: the config's history.dashboard.port, else 9104)")
    .addHelpText(
      'after',
      `\nExample:\n  ${PROGRAM} serve --config /etc/wanctl/wan1.yaml --config /etc/wanctl/steering.yaml --port 9104\n\n${EXIT_STATUS_HELP}`,
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .action((opts: ServeOpts) => {
      const stop =
        hooks.stop ??
        new Promise<void>((resolve) => {
          installSignalHandlers({ onStop: () => resolve() });
        });
      result = runServe(opts, io, stop);
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return await result;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0
        ? 0
        : 2;
    }
    return fatal(e, io);
  }
}
