import type { RetryPolicy } from './deadline.js';
import type { Transport } from './errors.js';
import type { TransportState } from './health.js';

export type { Transport } from './errors.js';

/** Minimal logger (winston's Logger fits). */
export interface RouterLogger {
  debug?(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export const silentLogger: RouterLogger = { info() {}, warn() {}, error() {}, debug() {} };

/** Default cap of one REST answer body and of one SSH command's output, bytes (1 MiB). */
export const DEFAULT_MAX_RESPONSE_BYTES = 1 << 20;

export interface CallOptions {
  /** Deadline for the whole call (including retries and failover), ms. Default: client's deadlineMs. */
  deadlineMs?: number;
}

export interface QueueLimit {
  /** Queue tree item name, e.g. `WAN-Download-1`. */
  name: string;
  /** New max-limit in bit/s (integer). */
  maxLimitBps: number;
  /** Also set the queue type (`queue=`), as v1.3 does (`cake-down-<wan>`). */
  queueType?: string;
}

/** One queue tree item's counters, the same whether read over REST (JSON) or SSH (text). */
export interface QueueStats {
  name: string;
  /** `.id` (REST only; the console does not print ids). */
  id: string | undefined;
  bytes: number;
  packets: number;
  dropped: number;
  queuedPackets: number;
  queuedBytes: number;
  /** Current rate in bit/s as RouterOS reports it. */
  rateBps: number;
  packetRate: number;
  /** max-limit in bit/s when the answer carried it (REST always; SSH `print stats` may not). */
  maxLimitBps: number | undefined;
  /** Queue type (`queue=`) when the answer carried it. */
  queueType: string | undefined;
  disabled: boolean;
}

export interface MangleRule {
  /** `.id` (REST only). */
  id: string | undefined;
  comment: string;
  disabled: boolean;
  invalid: boolean;
  dynamic: boolean;
  chain: string | undefined;
  action: string | undefined;
  newRoutingMark: string | undefined;
  /** Every property the router returned (strings). */
  props: Record<string, string>;
}

export interface SystemResource {
  uptime: string | undefined;
  version: string | undefined;
  boardName: string | undefined;
  architecture: string | undefined;
  cpuLoadPercent: number | undefined;
  freeMemoryBytes: number | undefined;
  totalMemoryBytes: number | undefined;
  /** Every property as the router returned it. */
  props: Record<string, string>;
}

export interface CommandResult {
  /** The transport that carried the command. */
  transport: Transport;
  /**
   * Items read by `print` commands (or answered by REST writes), as string maps keyed like
   * RouterOS REST (`name`, `max-limit`, `comment`, `disabled`: "true"/"false"...). Over SSH the
   * flags column becomes `disabled`/`invalid`/`dynamic` and `;;;` becomes `comment`.
   */
  records: Array<Record<string, string>>;
  /** Raw answer: console text (SSH) or the JSON bodies (REST). */
  raw: string;
}

/** The typed operations wanctl needs, over either transport. */
export interface RouterClient {
  /** The transport carrying calls now (fixed for single-transport clients). */
  readonly activeTransport: Transport;
  /** Set max-limit (and optionally queue type) of one or more queues in one batched call. */
  setQueueLimits(limits: readonly QueueLimit[], opts?: CallOptions): Promise<void>;
  /** Counters of the named queue tree items (RouterNotFoundError if one is missing). */
  getQueueStats(names: readonly string[], opts?: CallOptions): Promise<QueueStats[]>;
  /** The mangle rule whose comment equals `comment` exactly (first if several), or null. */
  findMangleRule(comment: string, opts?: CallOptions): Promise<MangleRule | null>;
  /** Enable every rule with exactly this comment; returns the rule's state read back. */
  enableMangleRule(comment: string, opts?: CallOptions): Promise<MangleRule>;
  /** Disable every rule with exactly this comment; returns the rule's state read back. */
  disableMangleRule(comment: string, opts?: CallOptions): Promise<MangleRule>;
  resetQueueCounters(names: readonly string[], opts?: CallOptions): Promise<void>;
  getIdentity(opts?: CallOptions): Promise<string>;
  getResource(opts?: CallOptions): Promise<SystemResource>;
  /** Run CLI text in the supported subset (see command.ts); `;` joins several commands. */
  runCommand(cli: string, opts?: CallOptions): Promise<CommandResult>;
  /**
   * Last known state of each transport this client uses (primary first). Optional in the
   * interface so that partial implementations (test fakes, other shapers) need not invent one;
   * every client of this package has it.
   */
  transportStates?(): TransportState[];
  /** Release every socket and timer. */
  close(): Promise<void>;
}

export interface RestOptions {
  /** Default 443 when https, else 80. */
  port?: number;
  /** Default true. */
  https?: boolean;
  user: string;
  password: string;
  /** Verify the router's TLS certificate (default true). false = v1.3 `verify_ssl: false` (warned). */
  verifyTls?: boolean;
  /** PEM file with the CA (or the router's own self-signed certificate) to trust. */
  caFile?: string;
  /** Pin the certificate by SHA-256 fingerprint (`AB:CD:...`, hex with or without colons, optional `sha256/` prefix). */
  certFingerprint?: string;
  /** Max sockets in the keep-alive pool (default 4). */
  maxSockets?: number;
  /** Largest answer body read, bytes (default 1 MiB); a larger one is aborted while streaming. */
  maxResponseBytes?: number;
}

export interface SshOptions {
  /** Default 22. */
  port?: number;
  user: string;
  password?: string;
  privateKeyPath?: string;
  /** Private key contents (alternative to privateKeyPath). */
  privateKey?: string | Buffer;
  passphrase?: string;
  /** known_hosts file to verify the host key against (OpenSSH format, hashed entries too). */
  knownHostsPath?: string;
  /** Pinned host key fingerprint, `SHA256:<base64>` as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint?: string;
  /** Suffix appended to the login name for machine-friendly output (default `+ct`). */
  loginSuffix?: string;
  /** Largest command output read, bytes (default 1 MiB); more drops the connection. */
  maxOutputBytes?: number;
}

export interface RouterClientOptions {
  host: string;
  /** Primary transport (docs/decisions.md#d1). */
  transport: Transport;
  rest?: RestOptions;
  ssh?: SshOptions;
  /** Default deadline of every call, ms (default 5000). */
  deadlineMs?: number;
  /** Connection establishment limit, ms (default 3000, and never more than the call's deadline). */
  connectTimeoutMs?: number;
  /** Retries on the same transport (bounded by the call's deadline). */
  retry?: RetryPolicy;
  /** How often the failover wrapper re-probes the primary while on the fallback, ms (default 10000). */
  reprobeIntervalMs?: number;
  logger?: RouterLogger;
}
