/**
 * The mangle rule kept in step with the decision: start-up reconciliation (a pre-enabled rule must not steer without a decision), the
 * periodic read, the toggle the control law asks for (read back, D7), and the correction of a
 * rule found in the wrong state (toggled behind our back). Router problems are logged
 * (throttled), counted in the metrics and shown on /health; nothing here throws.
 */
import type { Logger, LogThrottle } from '@wanctl/runtime';
import type { SteeringController } from '../control/index.js';
import type { SteeringMetrics } from './metrics.js';
import type { RuleState, SteeringRule } from './rule.js';

export interface RuleSyncOptions {
  rule: SteeringRule;
  controller: SteeringController;
  metrics: SteeringMetrics;
  log: Logger;
  throttle: LogThrottle;
  /** Log what would be done; never change the rule. */
  dryRun: boolean;
  /** ISO time since which the current state holds (for the correction message). */
  stateSince: () => string;
  /** The router client's transport now (for the toggle log line). */
  transport: () => string;
}

export class RuleSync {
  /** Corrections made (the rule was found in the wrong state). */
  corrections = 0;
  /** The last toggle's error, cleared by the next successful toggle. */
  toggleError: string | null = null;
  /** Read the rule on the next cycle whatever the period (after a failure or a missing rule). */
  checkPending = true;

  constructor(private readonly o: RuleSyncOptions) {}

  get rule(): SteeringRule {
    return this.o.rule;
  }

  /**
   * Start-up reconciliation: before the first cycle, make the rule on the router
   * agree with the daemon's decision. If the router cannot be read now, the first cycle does it.
   */
  async reconcile(): Promise<void> {
    const { rule, controller, log } = this.o;
    const want = controller.steeringEnabled;
    let seen: RuleState;
    try {
      seen = await rule.read();
    } catch (e) {
      this.o.metrics.routerError('rule_read');
      log.error(`Start-up: cannot read the steering rule: ${(e as Error).message}; will retry every cycle`);
      this.checkPending = true;
      return;
    }
    this.o.metrics.recordRule(seen);
    this.checkPending = false;
    if (seen === 'missing') {
      log.error(
        `Start-up: no mangle rule with comment "${rule.comment}" on the router: steering cannot act until it exists`,
      );
      this.checkPending = true;
      return;
    }
    if (seen === 'unknown' || (seen === 'enabled') === want) {
      log.info(`Start-up: rule is ${seen} on the router, as the state ${controller.currentState} wants`);
      return;
    }
    await this.correct(seen, 'Start-up');
  }

  /** Put the rule in the state the decision wants (after it was found otherwise). */
  async correct(seen: 'enabled' | 'disabled', when: string): Promise<void> {
    const { rule, controller, log, metrics } = this.o;
    const want = controller.steeringEnabled;
    const msg =
      `${when}: rule "${rule.comment}" is ${seen} on the router but the state is ` +
      `${controller.currentState} (since ${this.o.stateSince()})`;
    if (this.o.dryRun) {
      if (this.o.throttle.allow('dry-correct') !== false)
        log.warn(`${msg}: DRY RUN, would ${want ? 'enable' : 'disable'} it`);
      return;
    }
    log.warn(`${msg}: ${want ? 'enabling' : 'disabling'} it`);
    try {
      await rule.set(want);
      this.corrections++;
      metrics.correction();
      this.toggleError = null;
      log.info(`Steering rule ${want ? 'enabled' : 'disabled'} and verified (correction)`);
    } catch (e) {
      this.toggleError = (e as Error).message;
      metrics.toggleFailure();
      metrics.routerError('rule_toggle');
      this.checkPending = true;
      log.error(`Correcting the steering rule failed: ${(e as Error).message}; will retry next cycle`);
    }
    metrics.recordRule(rule.observation.state);
  }

  /** The rule's state on the router, or null when it cannot be read now (logged, throttled). */
  async read(): Promise<RuleState | null> {
    try {
      const s = await this.o.rule.read();
      this.o.metrics.recordRule(s);
      return s;
    } catch (e) {
      this.o.metrics.routerError('rule_read');
      if (this.o.throttle.allow('rule-read') !== false)
        this.o.log.warn(`Cannot read the steering rule: ${(e as Error).message}`);
      return null;
    }
  }

  /** The toggle the control law asked for, read back. Resolves with whether it took effect. */
  async toggle(enable: boolean): Promise<boolean> {
    try {
      await this.o.rule.set(enable);
      this.toggleError = null;
      this.o.log.info(`Steering rule ${enable ? 'enabled' : 'disabled'} and verified`, {
        transport: this.o.transport(),
      });
      return true;
    } catch (e) {
      this.toggleError = (e as Error).message;
      this.o.metrics.toggleFailure();
      this.o.metrics.routerError('rule_toggle');
      this.checkPending = true;
      this.o.log.error(
        `Failed to ${enable ? 'enable' : 'disable'} the steering rule: ${(e as Error).message}`,
      );
      return false;
    }
  }

  /** `--reset`: the rule disabled and read back. Resolves with whether it is off. */
  async disableNow(): Promise<boolean> {
    if (this.o.dryRun) {
      this.o.log.info('DRY RUN: would disable the steering rule');
      return true;
    }
    try {
      await this.o.rule.set(false);
      this.o.log.info('Steering rule disabled and verified');
      return true;
    } catch (e) {
      this.o.log.error(`Failed to disable the steering rule: ${(e as Error).message}`);
      return false;
    }
  }
}
