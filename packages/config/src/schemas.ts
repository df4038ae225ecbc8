// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is wanctl config syntax, not a template
/**
 * JSON Schemas (draft-07, validated with ajv, allErrors) for the two config kinds.
 *
 * Every property carries a `description` (meaning and unit) and, when optional with a
 * default, the `default`. Cross-field rules (floor styles and ordering, threshold
 * ordering, alpha versus time constant, steering threshold relations) are not
 * expressible cleanly here and are checked in code after the schema pass; they are
 * listed in docs/config-reference.md.
 */

import { historySchema } from './history.js';

/** A JSON Schema object as used here (a plain JSON value). */
export type JsonSchema = Record<string, unknown>;

type Extra = Record<string, unknown>;

const num = (description: string, extra: Extra = {}): JsonSchema => ({
  type: 'number',
  description,
  ...extra,
});
const int = (description: string, extra: Extra = {}): JsonSchema => ({
  type: 'integer',
  description,
  ...extra,
});
const str = (description: string, extra: Extra = {}): JsonSchema => ({
  type: 'string',
  description,
  ...extra,
});
const bool = (description: string, extra: Extra = {}): JsonSchema => ({
  type: 'boolean',
  description,
  ...extra,
});
const obj = (
  description: string,
  properties: Record<string, JsonSchema>,
  required: string[] = [],
): JsonSchema => ({
  type: 'object',
  description,
  properties,
  required,
  additionalProperties: false,
});

/** `^[A-Za-z0-9_.-]+$`, 1–64 characters: wan_name and RouterOS queue names (v1.3 validate_identifier). */
export const IDENTIFIER_PATTERN = '^[A-Za-z0-9_.-]{1,64}$';
/** `[A-Za-z0-9_.\-: ]`, 1–128 characters: the mangle rule comment (v1.3 validate_comment). */
export const COMMENT_PATTERN = '^[A-Za-z0-9_.\\-: ]{1,128}$';
/** A SHA-256 certificate fingerprint: 64 hex digits, optionally colon-separated pairs. */
export const TLS_FINGERPRINT_PATTERN = '^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$';
/** An OpenSSH SHA-256 host key fingerprint, as `ssh-keygen -lf` prints it: `SHA256:` + 43 base64 characters. */
export const SSH_FINGERPRINT_PATTERN = '^SHA256:[A-Za-z0-9+/]{43}=?$';

const identifier = (description: string): JsonSchema =>
  str(`${description} Identifier: 1–64 characters from A–Z a–z 0–9 _ . -`, { pattern: IDENTIFIER_PATTERN });

const port = (description: string, dflt?: number): JsonSchema =>
  int(description, { minimum: 1, maximum: 65535, ...(dflt === undefined ? {} : { default: dflt }) });

const schemaVersion: JsonSchema = {
  type: ['string', 'number'],
  description: 'Config format version. Only "1.0" exists; any other value is accepted with a warning.',
  default: '1.0',
};

/** How RTT is measured (new in wanctl; v1.3 could only use ICMP). */
function probeSchema(hostsKey: string): JsonSchema {
  return obj(`How the ${hostsKey} reflectors are probed. Default: ICMP echo through fping (as v1.3).`, {
    method: str(
      `icmp: ICMP echo through one long-lived fping child (needs CAP_NET_RAW). udp: UDP echo to each of ${hostsKey} on udp_port (no privileges; the reflector must echo datagrams back, e.g. an echo service).`,
      { enum: ['icmp', 'udp'], default: 'icmp' },
    ),
    udp_port: port('UDP echo port of the reflectors (method udp).', 7),
  });
}

function routerSchema(sshCommandDefault: number, linuxCake = false): JsonSchema {
  const hostNote = linuxCake ? ' Required unless transport is linux-cake.' : '';
  return obj(
    'How to reach the RouterOS router. The configured transport is primary; the other one is the fallback when its credentials are configured (D1).',
    {
      host: str(`Router address (IP or host name) for REST and SSH.${hostNote}`, { minLength: 1 }),
      user: str(`RouterOS user: REST basic-auth user and SSH login.${hostNote}`, { minLength: 1 }),
      transport: str(
        linuxCake
          ? 'Primary transport. The other transport is the fallback if its credentials are set. linux-cake: shape with the local kernel through `tc` (needs cake_params; no fallback, no credentials).'
          : 'Primary transport. The other transport is the fallback if its credentials are set.',
        {
          enum: linuxCake ? ['rest', 'ssh', 'linux-cake'] : ['rest', 'ssh'],
          default: 'ssh',
        },
      ),
      password: str(
        'REST password. Use ${VAR} to take it from the environment (e.g. "${WANCTL_ROUTER_PASSWORD}"). Required when transport is rest; enables the REST fallback otherwise.',
      ),
      ssh_key: str(
        'Path of the SSH private key file. Required when transport is ssh; enables the SSH fallback otherwise.',
        { minLength: 1 },
      ),
      port: port(
        'REST port. Without `scheme`, 443 means https and any other port plain http (as v1.3).',
        443,
      ),
      verify_ssl: bool('Verify the router certificate against the system CAs (or `tls_ca_file`).', {
        default: false,
      }),
      type: str('Router type. Accepted for v1.3 compatibility and ignored (only RouterOS exists).'),
      scheme: str('REST scheme. Default: https if `port` is 443, else http (v1.3 rule).', {
        enum: ['https', 'http'],
      }),
      tls_ca_file: str(
        'PEM file of the CA (or self-signed certificate) that signs the router certificate. Implies verification.',
        {
          minLength: 1,
        },
      ),
      tls_fingerprint_sha256: str(
        'Pin the router certificate by its SHA-256 fingerprint (64 hex digits, colons optional). When set, a certificate with any other fingerprint is refused, whatever verify_ssl says.',
        { pattern: TLS_FINGERPRINT_PATTERN },
      ),
      ssh_port: port('Router SSH port (SSH transport).', 22),
      ssh_known_hosts_file: str(
        'known_hosts file used to check the router host key. Default: the SSH client default.',
        {
          minLength: 1,
        },
      ),
      ssh_host_key_sha256: str(
        'Pin the router SSH host key by its fingerprint as `ssh-keygen -lf` prints it (SHA256:...). A different key is refused.',
        { pattern: SSH_FINGERPRINT_PATTERN },
      ),
      call_deadline_ms: int(
        `Deadline of one router call in milliseconds (D2). Default: timeouts.ssh_command × 1000 (${sshCommandDefault * 1000} ms unless timeouts.ssh_command is set).`,
        { minimum: 10, maximum: 600000 },
      ),
    },
    // linux-cake needs neither; normaliseRouter requires them for rest and ssh
    linuxCake ? [] : ['host', 'user'],
  );
}

/** CAKE overhead keywords `cake_params.overhead` accepts besides a byte count (tc-cake(8)). */
export const CAKE_OVERHEAD_KEYWORDS = [
  'raw',
  'conservative',
  'ethernet',
  'docsis',
  'ipoa-vcmux',
  'ipoa-llcsnap',
  'bridged-vcmux',
  'bridged-llcsnap',
  'pppoa-vcmux',
  'pppoa-llc',
  'pppoe-vcmux',
  'pppoe-llcsnap',
  'pppoe-ptm',
  'bridged-ptm',
] as const;

const qdiscKind = (dir: string): JsonSchema =>
  str(
    `Root qdisc on the ${dir} interface: cake (tc qdisc cake bandwidth), htb_fq_codel (an HTB class carrying the rate over an fq_codel leaf, for kernels without sch_cake) or tbf (a token bucket with a short buffer, for kernels with neither cake nor fq_codel).`,
    { enum: ['cake', 'htb_fq_codel', 'tbf'], default: 'cake' },
  );

/** The CAKE option keys, at the top of cake_params and per direction. */
function cakeOptions(): Record<string, JsonSchema> {
  return {
    overhead: {
      type: ['integer', 'string'],
      description: `CAKE per-packet overhead: bytes (tc \`overhead N\`) or a keyword (${CAKE_OVERHEAD_KEYWORDS.join(', ')}).`,
      minimum: -64,
      maximum: 256,
    },
    mpu: int('CAKE minimum packet unit in bytes (tc `mpu N`).', { minimum: 0, maximum: 256 }),
    memlimit: int('CAKE memory limit in bytes (tc `memlimit N`).', { minimum: 65536, maximum: 4294967295 }),
    rtt: num('CAKE rtt in ms (tc `rtt Nus`): the round trip its AQM is tuned for.', {
      exclusiveMinimum: 0,
      maximum: 3600000,
    }),
    diffserv: str('CAKE priority tins (tc keyword of the same name).', {
      enum: ['diffserv3', 'diffserv4', 'diffserv8', 'besteffort', 'precedence'],
    }),
    ack_filter: {
      type: ['boolean', 'string'],
      description:
        'CAKE ACK filter: true = `ack-filter`, "aggressive" = `ack-filter-aggressive`, false = `no-ack-filter`.',
      enum: [true, false, 'aggressive'],
    },
    split_gso: bool('CAKE `split-gso` (true) / `no-split-gso` (false).'),
    ecn: bool(
      'fq_codel `ecn` (true) / `noecn` (false) for htb_fq_codel. CAKE always marks ECN-capable packets, so false is refused with cake.',
    ),
    nat: bool('CAKE `nat` (true) / `nonat` (false).'),
    wash: bool('CAKE `wash` (true) / `nowash` (false).'),
    ingress: bool('CAKE `ingress` (true) / `egress` (false).'),
  };
}

const cakeParamsSchema = obj(
  'Local Linux shaper (router.transport linux-cake): the egress interfaces and qdisc options. Required with linux-cake, refused with any other transport. An option left out is not passed to tc (kernel default) and not checked on read-back.',
  {
    download_interface: str('Interface whose egress carries the download direction (towards the LAN).', {
      minLength: 1,
      maxLength: 15,
    }),
    upload_interface: str('Interface whose egress carries the upload direction (towards the ISP).', {
      minLength: 1,
      maxLength: 15,
    }),
    download_qdisc: qdiscKind('download'),
    upload_qdisc: qdiscKind('upload'),
    ...cakeOptions(),
    download: obj(
      'CAKE options for the download qdisc only, overriding the ones above (e.g. ingress: true).',
      cakeOptions(),
    ),
    upload: obj(
      'CAKE options for the upload qdisc only, overriding the ones above (e.g. ack_filter: true).',
      cakeOptions(),
    ),
    tbf_latency_ms: num('tbf: longest queue, as delay at the current rate, in ms (tc `latency`).', {
      minimum: 1,
      maximum: 1000,
      default: 5,
    }),
  },
  ['download_interface', 'upload_interface'],
);

function healthSchema(defaultPort: number): JsonSchema {
  return obj('Health endpoint (JSON over HTTP).', {
    enabled: bool('Serve the health endpoint.', { default: true }),
    host: str('Address to listen on (loopback by default).', { default: '127.0.0.1', minLength: 1 }),
    port: port('TCP port to listen on.', defaultPort),
  });
}

function metricsSchema(defaultPort: number): JsonSchema {
  return obj('Prometheus metrics endpoint.', {
    enabled: bool('Record and serve metrics.', { default: false }),
    host: str('Address to listen on (loopback by default).', { default: '127.0.0.1', minLength: 1 }),
    port: port('TCP port to listen on.', defaultPort),
  });
}

const floorDoc = (state: string): string =>
  `Per-state floor for ${state} in Mbps (×1 000 000 = bps). Per-state style; see floor rules.`;

const downloadSchema = obj(
  'Download queue limits. Floors: either `floor_mbps` (legacy, one floor for every state) or the per-state floors (`floor_green_mbps`, `floor_yellow_mbps`, `floor_red_mbps`, optional `floor_soft_red_mbps`).',
  {
    ceiling_mbps: num('Highest rate in Mbps; also the starting rate.', { minimum: 1, maximum: 10000 }),
    step_up_mbps: num('Increase per GREEN cycle once `green_required` GREEN cycles are seen, in Mbps.', {
      minimum: 0.1,
      maximum: 100,
    }),
    factor_down: num('RED multiplier: new rate = int(rate × factor_down).', { minimum: 0.1, maximum: 1 }),
    factor_down_yellow: num('YELLOW multiplier per cycle.', { minimum: 0.8, maximum: 1, default: 0.96 }),
    green_required: int('Consecutive GREEN cycles before stepping up.', {
      minimum: 1,
      maximum: 10,
      default: 5,
    }),
    floor_mbps: num('Legacy single floor in Mbps for all four states.', { exclusiveMinimum: 0 }),
    floor_green_mbps: num(floorDoc('GREEN'), { exclusiveMinimum: 0 }),
    floor_yellow_mbps: num(floorDoc('YELLOW'), { exclusiveMinimum: 0 }),
    floor_soft_red_mbps: num(`${floorDoc('SOFT_RED')} Default: floor_yellow_mbps.`, { exclusiveMinimum: 0 }),
    floor_red_mbps: num(floorDoc('RED'), { exclusiveMinimum: 0 }),
  },
  ['ceiling_mbps', 'step_up_mbps', 'factor_down'],
);

const uploadSchema = obj(
  'Upload queue limits. Floors: either `floor_mbps` (legacy) or `floor_green_mbps`, `floor_yellow_mbps` and `floor_red_mbps` (per-state, honoured: D5).',
  {
    ceiling_mbps: num('Highest rate in Mbps; also the starting rate.', { minimum: 1, maximum: 1000 }),
    step_up_mbps: num('Increase per GREEN cycle once `green_required` GREEN cycles are seen, in Mbps.', {
      minimum: 0.1,
      maximum: 100,
    }),
    factor_down: num('RED multiplier: new rate = int(rate × factor_down).', { minimum: 0.1, maximum: 1 }),
    factor_down_yellow: num('YELLOW multiplier per cycle.', { minimum: 0.9, maximum: 1, default: 0.94 }),
    green_required: int('Consecutive GREEN cycles before stepping up.', {
      minimum: 1,
      maximum: 10,
      default: 5,
    }),
    floor_mbps: num('Legacy single floor in Mbps for all states.', { exclusiveMinimum: 0 }),
    floor_green_mbps: num(floorDoc('GREEN'), { exclusiveMinimum: 0 }),
    floor_yellow_mbps: num(floorDoc('YELLOW'), { exclusiveMinimum: 0 }),
    floor_red_mbps: num(floorDoc('RED'), { exclusiveMinimum: 0 }),
  },
  ['ceiling_mbps', 'step_up_mbps', 'factor_down'],
);

const boundsSchema = (what: string): JsonSchema =>
  obj(`Sanity bounds of the baseline RTT (${what}); min must be below max.`, {
    min: num('Lower bound in ms (inclusive).', { minimum: 1, maximum: 100, default: 10 }),
    max: num('Upper bound in ms (inclusive).', { minimum: 10, maximum: 500, default: 60 }),
  });

const autorateThresholdsSchema = obj(
  'Delay thresholds and EWMA smoothing. Give `baseline_time_constant_sec` or `alpha_baseline`, and `load_time_constant_sec` or `alpha_load`; a time constant wins over an alpha.',
  {
    target_bloat_ms: num(
      'GREEN→YELLOW: delta (load − baseline) above this many ms. Must be < warn_bloat_ms.',
      {
        minimum: 1,
        maximum: 100,
      },
    ),
    warn_bloat_ms: num(
      'YELLOW→SOFT_RED (download) and YELLOW→RED (upload): delta above this many ms. Must be < hard_red_bloat_ms.',
      { minimum: 1, maximum: 200 },
    ),
    hard_red_bloat_ms: num('SOFT_RED→RED (download only): delta above this many ms.', {
      exclusiveMinimum: 0,
      default: 80,
    }),
    baseline_time_constant_sec: num(
      'Baseline EWMA time constant in s: alpha_baseline = cycle interval (s) / this.',
      {
        minimum: 1,
        maximum: 600,
      },
    ),
    alpha_baseline: num('Baseline EWMA weight per cycle, used when baseline_time_constant_sec is absent.', {
      minimum: 0.0001,
      maximum: 1,
    }),
    load_time_constant_sec: num('Load EWMA time constant in s: alpha_load = cycle interval (s) / this.', {
      minimum: 0.05,
      maximum: 10,
    }),
    alpha_load: num('Load EWMA weight per cycle, used when load_time_constant_sec is absent.', {
      minimum: 0.001,
      maximum: 1,
    }),
    baseline_update_threshold_ms: num(
      'The baseline follows the RTT only while load − baseline is below this (ms).',
      {
        minimum: 0,
        default: 3,
      },
    ),
    accel_threshold_ms: num('Spike detector: a load-RTT jump above this many ms in one cycle is a spike.', {
      minimum: 5,
      maximum: 50,
      default: 15,
    }),
    accel_confirm_cycles: int('Consecutive spike cycles that force download RED (D4).', {
      minimum: 1,
      maximum: 100,
      default: 3,
    }),
    baseline_rtt_bounds: boundsSchema('a candidate baseline outside them is ignored'),
  },
  ['target_bloat_ms', 'warn_bloat_ms'],
);

/** Where a ping target (host name or address) is validated in code (IPv4, IPv6, RFC 1123 host name, ≤ 256). */
const hostString = (description: string): JsonSchema => str(description, { minLength: 1, maxLength: 256 });

const fallbackSchema = obj('What to do when every ICMP probe of a cycle fails.', {
  enabled: bool('Run the fallback connectivity checks.', { default: true }),
  check_gateway: bool(
    'Ping the gateway (`gateway_ip`) as a connectivity check. Skipped when gateway_ip is not set.',
    {
      default: true,
    },
  ),
  check_tcp: bool('Try TCP connects to `tcp_targets` as a connectivity check (and an RTT source).', {
    default: true,
  }),
  gateway_ip: hostString(
    "Gateway to ping. No default (D11: v1.3 defaulted to one site's LAN address); without it the gateway check is skipped.",
  ),
  tcp_targets: {
    type: 'array',
    description: 'TCP targets as [host, port] pairs.',
    default: [
      ['1.1.1.1', 443],
      ['8.8.8.8', 443],
    ],
    items: {
      type: 'array',
      minItems: 2,
      maxItems: 2,
      items: [
        { type: 'string', minLength: 1, maxLength: 256 },
        { type: 'integer', minimum: 1, maximum: 65535 },
      ],
    },
  },
  fallback_mode: str('How to run while ICMP is down but the fallback checks pass.', {
    enum: ['graceful_degradation', 'freeze', 'use_last_rtt'],
    default: 'graceful_degradation',
  }),
  max_fallback_cycles: int('graceful_degradation: cycles to keep using the last RTT before failing.', {
    minimum: 1,
    default: 3,
  }),
});

const writeBudgetSchema = obj(
  'Router write budget (D3): at most max_writes writes in any window_sec window.',
  {
    max_writes: int('Writes allowed per window.', { minimum: 1, maximum: 1000, default: 10 }),
    window_sec: num('Sliding window length in seconds.', { minimum: 1, maximum: 3600, default: 60 }),
  },
);

const writePolicySchema = obj(
  'Router write policy of the adaptive law (RouterOS): a token bucket of burst writes refilled at max_per_second; a change under deadband_percent waits 1 s.',
  {
    max_per_second: num('Sustained router writes per second.', {
      exclusiveMinimum: 0,
      maximum: 50,
      default: 2,
    }),
    burst: int('Most writes in a burst (token bucket size).', { minimum: 1, maximum: 100, default: 4 }),
    deadband_percent: num(
      'A change smaller than this percentage of the router rate (both directions) waits 1 s.',
      {
        minimum: 0,
        maximum: 49,
        default: 1,
      },
    ),
  },
);

/** JSON Schema of the autorate daemon config (one file per WAN). */
export const autorateSchema: JsonSchema = {
  $id: 'https://wanctl.invalid/schema/autorate.json',
  ...obj(
    'wanctl autorate daemon config (one WAN).',
    {
      schema_version: schemaVersion,
      wan_name: identifier(
        'Name of the WAN: log prefix, metric label, queue type names cake-{down,up}-<lower>.',
      ),
      router: routerSchema(15, true),
      cake_params: cakeParamsSchema,
      queues: obj(
        'RouterOS queue tree entries whose max-limit is controlled.',
        {
          download: identifier('Download queue name.'),
          upload: identifier('Upload queue name.'),
        },
        ['download', 'upload'],
      ),
      continuous_monitoring: obj(
        'The control loop.',
        {
          enabled: bool('Accepted for v1.3 compatibility; has no effect (the daemon always runs).'),
          baseline_rtt_initial: num('Initial baseline and load RTT in ms (before any state is restored).', {
            minimum: 1,
            maximum: 500,
          }),
          ping_hosts: {
            type: 'array',
            description:
              'Reflectors to probe (IPv4, IPv6 or host name). The first is used alone unless use_median_of_three is on.',
            minItems: 1,
            items: { type: 'string', minLength: 1, maxLength: 256 },
          },
          use_median_of_three: bool('Probe the first three hosts and use the median (needs ≥ 3 hosts).', {
            default: false,
          }),
          spare_ping_hosts: {
            type: 'array',
            description:
              'Adaptive law only: reflectors that replace one in use when the law reports it bad (silent, or off the others for a while), in order; hosts in ping_hosts beyond the ones in use come first. A replaced host goes to the back of the spares. See apps/autorate/README.md.',
            default: [],
            items: { type: 'string', minLength: 1, maxLength: 256 },
          },
          probe: probeSchema('ping_hosts'),
          control_law: str(
            'Control law: v1.3 (the v1.3 state machine, bit for bit) or adaptive (load-aware: cuts to what the link delivered, raises only a loaded direction).',
            { enum: ['v1.3', 'adaptive'], default: 'v1.3' },
          ),
          cut_below_floor: bool(
            'Adaptive law only: a cut to what the link delivered may go under the lowest floor (down to 1 % of the ceiling), so a line that collapses below the floor keeps a short queue; under the floor is where steering takes over (docs/decisions.md#d16). false: the floor is a hard bound, as in v1.3.',
            { default: false },
          ),
          cycle_interval_ms: num('Control cycle interval in ms. Alphas from time constants use it.', {
            minimum: 10,
            maximum: 1000,
            default: 50,
          }),
          download: downloadSchema,
          upload: uploadSchema,
          thresholds: autorateThresholdsSchema,
          fallback_checks: fallbackSchema,
          write_budget: writeBudgetSchema,
          write_policy: writePolicySchema,
        },
        ['enabled', 'baseline_rtt_initial', 'ping_hosts', 'download', 'upload', 'thresholds'],
      ),
      logging: obj(
        'Log file paths.',
        {
          main_log: str('INFO log file path.', { minLength: 1 }),
          debug_log: str('DEBUG log file path (used with --debug).', { minLength: 1 }),
        },
        ['main_log', 'debug_log'],
      ),
      lock_file: str('PID lock file path. Also gives the default state file: <dir>/<stem>_state.json.', {
        minLength: 1,
      }),
      lock_timeout: int('Age in seconds after which a PID-less lock file counts as stale.', {
        minimum: 1,
        maximum: 3600,
      }),
      state_file: str('State file path (D13: honoured; v1.3 ignored it). Default: derived from lock_file.', {
        minLength: 1,
      }),
      timeouts: obj('Timeouts in seconds.', {
        ssh_command: num('Router request timeout in s (REST and SSH).', { exclusiveMinimum: 0, default: 15 }),
        ping: num('Per-probe timeout in s (ping -W).', { exclusiveMinimum: 0, default: 1 }),
      }),
      health_check: healthSchema(9101),
      metrics: metricsSchema(9100),
      history: historySchema(9104),
    },
    ['wan_name', 'router', 'queues', 'continuous_monitoring', 'logging', 'lock_file', 'lock_timeout'],
  ),
};

const steeringThresholdsSchema = obj(
  'Congestion assessment and hysteresis. Rules: green_rtt_ms < yellow_rtt_ms ≤ red_rtt_ms.',
  {
    green_rtt_ms: num('RTT delta (ms) below which the link is healthy; only constrains yellow_rtt_ms.', {
      minimum: 0,
      default: 5,
    }),
    yellow_rtt_ms: num('YELLOW when the smoothed RTT delta exceeds this (ms).', { minimum: 0, default: 15 }),
    red_rtt_ms: num('RED needs the smoothed RTT delta above this (ms), plus drops and queue.', {
      minimum: 0,
      default: 15,
    }),
    min_drops_red: int('RED needs at least this many CAKE drops in the cycle.', { minimum: 1, default: 1 }),
    min_queue_yellow: int('YELLOW when at least this many packets are queued.', { minimum: 0, default: 10 }),
    min_queue_red: int('RED needs at least this many packets queued.', { minimum: 0, default: 50 }),
    red_samples_required: int('Consecutive RED assessments before steering is enabled.', {
      minimum: 1,
      default: 2,
    }),
    green_samples_required: int('Consecutive GREEN assessments before steering is disabled.', {
      minimum: 1,
      default: 15,
    }),
    rtt_ewma_alpha: num('EWMA weight of the RTT delta.', { minimum: 0, maximum: 1, default: 0.3 }),
    queue_ewma_alpha: num('EWMA weight of the queue depth.', { minimum: 0, maximum: 1, default: 0.4 }),
    bad_threshold_ms: num('Legacy mode (cake_aware false): degraded when the RTT delta exceeds this (ms).', {
      minimum: 0,
      default: 25,
    }),
    recovery_threshold_ms: num('Legacy mode: recovered when the RTT delta is below this (ms).', {
      minimum: 0,
      default: 12,
    }),
    bad_samples: int('Legacy mode: consecutive degraded samples before steering (deprecated).', {
      minimum: 1,
      default: 8,
    }),
    good_samples: int('Legacy mode: consecutive recovered samples before un-steering (deprecated).', {
      minimum: 1,
      default: 15,
    }),
    baseline_rtt_bounds: boundsSchema('a baseline read from the autorate state file outside them is refused'),
  },
);

const confidenceSchema = obj(
  'Confidence scoring (used when mode.use_confidence_scoring is true). Rule: recovery_threshold < steer_threshold.',
  {
    steer_threshold: num('Score (0–100) at or above which the degrade timer runs.', {
      minimum: 0,
      maximum: 100,
      default: 55,
    }),
    recovery_threshold: num('Score (0–100) at or below which recovery may start.', {
      minimum: 0,
      maximum: 100,
      default: 20,
    }),
    sustain_duration_sec: num('Seconds the score must stay high before steering.', {
      minimum: 0,
      default: 2,
    }),
    recovery_sustain_sec: num('Seconds recovery conditions must hold before un-steering.', {
      minimum: 0,
      default: 3,
    }),
    hold_down_duration_sec: num('Seconds after steering during which recovery is not evaluated.', {
      minimum: 0,
      default: 30,
    }),
    flap_detection_enabled: bool('Detect flapping.', { default: true }),
    flap_window_minutes: num('Flap detection window in minutes.', { exclusiveMinimum: 0, default: 5 }),
    max_toggles: int('Toggles within the window beyond which flapping is reported.', {
      minimum: 1,
      default: 4,
    }),
    penalty_duration_sec: num('Seconds the flap penalty lasts.', { minimum: 0, default: 60 }),
    penalty_threshold_add: int('Threshold increase while the flap penalty is active.', {
      minimum: 0,
      default: 15,
    }),
    dry_run: bool('Log decisions only; never change the rule.', { default: true }),
  },
);

const wanStateSchema = obj(
  "The primary WAN's autorate congestion report as a steering input (docs/decisions.md#d14).",
  {
    enabled: bool('Use the report (false: v1.3 decisions only).', { default: true }),
    rtt_delta_ms: num('Autorate RTT delta (ms) from which RED at the floor counts as congested.', {
      minimum: 0,
      default: 80,
    }),
    confirm_sec: num('Seconds the congestion must hold before steering is enabled.', {
      minimum: 0,
      maximum: 60,
      default: 1,
    }),
    hold_down_sec: num('Minimum seconds steered after an enable.', {
      minimum: 0,
      maximum: 3600,
      default: 10,
    }),
    recovery_rtt_ms: num('RTT delta (ms) under which the line counts as recovered.', {
      minimum: 0,
      default: 40,
    }),
    recovery_sec: num('Seconds the recovery must hold before steering is disabled.', {
      minimum: 0,
      maximum: 3600,
      default: 8,
    }),
    stale_sec: num('A report older than this (s) is unknown.', { minimum: 0.5, maximum: 600, default: 5 }),
    red_weight: num('Confidence points of a RED WAN zone (with RTT evidence only).', {
      minimum: 0,
      maximum: 100,
      default: 25,
    }),
    soft_red_weight: num('Confidence points of a SOFT_RED WAN zone (with RTT evidence only).', {
      minimum: 0,
      maximum: 100,
      default: 12,
    }),
  },
);

/** JSON Schema of the steering daemon config. */
export const steeringSchema: JsonSchema = {
  $id: 'https://wanctl.invalid/schema/steering.json',
  ...obj(
    'wanctl steering daemon config.',
    {
      schema_version: schemaVersion,
      wan_name: identifier('Name used in logs.'),
      router: routerSchema(30),
      topology: obj(
        'Which WAN is watched and which one takes steered traffic.',
        {
          primary_wan: identifier('Primary WAN name; gives the states <UPPER>_GOOD / <UPPER>_DEGRADED.'),
          primary_wan_config: str('Path of the primary WAN autorate config (informational).', {
            minLength: 1,
          }),
          alternate_wan: identifier('Alternate WAN name (informational).'),
        },
        ['primary_wan', 'primary_wan_config', 'alternate_wan'],
      ),
      mangle_rule: obj(
        'The firewall mangle rule that is enabled to steer.',
        {
          comment: str(
            'Exact comment of the rule (D7). 1–128 characters from A–Z a–z 0–9 _ . - : and space.',
            {
              pattern: COMMENT_PATTERN,
            },
          ),
        },
        ['comment'],
      ),
      cake_state_sources: obj('Where the primary WAN baseline comes from.', {
        primary: str(
          'Autorate state file of the primary WAN. Default: /var/lib/wanctl/<primary_wan>_state.json.',
          {
            minLength: 1,
          },
        ),
        spectrum: str('Legacy name of `primary` (used only if `primary` is absent).', { minLength: 1 }),
      }),
      cake_queues: obj('CAKE queues whose counters are read.', {
        primary_download: identifier(
          'Primary download queue. Default: WAN-Download-<Primary_wan capitalised>.',
        ),
        primary_upload: identifier('Primary upload queue. Default: WAN-Upload-<Primary_wan capitalised>.'),
        spectrum_download: identifier('Legacy name of primary_download.'),
        spectrum_upload: identifier('Legacy name of primary_upload.'),
      }),
      measurement: obj(
        'RTT measurement and cycle period.',
        {
          interval_seconds: num('Cycle period in seconds.', { minimum: 0.01, maximum: 60 }),
          ping_host: hostString('Host to ping: IPv4, IPv6 or RFC 1123 host name, at most 256 characters.'),
          ping_count: int('Pings per cycle; their median is used.', { minimum: 1, maximum: 20 }),
          probe: probeSchema('ping_host'),
        },
        ['interval_seconds', 'ping_host', 'ping_count'],
      ),
      mode: obj('Operating mode.', {
        cake_aware: bool('Use RTT + CAKE drops + queue (true) or RTT alone (legacy, false).', {
          default: true,
        }),
        enable_yellow_state: bool('Accepted for v1.3 compatibility; YELLOW is always assessed.', {
          default: true,
        }),
        use_confidence_scoring: bool('Also run confidence scoring (see `confidence`).', { default: false }),
        reset_counters: bool('Accepted for v1.3 compatibility; never read.'),
      }),
      confidence: confidenceSchema,
      wan_state: wanStateSchema,
      thresholds: steeringThresholdsSchema,
      state: obj(
        'Steering state file.',
        {
          file: str('State file path.', { minLength: 1 }),
          history_size: int('Samples and transitions kept in the state file.', { minimum: 1, maximum: 3000 }),
        },
        ['file', 'history_size'],
      ),
      logging: obj(
        'Log file paths.',
        {
          main_log: str('INFO log file path.', { minLength: 1 }),
          debug_log: str('DEBUG log file path (used with --debug).', { minLength: 1 }),
          log_cake_stats: bool('Accepted for v1.3 compatibility; no effect.', { default: true }),
        },
        ['main_log', 'debug_log'],
      ),
      lock_file: str('PID lock file path.', { minLength: 1 }),
      lock_timeout: int('Age in seconds after which a PID-less lock file counts as stale.', {
        minimum: 1,
        maximum: 3600,
      }),
      timeouts: obj('Timeouts in seconds.', {
        ssh_command: num('Router request timeout in s.', { exclusiveMinimum: 0, default: 30 }),
        ping: num('Per-ping timeout in s (ping -W).', { exclusiveMinimum: 0, default: 2 }),
        ping_total: num('Timeout of one whole ping run in s.', { exclusiveMinimum: 0, default: 10 }),
      }),
      health_check: healthSchema(9102),
      metrics: metricsSchema(9103),
      history: historySchema(9105),
    },
    [
      'wan_name',
      'router',
      'topology',
      'mangle_rule',
      'measurement',
      'thresholds',
      'state',
      'logging',
      'lock_file',
      'lock_timeout',
    ],
  ),
};

/** Every documented key path of a schema (`a.b.c`), in schema order. */
export function schemaKeyPaths(schema: JsonSchema, prefix = ''): string[] {
  const out: string[] = [];
  const props = schema['properties'];
  if (props === undefined || props === null || typeof props !== 'object') return out;
  for (const [key, sub] of Object.entries(props as Record<string, JsonSchema>)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    out.push(path);
    out.push(...schemaKeyPaths(sub, path));
  }
  return out;
}

/** The sub-schema at a dotted key path, or undefined. */
export function schemaAt(schema: JsonSchema, path: string): JsonSchema | undefined {
  let cur: JsonSchema | undefined = schema;
  for (const part of path.split('.').filter((p) => p !== '')) {
    const props: unknown = cur?.['properties'];
    if (props === undefined || props === null || typeof props !== 'object') return undefined;
    cur = (props as Record<string, JsonSchema>)[part];
  }
  return cur;
}
