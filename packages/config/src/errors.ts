/**
 * Error types of @wanctl/config.
 *
 * A config that cannot be read at all raises {@link ConfigReadError} (the CLI exits 1);
 * a config that was read but is invalid raises {@link ConfigError} carrying every
 * problem found (the CLI exits 2).
 */

/** One thing wrong with a config file. */
export interface ConfigProblem {
  /** The file the problem is in (as given to the loader; `<memory>` for in-memory text). */
  file: string;
  /**
   * Dotted key path, e.g. `continuous_monitoring.download.floor_red_mbps`; list items as
   * `ping_hosts[1]`. Empty string for a problem with the document as a whole.
   */
  path: string;
  /** 1-based line of the key (or of the nearest enclosing key) in the YAML text, when known. */
  line?: number;
  /** 1-based column, when known. */
  column?: number;
  /** What is wrong, in words. Never contains a secret value. */
  message: string;
  /** What was expected, e.g. `integer in [1, 10]`. */
  expected?: string;
  /** What was found (already redacted for secrets: `<redacted>`). */
  found?: string;
}

/** Renders a problem as `file:line:col: path: message` (line/column and path omitted when unknown). */
export function formatProblem(p: ConfigProblem): string {
  let where = p.file;
  if (p.line !== undefined) {
    where += `:${p.line}`;
    if (p.column !== undefined) where += `:${p.column}`;
  }
  const path = p.path === '' ? '' : `${p.path}: `;
  let text = `${where}: ${path}${p.message}`;
  const extra: string[] = [];
  if (p.expected !== undefined) extra.push(`expected ${p.expected}`);
  if (p.found !== undefined) extra.push(`found ${p.found}`);
  if (extra.length > 0) text += ` (${extra.join(', ')})`;
  return text;
}

/** The config file was read but is not valid. Carries all problems found at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The file that was checked. */
  readonly file: string;
  /** Every problem found, in document order where positions are known. */
  readonly problems: readonly ConfigProblem[];

  constructor(file: string, problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.file = file;
    this.problems = problems;
  }
}

/** The config file could not be read (missing, not permitted, a directory, ...). */
export class ConfigReadError extends Error {
  override readonly name = 'ConfigReadError';
  /** The file that could not be read. */
  readonly file: string;
  /** The operating system error code, e.g. `ENOENT`, `EACCES`, `EISDIR`. */
  readonly code: string | undefined;

  constructor(file: string, cause: unknown) {
    const code =
      typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string'
        ? cause.code
        : undefined;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : cause instanceof Error
              ? cause.message
              : String(cause);
    super(`${file}: cannot read config file: ${reason}`, { cause });
    this.file = file;
    this.code = code;
  }
}
