import { parse as parsePath } from 'node:path';
import { boolAt, type Context, getPath, isValidHost, numAt, strAt } from './context.js';
import { historyConfig } from './history.js';
import { endpoint, normaliseRouter, schemaVersionOf } from './router.js';
import { CAKE_OVERHEAD_KEYWORDS } from './schemas.js';
import type {
  AutorateConfig,
  CakeDiffserv,
  CakeOptions,
  CakeParamsConfig,
  FallbackConfig,
  LinuxQdiscKind,
  ProbeConfig,
  QueueLimits,
  RouterTransport,
} from './types.js';

const MBPS = 1_000_000;
const mbps = (bps: number): string => `${bps / MBPS} Mbps`;

function limits(ctx: Context, data: unknown, dir: 'download' | 'upload'): QueueLimits {
  const base = `continuous_monitoring.${dir}`;
  const present = getPath(data, base) !== undefined;
  const at = (k: string): number | undefined => numAt(data, `${base}.${k}`);
  const has = (k: string): boolean => getPath(data, `${base}.${k}`) !== undefined;
  const perStateKeys =
    dir === 'download'
      ? ['floor_green_mbps', 'floor_yellow_mbps', 'floor_soft_red_mbps', 'floor_red_mbps']
      : ['floor_green_mbps', 'floor_yellow_mbps', 'floor_red_mbps'];
  const perState = has('floor_green_mbps');
  const ceiling = (at('ceiling_mbps') ?? 0) * MBPS;
  let green = 0;
  let yellow = 0;
  let softRed = 0;
  let red = 0;
  if (present) {
    if (perState) {
      if (has('floor_mbps')) {
        ctx.error(`${base}.floor_mbps`, 'give either floor_mbps (legacy) or the per-state floors, not both', {
          expected: `only ${perStateKeys.join(', ')}`,
        });
      }
      for (const k of ['floor_yellow_mbps', 'floor_red_mbps']) {
        if (!has(k)) ctx.error(`${base}.${k}`, `required with floor_green_mbps (per-state floors)`);
      }
      green = (at('floor_green_mbps') ?? 0) * MBPS;
      yellow = (at('floor_yellow_mbps') ?? 0) * MBPS;
      red = (at('floor_red_mbps') ?? 0) * MBPS;
      softRed =
        dir === 'download' && has('floor_soft_red_mbps') ? (at('floor_soft_red_mbps') ?? 0) * MBPS : yellow;
    } else if (has('floor_mbps')) {
      const stray = perStateKeys.filter((k) => has(k));
      for (const k of stray) {
        ctx.error(
          `${base}.${k}`,
          'per-state floors need floor_green_mbps; give either floor_mbps or all per-state floors',
          {
            expected: 'floor_green_mbps, floor_yellow_mbps and floor_red_mbps',
          },
        );
      }
      green = (at('floor_mbps') ?? 0) * MBPS;
      yellow = green;
      softRed = green;
      red = green;
    } else {
      const partial = perStateKeys.filter((k) => has(k));
      ctx.error(
        `${base}.${partial.length > 0 ? 'floor_green_mbps' : 'floor_mbps'}`,
        partial.length > 0 ? 'required with the other per-state floors' : 'no floor given',
        { expected: 'floor_mbps, or floor_green_mbps + floor_yellow_mbps + floor_red_mbps' },
      );
    }
    // Ordering: red ≤ soft_red ≤ yellow ≤ green ≤ ceiling (v1.3 validate_bandwidth_order).
    const chain: Array<[string, number, boolean]> = perState
      ? [
          ['floor_red_mbps', red, has('floor_red_mbps')],
          ...(dir === 'download'
            ? ([
                ['floor_soft_red_mbps', softRed, has('floor_soft_red_mbps') || has('floor_yellow_mbps')],
              ] as Array<[string, number, boolean]>)
            : []),
          ['floor_yellow_mbps', yellow, has('floor_yellow_mbps')],
          ['floor_green_mbps', green, has('floor_green_mbps')],
          ['ceiling_mbps', ceiling, at('ceiling_mbps') !== undefined],
        ]
      : [
          ['floor_mbps', green, at('floor_mbps') !== undefined],
          ['ceiling_mbps', ceiling, at('ceiling_mbps') !== undefined],
        ];
    const valid = chain.every(([, v, ok]) => ok && v > 0);
    if (valid) {
      for (let i = 0; i + 1 < chain.length; i++) {
        const [lk, lv] = chain[i] as [string, number, boolean];
        const [hk, hv] = chain[i + 1] as [string, number, boolean];
        if (lv > hv) {
          const key = lk === 'floor_soft_red_mbps' && !has('floor_soft_red_mbps') ? 'floor_yellow_mbps' : lk;
          ctx.error(
            `${base}.${key}`,
            `${dir} floor ordering violated: ${lk} (${mbps(lv)}) must be ≤ ${hk} (${mbps(hv)}); expected floor_red ≤ ${dir === 'download' ? 'floor_soft_red ≤ ' : ''}floor_yellow ≤ floor_green ≤ ceiling`,
            { expected: `≤ ${hv / MBPS}`, found: lv / MBPS },
          );
        }
      }
    }
  }
  return {
    floorStyle: perState ? 'per-state' : 'legacy',
    floorGreenBps: green,
    floorYellowBps: yellow,
    floorSoftRedBps: softRed,
    floorRedBps: red,
    ceilingBps: ceiling,
    stepUpBps: (at('step_up_mbps') ?? 0) * MBPS,
    factorDown: at('factor_down') ?? 0,
    factorDownYellow: at('factor_down_yellow') ?? (dir === 'download' ? 0.96 : 0.94),
    greenRequired: at('green_required') ?? 5,
  };
}

/** `cake_params`: required with linux-cake, refused otherwise (a key that is silently unused cost v1.3 users days). */
function cakeParams(ctx: Context, data: unknown, transport: RouterTransport): CakeParamsConfig | null {
  const present = getPath(data, 'cake_params') !== undefined;
  if (transport !== 'linux-cake') {
    if (present)
      ctx.error('cake_params', `only used with router.transport "linux-cake" (transport is "${transport}")`, {
        expected: 'router.transport: linux-cake, or no cake_params',
      });
    return null;
  }
  if (!present) {
    ctx.error('cake_params', 'required when router.transport is "linux-cake"', {
      expected: 'a mapping with download_interface and upload_interface',
    });
    return null;
  }
  const options = (prefix: string, base?: CakeOptions): CakeOptions => {
    const at = (k: string) => getPath(data, `${prefix}${k}`);
    const overhead = at('overhead');
    if (typeof overhead === 'string' && !(CAKE_OVERHEAD_KEYWORDS as readonly string[]).includes(overhead)) {
      ctx.error(`${prefix}overhead`, 'not a CAKE overhead keyword', {
        expected: `an integer -64..256 or one of ${CAKE_OVERHEAD_KEYWORDS.join(', ')}`,
        found: overhead,
      });
    }
    const pick = <T>(k: string, v: T | undefined, b: T | undefined): T | undefined =>
      at(k) === undefined ? b : v;
    return {
      overhead: pick(
        'overhead',
        typeof overhead === 'number' || typeof overhead === 'string' ? overhead : undefined,
        base?.overhead,
      ),
      mpu: pick('mpu', numAt(data, `${prefix}mpu`), base?.mpu),
      memlimit: pick('memlimit', numAt(data, `${prefix}memlimit`), base?.memlimit),
      rttMs: pick('rtt', numAt(data, `${prefix}rtt`), base?.rttMs),
      diffserv: pick(
        'diffserv',
        strAt(data, `${prefix}diffserv`) as CakeDiffserv | undefined,
        base?.diffserv,
      ),
      ackFilter: pick('ack_filter', at('ack_filter') as boolean | 'aggressive' | undefined, base?.ackFilter),
      splitGso: pick('split_gso', boolAt(data, `${prefix}split_gso`), base?.splitGso),
      ecn: pick('ecn', boolAt(data, `${prefix}ecn`), base?.ecn),
      nat: pick('nat', boolAt(data, `${prefix}nat`), base?.nat),
      wash: pick('wash', boolAt(data, `${prefix}wash`), base?.wash),
      ingress: pick('ingress', boolAt(data, `${prefix}ingress`), base?.ingress),
    };
  };
  const top = options('cake_params.');
  const p: CakeParamsConfig = {
    downloadInterface: strAt(data, 'cake_params.download_interface') ?? '',
    uploadInterface: strAt(data, 'cake_params.upload_interface') ?? '',
    downloadQdisc: (strAt(data, 'cake_params.download_qdisc') ?? 'cake') as LinuxQdiscKind,
    uploadQdisc: (strAt(data, 'cake_params.upload_qdisc') ?? 'cake') as LinuxQdiscKind,
    ...top,
    download: options('cake_params.download.', top),
    upload: options('cake_params.upload.', top),
    tbfLatencyMs: numAt(data, 'cake_params.tbf_latency_ms') ?? 5,
  };
  if (p.downloadInterface !== '' && p.downloadInterface === p.uploadInterface) {
    ctx.error(
      'cake_params.upload_interface',
      'must differ from download_interface (one qdisc per direction)',
      {
        found: p.uploadInterface,
      },
    );
  }
  for (const dir of ['download', 'upload'] as const) {
    const kind = dir === 'download' ? p.downloadQdisc : p.uploadQdisc;
    const o = p[dir] as CakeOptions;
    if (o.ecn === false && kind === 'cake') {
      const path =
        getPath(data, `cake_params.${dir}.ecn`) !== undefined ? `cake_params.${dir}.ecn` : 'cake_params.ecn';
      if (ctx.problems.some((x) => x.path === path)) continue;
      ctx.error(
        path,
        `CAKE cannot turn ECN marking off (${dir}_qdisc is cake); false only applies to htb_fq_codel`,
        {
          expected: 'true or no ecn key with a cake qdisc',
        },
      );
    }
  }
  if (p.downloadQdisc !== 'cake' && p.uploadQdisc !== 'cake') {
    const cakeOnly = [
      'overhead',
      'mpu',
      'memlimit',
      'rtt',
      'diffserv',
      'ack_filter',
      'split_gso',
      'nat',
      'wash',
      'ingress',
    ];
    for (const k of cakeOnly) {
      for (const prefix of ['cake_params.', 'cake_params.download.', 'cake_params.upload.']) {
        if (getPath(data, `${prefix}${k}`) !== undefined)
          ctx.warn(`${prefix}${k}`, 'ignored: neither direction uses the cake qdisc');
      }
    }
  }
  return p;
}

/** Applies the autorate rules to a schema-checked document and builds the normalised config. */
export function normaliseAutorate(
  ctx: Context,
  data: Record<string, unknown>,
  raw: Record<string, unknown>,
): AutorateConfig {
  const cm = 'continuous_monitoring';
  const th = `${cm}.thresholds`;
  const cycleIntervalMs = numAt(data, `${cm}.cycle_interval_ms`) ?? 50;
  const intervalSec = cycleIntervalMs / 1000;

  // Alphas: a time constant wins over a raw alpha; one of each pair is required.
  const thresholdsPresent = getPath(data, th) !== undefined;
  const alphaFrom = (tcKey: string, alphaKey: string): { alpha: number; tc: number | null } => {
    const tc = numAt(data, `${th}.${tcKey}`);
    const alpha = numAt(data, `${th}.${alphaKey}`);
    if (tc !== undefined) {
      const a = intervalSec / tc;
      if (a > 1) {
        ctx.error(
          `${th}.${tcKey}`,
          `time constant is shorter than the cycle interval (${cycleIntervalMs} ms)`,
          {
            expected: `≥ ${intervalSec}`,
            found: tc,
          },
        );
      }
      return { alpha: a, tc };
    }
    if (alpha !== undefined) return { alpha, tc: null };
    if (
      thresholdsPresent &&
      getPath(data, `${th}.${tcKey}`) === undefined &&
      getPath(data, `${th}.${alphaKey}`) === undefined
    ) {
      ctx.error(`${th}.${tcKey}`, `give ${tcKey} (seconds) or ${alphaKey}`, {
        expected: `${tcKey} or ${alphaKey}`,
      });
    }
    return { alpha: 0, tc: null };
  };
  const base = alphaFrom('baseline_time_constant_sec', 'alpha_baseline');
  const load = alphaFrom('load_time_constant_sec', 'alpha_load');
  if (load.tc === null && load.alpha > 0 && intervalSec / load.alpha > 5) {
    ctx.warn(
      `${th}.alpha_load`,
      `alpha_load ${load.alpha} is a ${(intervalSec / load.alpha).toFixed(1)} s time constant at a ${cycleIntervalMs} ms cycle; consider load_time_constant_sec`,
    );
  }

  // Threshold ordering: target < warn < hard_red (strict).
  const target = numAt(data, `${th}.target_bloat_ms`);
  const warn = numAt(data, `${th}.warn_bloat_ms`);
  const hardRed = numAt(data, `${th}.hard_red_bloat_ms`) ?? 80;
  if (target !== undefined && warn !== undefined && !(target < warn)) {
    ctx.error(
      `${th}.target_bloat_ms`,
      `threshold ordering violated: target_bloat_ms must be < warn_bloat_ms (${warn})`,
      {
        expected: `< ${warn}`,
        found: target,
      },
    );
  }
  if (warn !== undefined && !(warn < hardRed)) {
    ctx.error(
      `${th}.${getPath(data, `${th}.hard_red_bloat_ms`) !== undefined ? 'hard_red_bloat_ms' : 'warn_bloat_ms'}`,
      `threshold ordering violated: warn_bloat_ms (${warn}) must be < hard_red_bloat_ms (${hardRed})`,
      { expected: `warn_bloat_ms < hard_red_bloat_ms` },
    );
  }
  const bmin = numAt(data, `${th}.baseline_rtt_bounds.min`) ?? 10;
  const bmax = numAt(data, `${th}.baseline_rtt_bounds.max`) ?? 60;
  if (!(bmin < bmax)) {
    ctx.error(`${th}.baseline_rtt_bounds.min`, `baseline_rtt_bounds.min (${bmin}) must be < max (${bmax})`, {
      expected: `< ${bmax}`,
      found: bmin,
    });
  }
  const initial = numAt(data, `${cm}.baseline_rtt_initial`) ?? 0;
  if (initial > 0 && (initial < bmin || initial > bmax)) {
    ctx.warn(
      `${cm}.baseline_rtt_initial`,
      `baseline_rtt_initial ${initial} ms is outside baseline_rtt_bounds [${bmin}, ${bmax}]; the baseline cannot move until bounds include it`,
    );
  }

  // Ping hosts.
  const hostsRaw = getPath(data, `${cm}.ping_hosts`);
  const pingHosts = Array.isArray(hostsRaw) ? hostsRaw.filter((h): h is string => typeof h === 'string') : [];
  pingHosts.forEach((h, i) => {
    if (h.length <= 256 && !isValidHost(h)) {
      ctx.error(`${cm}.ping_hosts[${i}]`, 'not a valid ping host', {
        expected: 'IPv4, IPv6 or RFC 1123 host name',
        found: h,
      });
    }
  });
  const useMedian = boolAt(data, `${cm}.use_median_of_three`) ?? false;
  if (useMedian && pingHosts.length > 0 && pingHosts.length < 3) {
    ctx.warn(
      `${cm}.use_median_of_three`,
      `use_median_of_three needs 3 ping_hosts; only ${pingHosts.length} given`,
    );
  }
  // Spare reflectors (adaptive law): validated like ping_hosts; one already listed is dropped.
  const sparesRaw = getPath(data, `${cm}.spare_ping_hosts`);
  const sparePingHosts: string[] = [];
  if (Array.isArray(sparesRaw)) {
    sparesRaw.forEach((h: unknown, i) => {
      if (typeof h !== 'string') return;
      if (h.length <= 256 && !isValidHost(h)) {
        ctx.error(`${cm}.spare_ping_hosts[${i}]`, 'not a valid ping host', {
          expected: 'IPv4, IPv6 or RFC 1123 host name',
          found: h,
        });
        return;
      }
      if (pingHosts.includes(h) || sparePingHosts.includes(h)) {
        ctx.warn(
          `${cm}.spare_ping_hosts[${i}]`,
          `${h} is listed already (ping_hosts or an earlier spare); ignored`,
        );
        return;
      }
      sparePingHosts.push(h);
    });
  }
  if (sparePingHosts.length > 0 && (strAt(data, `${cm}.control_law`) ?? 'v1.3') !== 'adaptive') {
    ctx.warn(
      `${cm}.spare_ping_hosts`,
      'spare_ping_hosts has no effect with control_law v1.3 (only the adaptive law reports bad reflectors)',
    );
  }

  // Fallback checks (D11: no site-specific gateway default).
  const fb = `${cm}.fallback_checks`;
  const gatewayIp = strAt(data, `${fb}.gateway_ip`) ?? null;
  if (gatewayIp !== null && !isValidHost(gatewayIp)) {
    ctx.error(`${fb}.gateway_ip`, 'not a valid address or host name', {
      expected: 'IPv4, IPv6 or RFC 1123 host name',
      found: gatewayIp,
    });
  }
  const checkGateway = boolAt(data, `${fb}.check_gateway`) ?? true;
  const fallbackEnabled = boolAt(data, `${fb}.enabled`) ?? true;
  if (fallbackEnabled && checkGateway && gatewayIp === null && getPath(data, fb) !== undefined) {
    ctx.warn(
      `${fb}.check_gateway`,
      'check_gateway is on but gateway_ip is not set; the gateway check is skipped',
    );
  }
  const targetsRaw = getPath(data, `${fb}.tcp_targets`);
  const tcpTargets = Array.isArray(targetsRaw)
    ? targetsRaw
        .filter(
          (t): t is [string, number] =>
            Array.isArray(t) && typeof t[0] === 'string' && typeof t[1] === 'number',
        )
        .map(([host, port]) => ({ host, port }))
    : [
        { host: '1.1.1.1', port: 443 },
        { host: '8.8.8.8', port: 443 },
      ];
  tcpTargets.forEach((t, i) => {
    if (!isValidHost(t.host)) {
      ctx.error(`${fb}.tcp_targets[${i}]`, 'not a valid TCP target host', {
        expected: 'IPv4, IPv6 or RFC 1123 host name',
        found: t.host,
      });
    }
  });
  const fallback: FallbackConfig = {
    enabled: fallbackEnabled,
    checkGateway,
    checkTcp: boolAt(data, `${fb}.check_tcp`) ?? true,
    gatewayIp,
    tcpTargets,
    mode: (strAt(data, `${fb}.fallback_mode`) ?? 'graceful_degradation') as FallbackConfig['mode'],
    maxCycles: numAt(data, `${fb}.max_fallback_cycles`) ?? 3,
  };

  const sshCommandSec = numAt(data, 'timeouts.ssh_command') ?? 15;
  const router = normaliseRouter(ctx, data, sshCommandSec);
  const cake = cakeParams(ctx, data, router.transport);
  const lockFile = strAt(data, 'lock_file') ?? '';
  const lp = parsePath(lockFile);
  const derivedState = lockFile === '' ? '' : `${lp.dir === '' ? '.' : lp.dir}/${lp.name}_state.json`;

  const download = limits(ctx, data, 'download');
  const upload = limits(ctx, data, 'upload');
  const schemaVersion = schemaVersionOf(ctx, data);

  return {
    kind: 'autorate',
    file: ctx.file,
    schemaVersion,
    wanName: strAt(data, 'wan_name') ?? '',
    router,
    queues: { download: strAt(data, 'queues.download') ?? '', upload: strAt(data, 'queues.upload') ?? '' },
    enabled: boolAt(data, `${cm}.enabled`) ?? true,
    cycleIntervalMs,
    baselineRttInitialMs: initial,
    pingHosts,
    sparePingHosts,
    useMedianOfThree: useMedian,
    controlLaw: (strAt(data, `${cm}.control_law`) ?? 'v1.3') as AutorateConfig['controlLaw'],
    cutBelowFloor: boolAt(data, `${cm}.cut_below_floor`) ?? false,
    probe: {
      method: (strAt(data, `${cm}.probe.method`) ?? 'icmp') as ProbeConfig['method'],
      udpPort: numAt(data, `${cm}.probe.udp_port`) ?? 7,
    },
    download,
    upload,
    thresholds: {
      targetBloatMs: target ?? 0,
      warnBloatMs: warn ?? 0,
      hardRedBloatMs: hardRed,
      alphaBaseline: base.alpha,
      alphaLoad: load.alpha,
      baselineTimeConstantSec: base.tc,
      loadTimeConstantSec: load.tc,
      baselineUpdateThresholdMs: numAt(data, `${th}.baseline_update_threshold_ms`) ?? 3.0,
      accelThresholdMs: numAt(data, `${th}.accel_threshold_ms`) ?? 15.0,
      accelConfirmCycles: numAt(data, `${th}.accel_confirm_cycles`) ?? 3,
      baselineRttMinMs: bmin,
      baselineRttMaxMs: bmax,
    },
    fallback,
    // The kernel needs no write budget: by default linux-cake allows a write every cycle
    // (twice the cycles of a 1 s window, so scheduling jitter never holds one back).
    writeBudget:
      router.transport === 'linux-cake' && getPath(data, `${cm}.write_budget`) === undefined
        ? { maxWrites: 2 * Math.ceil(1000 / cycleIntervalMs) + 1, windowSec: 1 }
        : {
            maxWrites: numAt(data, `${cm}.write_budget.max_writes`) ?? 10,
            windowSec: numAt(data, `${cm}.write_budget.window_sec`) ?? 60,
          },
    writePolicy: {
      maxPerSecond: numAt(data, `${cm}.write_policy.max_per_second`) ?? 2,
      burst: numAt(data, `${cm}.write_policy.burst`) ?? 4,
      deadbandPercent: numAt(data, `${cm}.write_policy.deadband_percent`) ?? 1,
    },
    cakeParams: cake,
    lockFile,
    lockTimeoutSec: numAt(data, 'lock_timeout') ?? 0,
    stateFile: strAt(data, 'state_file') ?? derivedState,
    logging: {
      mainLog: strAt(data, 'logging.main_log') ?? '',
      debugLog: strAt(data, 'logging.debug_log') ?? '',
    },
    timeouts: { sshCommandSec, pingSec: numAt(data, 'timeouts.ping') ?? 1 },
    healthCheck: endpoint(data, 'health_check', true, 9101),
    metrics: endpoint(data, 'metrics', false, 9100),
    history: historyConfig(data, strAt(data, 'wan_name') ?? '', 9104),
    warnings: ctx.warnings,
    raw,
  };
}
