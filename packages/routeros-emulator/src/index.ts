/**
 * @wanctl/routeros-emulator — a RouterOS 7 stand-in that speaks REST and SSH over one shared
 * in-memory state, with fault injection and a request log. See README.md and EMULATION.md.
 */

export {
  type ConsoleResult,
  type ConsoleSession,
  type ConsoleUser,
  newConsoleSession,
  parseLoginName,
  runConsoleLine,
} from './console.js';
export { type Emulator, type EmulatorOptions, startEmulator } from './emulator.js';
export {
  EmulatorConfigError,
  EmulatorError,
  FaultSettingsError,
  NoSuchItemError,
  PermissionError,
  RouterOsError,
} from './errors.js';
export { type Face, type FaultSettings, Faults } from './faults.js';
export {
  applyFixture,
  buildFixture,
  defaultFixture,
  type Fixture,
  type FixtureItem,
  type FixtureOptions,
  loadFixture,
} from './fixture.js';
export { type RequestEntry, RequestLog, type RestRequestEntry, type SshRequestEntry } from './requests.js';
export { type EmulatorUser, errorEnvelope, evalQuery } from './rest.js';
export { type FieldDef, MENUS, type MenuDef, menuDef } from './schema.js';
export { generateEd25519, sshFingerprint } from './ssh.js';
export {
  type ChangeAction,
  type ChangeEvent,
  type ItemFilter,
  type ItemRecord,
  normalizePath,
  RouterState,
  type RouterStateOptions,
  sortKeys,
  type WriteOptions,
} from './state.js';
export {
  LoadTrafficModel,
  type LoadTrafficOptions,
  type QueueCounters,
  type QueueInfo,
  StaticTrafficModel,
  type TrafficModel,
  ZERO_COUNTERS,
} from './traffic.js';
export {
  formatDuration,
  formatRateCli,
  formatRateHuman,
  formatSize,
  parseBool,
  parseDuration,
  parseRate,
  parseSize,
} from './units.js';
