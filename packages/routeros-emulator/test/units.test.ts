import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  formatRateCli,
  formatRateHuman,
  formatSize,
  parseBool,
  parseDuration,
  parseRate,
  parseSize,
} from '../src/index.js';

describe('units', () => {
  it('parses rates with and without suffixes', () => {
    expect(parseRate('500000000')).toBe(500000000);
    expect(parseRate('90M')).toBe(90000000);
    expect(parseRate('1G')).toBe(1000000000);
    expect(parseRate('512k')).toBe(512000);
    expect(parseRate('2.5M')).toBe(2500000);
    expect(parseRate('10Mbps')).toBe(10000000);
    expect(parseRate('fast')).toBeNull();
    expect(parseRate('-5')).toBeNull();
  });
  it('prints limits in suffix form and stats rates humanised', () => {
    expect(formatRateCli(880000000)).toBe('880M');
    expect(formatRateCli(1000000000)).toBe('1G');
    expect(formatRateCli(45500000)).toBe('45500k');
    expect(formatRateCli(123)).toBe('123');
    expect(formatRateCli(0)).toBe('0');
    expect(formatRateHuman(0)).toBe('0bps');
    expect(formatRateHuman(2000000)).toBe('2.0Mbps');
    expect(formatRateHuman(183296)).toBe('183.3kbps');
  });
  it('handles booleans, durations and sizes', () => {
    expect(parseBool('yes')).toBe('true');
    expect(parseBool('false')).toBe('false');
    expect(parseBool('maybe')).toBeNull();
    expect(parseDuration('2d20h12m20s')).toBe(2 * 86400 + 20 * 3600 + 12 * 60 + 20);
    expect(parseDuration('7w6d9h34m')).toBe(7 * 604800 + 6 * 86400 + 9 * 3600 + 34 * 60);
    expect(parseDuration('00:00:15')).toBe(15);
    expect(parseDuration('100ms')).toBeCloseTo(0.1);
    expect(parseDuration('soon')).toBeNull();
    expect(formatDuration(59)).toBe('59s');
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(0.1)).toBe('100ms');
    expect(parseSize('32.0MiB')).toBe(33554432);
    expect(formatSize(33554432)).toBe('32.0MiB');
  });
});
