/**
 * The exit status contract of the wanctl commands (README, "Exit codes"): 0 clean stop, 2 bad
 * config or bad arguments, 1 any other fatal error; and how a fatal error is told on stderr.
 * Shared by both daemons' command lines so they agree.
 */
import { HttpBindError } from './http.js';
import { LockError, LockHeldError } from './lock.js';

/** 0 clean stop, 1 any other fatal error, 2 bad config or bad arguments. */
export type ExitCode = 0 | 1 | 2;

/** The exit status contract in one line, for a command's `--help`. */
export const EXIT_STATUS_HELP =
  'Exit status: 0 clean stop; 2 bad config or arguments; 1 any other fatal error.';

/** Bad arguments or a bad config: exit status 2. The message names the file, the key and what was expected. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The daemon cannot start (probe unavailable, router unusable, ...): exit status 1. */
export class DaemonStartError extends Error {
  override readonly name = 'DaemonStartError';
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** How a fatal error is told: its exit status and the words put before its message (if any). */
export interface FatalKind {
  code: 1 | 2;
  label?: string;
}

/**
 * Recognises errors of other packages (e.g. the RTT probe's) before the built-in rules; returns
 * undefined for errors it does not know.
 */
export type FatalClassifier = (e: unknown) => FatalKind | undefined;

/**
 * The kind of a fatal error, or undefined for an unexpected one (exit 1, told with its stack).
 * Built-in: {@link UsageError} → 2; `LockHeldError` → 1 "another instance is running, refusing
 * to start"; `LockError`, {@link DaemonStartError}, `HttpBindError` → 1.
 */
export function fatalKind(e: unknown, classify?: FatalClassifier): FatalKind | undefined {
  const k = classify?.(e);
  if (k !== undefined) return k;
  if (e instanceof UsageError) return { code: 2 };
  if (e instanceof LockHeldError) return { code: 1, label: 'another instance is running, refusing to start' };
  if (e instanceof LockError || e instanceof DaemonStartError || e instanceof HttpBindError)
    return { code: 1 };
  return undefined;
}

/** The exit status for an error that ended a command: 2 for usage/config problems, else 1. */
export function exitCodeFor(e: unknown, classify?: FatalClassifier): 1 | 2 {
  return fatalKind(e, classify)?.code ?? 1;
}

/**
 * Writes one line about a fatal error, `<program>: [label: ]message` (an unexpected error:
 * `<program>: fatal: <stack>`), and returns its exit status.
 *
 * @example
 * try { ... } catch (e) { return reportFatal('wanctl-steering', e, (t) => process.stderr.write(t)); }
 */
export function reportFatal(
  program: string,
  e: unknown,
  write: (text: string) => void,
  classify?: FatalClassifier,
): 1 | 2 {
  const k = fatalKind(e, classify);
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

/**
 * The body of a command's bin file: runs `main`, exits with the status it resolves with, and
 * if it rejects (it should report its own errors) tells the error with {@link reportFatal} and
 * exits with its status.
 *
 * @example
 * #!/usr/bin/env node
 * runCli('wanctl-steering', () => main(process.argv.slice(2)));
 */
export function runCli(program: string, main: () => Promise<number>, hooks: RunCliHooks = {}): Promise<void> {
  const exit = hooks.exit ?? ((code: number) => process.exit(code));
  const write = hooks.write ?? processIo.err;
  return Promise.resolve()
    .then(main)
    .then(
      (code) => exit(code),
      (err: unknown) => exit(reportFatal(program, err, write)),
    );
}
