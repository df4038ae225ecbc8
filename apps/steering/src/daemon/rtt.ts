/**
 * The steering daemon's own RTT measurement. A probe (fping on `measurement.ping_host`, or the UDP
 * echo probe) runs in the background beside the loop; a cycle takes the newest reply that arrived
 * since the previous cycle and never waits for it. Only when none arrived does it wait for one,
 * with v1.3's retries (3 attempts), all inside a deadline that fits the cycle. When every attempt
 * fails the cycle gets null, and the control law falls back to the last RTT (v1.3).
 */
import type { RttProbe } from '@wanctl/rtt-probe';

export interface RttMeasurerOptions {
  /** Whole budget of one cycle's measurement, ms. */
  deadlineMs: number;
  /** Attempts when no reply arrived since the last cycle (v1.3: 3). */
  attempts?: number;
  /** Upper bound of one attempt, ms (timeouts.ping × 1000). */
  attemptTimeoutMs: number;
  onAttemptFailed?: (attempt: number, timeoutMs: number) => void;
  /** Wait between attempts (injectable for tests). */
  sleep?: (ms: number) => Promise<void>;
}

export interface RttMeasurement {
  rttMs: number | null;
  /** `stream`: a reply that arrived since the last cycle; `waited`: one waited for; `none`: every attempt failed. */
  source: 'stream' | 'waited' | 'none';
  attempts: number;
}

/** Splits a deadline into attempts: per-attempt timeout and the pause between attempts. */
export function retryPlan(
  deadlineMs: number,
  attempts: number,
  attemptTimeoutMs: number,
): { timeoutMs: number; delayMs: number } {
  const delayMs = Math.min(500, Math.floor(deadlineMs / (4 * attempts)));
  const timeoutMs = Math.max(
    1,
    Math.min(attemptTimeoutMs, Math.floor((deadlineMs - delayMs * (attempts - 1)) / attempts)),
  );
  return { timeoutMs, delayMs };
}

export class RttMeasurer {
  private readonly attempts: number;
  private readonly plan: { timeoutMs: number; delayMs: number };
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    readonly probe: RttProbe,
    private readonly opts: RttMeasurerOptions,
  ) {
    this.attempts = opts.attempts ?? 3;
    this.plan = retryPlan(opts.deadlineMs, this.attempts, opts.attemptTimeoutMs);
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** The plan in use (for the start-up log). */
  get retryPlan(): { attempts: number; timeoutMs: number; delayMs: number } {
    return { attempts: this.attempts, ...this.plan };
  }

  async measure(): Promise<RttMeasurement> {
    const round = this.probe.latest();
    let newest: number | null = null;
    let newestAt = Number.NEGATIVE_INFINITY;
    for (const s of round.samples) {
      if (s.at > newestAt && Number.isFinite(s.rttMs) && s.rttMs >= 0) {
        newest = s.rttMs;
        newestAt = s.at;
      }
    }
    if (newest !== null) return { rttMs: newest, source: 'stream', attempts: 0 };
    for (let i = 1; i <= this.attempts; i++) {
      const r = await this.probe.measureOnce(this.plan.timeoutMs);
      if (r !== null && Number.isFinite(r) && r >= 0) return { rttMs: r, source: 'waited', attempts: i };
      this.opts.onAttemptFailed?.(i, this.plan.timeoutMs);
      if (i < this.attempts && this.plan.delayMs > 0) await this.sleep(this.plan.delayMs);
    }
    return { rttMs: null, source: 'none', attempts: this.attempts };
  }
}
