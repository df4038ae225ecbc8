/**
 * Normalised, fully defaulted config types. Rates are bits per second (`…Bps`), delays
 * milliseconds (`…Ms`), durations seconds (`…Sec`) unless the name says otherwise.
 */
import type { ConfigProblem } from './errors.js';
import type { Secret } from './secret.js';

/** A RouterOS transport. */
export type Transport = 'rest' | 'ssh';

/** `router.transport`: a RouterOS transport, or `linux-cake` (local `tc`, autorate only). */
export type RouterTransport = Transport | 'linux-cake';

/** Root qdisc built on a linux-cake interface. */
export type LinuxQdiscKind = 'cake' | 'htb_fq_codel' | 'tbf';

/** CAKE `diffserv` keyword. */
export type CakeDiffserv = 'diffserv3' | 'diffserv4' | 'diffserv8' | 'besteffort' | 'precedence';

/** CAKE (and fq_codel ecn) options; `undefined` = not passed to `tc`, not checked on read-back. */
export interface CakeOptions {
  /** Per-packet overhead in bytes (-64..256) or a CAKE overhead keyword (`docsis`, `ethernet`...). */
  overhead: number | string | undefined;
  /** Minimum packet size in bytes (CAKE `mpu`). */
  mpu: number | undefined;
  /** CAKE memory limit in bytes. */
  memlimit: number | undefined;
  /** CAKE `rtt` in ms. */
  rttMs: number | undefined;
  diffserv: CakeDiffserv | undefined;
  /** `ack-filter` (true), `ack-filter-aggressive` ('aggressive'), `no-ack-filter` (false). */
  ackFilter: boolean | 'aggressive' | undefined;
  splitGso: boolean | undefined;
  /** fq_codel `ecn`/`noecn` (htb_fq_codel); CAKE always marks ECN-capable packets. */
  ecn: boolean | undefined;
  nat: boolean | undefined;
  wash: boolean | undefined;
  ingress: boolean | undefined;
}

/**
 * `cake_params` (transport linux-cake): the interfaces whose egress is shaped and the qdisc
 * options. The top-level options apply to both directions; `download`/`upload` hold each
 * direction's resolved options (top level overridden by `cake_params.download|upload`).
 */
export interface CakeParamsConfig extends CakeOptions {
  /** Egress interface shaping the download direction (towards the LAN). */
  downloadInterface: string;
  /** Egress interface shaping the upload direction (towards the ISP). */
  uploadInterface: string;
  downloadQdisc: LinuxQdiscKind;
  uploadQdisc: LinuxQdiscKind;
  /** Download options resolved (always set by the loader; absent = the top-level options). */
  download?: CakeOptions;
  /** Upload options resolved (always set by the loader; absent = the top-level options). */
  upload?: CakeOptions;
  /** TBF queue length expressed as delay at the current rate, ms (default 5). */
  tbfLatencyMs: number;
}

/** How to reach the router (shared by both daemons). */
export interface RouterConfig {
  /** Router address (IP or host name). */
  host: string;
  /** RouterOS user (REST basic auth and SSH login). */
  user: string;
  /** Primary transport (`router.transport`, default `ssh`; honoured, D1); `linux-cake` = local `tc`. */
  transport: RouterTransport;
  /**
   * Fallback transport: the other transport when its credentials are configured
   * (REST: a non-empty password; SSH: `ssh_key`), else `null`.
   */
  fallbackTransport: Transport | null;
  /** REST password (`router.password`, after `${VAR}` expansion); `null` when not configured. */
  password: Secret | null;
  /** REST settings. */
  rest: {
    /** Port (`router.port`, default 443). */
    port: number;
    /** `https` or `http` (`router.scheme`; default https iff port is 443, as v1.3). */
    scheme: 'https' | 'http';
    /** Verify the certificate chain (`router.verify_ssl`, default false; true when `tls_ca_file` is set). */
    verifyTls: boolean;
    /** CA / self-signed certificate PEM file (`router.tls_ca_file`), or null for the system CAs. */
    caFile: string | null;
    /**
     * Pinned certificate SHA-256 fingerprint, normalised to upper-case colon-separated hex
     * (the format of Node's `X509Certificate.fingerprint256`), or null.
     */
    certSha256: string | null;
  };
  /** SSH settings. */
  ssh: {
    /** SSH port (`router.ssh_port`, default 22). */
    port: number;
    /** Private key file (`router.ssh_key`), or null when not configured. */
    keyFile: string | null;
    /** known_hosts file (`router.ssh_known_hosts_file`), or null for the client default. */
    knownHostsFile: string | null;
    /** Pinned host key fingerprint `SHA256:<base64 without padding>` (`router.ssh_host_key_sha256`), or null. */
    hostKeySha256: string | null;
  };
  /** Deadline of one router call in ms (`router.call_deadline_ms`, default timeouts.ssh_command × 1000). */
  callDeadlineMs: number;
}

/** Limits of one direction's queue, all rates in bits per second (mbps × 1 000 000, not rounded). */
export interface QueueLimits {
  /** Which floor keys were given: `legacy` = `floor_mbps`, `per-state` = the per-state floor keys. */
  floorStyle: 'legacy' | 'per-state';
  /** Floor in GREEN. */
  floorGreenBps: number;
  /** Floor in YELLOW. */
  floorYellowBps: number;
  /** Floor in SOFT_RED (download; for upload it equals floorYellowBps, as v1.3). */
  floorSoftRedBps: number;
  /** Floor in RED. */
  floorRedBps: number;
  /** Ceiling, also the initial rate. */
  ceilingBps: number;
  /** Step added per GREEN cycle once greenRequired is reached. */
  stepUpBps: number;
  /** RED multiplier. */
  factorDown: number;
  /** YELLOW multiplier (download default 0.96, upload 0.94). */
  factorDownYellow: number;
  /** GREEN cycles before stepping up (default 5). */
  greenRequired: number;
}

/** Autorate thresholds and smoothing. */
export interface AutorateThresholds {
  /** GREEN→YELLOW delta threshold (ms). */
  targetBloatMs: number;
  /** YELLOW→SOFT_RED (download) / YELLOW→RED (upload) delta threshold (ms). */
  warnBloatMs: number;
  /** SOFT_RED→RED delta threshold (ms, download only; default 80). */
  hardRedBloatMs: number;
  /** Baseline EWMA weight: cycleIntervalMs/1000 / baseline_time_constant_sec, else alpha_baseline. */
  alphaBaseline: number;
  /** Load EWMA weight: cycleIntervalMs/1000 / load_time_constant_sec, else alpha_load. */
  alphaLoad: number;
  /** The configured baseline time constant (s), or null when alpha_baseline was given. */
  baselineTimeConstantSec: number | null;
  /** The configured load time constant (s), or null when alpha_load was given. */
  loadTimeConstantSec: number | null;
  /** Idle test for baseline updates (ms, default 3.0). */
  baselineUpdateThresholdMs: number;
  /** Spike threshold on the load-RTT jump per cycle (ms, default 15). */
  accelThresholdMs: number;
  /** Consecutive spikes that force RED (default 3, D4). */
  accelConfirmCycles: number;
  /** Lower bound of an accepted baseline candidate (ms, default 10). */
  baselineRttMinMs: number;
  /** Upper bound of an accepted baseline candidate (ms, default 60). */
  baselineRttMaxMs: number;
}

/** ICMP failure fallback. */
export interface FallbackConfig {
  /** Run the fallback checks (default true). */
  enabled: boolean;
  /** Gateway ping requested (default true). Effective only when gatewayIp is not null. */
  checkGateway: boolean;
  /** TCP connect checks (default true). */
  checkTcp: boolean;
  /** Gateway to ping; null when not configured (D11: no site-specific default). */
  gatewayIp: string | null;
  /** TCP targets (default 1.1.1.1:443, 8.8.8.8:443). */
  tcpTargets: Array<{ host: string; port: number }>;
  /** Fallback mode (default graceful_degradation). */
  mode: 'graceful_degradation' | 'freeze' | 'use_last_rtt';
  /** graceful_degradation: cycles before failing (default 3). */
  maxCycles: number;
}

/** An HTTP endpoint. */
export interface EndpointConfig {
  /** Serve it. */
  enabled: boolean;
  /** Bind address (default 127.0.0.1). */
  host: string;
  /** TCP port. */
  port: number;
}

/** `history.*`, fully defaulted (the same for both kinds). */
export interface HistoryConfig {
  /** Record history (default true). */
  enabled: boolean;
  /** SQLite file (default /var/lib/wanctl/<wan_name>_history.db). */
  file: string;
  /** Seconds between batched writes (default 5). */
  flushIntervalSec: number;
  /** Retention by age: one-second rows (hours, default 48), minute rows (days, 30), hour rows and events (days, 400). */
  retention: { rawHours: number; minuteDays: number; hourDays: number };
  /** Size cap of the file in MB (default 256). */
  maxSizeMb: number;
  /** The dashboard page (default off; loopback; port 9104 autorate, 9105 steering). */
  dashboard: EndpointConfig;
}

/** Fields common to both config kinds. */
export interface CommonConfig {
  /** The file the config was loaded from (`<memory>` for parsed text). */
  file: string;
  /** schema_version as a string (default "1.0"). */
  schemaVersion: string;
  /** wan_name. */
  wanName: string;
  /** Router access. */
  router: RouterConfig;
  /** PID lock file. */
  lockFile: string;
  /** Stale-lock age for PID-less lock files (s). */
  lockTimeoutSec: number;
  /** Log files. */
  logging: { mainLog: string; debugLog: string };
  /** Health endpoint. */
  healthCheck: EndpointConfig;
  /** Metrics endpoint. */
  metrics: EndpointConfig;
  /** `history.*`: the embedded history store and its dashboard. */
  history: HistoryConfig;
  /** Non-fatal findings worth logging at start-up (no secrets). */
  warnings: ConfigProblem[];
  /** The YAML document as parsed, before `${VAR}` expansion and defaults (holds no secret values). */
  raw: Record<string, unknown>;
}

/** How RTT reflectors are probed: ICMP through fping (default, as v1.3) or UDP echo on `udpPort`. */
export interface ProbeConfig {
  method: 'icmp' | 'udp';
  /** UDP echo port of every reflector (default 7); used when method is `udp`. */
  udpPort: number;
}

/** Which control law the daemon runs (`continuous_monitoring.control_law`). */
export type ControlLaw = 'v1.3' | 'adaptive';

/** A normalised autorate (one WAN) config. */
export interface AutorateConfig extends CommonConfig {
  /** Discriminant. */
  kind: 'autorate';
  /** RouterOS queue names. */
  queues: { download: string; upload: string };
  /** `continuous_monitoring.enabled` (no runtime effect in v1.3). */
  enabled: boolean;
  /** Control cycle interval (ms, default 50). */
  cycleIntervalMs: number;
  /** Initial baseline and load RTT (ms). */
  baselineRttInitialMs: number;
  /** Reflectors, in order. */
  pingHosts: string[];
  /** Median of the first three hosts (default false). */
  useMedianOfThree: boolean;
  /**
   * `continuous_monitoring.spare_ping_hosts` (default empty; duplicates of ping_hosts dropped):
   * reflectors that replace a bad one (adaptive law). Hosts of `pingHosts` beyond the ones in use
   * are spares too, before these.
   */
  sparePingHosts: string[];
  /** `continuous_monitoring.probe`: how the reflectors are probed. */
  probe: ProbeConfig;
  /** `continuous_monitoring.control_law` (default `v1.3`). */
  controlLaw: ControlLaw;
  /** `continuous_monitoring.cut_below_floor` (default true; adaptive law only, docs/decisions.md#d16). */
  cutBelowFloor: boolean;
  /** Download limits (4 states). */
  download: QueueLimits;
  /** Upload limits (3 states; per-state floors honoured, D5). */
  upload: QueueLimits;
  /** Thresholds and smoothing. */
  thresholds: AutorateThresholds;
  /** ICMP failure fallback. */
  fallback: FallbackConfig;
  /** Router write budget (D3; default 10 writes per 60 s; linux-cake: a write every cycle). */
  writeBudget: { maxWrites: number; windowSec: number };
  /** `continuous_monitoring.write_policy`: the adaptive law's RouterOS write policy (default 2/s, burst 4, 1 %). */
  writePolicy: { maxPerSecond: number; burst: number; deadbandPercent: number };
  /** `cake_params` (linux-cake transport), else null. */
  cakeParams: CakeParamsConfig | null;
  /** State file: `state_file` if given (D13), else `<lock dir>/<lock stem>_state.json` (v1.3 rule). */
  stateFile: string;
  /** Timeouts (s): router request (default 15) and per-probe (default 1). */
  timeouts: { sshCommandSec: number; pingSec: number };
}

/** Steering thresholds (CAKE-aware, legacy and baseline bounds). */
export interface SteeringThresholds {
  /** `green_rtt_ms` (default 5): only constrains yellowRttMs (green < yellow). */
  greenRttMs: number;
  /** `yellow_rtt_ms` (default 15): YELLOW when the smoothed RTT delta exceeds it (ms). */
  yellowRttMs: number;
  /** `red_rtt_ms` (default 15): RED needs the smoothed RTT delta above it (ms). */
  redRttMs: number;
  /** `min_drops_red` (default 1): RED needs at least this many CAKE drops in the cycle. */
  minDropsRed: number;
  /** `min_queue_yellow` (default 10 packets): YELLOW when at least this many packets are queued. */
  minQueueYellow: number;
  /** `min_queue_red` (default 50 packets): RED needs at least this many packets queued. */
  minQueueRed: number;
  /** `red_samples_required` (default 2): consecutive RED cycles before steering. */
  redSamplesRequired: number;
  /** `green_samples_required` (default 15): consecutive GREEN cycles before un-steering. */
  greenSamplesRequired: number;
  /** `rtt_ewma_alpha` (default 0.3). */
  rttEwmaAlpha: number;
  /** `queue_ewma_alpha` (default 0.4). */
  queueEwmaAlpha: number;
  /** Legacy mode: `bad_threshold_ms` (default 25 ms). */
  badThresholdMs: number;
  /** Legacy mode: `recovery_threshold_ms` (default 12 ms). */
  recoveryThresholdMs: number;
  /** Legacy mode: `bad_samples` (default 8). */
  badSamples: number;
  /** Legacy mode: `good_samples` (default 15). */
  goodSamples: number;
  /** `baseline_rtt_bounds.min` (default 10 ms): a lower autorate baseline is refused. */
  baselineRttMinMs: number;
  /** `baseline_rtt_bounds.max` (default 60 ms): a higher autorate baseline is refused. */
  baselineRttMaxMs: number;
}

/** Confidence scoring settings. */
/** `wan_state.*`: the autorate congestion report as a steering input (docs/decisions.md#d14). */
export interface WanStateConfig {
  enabled: boolean;
  rttDeltaMs: number;
  confirmSec: number;
  holdDownSec: number;
  recoveryRttMs: number;
  recoverySec: number;
  staleSec: number;
  redWeight: number;
  softRedWeight: number;
}

export interface ConfidenceConfig {
  /** `steer_threshold` (0–100, default 55). */
  steerThreshold: number;
  /** `recovery_threshold` (0–100, default 20; < steerThreshold). */
  recoveryThreshold: number;
  /** `sustain_duration_sec` (default 2.0 s). */
  sustainDurationSec: number;
  /** `recovery_sustain_sec` (default 3.0 s). */
  recoverySustainSec: number;
  /** `hold_down_duration_sec` (default 30.0 s). */
  holdDownDurationSec: number;
  /** `flap_detection_enabled` (default true). */
  flapDetectionEnabled: boolean;
  /** `flap_window_minutes` (default 5 min). */
  flapWindowMinutes: number;
  /** `max_toggles` (default 4). */
  maxToggles: number;
  /** `penalty_duration_sec` (default 60.0 s). */
  penaltyDurationSec: number;
  /** `penalty_threshold_add` (default 15). */
  penaltyThresholdAdd: number;
  /** `dry_run` (default true): decisions are logged only. */
  dryRun: boolean;
}

/** A normalised steering config. */
export interface SteeringConfig extends CommonConfig {
  kind: 'steering';
  /** `topology.*`: primary (watched) WAN, its autorate config path (informational), alternate WAN. */
  topology: { primaryWan: string; primaryWanConfig: string; alternateWan: string };
  /** `<PRIMARY_WAN upper>_GOOD`. */
  stateGood: string;
  /** `<PRIMARY_WAN upper>_DEGRADED`. */
  stateDegraded: string;
  /** The mangle rule, found by its exact comment (D7). */
  mangleRule: { comment: string };
  /** Autorate state file of the primary WAN (primary, else legacy spectrum, else /var/lib/wanctl/<primary_wan>_state.json). */
  primaryStateFile: string;
  /** CAKE queues of the primary WAN. */
  cakeQueues: { primaryDownload: string; primaryUpload: string };
  /** `measurement.*`: cycle period in s (as configured) and in ms (rounded to 1 µs), ping target, pings per cycle. */
  measurement: {
    intervalSec: number;
    intervalMs: number;
    pingHost: string;
    pingCount: number;
    /** `measurement.probe`: how the ping host is probed. */
    probe: ProbeConfig;
  };
  /** `mode.*` (defaults true / true / false). */
  mode: { cakeAware: boolean; enableYellowState: boolean; useConfidenceScoring: boolean };
  /** `confidence.*`, fully defaulted (used when mode.useConfidenceScoring). */
  confidence: ConfidenceConfig;
  /** `wan_state.*`, fully defaulted (docs/decisions.md#d14). */
  wanState: WanStateConfig;
  /** `thresholds.*`, fully defaulted. */
  thresholds: SteeringThresholds;
  /** `state.*`: steering state file and history length. */
  state: { file: string; historySize: number };
  /** Timeouts (s): router request (default 30), per-ping (2), whole ping run (10). */
  timeouts: { sshCommandSec: number; pingSec: number; pingTotalSec: number };
  /** `logging.log_cake_stats` (default true; no effect). */
  logCakeStats: boolean;
}

/** The two config kinds. */
export type ConfigKind = 'autorate' | 'steering';

/** A loaded config of either kind. */
export type LoadedConfig =
  | { kind: 'autorate'; config: AutorateConfig }
  | { kind: 'steering'; config: SteeringConfig };

/** Options of the parse and load functions. */
export interface ParseOptions {
  /** File name used in messages (default `<memory>`). */
  file?: string;
  /** Environment for `${VAR}` expansion (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Options of {@link loadConfigFile}. */
export interface LoadOptions {
  /** Environment for `${VAR}` expansion (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Force the kind instead of detecting it from the content. */
  kind?: ConfigKind;
}
