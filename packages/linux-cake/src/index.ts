/**
 * @wanctl/linux-cake: shape with the local Linux kernel (CAKE, HTB+fq_codel or TBF) through
 * one long-lived `tc -batch` child, behind the queue-limit subset of RouterClient.
 *
 * @packageDocumentation
 */
export {
  burstBytes,
  cakeOptionArgs,
  type DirectionSpec,
  HTB_CLASS,
  HTB_LEAF_HANDLE,
  IFACE_PATTERN,
  initCommands,
  rateCommand,
  showCommands,
  tbfBurstBytes,
} from './args.js';
export { TcBatch, type TcBatchOptions } from './batch.js';
export {
  LinuxCakeClient,
  type LinuxCakeOptions,
  linuxCakeOptionsFromConfig,
  type OpenOptions,
  openLinuxCake,
  type ShaperLimit,
  type ShaperLogger,
  type ShaperQueueStats,
} from './client.js';
export {
  type QdiscMismatch,
  TcCommandError,
  TcError,
  type TcErrorContext,
  TcMismatchError,
  TcNotFoundError,
  TcOutputError,
  TcTimeoutError,
  TcUnavailableError,
  TcUnknownQueueError,
} from './errors.js';
export {
  type CakeTinStats,
  type DirectionStats,
  directionStats,
  OVERHEAD_KEYWORDS,
  parseTcJson,
  rateBps,
  rootQdisc,
  type TcEntry,
  verifyDirection,
} from './parse.js';
