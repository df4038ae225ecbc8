/**
 * ICMP RTT through one long-lived `fping --loop` child per WAN (Debian's fping 5.1, which has
 * cap_net_raw so the daemon user needs no root).
 *
 * Command: `fping -l -p <periodMs> -t <timeoutMs> -i <intervalMs> [-S src] <reflectors...>`.
 * `-l` (loop) sends to every reflector each `periodMs` and prints one stdout line per reply:
 * `127.0.0.1 : [3], 64 bytes, 0.047 ms (0.051 avg, 0% loss)` (with `-D` a `[epoch]` prefix).
 * fping 5.1 prints nothing for a lost probe; newer versions print `... : [n], timed out ...`.
 * Losses are therefore found from sequence gaps and from silence (time-based), and a reflector
 * silent for `deadAfterMs` is reported dead.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LineSplitter } from './lines.js';
import { ReflectorTracker } from './tracker.js';
import { ProbeConfigError, type ProbeEvent, ProbeUnavailableError, type RttProbe } from './types.js';

/** A parsed fping output line. */
export type FpingLine =
  | { kind: 'reply'; host: string; seq: number; rttMs: number }
  | { kind: 'timeout'; host: string; seq: number };

const REPLY =
  /^(?:\[\d+(?:\.\d+)?\]\s+)?(\S+)\s+:\s+\[(\d+)\],\s+\d+\s+bytes,\s+(\d+(?:\.\d+)?)\s+ms(?:\s+\(.*\))?\s*$/;
const TIMEOUT = /^(?:\[\d+(?:\.\d+)?\]\s+)?(\S+)\s+:\s+\[(\d+)\],\s+timed out\b/;

/**
 * Parse one line of `fping -l`/`-c` per-reply output. Returns null for anything else (summary
 * lines, ICMP error lines, garbage). Pure; never throws.
 */
export function parseFpingLine(line: string): FpingLine | null {
  const m = REPLY.exec(line);
  if (m) {
    const rttMs = Number(m[3]);
    const seq = Number(m[2]);
    if (!Number.isFinite(rttMs) || rttMs < 0 || !Number.isSafeInteger(seq)) return null;
    return { kind: 'reply', host: m[1] as string, seq, rttMs };
  }
  const t = TIMEOUT.exec(line);
  if (t) return { kind: 'timeout', host: t[1] as string, seq: Number(t[2]) };
  return null;
}

/** Find an executable on PATH (or check a path). Returns the path or null. */
export function findExecutable(name: string, envPath = process.env['PATH'] ?? ''): string | null {
  const candidates = name.includes('/') ? [name] : envPath.split(delimiter).map((d) => join(d || '.', name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return null;
}

/** Options of {@link FpingProbe}. */
export interface FpingProbeOptions {
  /** IP addresses or names (`ping_hosts`). */
  reflectors: string[];
  /** Interval between probes to one reflector (`-p`). Default 100 ms. fping's minimum is 10. */
  periodMs?: number;
  /** Reply deadline (`-t`). Default 1000 ms (v1.3's `-W 1`). */
  timeoutMs?: number;
  /** Spacing between probes to different reflectors (`-i`). Default 10 ms. */
  intervalMs?: number;
  /** Source address (`-S`), for per-WAN policy routing. */
  sourceAddress?: string;
  /** A reflector silent this long is reported down. Default max(2000, 3 × period + timeout). */
  deadAfterMs?: number;
  /** fping binary. Default `fping` on PATH. */
  binary?: string;
  /** Extra arguments placed before the reflectors. */
  extraArgs?: string[];
  /** Restart backoff: first delay, doubled per failure up to `maxBackoffMs`. Defaults 500 / 30 000 ms. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * At start, wait up to this long for fping's first output line; if fping exits before printing
   * anything (no CAP_NET_RAW, bad host name), `start()` rejects with its stderr. Default 1000 ms;
   * 0 skips the check. Resolves early on the first reply.
   */
  startupCheckMs?: number;
  /** Events to log: dead/alive reflectors, child exits and restarts. */
  onEvent?: (e: ProbeEvent) => void;
  /** Monotonic clock (ms). Default `performance.now()`. */
  now?: () => number;
}

/** The fping argv (without the binary) for these options. */
export function fpingArgs(o: FpingProbeOptions): string[] {
  const args = [
    '-l',
    '-p',
    String(Math.max(10, Math.round(o.periodMs ?? 100))),
    '-t',
    String(Math.max(10, Math.round(o.timeoutMs ?? 1000))),
    '-i',
    String(Math.max(1, Math.round(o.intervalMs ?? 10))),
  ];
  if (o.sourceAddress) args.push('-S', o.sourceAddress);
  if (o.extraArgs) args.push(...o.extraArgs);
  args.push(...o.reflectors);
  return args;
}

/**
 * ICMP probe over a long-lived fping child. Restarts the child with exponential backoff if it
 * exits; `stop()` terminates it (SIGTERM, then SIGKILL after 2 s).
 *
 * @example
 * const probe = new FpingProbe({ reflectors: ['1.1.1.1', '8.8.8.8', '9.9.9.9'], periodMs: 100 });
 * await probe.start();           // throws ProbeUnavailableError if fping is missing
 * // every cycle:
 * const rtt = medianRtt(probe.latest().samples);
 */
export class FpingProbe implements RttProbe {
  readonly reflectors: readonly string[];
  private readonly tracker: ReflectorTracker;
  private readonly now: () => number;
  private child: ChildProcess | null = null;
  private stopping = false;
  private inStartupCheck = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private deadTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private childStartedAt = 0;
  private binaryPath: string | null = null;
  private readonly deadAfterMs: number;
  /** Times the child was (re)started. */
  starts = 0;
  /** Lines that were not replies (ignored). */
  unparsedLines = 0;

  constructor(private readonly options: FpingProbeOptions) {
    if (options.reflectors.length === 0)
      throw new ProbeConfigError('fping probe needs at least one reflector');
    for (const r of options.reflectors) {
      if (r.startsWith('-') || /\s/.test(r) || r === '')
        throw new ProbeConfigError(`invalid reflector "${r}"`);
    }
    this.reflectors = [...options.reflectors];
    this.now = options.now ?? (() => performance.now());
    const periodMs = options.periodMs ?? 100;
    const timeoutMs = options.timeoutMs ?? 1000;
    this.deadAfterMs = options.deadAfterMs ?? Math.max(2000, 3 * periodMs + timeoutMs);
    this.tracker = new ReflectorTracker(this.reflectors, {
      now: this.now,
      periodMs,
      timeoutMs,
      countSilence: true,
      deadAfterMs: this.deadAfterMs,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
  }

  /** @throws {ProbeUnavailableError} if the fping binary is not installed */
  async start(): Promise<void> {
    if (this.child || this.restartTimer) return;
    const bin = this.options.binary ?? 'fping';
    this.binaryPath = findExecutable(bin);
    if (this.binaryPath === null) {
      throw new ProbeUnavailableError(
        `fping not found (${bin}${bin.includes('/') ? '' : ' on PATH'}); ICMP probing needs it: apt-get install fping`,
      );
    }
    this.stopping = false;
    this.tracker.reset();
    this.spawnChild();
    const first = this.child as ChildProcess | null;
    const waitMs = this.options.startupCheckMs ?? 1000;
    if (first && waitMs > 0) {
      this.inStartupCheck = true;
      const failure = await this.firstOutputOrExit(first, waitMs).finally(() => {
        this.inStartupCheck = false;
      });
      if (failure !== null) {
        await this.stop();
        const hint = /socket|permi|root/i.test(failure)
          ? ' (fping needs CAP_NET_RAW: Debian installs it with cap_net_raw; the unit can grant AmbientCapabilities=CAP_NET_RAW)'
          : '';
        throw new ProbeUnavailableError(`fping exited at start: ${failure || 'no output'}${hint}`);
      }
    }
    // latest() and health() check for dead reflectors on every call (a daemon's 20 Hz cycle);
    // this timer only covers callers that stop polling, so it runs at a quarter of deadAfterMs
    // (500 ms by default) instead of waking the process several times per period.
    const check = Math.max(100, Math.min(1000, this.deadAfterMs / 4));
    this.deadTimer = setInterval(() => this.tracker.checkDead(), check);
    this.deadTimer.unref();
  }

  /** Resolves null on the first stdout line (or after `ms`), or with stderr if the child exits silently. */
  private firstOutputOrExit(child: ChildProcess, ms: number): Promise<string | null> {
    return new Promise((resolve) => {
      let stderr = '';
      const onErr = (d: Buffer) => {
        stderr += d.toString();
      };
      const done = (v: string | null) => {
        clearTimeout(timer);
        child.stdout?.off('data', onOut);
        child.stderr?.off('data', onErr);
        child.off('close', onClose);
        resolve(v);
      };
      const onOut = () => done(null);
      const onClose = (code: number | null, signal: string | null) =>
        done(`${stderr.trim()}${stderr.trim() ? ' ' : ''}(${signal ?? `exit code ${code}`})`);
      const timer = setTimeout(() => done(null), ms);
      child.stdout?.on('data', onOut);
      child.stderr?.on('data', onErr);
      child.on('close', onClose);
    });
  }

  /** True while an fping child is running. */
  get running(): boolean {
    return this.child !== null;
  }

  private spawnChild(): void {
    this.restartTimer = null;
    if (this.stopping || this.binaryPath === null) return;
    const child = spawn(this.binaryPath, fpingArgs(this.options), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.tracker.resetSequences();
    this.child = child;
    this.starts++;
    this.childStartedAt = this.now();
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    // One 'data' event per fping reply line in practice; split without node:readline.
    const lines = new LineSplitter(
      (line) => this.onLine(line),
      4096,
      () => this.unparsedLines++,
    );
    const stdout = child.stdout;
    if (stdout) {
      stdout.setEncoding('utf8');
      stdout.on('data', (chunk: string) => lines.push(chunk));
      stdout.once('end', () => lines.end());
    }
    child.on('error', (err) => {
      this.options.onEvent?.({ kind: 'error', message: `fping: ${err.message}` });
    });
    child.on('close', (code, signal) => {
      lines.end();
      if (this.child === child) this.child = null;
      if (this.stopping || this.inStartupCheck) return;
      this.options.onEvent?.({ kind: 'child-exit', code, signal, stderr: stderr.trim() });
      // a child that ran a while resets the backoff
      if (this.now() - this.childStartedAt > 10_000) this.failures = 0;
      this.failures++;
      const delay = Math.min(
        this.options.maxBackoffMs ?? 30_000,
        (this.options.initialBackoffMs ?? 500) * 2 ** (this.failures - 1),
      );
      this.options.onEvent?.({ kind: 'child-restart', attempt: this.failures, delayMs: delay });
      this.restartTimer = setTimeout(() => this.spawnChild(), delay);
      this.restartTimer.unref();
    });
  }

  private onLine(line: string): void {
    const p = parseFpingLine(line);
    if (p === null) {
      this.unparsedLines++;
      return;
    }
    const i = this.tracker.indexOf(p.host);
    if (i === undefined) {
      this.unparsedLines++;
      return;
    }
    if (p.kind === 'reply') this.tracker.reply(i, p.rttMs, p.seq, this.now());
    else this.tracker.lost(i, p.seq);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    if (this.deadTimer) clearInterval(this.deadTimer);
    this.deadTimer = null;
    this.tracker.cancelWaiters();
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
      child.once('close', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
    this.child = null;
  }

  latest() {
    return this.tracker.latest();
  }

  fresh(maxAgeMs: number) {
    return this.tracker.fresh(maxAgeMs);
  }

  measureOnce(timeoutMs: number): Promise<number | null> {
    return this.tracker.nextReply(timeoutMs);
  }

  health() {
    return this.tracker.health();
  }
}
