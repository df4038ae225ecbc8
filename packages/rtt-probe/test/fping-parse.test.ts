import { describe, expect, it } from 'vitest';
import { fpingArgs, parseFpingLine } from '../src/index.js';

// Captured on this machine: fping 5.1 (Debian 12), `fping -c 3 -p 100 127.0.0.1 ::1` and `fping -D -l -p 200 ...`.
const REAL = [
  '127.0.0.1 : [0], 64 bytes, 0.051 ms (0.051 avg, 0% loss)',
  '::1       : [0], 64 bytes, 0.321 ms (0.321 avg, 0% loss)',
  '[1795747335.40513] 127.0.0.1 : [0], 64 bytes, 0.072 ms (0.072 avg, 0% loss)',
  '[1795747335.41525] ::1       : [0], 64 bytes, 0.042 ms (0.042 avg, 0% loss)',
  '[1795747329.61376] 192.0.2.1 : [0], 64 bytes, 1.60 ms (1.60 avg, 0% loss)',
];

describe('parseFpingLine', () => {
  it('parses real fping 5.1 reply lines, with and without -D timestamps and padded IPv6 names', () => {
    expect(parseFpingLine(REAL[0] as string)).toEqual({
      kind: 'reply',
      host: '127.0.0.1',
      seq: 0,
      rttMs: 0.051,
    });
    expect(parseFpingLine(REAL[1] as string)).toEqual({ kind: 'reply', host: '::1', seq: 0, rttMs: 0.321 });
    expect(parseFpingLine(REAL[2] as string)).toEqual({
      kind: 'reply',
      host: '127.0.0.1',
      seq: 0,
      rttMs: 0.072,
    });
    expect(parseFpingLine(REAL[3] as string)).toEqual({ kind: 'reply', host: '::1', seq: 0, rttMs: 0.042 });
    expect(parseFpingLine(REAL[4] as string)).toEqual({
      kind: 'reply',
      host: '192.0.2.1',
      seq: 0,
      rttMs: 1.6,
    });
    expect(parseFpingLine('8.8.8.8 : [1234], 84 bytes, 12.3 ms (11.9 avg, 2% loss)')).toMatchObject({
      seq: 1234,
      rttMs: 12.3,
    });
  });

  it('parses "timed out" lines of newer fping versions as losses', () => {
    expect(parseFpingLine('10.9.9.9 : [3], timed out (NaN avg, 100% loss)')).toEqual({
      kind: 'timeout',
      host: '10.9.9.9',
      seq: 3,
    });
  });

  it('returns null for summary lines, errors and garbage', () => {
    for (const line of [
      '',
      '127.0.0.1 : xmt/rcv/%loss = 3/3/0%, min/avg/max = 0.047/0.049/0.051',
      'nosuchhost.invalid: Name or service not known',
      'ICMP Host Unreachable from 10.0.0.1 for ICMP Echo sent to 10.0.0.9',
      '127.0.0.1 : [x], 64 bytes, 0.05 ms',
      '127.0.0.1 : [1], 64 bytes, abc ms (0.1 avg, 0% loss)',
      '127.0.0.1 : [1], 64 bytes, -1 ms',
      '[1795747335.40513] 127.0.0.1',
      'random text with ms in it',
    ]) {
      expect(parseFpingLine(line), line).toBeNull();
    }
  });

  it('builds the loop command line from options', () => {
    expect(
      fpingArgs({
        reflectors: ['1.1.1.1', '8.8.8.8'],
        periodMs: 100,
        timeoutMs: 800,
        sourceAddress: '10.0.0.2',
      }),
    ).toEqual(['-l', '-p', '100', '-t', '800', '-i', '10', '-S', '10.0.0.2', '1.1.1.1', '8.8.8.8']);
  });
});
