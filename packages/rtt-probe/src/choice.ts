/**
 * Which RTT probe a daemon uses, from plain settings: the config's probe method (ICMP through
 * fping, or UDP echo to each ping host on `udpPort`), unless a `--udp-reflector host:port[,…]`
 * list overrides it. Shared by both daemons (autorate: `continuous_monitoring.probe`, steering:
 * `measurement.probe`); takes plain values, so this package does not depend on the config package.
 */
import { FpingProbe } from './fping.js';
import { ProbeConfigError, type ProbeEvent, ProbeUnavailableError, type RttProbe } from './types.js';
import { formatReflector, parseHostPort, UdpEchoProbe, type UdpReflector } from './udp.js';

/** The probe settings of a config: method and the UDP echo port (used with method `udp`). */
export interface ProbeSettings {
  method: 'icmp' | 'udp';
  udpPort: number;
}

/** Where the probe choice came from (shown in health and the start-up log). */
export type ProbeSource = 'config' | '--udp-reflector';

/** A chosen probe: `kind` is the implementation, `method` the config vocabulary. */
export interface ProbeChoice {
  kind: 'fping' | 'udp';
  method: 'icmp' | 'udp';
  source: ProbeSource;
  /** UDP port from the config (method udp, source config), else null. */
  udpPort: number | null;
  /** What is probed: hosts (fping), `host:port` strings or host/port pairs (udp). */
  reflectors: Array<string | UdpReflector>;
}

/**
 * Decides the probe. `hosts` are the reflectors in use (already cut to one or three);
 * `override` the `--udp-reflector` list (null or empty: the settings decide), cut to `maxOverride`.
 */
export function chooseProbe(
  settings: ProbeSettings,
  hosts: readonly string[],
  override: readonly string[] | null | undefined,
  maxOverride: number = Number.POSITIVE_INFINITY,
): ProbeChoice {
  if (override && override.length > 0) {
    return {
      kind: 'udp',
      method: 'udp',
      source: '--udp-reflector',
      udpPort: null,
      reflectors: override.slice(0, maxOverride),
    };
  }
  if (settings.method === 'udp') {
    return {
      kind: 'udp',
      method: 'udp',
      source: 'config',
      udpPort: settings.udpPort,
      reflectors: hosts.map((host) => ({ host, port: settings.udpPort })),
    };
  }
  return { kind: 'fping', method: 'icmp', source: 'config', udpPort: null, reflectors: [...hosts] };
}

/**
 * How `host` is named in the chosen probe's reflector list (what `reflectors`, samples, health
 * and {@link RttProbe.replaceReflector} use): the host itself (fping), `host:port` on the
 * config's UDP port (`[v6]:port` for IPv6), or, with `--udp-reflector`, the `host:port` given.
 * For naming a spare reflector before swapping it in.
 * @throws {ProbeConfigError} a `--udp-reflector` entry that is not `host:port`
 */
export function reflectorName(choice: ProbeChoice, host: string): string {
  if (choice.kind === 'fping') return host;
  if (choice.source === '--udp-reflector' || choice.udpPort === null)
    return formatReflector(parseHostPort(host));
  return formatReflector({ host, port: choice.udpPort });
}

export interface ProbeTiming {
  periodMs: number;
  timeoutMs: number;
  onEvent?: (e: ProbeEvent) => void;
  /** fping binary (default `fping` on PATH). */
  fpingBinary?: string;
}

/** Builds the chosen probe (not started). @throws {ProbeConfigError} for a bad `host:port`. */
export function createProbe(choice: ProbeChoice, t: ProbeTiming): RttProbe {
  const common = {
    periodMs: t.periodMs,
    timeoutMs: t.timeoutMs,
    ...(t.onEvent ? { onEvent: t.onEvent } : {}),
  };
  if (choice.kind === 'udp') return new UdpEchoProbe({ reflectors: choice.reflectors, ...common });
  return new FpingProbe({
    reflectors: choice.reflectors as string[],
    ...common,
    ...(t.fpingBinary ? { binary: t.fpingBinary } : {}),
  });
}

/** How health and the start-up log describe a probe choice. */
export interface ProbeInfo {
  method: 'icmp' | 'udp';
  source: ProbeSource;
  udp_port: number | null;
}

export function probeInfo(choice: ProbeChoice): ProbeInfo {
  return { method: choice.method, source: choice.source, udp_port: choice.udpPort };
}

/** {@link createProbeFromSettings}' input: the settings, the hosts, the override and the timing. */
export interface ProbeFromSettingsOptions extends ProbeSettings, ProbeTiming {
  /** The ping hosts in use. */
  hosts: readonly string[];
  /** `--udp-reflector host:port` list; null or empty: the settings decide. */
  override?: readonly string[] | null;
  /** At most this many override reflectors (default: all). */
  maxOverride?: number;
}

/**
 * {@link chooseProbe} + {@link createProbe} + {@link probeInfo} in one call.
 * @throws {ProbeConfigError} for a bad `host:port` in the override
 *
 * @example
 * const { probe, info } = createProbeFromSettings({ method: 'udp', udpPort: 7, hosts: ['192.0.2.1'],
 *   periodMs: 50, timeoutMs: 1000 });
 * probe.start();
 */
export function createProbeFromSettings(o: ProbeFromSettingsOptions): {
  probe: RttProbe;
  choice: ProbeChoice;
  info: ProbeInfo;
} {
  const choice = chooseProbe({ method: o.method, udpPort: o.udpPort }, o.hosts, o.override, o.maxOverride);
  const probe = createProbe(choice, {
    periodMs: o.periodMs,
    timeoutMs: o.timeoutMs,
    ...(o.onEvent ? { onEvent: o.onEvent } : {}),
    ...(o.fpingBinary ? { fpingBinary: o.fpingBinary } : {}),
  });
  return { probe, choice, info: probeInfo(choice) };
}

/**
 * How a command line tells this package's errors (exit status and the words before the message):
 * a bad reflector is a config problem (2, "bad reflector"), no usable probe is fatal (1, "cannot
 * probe RTT"); undefined for any other error. Fits @wanctl/runtime's `reportFatal` classifier.
 */
export function probeErrorKind(e: unknown): { code: 1 | 2; label: string } | undefined {
  if (e instanceof ProbeConfigError) return { code: 2, label: 'bad reflector' };
  if (e instanceof ProbeUnavailableError) return { code: 1, label: 'cannot probe RTT' };
  return undefined;
}
