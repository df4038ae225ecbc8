/** Maps a normalised steering config onto the control law's params and the router client's options. */
import type { SteeringConfig } from '@wanctl/config';
import { type RouterClientOptions, type RouterLogger, routerOptionsFromConfig } from '@wanctl/router-client';
import { resolveSteeringParams, type SteeringParams } from './control/index.js';

/**
 * Control-law params from a validated config. Throws the control law's SteeringParamsError /
 * StateThresholdsError (naming the v1.3 key) for combinations only the law checks.
 */
export function steeringParamsFromConfig(cfg: SteeringConfig): SteeringParams {
  const t = cfg.thresholds;
  const c = cfg.confidence;
  return resolveSteeringParams({
    primaryWan: cfg.topology.primaryWan,
    intervalSeconds: cfg.measurement.intervalSec,
    historySize: cfg.state.historySize,
    cakeAware: cfg.mode.cakeAware,
    thresholds: {
      green_rtt: t.greenRttMs,
      yellow_rtt: t.yellowRttMs,
      red_rtt: t.redRttMs,
      min_drops_red: t.minDropsRed,
      min_queue_yellow: t.minQueueYellow,
      min_queue_red: t.minQueueRed,
      red_samples_required: t.redSamplesRequired,
      green_samples_required: t.greenSamplesRequired,
    },
    rttEwmaAlpha: t.rttEwmaAlpha,
    queueEwmaAlpha: t.queueEwmaAlpha,
    badThresholdMs: t.badThresholdMs,
    badSamples: t.badSamples,
    recoveryThresholdMs: t.recoveryThresholdMs,
    goodSamples: t.goodSamples,
    baselineRttMinMs: t.baselineRttMinMs,
    baselineRttMaxMs: t.baselineRttMaxMs,
    confidence: cfg.mode.useConfidenceScoring
      ? {
          steerThreshold: c.steerThreshold,
          recoveryThreshold: c.recoveryThreshold,
          sustainDurationSec: c.sustainDurationSec,
          recoverySustainSec: c.recoverySustainSec,
          holdDownDurationSec: c.holdDownDurationSec,
          flapDetectionEnabled: c.flapDetectionEnabled,
          flapWindowMinutes: c.flapWindowMinutes,
          maxToggles: c.maxToggles,
          penaltyDurationSec: c.penaltyDurationSec,
          penaltyThresholdAdd: c.penaltyThresholdAdd,
          dryRun: c.dryRun,
        }
      : null,
    wanState: { ...cfg.wanState },
  });
}

/**
 * Router client options: @wanctl/router-client's mapping of the `router` section (the configured
 * transport primary, the other one the fallback exactly when its credentials are configured, D1),
 * with the steering daemon's own default per-call deadline (D2: it must fit the cycle).
 */
export function routerClientOptions(
  cfg: SteeringConfig,
  logger?: RouterLogger,
  deadlineMs: number = cfg.router.callDeadlineMs,
): RouterClientOptions {
  return { ...routerOptionsFromConfig(cfg.router, logger), deadlineMs };
}
