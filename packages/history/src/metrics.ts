/**
 * The `wanctl_history_degraded` gauge: 1 while a daemon's history store cannot be written
 * (full disk, read-only directory, damaged file), else 0. Read from the recorders at scrape time.
 */
import { Gauge, type Registry } from 'prom-client';
import type { HistoryRecorder } from './recorder.js';

/** Name of the gauge (used by deploy/monitoring's WanctlHistoryDegraded alert). */
export const HISTORY_DEGRADED_METRIC = 'wanctl_history_degraded';

/**
 * Registers `wanctl_history_degraded{wan}` on `registry`; `recorders()` gives the daemon's
 * recorders by WAN name at each scrape.
 *
 * @example
 * registerHistoryMetrics(registry, () => [{ wan: 'cable', recorder }]);
 */
export function registerHistoryMetrics(
  registry: Registry,
  recorders: () => Iterable<{ wan: string; recorder: HistoryRecorder }>,
): Gauge<'wan'> {
  return new Gauge({
    name: HISTORY_DEGRADED_METRIC,
    help: 'History store not being written (1: full disk, read-only directory, damaged file; see /health)',
    labelNames: ['wan'],
    registers: [registry],
    collect() {
      for (const { wan, recorder } of recorders()) this.set({ wan }, recorder.health().degraded ? 1 : 0);
    },
  });
}
