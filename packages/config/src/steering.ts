import { boolAt, type Context, getPath, isValidHost, numAt, strAt } from './context.js';
import { historyConfig } from './history.js';
import { endpoint, normaliseRouter, schemaVersionOf } from './router.js';
import type { ProbeConfig, SteeringConfig } from './types.js';

/** Python's str.capitalize(): first character upper case, the rest lower case. */
function capitalize(s: string): string {
  return s.length === 0 ? s : s[0]?.toUpperCase() + s.slice(1).toLowerCase();
}

/** Applies the steering rules to a schema-checked document and builds the normalised config. */
export function normaliseSteering(
  ctx: Context,
  data: Record<string, unknown>,
  raw: Record<string, unknown>,
): SteeringConfig {
  const primaryWan = strAt(data, 'topology.primary_wan') ?? '';
  const upper = primaryWan.toUpperCase();

  const pingHost = strAt(data, 'measurement.ping_host') ?? '';
  if (pingHost !== '' && pingHost.length <= 256 && !isValidHost(pingHost)) {
    ctx.error('measurement.ping_host', 'not a valid ping host', {
      expected: 'IPv4, IPv6 or RFC 1123 host name (at most 256 characters)',
      found: pingHost,
    });
  }

  // Thresholds (v1.3 checked these with asserts when the daemon was built; we check at load).
  const t = 'thresholds';
  const n = (k: string, d: number): number => numAt(data, `${t}.${k}`) ?? d;
  const green = n('green_rtt_ms', 5);
  const yellow = n('yellow_rtt_ms', 15);
  const red = n('red_rtt_ms', 15);
  if (!(green < yellow)) {
    ctx.error(`${t}.green_rtt_ms`, `green_rtt_ms (${green}) must be < yellow_rtt_ms (${yellow})`, {
      expected: `< ${yellow}`,
      found: green,
    });
  }
  if (!(yellow <= red)) {
    ctx.error(`${t}.yellow_rtt_ms`, `yellow_rtt_ms (${yellow}) must be ≤ red_rtt_ms (${red})`, {
      expected: `≤ ${red}`,
      found: yellow,
    });
  }
  const bmin = n('baseline_rtt_bounds.min', 10);
  const bmax = n('baseline_rtt_bounds.max', 60);
  if (!(bmin < bmax)) {
    ctx.error(`${t}.baseline_rtt_bounds.min`, `baseline_rtt_bounds.min (${bmin}) must be < max (${bmax})`, {
      expected: `< ${bmax}`,
      found: bmin,
    });
  }
  for (const k of ['bad_samples', 'good_samples']) {
    if (getPath(data, `${t}.${k}`) !== undefined) {
      ctx.warn(`${t}.${k}`, `${k} is deprecated (legacy mode only)`);
    }
  }

  // Confidence thresholds: recovery < steer.
  const c = 'confidence';
  const steer = numAt(data, `${c}.steer_threshold`) ?? 55;
  const recovery = numAt(data, `${c}.recovery_threshold`) ?? 20;
  if (!(recovery < steer)) {
    ctx.error(
      `${c}.recovery_threshold`,
      `recovery_threshold (${recovery}) must be < steer_threshold (${steer})`,
      { expected: `< ${steer}`, found: recovery },
    );
  }

  const sshCommandSec = numAt(data, 'timeouts.ssh_command') ?? 30;
  const router = normaliseRouter(ctx, data, sshCommandSec);
  const intervalSec = numAt(data, 'measurement.interval_seconds') ?? 0;
  const schemaVersion = schemaVersionOf(ctx, data);
  const cap = capitalize(primaryWan);

  return {
    kind: 'steering',
    file: ctx.file,
    schemaVersion,
    wanName: strAt(data, 'wan_name') ?? '',
    router,
    topology: {
      primaryWan,
      primaryWanConfig: strAt(data, 'topology.primary_wan_config') ?? '',
      alternateWan: strAt(data, 'topology.alternate_wan') ?? '',
    },
    stateGood: `${upper}_GOOD`,
    stateDegraded: `${upper}_DEGRADED`,
    mangleRule: { comment: strAt(data, 'mangle_rule.comment') ?? '' },
    primaryStateFile:
      strAt(data, 'cake_state_sources.primary') ??
      strAt(data, 'cake_state_sources.spectrum') ??
      `/var/lib/wanctl/${primaryWan}_state.json`,
    cakeQueues: {
      primaryDownload:
        strAt(data, 'cake_queues.primary_download') ??
        strAt(data, 'cake_queues.spectrum_download') ??
        `WAN-Download-${cap}`,
      primaryUpload:
        strAt(data, 'cake_queues.primary_upload') ??
        strAt(data, 'cake_queues.spectrum_upload') ??
        `WAN-Upload-${cap}`,
    },
    measurement: {
      intervalSec,
      intervalMs: Math.round(intervalSec * 1_000_000) / 1000,
      pingHost,
      pingCount: numAt(data, 'measurement.ping_count') ?? 0,
      probe: {
        method: (strAt(data, 'measurement.probe.method') ?? 'icmp') as ProbeConfig['method'],
        udpPort: numAt(data, 'measurement.probe.udp_port') ?? 7,
      },
    },
    mode: {
      cakeAware: boolAt(data, 'mode.cake_aware') ?? true,
      enableYellowState: boolAt(data, 'mode.enable_yellow_state') ?? true,
      useConfidenceScoring: boolAt(data, 'mode.use_confidence_scoring') ?? false,
    },
    confidence: {
      steerThreshold: steer,
      recoveryThreshold: recovery,
      sustainDurationSec: numAt(data, `${c}.sustain_duration_sec`) ?? 2.0,
      recoverySustainSec: numAt(data, `${c}.recovery_sustain_sec`) ?? 3.0,
      holdDownDurationSec: numAt(data, `${c}.hold_down_duration_sec`) ?? 30.0,
      flapDetectionEnabled: boolAt(data, `${c}.flap_detection_enabled`) ?? true,
      flapWindowMinutes: numAt(data, `${c}.flap_window_minutes`) ?? 5,
      maxToggles: numAt(data, `${c}.max_toggles`) ?? 4,
      penaltyDurationSec: numAt(data, `${c}.penalty_duration_sec`) ?? 60.0,
      penaltyThresholdAdd: numAt(data, `${c}.penalty_threshold_add`) ?? 15,
      dryRun: boolAt(data, `${c}.dry_run`) ?? true,
    },
    wanState: {
      enabled: boolAt(data, 'wan_state.enabled') ?? true,
      rttDeltaMs: numAt(data, 'wan_state.rtt_delta_ms') ?? 80,
      confirmSec: numAt(data, 'wan_state.confirm_sec') ?? 1,
      holdDownSec: numAt(data, 'wan_state.hold_down_sec') ?? 10,
      recoveryRttMs: numAt(data, 'wan_state.recovery_rtt_ms') ?? 40,
      recoverySec: numAt(data, 'wan_state.recovery_sec') ?? 8,
      staleSec: numAt(data, 'wan_state.stale_sec') ?? 5,
      redWeight: numAt(data, 'wan_state.red_weight') ?? 25,
      softRedWeight: numAt(data, 'wan_state.soft_red_weight') ?? 12,
    },
    thresholds: {
      greenRttMs: green,
      yellowRttMs: yellow,
      redRttMs: red,
      minDropsRed: n('min_drops_red', 1),
      minQueueYellow: n('min_queue_yellow', 10),
      minQueueRed: n('min_queue_red', 50),
      redSamplesRequired: n('red_samples_required', 2),
      greenSamplesRequired: n('green_samples_required', 15),
      rttEwmaAlpha: n('rtt_ewma_alpha', 0.3),
      queueEwmaAlpha: n('queue_ewma_alpha', 0.4),
      badThresholdMs: n('bad_threshold_ms', 25),
      recoveryThresholdMs: n('recovery_threshold_ms', 12),
      badSamples: n('bad_samples', 8),
      goodSamples: n('good_samples', 15),
      baselineRttMinMs: bmin,
      baselineRttMaxMs: bmax,
    },
    state: { file: strAt(data, 'state.file') ?? '', historySize: numAt(data, 'state.history_size') ?? 0 },
    lockFile: strAt(data, 'lock_file') ?? '',
    lockTimeoutSec: numAt(data, 'lock_timeout') ?? 0,
    logging: {
      mainLog: strAt(data, 'logging.main_log') ?? '',
      debugLog: strAt(data, 'logging.debug_log') ?? '',
    },
    logCakeStats: boolAt(data, 'logging.log_cake_stats') ?? true,
    timeouts: {
      sshCommandSec,
      pingSec: numAt(data, 'timeouts.ping') ?? 2,
      pingTotalSec: numAt(data, 'timeouts.ping_total') ?? 10,
    },
    healthCheck: endpoint(data, 'health_check', true, 9102),
    metrics: endpoint(data, 'metrics', false, 9103),
    history: historyConfig(data, strAt(data, 'wan_name') ?? '', 9105),
    warnings: ctx.warnings,
    raw,
  };
}
