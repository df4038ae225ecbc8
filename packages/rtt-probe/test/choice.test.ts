/** Probe choice from plain settings, shared by both daemons (moved from their probe.test.ts). */
import { describe, expect, it } from 'vitest';
import {
  chooseProbe,
  createProbe,
  createProbeFromSettings,
  FpingProbe,
  ProbeConfigError,
  ProbeUnavailableError,
  probeErrorKind,
  probeInfo,
  UdpEchoProbe,
} from '../src/index.js';

describe('probe choice (continuous_monitoring.probe, --udp-reflector override)', () => {
  it('method icmp: fping on the hosts', () => {
    const c = chooseProbe({ method: 'icmp', udpPort: 7 }, ['192.0.2.1', '192.0.2.2'], null);
    expect(c).toEqual({
      kind: 'fping',
      method: 'icmp',
      source: 'config',
      udpPort: null,
      reflectors: ['192.0.2.1', '192.0.2.2'],
    });
    expect(createProbe(c, { periodMs: 50, timeoutMs: 1000 })).toBeInstanceOf(FpingProbe);
  });

  it('method udp: UDP echo to each host on udp_port', () => {
    const c = chooseProbe({ method: 'udp', udpPort: 7007 }, ['127.0.0.1', '127.0.0.2', '::1'], []);
    expect(c.kind).toBe('udp');
    expect(probeInfo(c)).toEqual({ method: 'udp', source: 'config', udp_port: 7007 });
    const p = createProbe(c, { periodMs: 50, timeoutMs: 1000 });
    expect(p).toBeInstanceOf(UdpEchoProbe);
    expect(p.reflectors).toEqual(['127.0.0.1:7007', '127.0.0.2:7007', '[::1]:7007']);
  });

  it('--udp-reflector overrides either method, cut to the reflectors in use', () => {
    for (const method of ['icmp', 'udp'] as const) {
      const c = chooseProbe({ method, udpPort: 7 }, ['192.0.2.1'], ['127.0.0.1:9001', '127.0.0.1:9002'], 1);
      expect(probeInfo(c)).toEqual({ method: 'udp', source: '--udp-reflector', udp_port: null });
      expect(createProbe(c, { periodMs: 50, timeoutMs: 1000 }).reflectors).toEqual(['127.0.0.1:9001']);
    }
  });

  it('a bad --udp-reflector is a ProbeConfigError (exit 2), not a crash', () => {
    const c = chooseProbe({ method: 'icmp', udpPort: 7 }, ['192.0.2.1'], ['no-port']);
    expect(() => createProbe(c, { periodMs: 50, timeoutMs: 1000 })).toThrow(ProbeConfigError);
    expect(() => createProbe(c, { periodMs: 50, timeoutMs: 1000 })).toThrow(
      expect.objectContaining({ code: 'WANCTL_CONFIG_PROBE_INVALID', name: 'ProbeConfigError' }),
    );
    expect(new ProbeUnavailableError('x').code).toBe('WANCTL_PROBE_UNAVAILABLE');
  });
});

describe('createProbeFromSettings', () => {
  it('chooses, builds (not started) and describes the probe in one call', () => {
    const udp = createProbeFromSettings({
      method: 'udp',
      udpPort: 7007,
      hosts: ['127.0.0.1'],
      periodMs: 50,
      timeoutMs: 1000,
    });
    expect(udp.probe).toBeInstanceOf(UdpEchoProbe);
    expect(udp.probe.reflectors).toEqual(['127.0.0.1:7007']);
    expect(udp.info).toEqual({ method: 'udp', source: 'config', udp_port: 7007 });
    expect(udp.choice.kind).toBe('udp');

    const icmp = createProbeFromSettings({
      method: 'icmp',
      udpPort: 7,
      hosts: ['192.0.2.1'],
      override: null,
      periodMs: 50,
      timeoutMs: 1000,
      fpingBinary: '/opt/fping',
    });
    expect(icmp.probe).toBeInstanceOf(FpingProbe);
    expect(icmp.info).toEqual({ method: 'icmp', source: 'config', udp_port: null });

    const over = createProbeFromSettings({
      method: 'icmp',
      udpPort: 7,
      hosts: ['192.0.2.1'],
      override: ['127.0.0.1:9001', '127.0.0.1:9002'],
      maxOverride: 1,
      periodMs: 50,
      timeoutMs: 1000,
    });
    expect(over.probe.reflectors).toEqual(['127.0.0.1:9001']);
    expect(over.info.source).toBe('--udp-reflector');
    expect(() =>
      createProbeFromSettings({
        method: 'udp',
        udpPort: 7,
        hosts: [],
        override: ['bad'],
        periodMs: 50,
        timeoutMs: 1000,
      }),
    ).toThrow(ProbeConfigError);
  });
});

describe('probeErrorKind', () => {
  it('a bad reflector is 2, no usable probe 1, anything else unknown', () => {
    expect(probeErrorKind(new ProbeConfigError('x'))).toEqual({ code: 2, label: 'bad reflector' });
    expect(probeErrorKind(new ProbeUnavailableError('x'))).toEqual({ code: 1, label: 'cannot probe RTT' });
    expect(probeErrorKind(new Error('x'))).toBeUndefined();
    expect(probeErrorKind('x')).toBeUndefined();
  });
});
