/** Maps a normalised steering config onto the control law's params and the router client's options. */
import type { SteeringConfig } from '@wanctl/config';
import type { RouterClientOptions, RouterLogger } from '@wanctl/router-client';
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
  });
}

/**
 * Router client options: the configured transport is primary (D1); the other one is configured
 * only when its credentials are (REST: a password; SSH: a key), so failover uses it exactly when
 * the config says it can. `deadlineMs` is the default per-call deadline (D2).
 */
export function routerClientOptions(
  cfg: SteeringConfig,
  logger?: RouterLogger,
  deadlineMs: number = cfg.router.callDeadlineMs,
): RouterClientOptions {
  const r = cfg.router;
  const opts: RouterClientOptions = {
    host: r.host,
    transport: r.transport,
    deadlineMs,
    ...(logger ? { logger } : {}),
  };
  if (r.password !== null) {
    opts.rest = {
      port: r.rest.port,
      https: r.rest.scheme === 'https',
      user: r.user,
      password: r.password.reveal(),
      verifyTls: r.rest.verifyTls,
      ...(r.rest.caFile !== null ? { caFile: r.rest.caFile } : {}),
      ...(r.rest.certSha256 !== null ? { certFingerprint: r.rest.certSha256 } : {}),
    };
  }
  if (r.ssh.keyFile !== null || r.transport === 'ssh') {
    opts.ssh = {
      port: r.ssh.port,
      user: r.user,
      ...(r.ssh.keyFile !== null ? { privateKeyPath: r.ssh.keyFile } : {}),
      ...(r.ssh.knownHostsFile !== null ? { knownHostsPath: r.ssh.knownHostsFile } : {}),
      ...(r.ssh.hostKeySha256 !== null ? { hostKeyFingerprint: r.ssh.hostKeySha256 } : {}),
    };
  }
  return opts;
}
