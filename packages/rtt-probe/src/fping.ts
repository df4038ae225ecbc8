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
import { type DetachedPipe, detachPipe } from './pipe-reader.js';
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
  /**
   * Read fping's replies when a caller asks (`latest()`, `fresh()`, `health()`, `measureOnce()`)
   * instead of waking the process for each reply line: fping measures each RTT itself, so the
   * lines can wait in the pipe until the next cycle. Default true; false, or a platform where the
   * pipe cannot be read on demand, reads one event per line. See the README's performance notes.
   */
  batchReads?: boolean;
  /** Events to log: dead/alive reflectors, child exits and restarts. */
  onEvent?: (e: ProbeEvent) => void;
  /** Monotonic clock (ms). Default `performance.now()`. */
  now?: () => number;
}

/** A reflector string fping can take as an argument (no option, no whitespace). @throws {ProbeConfigError} */
function checkFpingReflector(r: string): void {
  if (r.startsWith('-') || /\s/.test(r) || r === '') throw new ProbeConfigError(`invalid reflector "${r}"`);
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
  /** The running child's stdout, read on demand (batch mode), with its line splitter. */
  private pipe: { reader: DetachedPipe; lines: LineSplitter } | null = null;
  /** Receive time given to the lines of the current drain. */
  private drainAt = 0;
  /** Polls the pipe while measureOnce() waits (batch mode). */
  private waitPoll: NodeJS.Timeout | null = null;
  /** Children stopped on purpose to restart with a new list (not failures: no backoff, no event). */
  private readonly retired = new WeakSet<ChildProcess>();
  /** The replacement in progress (calls are serialised). */
  private replacing: Promise<void> = Promise.resolve();
  /** Times the child was (re)started. */
  starts = 0;
  /** Reflectors replaced at run time ({@link FpingProbe.replaceReflector}). */
  replacements = 0;
  /** Lines that were not replies (ignored). */
  unparsedLines = 0;
  /** Output lines received since start. */
  lines = 0;
  /** Reads of fping's stdout that returned data (batch mode: at most one per caller's call). */
  reads = 0;

  constructor(private readonly options: FpingProbeOptions) {
    if (options.reflectors.length === 0)
      throw new ProbeConfigError('fping probe needs at least one reflector');
    for (const r of options.reflectors) checkFpingReflector(r);
    this.now = options.now ?? (() => performance.now());
    const periodMs = options.periodMs ?? 100;
    const timeoutMs = options.timeoutMs ?? 1000;
    this.deadAfterMs = options.deadAfterMs ?? Math.max(2000, 3 * periodMs + timeoutMs);
    this.tracker = new ReflectorTracker(options.reflectors, {
      now: this.now,
      periodMs,
      timeoutMs,
      countSilence: true,
      deadAfterMs: this.deadAfterMs,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
  }

  /** Reflectors in order (a replacement changes one in place). */
  get reflectors(): readonly string[] {
    return this.tracker.reflectors;
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
    // latest() and health() read the pipe and check for dead reflectors on every call (a
    // daemon's 20 Hz cycle), and push this timer back each time; it only fires for callers that
    // stop polling (at a quarter of deadAfterMs, 500 ms by default), so that a dead reflector is
    // still reported and the pipe does not fill up.
    const check = Math.max(100, Math.min(1000, this.deadAfterMs / 4));
    this.deadTimer = setInterval(() => {
      this.drain();
      this.tracker.checkDead();
    }, check);
    this.deadTimer.unref();
  }

  /** Resolves null on the first stdout line (or after `ms`), or with stderr if the child exits silently. */
  private firstOutputOrExit(child: ChildProcess, ms: number): Promise<string | null> {
    return new Promise((resolve) => {
      let stderr = '';
      const onErr = (d: Buffer) => {
        stderr += d.toString();
      };
      const lines0 = this.lines;
      // batch mode: stdout is not an event source; look at it every 20 ms during the check
      const poll = this.pipe
        ? setInterval(() => {
            this.drain();
            if (this.lines > lines0) done(null);
          }, 20)
        : null;
      const done = (v: string | null) => {
        clearTimeout(timer);
        if (poll) clearInterval(poll);
        child.stdout?.off('data', onOut);
        child.stderr?.off('data', onErr);
        child.off('close', onClose);
        resolve(v);
      };
      const onOut = () => done(null);
      // (batch mode: the lines of a child that printed and exited are read at its exit)
      const onClose = (code: number | null, signal: string | null) =>
        done(
          this.lines > lines0
            ? null
            : `${stderr.trim()}${stderr.trim() ? ' ' : ''}(${signal ?? `exit code ${code}`})`,
        );
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
    const args = fpingArgs({ ...this.options, reflectors: [...this.tracker.reflectors] });
    const child = spawn(this.binaryPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.tracker.resetSequences();
    this.child = child;
    this.starts++;
    this.childStartedAt = this.now();
    const linesAtSpawn = this.lines;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    // Split without node:readline.
    // a child stopped for a new reflector list may still print: its lines are not this list's
    const lines = new LineSplitter(
      (line) => {
        if (!this.retired.has(child)) this.onLine(line);
      },
      4096,
      () => this.unparsedLines++,
    );
    const stdout = child.stdout;
    const reader = stdout && this.options.batchReads !== false ? detachPipe(stdout) : null;
    if (stdout && reader) {
      // batch mode: read when a caller asks (see drain()); at exit, take the rest and close the
      // stream so that the child's 'close' follows
      this.pipe = { reader, lines };
      child.once('exit', () => {
        this.drain();
        if (this.pipe?.reader === reader) this.pipe = null;
        lines.end();
        stdout.destroy();
      });
    } else if (stdout) {
      // event mode: one 'data' event per fping reply line in practice
      stdout.setEncoding('utf8');
      stdout.on('data', (chunk: string) => {
        this.drainAt = this.now();
        this.reads++;
        lines.push(chunk);
      });
      stdout.once('end', () => lines.end());
    }
    child.on('error', (err) => {
      this.options.onEvent?.({ kind: 'error', message: `fping: ${err.message}` });
    });
    child.on('close', (code, signal) => {
      lines.end();
      if (this.pipe?.reader === reader) this.pipe = null;
      if (this.child === child) this.child = null;
      // exiting silently during start()'s check is start()'s failure; after output, a restart;
      // a child stopped for a new reflector list is replaced by replaceReflector()
      if (this.stopping || this.retired.has(child) || (this.inStartupCheck && this.lines === linesAtSpawn))
        return;
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

  /** Batch mode: takes every line fping wrote since the previous call (no-op in event mode). */
  private drain(): void {
    const pipe = this.pipe;
    if (pipe === null) return;
    let text: string | null;
    try {
      text = pipe.reader.drain();
    } catch (err) {
      this.pipe = null;
      this.options.onEvent?.({
        kind: 'error',
        message: `fping: reading its output: ${(err as Error).message}`,
      });
      return;
    }
    if (text === null) {
      this.pipe = null; // end of file: the child is exiting ('exit' takes the rest)
      return;
    }
    if (text === '') return;
    this.reads++;
    this.drainAt = this.now();
    pipe.lines.push(text);
  }

  private onLine(line: string): void {
    this.lines++;
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
    if (p.kind === 'reply') this.tracker.reply(i, p.rttMs, p.seq, this.drainAt);
    else this.tracker.lost(i, p.seq);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    if (this.deadTimer) clearInterval(this.deadTimer);
    this.deadTimer = null;
    if (this.waitPoll) clearInterval(this.waitPoll);
    this.waitPoll = null;
    this.tracker.cancelWaiters();
    // a replacement in progress is stopping the old child: it is gone once that settles
    const replacing = this.replacing;
    const child = this.child;
    if (child) {
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
    await replacing;
  }

  /**
   * Probe `newReflector` in `oldReflector`'s place: the lines fping printed so far are read
   * (they belong to the old list), the slot starts afresh, and the running child is stopped
   * (SIGTERM, SIGKILL after 2 s) and started again at once with the new list, without the
   * restart backoff and without a `child-exit` event. A child waiting out its backoff starts
   * with the new list when it is due. See {@link RttProbe.replaceReflector}.
   */
  replaceReflector(oldReflector: string, newReflector: string): Promise<void> {
    const run = this.replacing.then(() => this.doReplace(oldReflector, newReflector));
    this.replacing = run.catch(() => {});
    return run;
  }

  private async doReplace(oldReflector: string, newReflector: string): Promise<void> {
    const i = this.tracker.indexOf(oldReflector);
    if (i === undefined) throw new ProbeConfigError(`reflector "${oldReflector}" is not probed`);
    checkFpingReflector(newReflector);
    if (this.tracker.indexOf(newReflector) !== undefined)
      throw new ProbeConfigError(`reflector "${newReflector}" is probed already`);
    this.drain();
    this.tracker.replace(i, newReflector);
    this.replacements++;
    const child = this.child;
    if (child === null || this.stopping) return; // not running, or waiting out a backoff
    this.retired.add(child);
    this.child = null;
    if (this.pipe !== null) this.pipe = null; // the old child's pipe is not read again
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
      child.once('close', () => {
        clearTimeout(kill);
        resolve();
      });
      if (child.exitCode !== null || child.signalCode !== null) {
        // already exited ('close' follows)
      } else child.kill('SIGTERM');
    });
    if (this.stopping || this.child !== null || this.restartTimer !== null) return;
    this.spawnChild();
  }

  /** Reads what fping wrote since the previous call, and pushes the idle-caller timer back. */
  private poll(): void {
    this.drain();
    this.deadTimer?.refresh();
  }

  latest() {
    this.poll();
    return this.tracker.latest();
  }

  fresh(maxAgeMs: number) {
    this.poll();
    return this.tracker.fresh(maxAgeMs);
  }

  measureOnce(timeoutMs: number): Promise<number | null> {
    this.drain(); // replies already in the pipe are older than this call
    const reply = this.tracker.nextReply(timeoutMs);
    if (this.pipe !== null) {
      // batch mode: look at the pipe every 10 ms while someone waits
      this.waitPoll ??= setInterval(() => this.drain(), 10);
      void reply.then(() => {
        if (this.waitPoll && !this.tracker.hasWaiters()) {
          clearInterval(this.waitPoll);
          this.waitPoll = null;
        }
      });
    }
    return reply;
  }

  health() {
    this.poll();
    return this.tracker.health();
  }
}
