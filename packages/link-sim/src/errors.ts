/** Base of this package's errors; `code` is stable (table in the README). */
export class LinkSimError extends Error {
  readonly code: string = 'WANCTL_LINKSIM_ERROR';
}

/** Invalid options passed to the simulation, a trace factory, a load schedule or the benchmark. */
export class LinkSimConfigError extends LinkSimError {
  override readonly name = 'LinkSimConfigError';
  override readonly code: string = 'WANCTL_LINKSIM_OPTION_INVALID';
  /** Path of the offending option, e.g. `down.bufferMs`. */
  readonly option: string;

  constructor(option: string, message: string) {
    super(`${option}: ${message}`);
    this.option = option;
  }
}

/** A capacity trace file or text that cannot be read. Carries the source and the 1-based line. */
export class TraceFormatError extends LinkSimError {
  override readonly name = 'TraceFormatError';
  override readonly code: string = 'WANCTL_LINKSIM_TRACE_INVALID';
  readonly source: string;
  readonly line: number;

  constructor(source: string, line: number, message: string) {
    super(`${source}${line > 0 ? `:${line}` : ''}: ${message}`);
    this.source = source;
    this.line = line;
  }
}

export function requireFinite(option: string, value: unknown, min = Number.NEGATIVE_INFINITY): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new LinkSimConfigError(option, `expected a finite number, got ${String(value)}`);
  }
  if (value < min) throw new LinkSimConfigError(option, `expected a number >= ${min}, got ${value}`);
  return value;
}

export function requirePositive(option: string, value: unknown): number {
  const v = requireFinite(option, value);
  if (v <= 0) throw new LinkSimConfigError(option, `expected a number > 0, got ${v}`);
  return v;
}
