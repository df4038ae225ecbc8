/**
 * LinuxCakeClient: the subset of @wanctl/router-client's RouterClient that autorate uses
 * (activeTransport, setQueueLimits, getQueueStats, close), driving local qdiscs through one
 * long-lived `tc -batch` child. Queue names map to interfaces: `queues.download` →
 * `cake_params.download_interface`, `queues.upload` → `cake_params.upload_interface`.
 * No write budget: the kernel takes a change every cycle.
 */
import { execFile } from 'node:child_process';
import type { AutorateConfig, CakeParamsConfig } from '@wanctl/config';
import {
  type DirectionSpec,
  HTB_CLASS,
  IFACE_PATTERN,
  initCommands,
  rateCommand,
  showCommands,
  tbfBurstBytes,
} from './args.js';
import { TcBatch } from './batch.js';
import { TcCommandError, TcError, TcMismatchError, TcUnknownQueueError } from './errors.js';
import { type DirectionStats, directionStats, rootQdisc, type TcEntry, verifyDirection } from './parse.js';

/** Same shape as router-client's QueueLimit (structural; queueType is RouterOS-only and ignored). */
export interface ShaperLimit {
  name: string;
  maxLimitBps: number;
  queueType?: string;
}

/** Same shape as router-client's QueueStats, plus the tc extras of {@link DirectionStats}. */
export interface ShaperQueueStats extends DirectionStats {
  name: string;
  id: string | undefined;
  rateBps: number;
  packetRate: number;
  queueType: string | undefined;
  disabled: boolean;
}

export interface ShaperLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  debug?(message: string, meta?: Record<string, unknown>): void;
}

export interface LinuxCakeOptions {
  queues: { download: string; upload: string };
  params: CakeParamsConfig;
  /** Deadline of one call, ms (default 5000). */
  deadlineMs?: number;
  /** tc binary (default `tc`). */
  tcBinary?: string;
  logger?: ShaperLogger;
}

export interface OpenOptions {
  /**
   * `replace`: create or take over the qdiscs at these rates (`tc qdisc replace`), then check
   * the read-back (the daemon). `verify`: touch nothing, only check that the kernel holds the
   * configured qdiscs (the CLI).
   */
  mode: 'replace' | 'verify';
  /** Initial rates for `replace`, bit/s. */
  rates?: { download: number; upload: number };
}

/** The HTB class carrying the rate, read from `tc class show dev X classid 1:1` text. */
export function parseHtbClassText(text: string): TcEntry[] {
  const m = /class htb (\S+) .*?\brate (\S+) ceil (\S+)/.exec(text);
  return m === null ? [] : [{ class: 'htb', handle: m[1], rate: m[2], ceil: m[3] }];
}

function readHtbClass(bin: string, iface: string, deadlineMs: number): Promise<TcEntry[]> {
  const args = ['class', 'show', 'dev', iface, 'classid', HTB_CLASS];
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: deadlineMs }, (err, stdout, stderr) => {
      if (err)
        reject(
          new TcCommandError(`tc ${args.join(' ')}: ${stderr.trim() || err.message}`, stderr.trim(), {
            command: args.join(' '),
            iface,
          }),
        );
      else resolve(parseHtbClassText(stdout));
    });
  });
}

export class LinuxCakeClient {
  readonly activeTransport = 'linux-cake' as const;
  readonly directions: readonly [DirectionSpec, DirectionSpec];
  private readonly batch: TcBatch;
  private readonly deadlineMs: number;
  /** Rate changes sent (each one `tc qdisc|class change` per direction). */
  writes = 0;
  /** Largest tbf bucket given to each direction's qdisc so far (it never shrinks: tbfBurstBytes). */
  private readonly tbfBurst = [0, 0];

  constructor(private readonly o: LinuxCakeOptions) {
    const p = o.params;
    for (const iface of [p.downloadInterface, p.uploadInterface]) {
      if (!IFACE_PATTERN.test(iface))
        throw new TcError(`"${iface}" is not a valid interface name (1–15 characters, no blank or slash)`, {
          iface,
        });
    }
    this.directions = [
      { direction: 'download', queue: o.queues.download, iface: p.downloadInterface, kind: p.downloadQdisc },
      { direction: 'upload', queue: o.queues.upload, iface: p.uploadInterface, kind: p.uploadQdisc },
    ];
    this.deadlineMs = o.deadlineMs ?? 5000;
    this.batch = new TcBatch({
      ...(o.tcBinary ? { binary: o.tcBinary } : {}),
      onWarning: (text) => o.logger?.warn(`tc: ${text}`),
    });
  }

  /** cake_params with this direction's own options (cake_params.download|upload) applied. */
  paramsFor(d: DirectionSpec): CakeParamsConfig {
    const own = this.o.params[d.direction];
    return own === undefined ? this.o.params : { ...this.o.params, ...own };
  }

  /** The tbf bucket for `bps` on this direction, remembered as the new largest (tbfBurstBytes). */
  private burstFor(d: DirectionSpec, bps: number): number {
    const i = d.direction === 'download' ? 0 : 1;
    const b = tbfBurstBytes(bps, this.tbfBurst[i] as number);
    this.tbfBurst[i] = b;
    return b;
  }

  private direction(name: string): DirectionSpec {
    const d = this.directions.find((x) => x.queue === name);
    if (d === undefined)
      throw new TcUnknownQueueError(
        `queue "${name}" is not shaped here (linux-cake shapes "${this.directions[0].queue}" on ${this.directions[0].iface} and "${this.directions[1].queue}" on ${this.directions[1].iface})`,
      );
    return d;
  }

  /**
   * qdisc (and, for HTB, class) entries of each direction. iproute2 prints `tc -j class show`
   * as text for htb and tbf classes, which the batch cannot delimit, so the HTB class is read
   * by one `tc class show` fork (htb_fq_codel only), once the root is known to be HTB.
   */
  private async read(
    dirs: readonly DirectionSpec[],
    deadlineMs: number,
  ): Promise<Array<[TcEntry[], TcEntry[] | undefined]>> {
    const res = await this.batch.run(
      dirs.map((d) => showCommands(d)[0] as string[]),
      deadlineMs,
    );
    const out = dirs.map((_, i) => [res[i] ?? [], undefined] as [TcEntry[], TcEntry[] | undefined]);
    await this.readClasses(dirs, out, deadlineMs);
    return out;
  }

  private async readClasses(
    dirs: readonly DirectionSpec[],
    out: Array<[TcEntry[], TcEntry[] | undefined]>,
    deadlineMs: number,
  ): Promise<void> {
    for (const [i, d] of dirs.entries()) {
      const slot = out[i] as [TcEntry[], TcEntry[] | undefined];
      if (d.kind !== 'htb_fq_codel' || rootQdisc(slot[0])?.kind !== 'htb') continue;
      slot[1] = await readHtbClass(this.o.tcBinary ?? 'tc', d.iface, deadlineMs);
    }
  }

  /** Creates/adopts (`replace`) or only checks (`verify`) both qdiscs; TcMismatchError on a difference. */
  async start(open: OpenOptions): Promise<void> {
    if (open.mode === 'replace') {
      const rates = open.rates;
      if (rates === undefined) throw new TcError('internal: replace needs initial rates');
      // a root of another kind under handle 1: cannot be replaced in place: delete it first
      const before = await this.batch.run(
        this.directions.map((d) => showCommands(d)[0] as string[]),
        this.deadlineMs,
      );
      const cmds = this.directions.flatMap((d, i) => {
        const root = rootQdisc(before[i] ?? []);
        const want = d.kind === 'htb_fq_codel' ? 'htb' : d.kind;
        // a tbf taken over keeps its queue: its bucket is the largest so far (tbfBurstBytes)
        const held = Number((root?.['options'] as Record<string, unknown> | undefined)?.['burst']);
        if (root?.kind === 'tbf' && Number.isFinite(held) && held > 0)
          this.tbfBurst[d.direction === 'download' ? 0 : 1] = held;
        const del =
          root !== undefined && root.kind !== want && root.handle !== '0:'
            ? [['qdisc', 'del', 'dev', d.iface, 'root']]
            : [];
        if (del.length > 0)
          this.o.logger?.warn(
            `linux-cake: replacing the ${root?.kind} root qdisc on ${d.iface} by ${d.kind}`,
          );
        return [
          ...del,
          ...initCommands(
            d,
            this.paramsFor(d),
            d.direction === 'download' ? rates.download : rates.upload,
            this.burstFor(d, d.direction === 'download' ? rates.download : rates.upload),
          ),
        ];
      });
      await this.batch.run([...cmds, showCommands(this.directions[0])[0] as string[]], this.deadlineMs);
    }
    const read = await this.read(this.directions, this.deadlineMs);
    const mismatches = this.directions.flatMap((d, i) => {
      const [q, c] = read[i] as [TcEntry[], TcEntry[] | undefined];
      const want =
        open.mode === 'replace'
          ? d.direction === 'download'
            ? open.rates?.download
            : open.rates?.upload
          : undefined;
      return verifyDirection(d, this.paramsFor(d), q, c, want);
    });
    if (mismatches.length > 0) throw new TcMismatchError(mismatches);
    this.o.logger?.info(
      `linux-cake: ${open.mode === 'replace' ? 'qdiscs set up' : 'qdiscs checked'}: ${this.directions
        .map((d) => `${d.direction} ${d.kind} on ${d.iface}`)
        .join(', ')}`,
    );
  }

  /**
   * Changes the rates in place (one `change` per direction, then a read-back of each) in one
   * batch call. The read-back must show the new rate, or TcMismatchError.
   */
  async setQueueLimits(limits: readonly ShaperLimit[], opts: { deadlineMs?: number } = {}): Promise<void> {
    const dirs = limits.map((l) => this.direction(l.name));
    const deadline = opts.deadlineMs ?? this.deadlineMs;
    const cmds = limits.map((l, i) => {
      const d = dirs[i] as DirectionSpec;
      return rateCommand(d, this.paramsFor(d), l.maxLimitBps, this.burstFor(d, l.maxLimitBps));
    });
    for (const d of dirs) cmds.push(showCommands(d)[0] as string[]);
    const res = await this.batch.run(cmds, deadline);
    this.writes += limits.length;
    const out = dirs.map(
      (_, k) => [res[limits.length + k] ?? [], undefined] as [TcEntry[], TcEntry[] | undefined],
    );
    await this.readClasses(dirs, out, deadline);
    const mismatches = dirs.flatMap((d, k) => {
      const [q, c] = out[k] as [TcEntry[], TcEntry[] | undefined];
      return verifyDirection(d, this.paramsFor(d), q, c, (limits[k] as ShaperLimit).maxLimitBps).filter(
        (m) => m.option === 'rate' || m.option === 'kind',
      );
    });
    if (mismatches.length > 0) throw new TcMismatchError(mismatches);
  }

  /** Counters of the named queues (the configured download/upload queue names). */
  async getQueueStats(
    names: readonly string[],
    opts: { deadlineMs?: number } = {},
  ): Promise<ShaperQueueStats[]> {
    const dirs = names.map((n) => this.direction(n));
    const read = await this.read(dirs, opts.deadlineMs ?? this.deadlineMs);
    return dirs.map((d, i) => {
      const [q, c] = read[i] as [TcEntry[], TcEntry[] | undefined];
      const s = directionStats(d, q, c);
      return {
        ...s,
        name: d.queue,
        id: undefined,
        rateBps: 0,
        packetRate: 0,
        queueType: s.kind,
        disabled: false,
      };
    });
  }

  /** The two shaped rates the kernel holds, bit/s. */
  async getLimits(
    opts: { deadlineMs?: number } = {},
  ): Promise<{ downloadBps: number | undefined; uploadBps: number | undefined }> {
    const [dl, ul] = await this.getQueueStats([this.directions[0].queue, this.directions[1].queue], opts);
    return { downloadBps: dl?.maxLimitBps, uploadBps: ul?.maxLimitBps };
  }

  /** Children started (1 + restarts after a timeout or a crash). */
  get tcSpawns(): number {
    return this.batch.spawns;
  }

  async close(): Promise<void> {
    await this.batch.close();
  }
}

/** Options for an autorate config whose router.transport is linux-cake. */
export function linuxCakeOptionsFromConfig(cfg: AutorateConfig, logger?: ShaperLogger): LinuxCakeOptions {
  if (cfg.cakeParams === null)
    throw new TcError(
      `${cfg.file}: router.transport is "${cfg.router.transport}", not linux-cake (no cake_params)`,
    );
  return {
    queues: cfg.queues,
    params: cfg.cakeParams,
    deadlineMs: cfg.router.callDeadlineMs,
    ...(logger ? { logger } : {}),
  };
}

/**
 * The autorate daemon's shaper: creates or adopts both qdiscs at the ceilings, checks the
 * read-back, and returns the client. Throws a TcError (code WANCTL_TC_*) on any failure.
 */
export async function openLinuxCake(cfg: AutorateConfig, logger?: ShaperLogger): Promise<LinuxCakeClient> {
  const client = new LinuxCakeClient(linuxCakeOptionsFromConfig(cfg, logger));
  try {
    await client.start({
      mode: 'replace',
      rates: { download: cfg.download.ceilingBps, upload: cfg.upload.ceilingBps },
    });
  } catch (err) {
    await client.close();
    throw err;
  }
  return client;
}
