/** v1.3's zone gauge encoding, one table for both daemons. */
import { describe, expect, it } from 'vitest';
import { ZONE_VALUE, zoneValue } from '../src/index.js';

describe('zoneValue', () => {
  it('GREEN 1, YELLOW 2, SOFT_RED 3, RED 4; null, unknown names and inherited keys 0', () => {
    expect(['GREEN', 'YELLOW', 'SOFT_RED', 'RED'].map(zoneValue)).toEqual([1, 2, 3, 4]);
    expect(zoneValue(null)).toBe(0);
    expect(zoneValue('WAN1_GOOD')).toBe(0);
    expect(zoneValue('toString')).toBe(0);
    expect(Object.keys(ZONE_VALUE)).toEqual(['GREEN', 'YELLOW', 'SOFT_RED', 'RED']);
  });
});
