/**
 * The congestion zones both daemons report, and v1.3's gauge encoding of them (autorate's
 * `wanctl_*_state` gauges, steering's `wanctl_congestion_state`): one table for both.
 */

/** A congestion zone name: autorate's four, steering's three (no SOFT_RED). */
export type ZoneName = 'GREEN' | 'YELLOW' | 'SOFT_RED' | 'RED';

/** v1.3's gauge value per zone: GREEN 1, YELLOW 2, SOFT_RED 3, RED 4. */
export const ZONE_VALUE: Readonly<Record<ZoneName, number>> = { GREEN: 1, YELLOW: 2, SOFT_RED: 3, RED: 4 };

/** The gauge value of a zone name; 0 for null or a name that is not a zone (v1.3: unknown = 0). */
export function zoneValue(zone: string | null): number {
  return zone !== null && Object.hasOwn(ZONE_VALUE, zone) ? ZONE_VALUE[zone as ZoneName] : 0;
}
