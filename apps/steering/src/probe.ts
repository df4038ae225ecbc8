/**
 * Which RTT probe the daemon uses: `measurement.probe` in the config (ICMP through fping, or UDP
 * echo to the ping host on `udp_port`), unless `--udp-reflector host:port[,…]` overrides it.
 * (The same module as autorate's src/daemon/probe.ts: a candidate for @wanctl/rtt-probe.)
 */
import type { ProbeConfig } from '@wanctl/config';
import {
  FpingProbe,
  type ProbeEvent,
  type RttProbe,
  UdpEchoProbe,
  type UdpReflector,
} from '@wanctl/rtt-probe';

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
 * `override` the `--udp-reflector` list (null or empty: the config decides), cut to `maxOverride`.
 */
export function chooseProbe(
  probe: ProbeConfig,
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
  if (probe.method === 'udp') {
    return {
      kind: 'udp',
      method: 'udp',
      source: 'config',
      udpPort: probe.udpPort,
      reflectors: hosts.map((host) => ({ host, port: probe.udpPort })),
    };
  }
  return { kind: 'fping', method: 'icmp', source: 'config', udpPort: null, reflectors: [...hosts] };
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
