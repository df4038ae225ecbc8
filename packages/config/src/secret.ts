import { inspect } from 'node:util';

const REDACTED = '<redacted>';

/**
 * A secret string (a router password, or any value that came from `${VAR}` expansion
 * into a password key). It prints as `<redacted>` in logs, `JSON.stringify`,
 * `util.inspect` and template strings; call {@link Secret.reveal} where the real value
 * is needed (the HTTP Authorization header).
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The real value. Use it only where it is sent to the router. */
  reveal(): string {
    return this.#value;
  }

  /** True when the secret is the empty string. */
  get isEmpty(): boolean {
    return this.#value.length === 0;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}

/** The placeholder printed instead of a secret value. */
export const REDACTED_TEXT = REDACTED;
