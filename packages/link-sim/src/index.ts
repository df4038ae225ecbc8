export { AlternateWan, type AlternateWanOptions } from './alternate.js';
export * from './bench/index.js';
export {
  type EmulatorQueueCounters,
  type EmulatorQueueInfo,
  type EmulatorTrafficModel,
  type LinkSimTrafficModel,
  type LinkSimTrafficModelOptions,
  linkSimTrafficModel,
} from './emulator-adapter.js';
export { LinkSimConfigError, LinkSimError, TraceFormatError } from './errors.js';
export { constantLoad, type LoadPhase, type LoadSchedule, loadSchedule, onOffLoad } from './load.js';
export { Prng } from './prng.js';
export { RealtimeLinkDriver, type RealtimeLinkDriverOptions } from './realtime.js';
export {
  type LinkReflector,
  type LinkReflectorOptions,
  type LinkReflectorStats,
  type RttSource,
  startLinkReflector,
} from './reflector.js';
export {
  type DirectionOptions,
  type DirectionSnapshot,
  type FlowOptions,
  LinkSim,
  type LinkSimOptions,
  type QueueCounters,
} from './sim.js';
export {
  type CableEveningOptions,
  type CapacityTrace,
  cableEveningTrace,
  constantTrace,
  type Direction,
  type DslOptions,
  dslTrace,
  type Interpolation,
  type LteOptions,
  loadTraceFile,
  lteTrace,
  type ParseTraceOptions,
  parseTrace,
  SampledTrace,
  stepsTrace,
  type TraceStep,
  traceMax,
} from './trace.js';
