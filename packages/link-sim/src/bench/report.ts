import type { ControlBenchmarkResult } from './run.js';

function ms(v: number): string {
  if (!Number.isFinite(v)) return '–';
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : '–';
}

function secs(v: number | null): string {
  return v === null ? '–' : `${v.toFixed(2)} s`;
}

/**
 * A markdown table, one row per run: added latency under load (p50/p95/p99), utilisation per
 * direction, capacity drops recovered (median / max time back under target), router writes.
 */
export function toMarkdownTable(results: readonly ControlBenchmarkResult[]): string {
  const head =
    '| trace | controller | added p50 ms | p95 ms | p99 ms | util down | util up | drops recovered | recovery median | recovery max | router writes |';
  const sep = '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|';
  const rows = results.map((r) => {
    const d = r.capacityDrops;
    return `| ${r.scenario} | ${r.controller} | ${ms(r.addedLatencyMs.p50)} | ${ms(r.addedLatencyMs.p95)} | ${ms(
      r.addedLatencyMs.p99,
    )} | ${pct(r.utilisation.down)} | ${pct(r.utilisation.up)} | ${d.recovered}/${d.count} | ${secs(
      d.medianRecoveryS,
    )} | ${secs(d.maxRecoveryS)} | ${r.routerWrites} |`;
  });
  return [head, sep, ...rows].join('\n');
}

/** The results as JSON (series left out; NaN becomes null). */
export function toJsonReport(
  results: readonly ControlBenchmarkResult[],
  meta: Record<string, unknown> = {},
): string {
  const runs = results.map(({ series: _series, ...rest }) => rest);
  return JSON.stringify(
    { ...meta, runs },
    (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
    2,
  );
}
