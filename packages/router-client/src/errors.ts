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
 *
 * Every class carries a stable `code` (`WANCTL_ROUTER_*`, table in the package README); exit
 * statuses and log fields are derived from it, not from the class chain.
 */

export type Transport = 'rest' | 'ssh';

export interface RouterErrorContext {
  transport?: Transport | undefined;
  host?: string | undefined;
  command?: string | undefined;
  cause?: unknown;
}

export class RouterError extends Error {
  /** Stable machine-readable code, `WANCTL_ROUTER_*` (see the README's table). */
  readonly code: string = 'WANCTL_ROUTER_ERROR';
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
  override readonly code: string = 'WANCTL_ROUTER_CONNECTION';
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
  override readonly code: string = 'WANCTL_ROUTER_HOST_UNVERIFIED';
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
  override readonly code: string = 'WANCTL_ROUTER_TIMEOUT';
  readonly deadlineMs: number;
  constructor(message: string, deadlineMs: number, ctx: RouterErrorContext = {}) {
    super(message, ctx);
    this.deadlineMs = deadlineMs;
  }
}

/** The router refused the credentials (HTTP 401, SSH authentication failure). */
export class RouterAuthError extends RouterError {
  override readonly code: string = 'WANCTL_ROUTER_AUTH';
}

/** RouterOS refused the command: its message is in `routerMessage`. */
export class RouterCommandError extends RouterError {
  override readonly code: string = 'WANCTL_ROUTER_COMMAND';
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
  override readonly code: string = 'WANCTL_ROUTER_NOT_FOUND';
  /** What was looked for, e.g. `queue "WAN-Download-1"`. */
  readonly what: string;
  constructor(what: string, routerMessage: string, ctx: RouterErrorContext & { status?: number } = {}) {
    super(`${what} not found on the router${ctx.host ? ` ${ctx.host}` : ''}`, routerMessage, ctx);
    this.what = what;
  }
}

/** The CLI text given to runCommand is outside the subset the command model understands. */
export class CommandSyntaxError extends RouterCommandError {
  override readonly code: string = 'WANCTL_ROUTER_COMMAND_SYNTAX';
  readonly position: number;
  constructor(message: string, cli: string, position: number) {
    super(`${message} at column ${position + 1} in: ${cli}`, message, { command: cli });
    this.position = position;
  }
}

/**
 * The router's answer is not what the call needs: not JSON, without the record a write must
 * answer (`null`, `{}`, an empty body), an item id that is not `*` plus hex, or a record missing
 * a counter. Counted as a transport failure (retried, then the other transport is tried).
 */
export class RouterBadResponseError extends RouterConnectionError {
  override readonly code: string = 'WANCTL_ROUTER_BAD_RESPONSE';
  constructor(message: string, ctx: RouterErrorContext = {}) {
    super(message, 'bad-response', ctx);
  }
}

/** The answer was larger than the client's cap (REST body or SSH output); reading was aborted. */
export class RouterResponseTooLargeError extends RouterBadResponseError {
  override readonly code: string = 'WANCTL_ROUTER_RESPONSE_TOO_LARGE';
  readonly limitBytes: number;
  constructor(message: string, limitBytes: number, ctx: RouterErrorContext = {}) {
    super(message, ctx);
    this.limitBytes = limitBytes;
  }
}

/**
 * A write's answer names another item than the one the call resolved (the router renumbered
 * between the lookup and the write). The client re-resolves and writes once more before
 * raising this.
 */
export class RouterWrongItemError extends RouterBadResponseError {
  override readonly code: string = 'WANCTL_ROUTER_WRONG_ITEM';
  /** What the call meant, e.g. `queue "WAN-Download-1"`. */
  readonly expected: string;
  /** What the router's answer named, e.g. `*1000000 name="guest"`. */
  readonly answered: string;
  constructor(expected: string, answered: string, ctx: RouterErrorContext = {}) {
    super(
      `the router answered a write to ${expected} with another item (${answered}); its ids changed during the call`,
      ctx,
    );
    this.expected = expected;
    this.answered = answered;
  }
}

/** Invalid client options or arguments (missing credentials, bad fingerprint, bad max-limit). */
export class RouterOptionsError extends RouterError {
  override readonly code: string = 'WANCTL_ROUTER_OPTIONS_INVALID';
}

/** True for failures of the transport itself (retry, then fail over); false for RouterOS answers. */
export function isTransportFailure(err: unknown): boolean {
  return (
    err instanceof RouterConnectionError ||
    err instanceof RouterTimeoutError ||
    err instanceof RouterAuthError
  );
}

/** True for failures worth retrying on the same transport (not auth, host verification, oversize). */
export function isRetryable(err: unknown): boolean {
  // the same question would get the same unverifiable host or the same oversized answer
  if (err instanceof RouterHostVerificationError || err instanceof RouterResponseTooLargeError) return false;
  return err instanceof RouterConnectionError || err instanceof RouterTimeoutError;
}
