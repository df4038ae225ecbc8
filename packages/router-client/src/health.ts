/**
 * Last known state of one transport, kept by each client from the outcome of its calls, so a
 * daemon's health output can show e.g. an SSH fallback that is down.
 */
import { isTransportFailure, type Transport } from './errors.js';

export interface TransportState {
  transport: Transport;
  /**
   * `up`: the last call reached RouterOS (it answered, even with a refusal); `down`: the last
   * call failed in the transport (connection, timeout, authentication, unusable answer);
   * `unknown`: no call yet.
   */
  state: 'up' | 'down' | 'unknown';
  /** Wall-clock ms (Date.now) when `state` last changed (or when the client was created). */
  since: number;
  /** Last transport failure: message and code (`WANCTL_ROUTER_*`). Kept after recovery. */
  lastError?: { message: string; code: string; at: number };
}

export class TransportHealth {
  private current: TransportState;

  constructor(
    transport: Transport,
    private readonly now: () => number = Date.now,
  ) {
    this.current = { transport, state: 'unknown', since: now() };
  }

  /** Record a call's outcome (undefined = success). */
  record(err: unknown | undefined): void {
    const down = err !== undefined && isTransportFailure(err);
    const state = down ? 'down' : 'up';
    const t = this.now();
    if (state !== this.current.state) this.current = { ...this.current, state, since: t };
    if (down) {
      const e = err as { message?: unknown; code?: unknown };
      this.current.lastError = {
        message: String(e.message ?? err),
        code: typeof e.code === 'string' ? e.code : 'WANCTL_ROUTER_ERROR',
        at: t,
      };
    }
  }

  get(): TransportState {
    const c = this.current;
    return { ...c, ...(c.lastError ? { lastError: { ...c.lastError } } : {}) };
  }
}
