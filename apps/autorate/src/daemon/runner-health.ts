/**
 * A WAN's part of the /health body (v1.3 fields first, then ours), read from its runner, its
 * router side and its measurement. Split out of wan-runner.ts; not on the 20 Hz path.
 */

import type { AdaptiveResult } from '../control/index.js';
import { mbps, r2, r3 } from './round.js';
import type { HeldRates, RouterSync } from './router-sync.js';
import type { WanRunnerOptions } from './runner-options.js';
import type { WanRunner } from './wan-runner.js';

/** What the health body reads besides the runner's public counters. */
export interface HealthParts {
  opts: WanRunnerOptions;
  sync: RouterSync;
  lastAdaptive: AdaptiveResult | null;
  /** The rates the law decided. */
  rates: { dlBps: number; ulBps: number };
  /** The rates the router confirmed. */
  held: HeldRates;
}

/** Per-WAN health (v1.3 fields first, then ours). */
export function runnerHealth(w: WanRunner, p: HealthParts): Record<string, unknown> {
  const o = p.opts;
  const sync = p.sync;
  const s = w.controller.snapshot();
  const rates = p.rates;
  const ra = p.held;
  const info = o.measurement.lastInfo;
  const rd = o.reader ?? null;
  const a = p.lastAdaptive;
  const reflectors = o.measurement.reflectorHealth().map((h) => ({
    reflector: h.reflector,
    alive: h.alive,
    last_rtt_ms: h.lastRttMs === null ? null : r2(h.lastRttMs),
    last_reply_age_ms: h.lastReplyAgeMs === null ? null : Math.round(h.lastReplyAgeMs),
    loss_pct: r2(h.lossPct),
    replies: h.replies,
  }));
  return {
    name: w.name,
    control_law: w.law,
    baseline_rtt_ms: r2(s.ewma.baseline_rtt),
    load_rtt_ms: r2(s.ewma.load_rtt),
    download: {
      current_rate_mbps: mbps(rates.dlBps),
      state: w.lastZones.dl ?? streakState(s.download),
      router_rate_mbps: mbps(ra.dlBps),
      achieved_mbps: rd === null ? null : mbps(rd.dlAchievedBps),
      ...(a !== null ? { load: a.dl.load, action: a.dl.action, capacity_mbps: mbps(a.dl.capacityBps) } : {}),
    },
    upload: {
      current_rate_mbps: mbps(rates.ulBps),
      state: w.lastZones.ul ?? streakState(s.upload),
      router_rate_mbps: mbps(ra.ulBps),
      achieved_mbps: rd === null ? null : mbps(rd.ulAchievedBps),
      ...(a !== null ? { load: a.ul.load, action: a.ul.action, capacity_mbps: mbps(a.ul.capacityBps) } : {}),
    },
    status: w.degraded ? 'degraded' : 'healthy',
    degraded_reasons: w.reasons,
    consecutive_failures: w.consecutiveFailures,
    controller: { download_bps: rates.dlBps, upload_bps: rates.ulBps },
    router: {
      download_bps: ra.dlBps,
      upload_bps: ra.ulBps,
      transport: o.router.activeTransport,
      reachable: !sync.routerFailing,
      write_in_flight: sync.writeInFlight,
      writes_ok: sync.writesOk,
      writes_failed: sync.writesFailed,
      consecutive_write_failures: sync.consecutiveWriteFailures,
      last_write_latency_ms: r3(sync.lastWriteLatencyMs),
      last_write_error: sync.lastWriteError,
      throttled_cycles: w.throttledCycles,
      coalesced_changes: w.coalescedChanges,
      failovers: w.failovers,
      writes_remaining: w.adaptive
        ? Math.floor(w.adaptive.writePolicy.tokensAt(o.now() / 1000))
        : w.controller.writesRemaining(o.now() / 1000),
      corrections: sync.corrections,
      corrections_download: sync.correctionsDl,
      corrections_upload: sync.correctionsUl,
      last_correction: sync.lastCorrection,
      reads_ok: rd?.reads ?? 0,
      reads_failed: rd?.readsFailed ?? 0,
      last_read_latency_ms: r3(rd?.lastLatencyMs ?? null),
      last_read_error: rd?.lastError ?? null,
      transports: o.router.transportStates?.() ?? null,
    },
    ...(a !== null
      ? {
          adaptive: {
            delay_ms: a.delayMs === null ? null : r2(a.delayMs),
            bloat: a.bloat,
            bad_reflectors: a.badReflectors,
          },
        }
      : {}),
    measurement: {
      probe: o.probeKind,
      probe_method: o.probeInfo?.method ?? (o.probeKind === 'udp' ? 'udp' : 'icmp'),
      probe_source: o.probeInfo?.source ?? 'config',
      udp_port: o.probeInfo?.udp_port ?? null,
      replies: info.replies,
      stale_cycles: info.staleCycles,
      warming_up: info.warmingUp === true,
      warmup_cycles: w.warmupCycles,
      fallback_check_running: info.checking,
      last_measured_rtt_ms: w.lastMeasuredMs === null ? null : r2(w.lastMeasuredMs),
      clamped_samples: w.clampedSamples,
      invalid_samples: w.invalidSamples,
      reflectors,
    },
    cycles: w.cycles,
    failed_cycles: w.failedCycles,
    overruns: w.overruns,
    cycle_work_ms: { p50: r3(w.work.p50()), p99: r3(w.work.p99()), max: r3(w.work.max()) },
    state_file: o.store
      ? {
          writes: o.store.stats.writes,
          errors: o.store.stats.errors,
          last_error: o.store.stats.lastError,
        }
      : null,
  };
}

/** v1.3's health state inferred from streaks (used before the first cycle). */
function streakState(d: { green_streak: number; soft_red_streak: number; red_streak: number }): string {
  if (d.red_streak > 0) return 'RED';
  if (d.soft_red_streak >= 1) return 'SOFT_RED';
  if (d.green_streak > 0) return 'GREEN';
  return 'YELLOW';
}
