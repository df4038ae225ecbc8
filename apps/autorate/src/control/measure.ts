/**
 * RTT aggregation and ICMP-failure fallback (v1.3 `measure_rtt`, `verify_connectivity_fallback`,
 * `handle_icmp_failure`) as pure functions over inputs. No sockets, no pings: the shell measures;
 * these decide.
 */
import type { FallbackParams } from './params.js';

/** A reply usable as an RTT sample: a finite number >= 0 (docs/decisions.md#d12: others are dropped, flagged). */
export function isValidRtt(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/**
 * Median of the valid entries of `values` (Python `statistics.median`: the middle value, or the
 * mean of the two middle values), or null when none is valid. `scratch` is reused to avoid a
 * per-cycle allocation; it is clobbered. `invalid` receives the count of dropped entries.
 */
export function medianOfValid(
  values: ArrayLike<unknown>,
  scratch: number[],
  counts?: { invalid: number },
): number | null {
  scratch.length = 0;
  let invalid = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isValidRtt(v)) {
      // insertion sort: n is tiny (3 reflectors, 2 TCP targets)
      let j = scratch.length;
      scratch.push(v);
      while (j > 0 && (scratch[j - 1] as number) > v) {
        scratch[j] = scratch[j - 1] as number;
        j--;
      }
      scratch[j] = v;
    } else if (v !== null) {
      invalid++;
    }
  }
  if (counts) counts.invalid = invalid;
  const n = scratch.length;
  if (n === 0) return null;
  const mid = n >> 1;
  if (n % 2 === 1) return scratch[mid] as number;
  return ((scratch[mid - 1] as number) + (scratch[mid] as number)) / 2;
}

/** Result of the connectivity checks run after all ICMP probes failed. */
export interface ConnectivityResult {
  /** Gateway (or TCP) reachable: the link is up, ICMP is what failed. */
  connected: boolean;
  gatewayOk: boolean;
  /** Median of the TCP connect RTTs that succeeded, or null. */
  tcpRttMs: number | null;
}

/**
 * v1.3 `verify_connectivity_fallback`, over inputs: `gatewayOk` is the gateway ping result,
 * `tcpRttsMs` one entry per TCP target (null = connect failed). Disabled checks ignore their input.
 * With `fallback.enabled` false nothing is checked and the result is "not connected".
 */
export function verifyConnectivityFallback(
  f: FallbackParams,
  gatewayOk: boolean | undefined,
  tcpRttsMs: ArrayLike<number | null> | undefined,
  out: ConnectivityResult,
  scratch: number[],
): ConnectivityResult {
  out.gatewayOk = false;
  out.tcpRttMs = null;
  out.connected = false;
  if (!f.enabled) return out;
  if (f.checkGateway) out.gatewayOk = gatewayOk === true;
  if (f.checkTcp && tcpRttsMs !== undefined) out.tcpRttMs = medianOfValid(tcpRttsMs, scratch);
  out.connected = out.tcpRttMs !== null || out.gatewayOk;
  return out;
}

/**
 * What an ICMP-failure cycle does:
 * - `use_rtt`: continue with `rttMs` as the sample (a TCP RTT, or the last load EWMA);
 * - `freeze`: succeed without touching EWMAs, rates or the router;
 * - `fail`: the cycle fails (`reason` says why).
 */
export type FallbackAction = 'use_rtt' | 'freeze' | 'fail';
export type FallbackFailReason =
  | 'fallback_disabled'
  | 'no_connectivity'
  | 'fallback_exhausted'
  | 'unknown_mode';

export interface FallbackDecision {
  action: FallbackAction;
  rttMs: number | null;
  /** Where `rttMs` came from when action is use_rtt. */
  source: 'tcp' | 'last_load' | null;
  reason: FallbackFailReason | null;
  /** The ICMP-unavailable counter after this cycle. */
  icmpUnavailableCycles: number;
}

/**
 * v1.3 `handle_icmp_failure`: total loss fails without counting; otherwise the counter goes up, a
 * TCP RTT is used whatever the mode, else by mode: graceful_degradation (1st cycle reuses the load
 * EWMA, then freeze up to `maxCycles`, then fail), freeze (always), use_last_rtt (always the load
 * EWMA); an unknown mode fails.
 */
export function handleIcmpFailure(
  f: FallbackParams,
  conn: ConnectivityResult,
  icmpUnavailableCycles: number,
  loadRttMs: number,
  out: FallbackDecision,
): FallbackDecision {
  out.rttMs = null;
  out.source = null;
  out.reason = null;
  out.icmpUnavailableCycles = icmpUnavailableCycles;
  if (!f.enabled) {
    out.action = 'fail';
    out.reason = 'fallback_disabled';
    return out;
  }
  if (!conn.connected) {
    out.action = 'fail';
    out.reason = 'no_connectivity';
    return out;
  }
  const n = icmpUnavailableCycles + 1;
  out.icmpUnavailableCycles = n;
  if (conn.tcpRttMs !== null) {
    out.action = 'use_rtt';
    out.rttMs = conn.tcpRttMs;
    out.source = 'tcp';
    return out;
  }
  switch (f.mode) {
    case 'graceful_degradation':
      if (n === 1) {
        out.action = 'use_rtt';
        out.rttMs = loadRttMs;
        out.source = 'last_load';
      } else if (n <= f.maxCycles) {
        out.action = 'freeze';
      } else {
        out.action = 'fail';
        out.reason = 'fallback_exhausted';
      }
      return out;
    case 'freeze':
      out.action = 'freeze';
      return out;
    case 'use_last_rtt':
      out.action = 'use_rtt';
      out.rttMs = loadRttMs;
      out.source = 'last_load';
      return out;
    default:
      out.action = 'fail';
      out.reason = 'unknown_mode';
      return out;
  }
}
