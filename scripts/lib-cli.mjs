/**
 * The command line of a script under scripts/: strict `node:util` parseArgs with `--help`/`-h`
 * added. `--help` prints USAGE to stdout and exits 0; an unknown option or a missing value
 * prints the error and USAGE to stderr and exits 2. Returns the values and `fail(msg)`, which
 * does the same for the script's own checks.
 */
import { parseArgs } from 'node:util';

/**
 * @template {import('node:util').ParseArgsConfig['options']} T
 * @param {string} prog name in error messages
 * @param {string} usage the text `--help` prints
 * @param {T} options
 * @returns {{ args: ReturnType<typeof parseArgs<{ options: T, strict: true }>>['values'], fail: (msg: string) => never }}
 */
export function parseCli(prog, usage, options) {
  const fail = (msg) => {
    process.stderr.write(`${prog}: ${msg}\n${usage}\n`);
    process.exit(2);
  };
  /** @type {any} (the generic values type is only known to callers) */
  let args;
  try {
    args = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (e) {
    fail(e.message);
  }
  if (args.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return { args, fail };
}
