/**
 * One long-lived `tc -s -j -force -batch -` child. Commands are written to its stdin, one per
 * line; `show` commands answer with one JSON line each, writes answer nothing unless they
 * fail (`Command failed -:N` names the line). stderr is merged into stdout by the shell
 * (`2>&1`), so error text and results arrive in the order tc produced them.
 *
 * A request is a group of commands ending with a `show`, whose answer marks the group done.
 * A group that outlives its deadline rejects with TcTimeoutError and the child is killed (its
 * state is unknown); the next request starts a new one.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { TcCommandError, TcError, TcNotFoundError, TcTimeoutError, TcUnavailableError } from './errors.js';
import { parseTcJson, type TcEntry } from './parse.js';

export interface TcBatchOptions {
  /** tc binary (default `tc` on PATH). */
  binary?: string;
  /** Called with tc's stderr text that belongs to no failed command (warnings). */
  onWarning?: (text: string) => void;
}

interface Pending {
  line: number;
  text: string;
  show: boolean;
  group: Group;
  index: number;
}

interface Group {
  results: Array<TcEntry[] | null>;
  remaining: number;
  settled: boolean;
  resolve: (r: Array<TcEntry[] | null>) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | null;
}

const FAILED = /^Command failed (.*):(\d+)$/;

/** tc's complaint → the typed error (missing device or qdisc → TcNotFoundError). */
function commandError(command: string, tcMessage: string): TcError {
  const iface = /\bdev (\S+)/.exec(command)?.[1];
  const msg = `tc ${command}: ${tcMessage || 'failed'}`;
  if (
    /Cannot find device|No such device|Cannot find specified qdisc|Invalid handle|No such file or directory/i.test(
      tcMessage,
    )
  )
    return new TcNotFoundError(msg, { command, iface });
  return new TcCommandError(msg, tcMessage, { command, iface });
}

export class TcBatch {
  private child: ChildProcessWithoutNullStreams | null = null;
  private line = 0;
  private buf = '';
  private errText: string[] = [];
  private pending: Pending[] = [];
  private closed = false;
  /** Children started so far (1 + restarts). */
  spawns = 0;

  constructor(private readonly o: TcBatchOptions = {}) {}

  private start(): ChildProcessWithoutNullStreams {
    const bin = this.o.binary ?? 'tc';
    // exec keeps one process; 2>&1 keeps error text ordered with the JSON answers
    const child = spawn('/bin/sh', ['-c', 'exec "$0" -s -j -force -batch - 2>&1', bin], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.spawns++;
    this.child = child;
    this.line = 0;
    this.buf = '';
    this.errText = [];
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onData(chunk));
    child.stderr.on('data', () => {});
    child.stdin.on('error', () => {}); // EPIPE when the child died; 'exit' reports it
    const onGone = (why: string) => {
      if (this.child !== child) return;
      this.child = null;
      const text = [...this.errText, this.buf].join('\n').trim();
      this.failAll(new TcUnavailableError(`${bin} -batch ${why}${text ? `: ${text}` : ''}`));
    };
    child.on('error', (err) =>
      onGone(`could not run (${(err as NodeJS.ErrnoException).code ?? err.message})`),
    );
    child.on('exit', (code, signal) => onGone(signal ? `killed by ${signal}` : `exited with status ${code}`));
    return child;
  }

  private failAll(err: Error): void {
    const groups = new Set(this.pending.map((p) => p.group));
    this.pending = [];
    for (const g of groups) this.settle(g, err);
  }

  private settle(g: Group, err: Error | null): void {
    if (g.settled) return;
    g.settled = true;
    if (g.timer) clearTimeout(g.timer);
    if (err) g.reject(err);
    else g.resolve(g.results);
  }

  private complete(p: Pending, result: TcEntry[] | null): void {
    p.group.results[p.index] = result;
    p.group.remaining--;
    if (p.group.remaining === 0) this.settle(p.group, null);
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let nl = this.buf.indexOf('\n');
    while (nl !== -1) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      this.onLine(line);
      nl = this.buf.indexOf('\n');
    }
  }

  private onLine(line: string): void {
    if (line.startsWith('[{') || line === '[]') {
      // every write before the first pending show succeeded; the show gets this answer
      while (this.pending.length > 0 && !(this.pending[0] as Pending).show)
        this.complete(this.pending.shift() as Pending, null);
      const p = this.pending.shift();
      if (p === undefined) return;
      if (this.errText.length > 0) this.o.onWarning?.(this.errText.join('\n'));
      this.errText = [];
      try {
        this.complete(p, parseTcJson(line, p.text));
      } catch (err) {
        this.settle(p.group, err as Error);
        this.complete(p, null);
      }
      return;
    }
    const m = FAILED.exec(line);
    if (m === null) {
      if (line.trim() !== '') this.errText.push(line.trim());
      return;
    }
    const failed = Number(m[2]);
    while (this.pending.length > 0 && (this.pending[0] as Pending).line < failed) {
      const p = this.pending.shift() as Pending;
      this.complete(p, null);
    }
    const p = this.pending[0];
    const tcMessage = this.errText.filter((l) => !l.startsWith('Usage:') && !l.startsWith('\t')).join(' ');
    this.errText = [];
    if (p === undefined || p.line !== failed) return;
    this.pending.shift();
    this.settle(p.group, commandError(p.text, tcMessage));
    this.complete(p, null);
  }

  /**
   * Runs the commands (each an argument list without the binary) in order; the last must be a
   * `show`. Resolves with one entry per command: the parsed JSON for shows, null for writes.
   */
  run(commands: string[][], deadlineMs: number): Promise<Array<TcEntry[] | null>> {
    if (this.closed) return Promise.reject(new TcUnavailableError('the tc batch is closed'));
    const last = commands[commands.length - 1];
    if (last === undefined || last[1] !== 'show')
      return Promise.reject(new TcError('internal: a tc batch request must end with a show'));
    const child = this.child ?? this.start();
    return new Promise((resolve, reject) => {
      const g: Group = {
        results: commands.map(() => null),
        remaining: commands.length,
        settled: false,
        resolve,
        reject,
        timer: null,
      };
      g.timer = setTimeout(() => {
        const text = commands.map((c) => c.join(' ')).join('; ');
        this.settle(
          g,
          new TcTimeoutError(`tc did not answer within ${deadlineMs} ms: ${text}`, deadlineMs, {
            command: text,
          }),
        );
        // its state is unknown: detach and kill it; other pending calls fail, the next call
        // starts a new child
        if (this.child === child) {
          this.child = null;
          this.failAll(new TcUnavailableError(`tc was restarted: an earlier call timed out (${text})`));
        }
        child.kill('SIGKILL');
      }, deadlineMs);
      const lines = commands.map((c, index) => {
        const text = c.join(' ');
        this.pending.push({ line: ++this.line, text, show: c[1] === 'show', group: g, index });
        return text;
      });
      child.stdin.write(`${lines.join('\n')}\n`);
    });
  }

  /** Ends the child (stdin closed; killed if it lingers). */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (child === null) return;
    await new Promise<void>((res) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 1000);
      child.once('exit', () => {
        clearTimeout(t);
        res();
      });
      child.stdin.end();
    });
  }
}
