/**
 * The command-line plumbing both wanctl commands share: the tail of `main` (exit status of a
 * parse error, a fatal error told on stderr) and the JSON-lines replay filter (a file or standard
 * input in, one line out per line in, written at once so a simulator can drive it in closed loop
 * through a pipe).
 */
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { UsageError } from './errors.js';
import { type CliIo, commanderExitCode, reportFatal } from './exit.js';

/** A commander parse error (`exitOverride()`), recognised by shape so this package needs no commander. */
function isCommanderError(e: unknown): e is { code: string; exitCode: number } {
  if (e === null || typeof e !== 'object') return false;
  const o = e as { code?: unknown; exitCode?: unknown };
  return typeof o.code === 'string' && o.code.startsWith('commander.') && typeof o.exitCode === 'number';
}

/**
 * The tail of a command's `main`: runs `body` (parse and run) and turns what it throws into the
 * exit status. `--help`/`--version` → 0, a parse error → 2 ({@link commanderExitCode}); any other
 * error is told on `io.err` by {@link reportFatal} and exits with the status its code gives.
 *
 * @example
 * return runCommand('wanctl-steering', io, async () => {
 *   await program.parseAsync(args, { from: 'user' });
 *   return result;
 * });
 */
export async function runCommand(program: string, io: CliIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (isCommanderError(e)) return commanderExitCode(e);
    return reportFatal(program, e, (t) => io.err(t));
  }
}

/** Options of {@link runJsonLines}. */
export interface JsonLinesOptions {
  /** A file path, or `-` for standard input. */
  input: string;
  /** A file path (created, mode 0644); default (or `-`) standard output. */
  output?: string | undefined;
  /** Turns one input line (1-based `lineNo`) into the output value, or null to write nothing (blank line). */
  step: (line: string, lineNo: number) => unknown;
  /** Standard input (tests). */
  stdin?: Readable;
  /** Synchronous writer for standard output (default: fd 1, retried while a non-blocking pipe is full). */
  writeStdout?: (text: string) => void;
}

/**
 * Streams `input` line by line through `step` and writes `JSON.stringify` of each result as one
 * line, synchronously, before the next line is read. Resolves with the number of lines written.
 * Whatever `step` throws ends the run (the lines before it have been written).
 */
export async function runJsonLines(o: JsonLinesOptions): Promise<number> {
  const input: Readable =
    o.input === '-' ? (o.stdin ?? process.stdin) : createReadStream(o.input, { encoding: 'utf8' });
  let outFd: number | null = null;
  let write: (text: string) => void;
  if (o.output !== undefined && o.output !== '-') {
    const fd = openSync(o.output, 'w', 0o644);
    outFd = fd;
    write = (t) => {
      writeSync(fd, t);
    };
  } else {
    write = o.writeStdout ?? ((t) => writeAllSync(1, t));
  }
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let n = 0;
  try {
    for await (const line of rl) {
      lineNo++;
      const out = o.step(line, lineNo);
      if (out === null || out === undefined) continue;
      write(`${JSON.stringify(out)}\n`);
      n++;
    }
  } finally {
    rl.close();
    if (outFd !== null) closeSync(outFd);
    if (input !== process.stdin && input !== o.stdin) input.destroy();
  }
  return n;
}

/**
 * The error line of a replay that failed: a bad input line (an error with a `line` number) or an
 * input file that cannot be read becomes a {@link UsageError} (exit 2) naming the input
 * (`<stdin>` for `-`); anything else is returned as it is.
 */
export function replayProblem(input: string, e: unknown): unknown {
  const name = input === '-' ? '<stdin>' : input;
  if (e instanceof Error && typeof (e as { line?: unknown }).line === 'number')
    return new UsageError(`${name}: ${e.message}`);
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR')
    return new UsageError(`cannot read ${name}: ${(e as Error).message}`);
  return e;
}

/** writeSync to a descriptor, retrying on EAGAIN (a non-blocking pipe that is full). */
function writeAllSync(fd: number, text: string): void {
  let buf = Buffer.from(text);
  while (buf.length > 0) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}
