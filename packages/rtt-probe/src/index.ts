/**
 * @wanctl/rtt-probe — RTT measurement beside the control loop: a long-lived fping child (ICMP),
 * UDP echo probes, TCP-connect and gateway fallback checks. A cycle reads the newest samples
 * with `latest()` and never waits on a probe.
 * @packageDocumentation
 */
export {
  chooseProbe,
  createProbe,
  createProbeFromSettings,
  type ProbeChoice,
  type ProbeFromSettingsOptions,
  type ProbeInfo,
  type ProbeSettings,
  type ProbeSource,
  type ProbeTiming,
  probeErrorKind,
  probeInfo,
  reflectorName,
} from './choice.js';
export {
  type FpingLine,
  FpingProbe,
  type FpingProbeOptions,
  findExecutable,
  fpingArgs,
  parseFpingLine,
} from './fping.js';
export {
  type GatewayCheckOptions,
  gatewayCheck,
  type TcpFallbackResult,
  tcpConnectCheck,
  tcpFallbackCheck,
} from './tcp.js';
export {
  type MeasureRetryOptions,
  measureWithRetries,
  medianRtt,
  ProbeConfigError,
  ProbeError,
  type ProbeEvent,
  ProbeUnavailableError,
  type ReflectorHealth,
  type RoundSamples,
  type RttProbe,
  type RttSample,
} from './types.js';
export {
  formatReflector,
  parseHostPort,
  startUdpEchoResponder,
  UdpEchoProbe,
  type UdpEchoProbeOptions,
  type UdpEchoResponder,
  type UdpEchoResponderOptions,
  type UdpReflector,
} from './udp.js';
