/**
 * The exit status contract of the wanctl commands (README, "Exit codes"): 0 clean stop, 2 bad
 * config or bad arguments, 1 any other fatal error; and how a fatal error is told on stderr.
 * Shared by both daemons' command lines so they agree.
 */
import { fstatSync } from 'node:fs';
import { DaemonStartError, errorCode, exitStatusForCode, FATAL_LABEL_BY_CODE, UsageError } from './errors.js';

/** 0 clean stop, 1 any other fatal error, 2 bad config or bad arguments. */
export type ExitCode = 0 | 1 | 2;

/** The exit status contract in one line, for a command's `--help`. */
export const EXIT_STATUS_HELP =
  'Exit status: 0 clean stop; 2 bad config or arguments; 1 any other fatal error.';

export { DaemonStartError, UsageError };

/** How a fatal error is told: its code, its exit status and the words put before its message (if any). */
export interface FatalKind {
  /** The error's `WANCTL_` code. */
  errorCode: string;
  code: 1 | 2;
  label?: string;
}

/**
 * The kind of a fatal error, from its `WANCTL_` code ({@link errorCode}), or undefined for an
 * unexpected error (no code: exit 1, told with its stack).
 */
export function fatalKind(e: unknown): FatalKind | undefined {
  const c = errorCode(e);
  if (c === undefined) return undefined;
  const label = FATAL_LABEL_BY_CODE[c];
  return { errorCode: c, code: exitStatusForCode(c), ...(label !== undefined ? { label } : {}) };
}

/** The exit status for an error that ended a command, derived from its code: 2 usage/config, else 1. */
export function exitCodeFor(e: unknown): 1 | 2 {
  return exitStatusForCode(errorCode(e));
}

/** True for a failed write to a pipe or socket whose reader has gone away (EPIPE). */
export function isBrokenPipe(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as NodeJS.ErrnoException).code === 'EPIPE';
}

/** True when standard output is a pipe or a socket (the only outputs that can break). */
function stdoutIsPipe(): boolean {
  try {
    const st = fstatSync(1);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

/**
 * Writes one line about a fatal error, `<program>: [label: ]message` (an unexpected error:
 * `<program>: fatal: <stack>`), and returns its exit status.
 *
 * An EPIPE while standard output is a pipe means the reader went away (`wanctl-autorate replay …
 * | head -1`): nothing is written and the status is 0, as a command killed by SIGPIPE would not
 * complain either.
 *
 * @example
 * try { ... } catch (e) { return reportFatal('wanctl-steering', e, (t) => process.stderr.write(t)); }
 */
export function reportFatal(program: string, e: unknown, write: (text: string) => void): ExitCode {
  if (isBrokenPipe(e) && stdoutIsPipe()) return 0;
  const k = fatalKind(e);
  if (k === undefined) {
    write(`${program}: fatal: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
  const message = e instanceof Error ? e.message : String(e);
  write(`${program}: ${k.label ? `${k.label}: ` : ''}${message}\n`);
  return k.code;
}

/**
 * The exit status for an error thrown by a commander program run with `exitOverride()` (passed
 * structurally, so this package does not depend on commander): `--help`, `--version` → 0; help
 * shown because no subcommand was given (`commander.help` with a non-zero exitCode) → 2; any
 * other parse error (unknown option, missing argument) → 2.
 */
export function commanderExitCode(e: { code: string; exitCode: number }): 0 | 2 {
  if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
  if (e.code === 'commander.help') return e.exitCode === 0 ? 0 : 2;
  return 2;
}

/** Where a command writes: standard output and standard error (injectable for tests). */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** {@link CliIo} on this process's stdout and stderr. */
export const processIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** {@link runCli}'s process hooks (injectable for tests). */
export interface RunCliHooks {
  /** Default `process.exit`. */
  exit?: (code: number) => void;
  /** Default: standard error. */
  write?: (text: string) => void;
}

let pipesGuarded = false;

/**
 * Makes a reader that goes away harmless (`wanctl-check-config … | head -1`): EPIPE on standard
 * output ends the process quietly with the status decided so far (`process.exitCode`, default 0),
 * since nobody reads what follows; EPIPE on standard error is ignored, so a daemon whose log
 * reader went away keeps controlling the link. Any other stream error is thrown as before.
 * Installed once per process (later calls do nothing); {@link runCli} calls it.
 */
export function guardBrokenPipes(exit: (code: number) => void = (code) => process.exit(code)): void {
  if (pipesGuarded) return;
  pipesGuarded = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (!isBrokenPipe(err)) throw err;
    exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (!isBrokenPipe(err)) throw err;
  });
}

/**
 * The body of a command's bin file: runs `main`, exits with the status it resolves with, and
 * if it rejects (it should report its own errors) tells the error with {@link reportFatal} and
 * exits with its status. Broken pipes on standard output and error are handled quietly
 * ({@link guardBrokenPipes}).
 *
 * @example
 * #!/usr/bin/env node
 * runCli('wanctl-steering', () => main(process.argv.slice(2)));
 */
export function runCli(program: string, main: () => Promise<number>, hooks: RunCliHooks = {}): Promise<void> {
  const exit = hooks.exit ?? ((code: number) => process.exit(code));
  const write = hooks.write ?? processIo.err;
  if (hooks.exit === undefined) guardBrokenPipes(exit);
  return Promise.resolve()
    .then(main)
    .then(
      (code) => exit(code),
      (err: unknown) => exit(reportFatal(program, err, write)),
    );
}
