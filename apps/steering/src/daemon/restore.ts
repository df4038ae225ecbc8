/**
 * The steering state at start: the state file (primary, then backup, then defaults) restored
 * into the controller, and the decisions that must not be carried over a restart dropped
 * (after v1.3, a clean restart with an old DEGRADED state and a pre-enabled rule steered traffic with
 * no decision): a foreign state name, a decision made in --dry-run, and a DEGRADED
 * decision older than {@link STALE_DECISION_MS}.
 */
import { stat } from 'node:fs/promises';
import { type Logger, readStateObject } from '@wanctl/runtime';
import type { SteeringController, SteeringParams } from '../control/index.js';
import { validateRestoredState } from './restore-validate.js';

/**
 * A persisted DEGRADED decision older than this is not carried over a restart (after v1.3, a clean
 * restart with an old DEGRADED state and a pre-enabled rule steered traffic with no decision).
 */
export const STALE_DECISION_MS = 600_000;

export interface RestoreOptions {
  /** `state.file`. */
  path: string;
  controller: SteeringController;
  /** Bounds a restored value must fit (baseline_rtt_bounds and the sanity limits). */
  params: SteeringParams;
  /** This run is a --dry-run. */
  dryRun: boolean;
  /** Wall clock, ms. */
  now: () => number;
  log: Pick<Logger, 'info' | 'warn'>;
}

/**
 * Restores the controller's state from `path`. Resolves with the wall-clock ms since which the
 * restored state holds (its `last_transition_time`, or now when a decision was dropped), or null
 * when nothing says (the daemon's start time then). Never throws; every problem is logged.
 */
export async function restoreSteeringState(o: RestoreOptions): Promise<number | null> {
  const { path, controller, log } = o;
  const rec = await readStateObject(path, (p) => log.warn(`state file: ${p}`));
  if (rec.value === null) {
    log.info(`No steering state at ${path}: starting ${controller.stateGood}`);
    return null;
  }
  // values no running daemon could have written are dropped loudly (issue 16.5)
  const checked = validateRestoredState(rec.value, o.params);
  for (const p of checked.problems) log.warn(`state file ${path}: ${p.message}`);
  const { warnings } = controller.restore(checked.state ?? {});
  for (const w of warnings) log.warn(`state file ${path}: ${w}`);
  const restored = controller.currentState;
  if (restored !== controller.stateGood && restored !== controller.stateDegraded) {
    // v1.3 treated a foreign name as DEGRADED; we do not steer on a decision we cannot read.
    controller.adoptRuleState(false);
    log.warn(
      `state file ${path}: current_state "${restored}" is neither ${controller.stateGood} nor ` +
        `${controller.stateDegraded} (another primary_wan?): starting ${controller.stateGood}`,
    );
    return null;
  }
  const raw = rec.value;
  if (raw['dry_run'] === true && !o.dryRun && controller.steeringEnabled) {
    // a decision made in --dry-run was never acted on: it is not a decision to act on now
    controller.adoptRuleState(false);
    log.warn(`state file ${path} was written by a --dry-run: starting ${controller.stateGood}`);
    return null;
  }
  const ltt =
    typeof raw['last_transition_time'] === 'string' ? Date.parse(raw['last_transition_time']) : Number.NaN;
  let since = Number.isFinite(ltt) ? ltt : null;
  // A DEGRADED decision is carried over only if it is recent (see STALE_DECISION_MS).
  if (controller.steeringEnabled) {
    let ageMs = Number.POSITIVE_INFINITY;
    try {
      ageMs = o.now() - (await stat(rec.source === 'backup' ? `${path}.bak` : path)).mtimeMs;
    } catch {
      /* unknown age: treat as stale */
    }
    if (ageMs > STALE_DECISION_MS) {
      controller.adoptRuleState(false);
      since = o.now();
      log.warn(
        `Persisted state was DEGRADED but is ${Number.isFinite(ageMs) ? `${Math.round(ageMs / 1000)} s` : 'of unknown age'} old: ` +
          `starting ${controller.stateGood} (a steering decision is not carried over a long stop)`,
      );
      return since;
    }
  }
  log.info(`Restored steering state from ${path}: ${controller.currentState}`);
  return since;
}
