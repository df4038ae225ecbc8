/**
 * What a WanRunner is given: its measurement source and its options (the daemon builds them per
 * WAN from the config; tests and benches pass fakes). Split out of wan-runner.ts.
 */

import type { HistoryRecorder } from '@wanctl/history';
import type { ReflectorHealth } from '@wanctl/rtt-probe';
import type { Logger, StateStore } from '@wanctl/runtime';
import type { AdaptiveParams, ControlParams, CycleInput } from '../control/index.js';
import type { WanMetrics } from './metrics.js';
import type { QueueReader } from './queue-reader.js';
import type { Recorder } from './recorder.js';
import type { RateWriter } from './router-sync.js';
import type { WanRunner } from './wan-runner.js';

/** What the runner needs from the measurement. */
export interface MeasurementSource {
  sample(): CycleInput;
  readonly lastInfo: Readonly<{
    replies: number;
    staleCycles: number;
    checking: boolean;
    /** The probe just started and has not answered yet (within its grace): nothing to decide. */
    warmingUp?: boolean;
  }>;
  reflectorHealth(): ReflectorHealth[];
  /** Per reflector slot: the RTT usable this cycle, or null (the adaptive law's `rtts_ms`). */
  slotRtts?(): ArrayLike<number | null>;
}

export interface WanRunnerOptions {
  /** wan_name as configured. */
  name: string;
  params: ControlParams;
  /**
   * `adaptive`: the adaptive law decides the rates (with its write policy); the v1.3 controller
   * still runs beside it on the same RTTs for the state file's EWMAs (steering reads the
   * baseline) and the zones. Default `v1.3` (the v1.3 law alone, as before).
   */
  law?: 'v1.3' | 'adaptive';
  /** Adaptive parameters (law `adaptive`). */
  adaptive?: AdaptiveParams;
  /**
   * Reads the queues beside the loop: achieved rates for the adaptive law, the router's
   * max-limits for reconciliation (docs/decisions.md#d15), and reachability for health.
   */
  reader?: QueueReader | null;
  /** Least time between two corrections of the router's max-limit, ms. Default 1000. */
  correctionIntervalMs?: number;
  queues: { download: string; upload: string };
  measurement: MeasurementSource;
  probeKind: string;
  /** How the probe was chosen (health: probe_method, probe_source, udp_port). */
  probeInfo?: { method: string; source: string; udp_port: number | null };
  router: RateWriter;
  /** Deadline of one router write, ms. */
  writeDeadlineMs: number;
  logger: Logger;
  /** Monotonic ms. */
  now: () => number;
  store?: StateStore<WanRunner> | null;
  recorder?: Recorder | null;
  /** The history store's recorder (`history.enabled`): one summary per cycle, write failures, switches. */
  history?: HistoryRecorder | null;
  /** Wall-clock ms for history rows (default Date.now). */
  wallNow?: () => number;
  metrics?: WanMetrics | null;
  /** Consecutive failed cycles before the WAN counts as degraded (v1.3: 3). */
  failureThreshold?: number;
  /** Consecutive cycles without a usable reply before the WAN counts as degraded. Default 3. */
  staleThreshold?: number;
  /** Periodic INFO summary interval, ms. Default 60 000. */
  summaryIntervalMs?: number;
  /** Called when the WAN enters or leaves the degraded state. */
  onDegradedChange?: (degraded: boolean, reasons: readonly string[]) => void;
}
