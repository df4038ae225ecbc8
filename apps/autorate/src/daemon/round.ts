/** Rounding for the logs, the health body and the state file (the figures a person reads). */

/** bit/s to Mbit/s with one decimal; null stays null. */
export const mbps = (bps: number | null): number | null => (bps === null ? null : Math.round(bps / 1e5) / 10);

/** Two decimals. */
export const r2 = (x: number): number => Math.round(x * 100) / 100;

/** Rounded to µs; an empty window (null) or a non-number stays null in health, never a made-up 0. */
export function r3(x: number | null): number | null {
  return x !== null && Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null;
}
