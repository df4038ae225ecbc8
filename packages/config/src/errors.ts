/**
 * Error types of @wanctl/config.
 *
 * Every error of this package is a {@link ConfigError} with a stable `code`
 * (`WANCTL_CONFIG_*`, see the README's table). A config that was read but is invalid raises
 * {@link ConfigError} itself carrying every problem found; one that cannot be read at all raises
 * {@link ConfigReadError}; one too big to be a config ({@link ConfigTooLargeError}) or whose YAML
 * aliases expand beyond reason ({@link ConfigAliasLimitError}, a "billion laughs" document) is
 * refused before it is expanded or validated.
 */

/** The stable codes of this package's errors (one per class). */
export type ConfigErrorCode =
  | 'WANCTL_CONFIG_INVALID'
  | 'WANCTL_CONFIG_UNREADABLE'
  | 'WANCTL_CONFIG_TOO_LARGE'
  | 'WANCTL_CONFIG_ALIAS_LIMIT';

/** Largest config file (or text) accepted, in bytes (1 MiB; a real config is a few KiB). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * How many nodes YAML aliases may add to a document when expanded (each use of `*name` counts
 * the whole anchored subtree again). A real config adds a few dozen; the classic "billion laughs"
 * document adds 9^9.
 */
export const MAX_ALIAS_EXPANSION = 10_000;

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

/**
 * The base class of this package's errors, and itself the error for a config file that was read
 * but is not valid (`WANCTL_CONFIG_INVALID`): carries all problems found at once.
 */
export class ConfigError extends Error {
  override readonly name: string = 'ConfigError';
  /** Stable code, `WANCTL_CONFIG_*` (one per class). */
  readonly code: ConfigErrorCode = 'WANCTL_CONFIG_INVALID';
  /** The file that was checked. */
  readonly file: string;
  /** Every problem found, in document order where positions are known. */
  readonly problems: readonly ConfigProblem[];

  constructor(file: string, problems: ConfigProblem[], options?: { cause?: unknown }) {
    super(problems.map(formatProblem).join('\n'), options);
    this.file = file;
    this.problems = problems;
  }
}

/** The config file could not be read (missing, not permitted, a directory, ...). */
export class ConfigReadError extends ConfigError {
  override readonly name: string = 'ConfigReadError';
  override readonly code = 'WANCTL_CONFIG_UNREADABLE' as const;
  /** The operating system error code, e.g. `ENOENT`, `EACCES`, `EISDIR`. */
  readonly osCode: string | undefined;

  constructor(file: string, cause: unknown) {
    const osCode =
      typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string'
        ? cause.code
        : undefined;
    const reason =
      osCode === 'ENOENT'
        ? 'no such file'
        : osCode === 'EACCES' || osCode === 'EPERM'
          ? 'permission denied'
          : osCode === 'EISDIR'
            ? 'is a directory'
            : cause instanceof Error
              ? cause.message
              : String(cause);
    super(file, [{ file, path: '', message: `cannot read config file: ${reason}` }], { cause });
    this.osCode = osCode;
  }
}

/** The config file (or text) is larger than {@link MAX_CONFIG_BYTES}: refused unread. */
export class ConfigTooLargeError extends ConfigError {
  override readonly name: string = 'ConfigTooLargeError';
  override readonly code = 'WANCTL_CONFIG_TOO_LARGE' as const;
  constructor(
    file: string,
    /** Its size in bytes (or characters, for text). */
    readonly size: number,
  ) {
    super(file, [
      {
        file,
        path: '',
        message: `the config file is ${size} bytes; a wanctl config is a few KiB (is this the right file?)`,
        expected: `at most ${MAX_CONFIG_BYTES} bytes`,
      },
    ]);
  }
}

/**
 * The YAML aliases (`*name`) of the document expand it by more than
 * {@link MAX_ALIAS_EXPANSION} nodes (a "billion laughs" document): refused before it is
 * expanded or validated.
 */
export class ConfigAliasLimitError extends ConfigError {
  override readonly name: string = 'ConfigAliasLimitError';
  override readonly code = 'WANCTL_CONFIG_ALIAS_LIMIT' as const;
  constructor(
    file: string,
    /** Nodes the aliases add (at least; counting stops past the limit). */
    readonly added: number,
  ) {
    super(file, [
      {
        file,
        path: '',
        message: `YAML aliases (*name) expand the document by ${added >= Number.MAX_SAFE_INTEGER ? 'an unbounded number of' : added} nodes; refusing it (a "billion laughs" document?). Write the values out, or use fewer aliases`,
        expected: `aliases adding at most ${MAX_ALIAS_EXPANSION} nodes`,
      },
    ]);
  }
}
