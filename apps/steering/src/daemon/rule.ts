/**
 * The steering mangle rule on the router: found by its exact comment over either transport, its
 * state read from structured data (D7), every toggle read back. Remembers what it last saw so
 * /health can show the rule's real state.
 */
import { type CallOptions, type RouterClient, RouterNotFoundError } from '@wanctl/router-client';
import { RuleVerifyError } from '../errors.js';

/** What the router said about the rule. */
export type RuleState = 'enabled' | 'disabled' | 'missing' | 'unknown';

export interface RuleObservation {
  state: RuleState;
  /** Wall-clock ms of the observation (null before the first). */
  at: number | null;
  /** The router error of the last failed read or toggle, cleared by the next success. */
  error: string | null;
}

export class SteeringRule {
  private obs: RuleObservation = { state: 'unknown', at: null, error: null };

  constructor(
    private readonly client: RouterClient,
    readonly comment: string,
    private readonly callOptions: () => CallOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get observation(): RuleObservation {
    return { ...this.obs };
  }

  /** Read the rule's state. Router errors are recorded and rethrown. */
  async read(): Promise<RuleState> {
    try {
      const rule = await this.client.findMangleRule(this.comment, this.callOptions());
      const state: RuleState = rule === null ? 'missing' : rule.disabled ? 'disabled' : 'enabled';
      this.obs = { state, at: this.now(), error: null };
      return state;
    } catch (e) {
      this.obs = { ...this.obs, error: (e as Error).message };
      throw e;
    }
  }

  /**
   * Enable or disable the rule and confirm the state read back. Throws the router client's typed
   * errors, or RuleVerifyError when the rule is missing or reads back wrong.
   */
  async set(enabled: boolean): Promise<void> {
    try {
      const rule = enabled
        ? await this.client.enableMangleRule(this.comment, this.callOptions())
        : await this.client.disableMangleRule(this.comment, this.callOptions());
      const got = !rule.disabled;
      this.obs = { state: got ? 'enabled' : 'disabled', at: this.now(), error: null };
      if (got !== enabled) {
        const err = new RuleVerifyError(this.comment, enabled, got);
        this.obs.error = err.message;
        throw err;
      }
    } catch (e) {
      if (e instanceof RuleVerifyError) throw e;
      const notFound = e instanceof RouterNotFoundError;
      const err = notFound ? new RuleVerifyError(this.comment, enabled, null) : (e as Error);
      this.obs = {
        state: notFound ? 'missing' : this.obs.state,
        at: notFound ? this.now() : this.obs.at,
        error: err.message,
      };
      throw err;
    }
  }
}
