/**
 * Typed errors raised by every router client. Each carries what a user needs to act on it:
 * the transport, the host, the command (when there was one) and, for RouterOS answers, the
 * router's own message.
 *
 * Classification used by the failover wrapper (docs/decisions.md#d1):
 * - transport failures (the transport could not deliver the call): RouterConnectionError
 *   (and its subclass RouterHostVerificationError), RouterTimeoutError, RouterAuthError;
 * - RouterOS answers (the router received and refused the call): RouterNotFoundError,
 *   RouterCommandError. These never cause a failover: the other transport would get the
 *   same answer.
 */

export type Transport = 'rest' | 'ssh';

export interface RouterErrorContext {
  transport?: Transport | undefined;
  host?: string | undefined;
  command?: string | undefined;
  cause?: unknown;
}

export class RouterError extends Error {
  readonly transport: Transport | undefined;
  readonly host: string | undefined;
  readonly command: string | undefined;

  constructor(message: string, ctx: RouterErrorContext = {}) {
    super(message, ctx.cause === undefined ? undefined : { cause: ctx.cause });
    this.name = new.target.name;
    this.transport = ctx.transport;
    this.host = ctx.host;
    this.command = ctx.command;
  }
}

export type ConnectionFailureKind =
  | 'refused'
  | 'reset'
  | 'unreachable'
  | 'dns'
  | 'tls'
  | 'hostkey'
  | 'closed'
  | 'server-error'
  | 'bad-response'
  | 'protocol';

/** The transport could not reach the router or the connection broke. */
export class RouterConnectionError extends RouterError {
  readonly kind: ConnectionFailureKind;
  /** HTTP status when the failure was an HTTP 5xx answer. */
  readonly status: number | undefined;
  constructor(
    message: string,
    kind: ConnectionFailureKind,
    ctx: RouterErrorContext & { status?: number } = {},
  ) {
    super(message, ctx);
    this.kind = kind;
    this.status = ctx.status;
  }
}

/** The router's identity could not be verified (TLS certificate or SSH host key). */
export class RouterHostVerificationError extends RouterConnectionError {
  /** What the router presented: `sha256/...` certificate fingerprint or `SHA256:...` host key fingerprint. */
  readonly presentedFingerprint: string | undefined;
  constructor(
    message: string,
    kind: 'tls' | 'hostkey',
    ctx: RouterErrorContext & { presentedFingerprint?: string } = {},
  ) {
    super(message, kind, ctx);
    this.presentedFingerprint = ctx.presentedFingerprint;
  }
}

/** The call's deadline passed before the router answered. */
export class RouterTimeoutError extends RouterError {
  readonly deadlineMs: number;
  constructor(message: string, deadlineMs: number, ctx: RouterErrorContext = {}) {
    super(message, ctx);
    this.deadlineMs = deadlineMs;
  }
}

/** The router refused the credentials (HTTP 401, SSH authentication failure). */
export class RouterAuthError extends RouterError {}

/** RouterOS refused the command: its message is in `routerMessage`. */
export class RouterCommandError extends RouterError {
  /** RouterOS's own text, e.g. `expected end of command (line 1 column 9)`. */
  readonly routerMessage: string;
  readonly status: number | undefined;
  constructor(message: string, routerMessage: string, ctx: RouterErrorContext & { status?: number } = {}) {
    super(message, ctx);
    this.routerMessage = routerMessage;
    this.status = ctx.status;
  }
}

/** The item named in the call does not exist (no such queue, rule or `.id`). */
export class RouterNotFoundError extends RouterCommandError {
  /** What was looked for, e.g. `queue "WAN-Download-1"`. */
  readonly what: string;
  constructor(what: string, routerMessage: string, ctx: RouterErrorContext & { status?: number } = {}) {
    super(`${what} not found on the router${ctx.host ? ` ${ctx.host}` : ''}`, routerMessage, ctx);
    this.what = what;
  }
}

/** The CLI text given to runCommand is outside the subset the command model understands. */
export class CommandSyntaxError extends RouterCommandError {
  readonly position: number;
  constructor(message: string, cli: string, position: number) {
    super(`${message} at column ${position + 1} in: ${cli}`, message, { command: cli });
    this.position = position;
  }
}

/** True for failures of the transport itself (retry, then fail over); false for RouterOS answers. */
export function isTransportFailure(err: unknown): boolean {
  return (
    err instanceof RouterConnectionError ||
    err instanceof RouterTimeoutError ||
    err instanceof RouterAuthError
  );
}

/** True for failures worth retrying on the same transport (not auth, not host verification). */
export function isRetryable(err: unknown): boolean {
  if (err instanceof RouterHostVerificationError) return false;
  return err instanceof RouterConnectionError || err instanceof RouterTimeoutError;
}
