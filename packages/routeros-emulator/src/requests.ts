/** The request log: exactly what clients sent, on both faces, in arrival order. */

export interface RestRequestEntry {
  readonly face: 'rest';
  readonly seq: number;
  /** Emulator clock, ms. */
  readonly time: number;
  readonly method: string;
  /** Decoded path, e.g. `/rest/queue/tree/*1000000`. */
  readonly path: string;
  /** Raw request target as sent (path and query string). */
  readonly url: string;
  /** Query parameters (decoded). */
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  /** Raw body text (empty when none). */
  readonly body: string;
  /** Parsed JSON body, when it was valid JSON. */
  readonly json?: unknown;
  /** Authenticated user name, when credentials were valid. */
  user?: string;
  /** Status answered (undefined while pending, or when a fault cut the answer). */
  status?: number;
  /** Fault applied, if any. */
  fault?: string;
}

export interface SshRequestEntry {
  readonly face: 'ssh';
  readonly seq: number;
  readonly time: number;
  /** Login name as sent (with any `+ct…` suffix). */
  readonly login: string;
  readonly user: string;
  readonly channel: 'exec' | 'shell';
  /** The command line exactly as received. */
  readonly command: string;
  /** Text answered (before line-ending conversion). */
  output?: string;
  fault?: string;
}

export type RequestEntry = RestRequestEntry | SshRequestEntry;

export class RequestLog {
  private entries: RequestEntry[] = [];
  private seq = 0;
  /** Oldest entries are dropped beyond this many. */
  constructor(private readonly limit = 10_000) {}

  /** @internal */
  nextSeq(): number {
    return ++this.seq;
  }

  /** @internal */
  push<T extends RequestEntry>(e: T): T {
    this.entries.push(e);
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
    return e;
  }

  /** Every entry, oldest first. */
  all(): RequestEntry[] {
    return [...this.entries];
  }

  /** REST entries only. */
  rest(): RestRequestEntry[] {
    return this.entries.filter((e): e is RestRequestEntry => e.face === 'rest');
  }

  /** SSH entries only. */
  ssh(): SshRequestEntry[] {
    return this.entries.filter((e): e is SshRequestEntry => e.face === 'ssh');
  }

  clear(): void {
    this.entries = [];
  }
}
