/**
 * The steering daemon's /health document and its list of problems (one sentence each; empty =
 * healthy), built from what the daemon last saw. Pure reads: nothing here changes the daemon.
 */
import type { SteeringConfig } from '@wanctl/config';
import type { RouterClient } from '@wanctl/router-client';
import { type ProbeChoice, probeInfo, type RttProbe } from '@wanctl/rtt-probe';
import type { LatencyStats, StateStore } from '@wanctl/runtime';
import type {
  SteeringController,
  SteeringCycleResult,
  SteeringParams,
  SteeringStateFile,
} from '../control/index.js';
import { VERSION } from '../version.js';
import type { BaselineReading } from './baseline.js';
import type { RttMeasurement } from './rtt.js';
import type { RuleSync } from './rule-sync.js';

/** Consecutive failed cycles after which /health reports degraded. */
export const FAILED_CYCLES_DEGRADED = 3;

export interface Transition {
  from: string;
  to: string;
  at: string;
  reason: string | null;
}

/** What the cycles leave behind for /health (updated by the daemon, read here). */
export interface CycleRecord {
  cycles: number;
  consecutiveFailures: number;
  /** Wall-clock ms of the last cycle. */
  lastCycleAt: number | null;
  lastResult: SteeringCycleResult | null;
  lastBaseline: BaselineReading | null;
  lastRtt: RttMeasurement | null;
  lastCakeError: string | null;
  lastTransition: Transition | null;
  /** Wall-clock ms since which the current state holds. */
  stateSince: number;
  /** The message of the last cycle that threw (a bug), cleared by the next good cycle. */
  lastError: string | null;
}

/** The parts of the daemon /health reads. */
export interface HealthSource {
  readonly config: SteeringConfig;
  readonly params: SteeringParams;
  readonly controller: SteeringController;
  readonly dryRun: boolean;
  readonly record: CycleRecord;
  readonly ruleSync: RuleSync;
  readonly client: RouterClient;
  readonly store: StateStore<SteeringStateFile>;
  readonly probe: RttProbe;
  readonly probeChoice: ProbeChoice;
  readonly intervalMs: number;
  readonly cycleMs: LatencyStats;
  readonly startedAt: number;
  readonly endpointNotes: readonly string[];
  /** Wall clock, ms. */
  now(): number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** What is wrong now, one sentence each (empty = healthy). */
export function steeringProblems(d: HealthSource): string[] {
  const rec = d.record;
  const p: string[] = [];
  if (rec.consecutiveFailures >= FAILED_CYCLES_DEGRADED) {
    p.push(
      `${rec.consecutiveFailures} consecutive cycles could not decide (${rec.lastResult?.failure ?? 'error'})`,
    );
  }
  if (rec.lastError !== null) p.push(`cycle error: ${rec.lastError}`);
  const b = rec.lastBaseline;
  if (b !== null && b.problem !== null) p.push(b.problem);
  const obs = d.ruleSync.rule.observation;
  if (obs.state === 'missing') p.push(`mangle rule "${d.config.mangleRule.comment}" not found on the router`);
  if (obs.error !== null) p.push(`router: ${obs.error}`);
  if (d.ruleSync.toggleError !== null && !d.dryRun) p.push(`rule toggle failing: ${d.ruleSync.toggleError}`);
  if (d.params.cakeAware && (rec.lastResult?.cakeReadFailures ?? 0) >= 3) {
    p.push(`CAKE stats unavailable (${rec.lastCakeError ?? 'read failed'}): RED cannot be detected`);
  }
  if (rec.lastRtt?.source === 'none') p.push('no RTT reply this cycle (using the last RTT)');
  const sf = d.store.failure;
  if (sf) p.push(`state file not saved (${sf.consecutiveFailures} failures in a row): ${sf.lastError}`);
  return p;
}

/** The /health document. */
export function steeringHealthBody(d: HealthSource): Record<string, unknown> & { status: string } {
  const rec = d.record;
  const r = rec.lastResult;
  const obs = d.ruleSync.rule.observation;
  const problems = steeringProblems(d);
  const want = d.controller.steeringEnabled;
  const b = rec.lastBaseline;
  const ruleInSync =
    obs.state === 'enabled' || obs.state === 'disabled' ? (obs.state === 'enabled') === want : null;
  return {
    status: problems.length === 0 ? 'healthy' : 'degraded',
    version: VERSION,
    uptime_seconds: Math.round((d.now() - d.startedAt) / 100) / 10,
    wan: d.params.primaryWan,
    alternate_wan: d.config.topology.alternateWan,
    state: d.controller.currentState,
    state_since: iso(rec.stateSince),
    steering_enabled: want,
    dry_run: d.dryRun,
    congestion_state: r?.congestionState ?? null,
    mode: d.params.cakeAware ? (d.params.confidence ? 'cake_aware+confidence' : 'cake_aware') : 'legacy_rtt',
    last_transition: rec.lastTransition,
    /** Why the state is what it is now: which signals, which thresholds (docs/decisions.md#d14). */
    state_reason: r?.stateReason ?? null,
    wan_state: r?.wan
      ? {
          input: r.wan.status,
          age_seconds: r.wan.ageSeconds === null ? null : Math.round(r.wan.ageSeconds * 10) / 10,
          zone: r.wan.zone,
          autorate_delta_ms: r.wan.autorateDeltaMs,
          congested: r.wan.congestedNow,
          congested_direction: r.wan.congestedDirection,
          congested_for_seconds: r.wan.congestedForSec,
          clear_for_seconds: r.wan.clearForSec,
          hold_down_left_seconds: r.wan.holdDownLeftSec,
          thresholds: {
            rtt_delta_ms: d.params.wanState.rttDeltaMs,
            confirm_sec: d.params.wanState.confirmSec,
            hold_down_sec: d.params.wanState.holdDownSec,
            recovery_rtt_ms: d.params.wanState.recoveryRttMs,
            recovery_sec: d.params.wanState.recoverySec,
            stale_sec: d.params.wanState.staleSec,
          },
        }
      : null,
    counters: r ? { red_count: r.redCount, good_count: r.goodCount, bad_count: r.badCount } : null,
    signals: {
      baseline_rtt_ms: r?.baselineRttMs ?? null,
      baseline_source: r?.baselineSource ?? null,
      rtt_ms: r?.currentRttMs ?? null,
      rtt_source: r?.rttSource ?? null,
      delta_ms: r?.deltaMs ?? null,
      rtt_delta_ewma_ms: r?.rttDeltaEwmaMs ?? null,
      queue_ewma_packets: r?.queueEwmaPackets ?? null,
      cake_drops_delta: r?.cakeDropsDelta ?? null,
      cake_queued_packets: r?.cakeQueuedPackets ?? null,
      cake_read_ok: r?.cakeReadOk ?? null,
      cake_read_failures: r?.cakeReadFailures ?? 0,
      confidence: r?.confidence
        ? { score: r.confidence.score, contributors: r.confidence.contributors }
        : null,
    },
    baseline_file: {
      path: d.config.primaryStateFile,
      status: b?.status ?? null,
      age_seconds: b?.ageMs == null ? null : Math.round(b.ageMs / 1000),
      problem: b?.problem ?? null,
    },
    rule: {
      comment: d.config.mangleRule.comment,
      on_router: obs.state,
      checked_at: obs.at === null ? null : iso(obs.at),
      in_sync: ruleInSync,
      corrections: d.ruleSync.corrections,
      last_error: obs.error ?? d.ruleSync.toggleError,
    },
    router: {
      host: d.config.router.host,
      transport: d.client.activeTransport,
      configured_transport: d.config.router.transport,
      fallback_transport: d.config.router.fallbackTransport,
    },
    state_file: {
      path: d.config.state.file,
      writes: d.store.stats.writes,
      last_error: d.store.stats.lastError ?? null,
      consecutive_failures: d.store.stats.consecutiveFailures ?? 0,
    },
    probe: {
      ...probeInfo(d.probeChoice),
      kind: d.probeChoice.kind,
      reflectors: d.probe.reflectors,
      last_source: rec.lastRtt?.source ?? null,
    },
    cycles: {
      count: rec.cycles,
      interval_ms: d.intervalMs,
      consecutive_failures: rec.consecutiveFailures,
      last_at: rec.lastCycleAt === null ? null : iso(rec.lastCycleAt),
      duration_ms:
        d.cycleMs.count > 0 ? { p50: d.cycleMs.p50(), p99: d.cycleMs.p99(), max: d.cycleMs.max() } : null,
    },
    problems,
    /** Endpoints the config enables that could not be served (port in use): not degraded, v1.3. */
    endpoint_problems: d.endpointNotes,
  };
}
