/**
 * RouterOS SSH client on ssh2: one persistent connection (an exec channel per call),
 * reconnect with jittered backoff, a deadline per command, host key verification against
 * known_hosts or a pinned SHA256 fingerprint, key or password auth, and RouterOS's printed
 * errors (exit status 0) turned into typed errors.
 */
import { readFileSync } from 'node:fs';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import { byName, commands, parseCommands, type RouterCommand, renderCli, renderCliBatch } from './command.js';
import { backoffDelay, callWithRetry, type Deadline, type RetryPolicy } from './deadline.js';
import {
  isRetryable,
  RouterAuthError,
  RouterBadResponseError,
  RouterCommandError,
  RouterConnectionError,
  type RouterError,
  type RouterHostVerificationError,
  RouterNotFoundError,
  RouterOptionsError,
  RouterResponseTooLargeError,
  RouterTimeoutError,
} from './errors.js';
import { TransportHealth, type TransportState } from './health.js';
import { verifyHostKey } from './hostkey.js';
import {
  findRouterOsError,
  isNotFoundMessage,
  parseAsValue,
  parseKeyValueBlock,
  parsePrint,
} from './parse.js';
import { mangleRuleFromMap, printRecordToMap, queueStatsFromMap, resourceFromMap } from './records.js';
import type {
  CallOptions,
  CommandResult,
  MangleRule,
  QueueLimit,
  QueueStats,
  RouterClient,
  RouterLogger,
  SshOptions,
  SystemResource,
} from './types.js';
import { DEFAULT_MAX_RESPONSE_BYTES, silentLogger } from './types.js';

type Ssh2Module = typeof import('ssh2');

/**
 * ssh2 is loaded when the first connection is opened, not when this module is imported: a
 * daemon on the REST transport never pays for it unless it fails over to SSH.
 */
let ssh2Loading: Promise<Ssh2Module> | undefined;

function loadSsh2(): Promise<Ssh2Module> {
  ssh2Loading ??= import('ssh2').catch((err: unknown) => {
    ssh2Loading = undefined;
    throw err;
  });
  return ssh2Loading;
}

export interface SshClientOptions extends SshOptions {
  host: string;
  deadlineMs?: number;
  connectTimeoutMs?: number;
  retry?: RetryPolicy;
  logger?: RouterLogger;
  /** Reconnect backoff: first delay and cap, ms (defaults 250 and 10000). */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
}

interface ExecResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

export class SshRouterClient implements RouterClient {
  readonly activeTransport = 'ssh' as const;
  private readonly opts: SshClientOptions;
  private readonly logger: RouterLogger;
  private readonly port: number;
  private conn: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private failures = 0;
  private nextConnectAt = 0;
  private lastConnectError: RouterError | undefined;
  private closed = false;
  private readonly channels = new Set<ClientChannel>();
  private readonly health = new TransportHealth('ssh');

  constructor(opts: SshClientOptions) {
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger;
    this.port = opts.port ?? 22;
    if (!opts.password && !opts.privateKeyPath && !opts.privateKey) {
      throw new RouterOptionsError('SSH needs a private key (privateKeyPath) or a password');
    }
  }

  private ctx(cmd?: string) {
    return { transport: 'ssh' as const, host: this.opts.host, command: cmd };
  }

  // ------------------------------------------------------------------ connection

  /** Whether a connection is currently established. */
  get connected(): boolean {
    return this.conn !== undefined;
  }

  /** Last known state of this transport (for health output). */
  transportStates(): TransportState[] {
    return [this.health.get()];
  }

  private connect(deadline: Deadline): Promise<Client> {
    if (this.closed)
      return Promise.reject(new RouterConnectionError('SSH client is closed', 'closed', this.ctx()));
    if (this.conn) return Promise.resolve(this.conn);
    if (this.connecting) return this.connecting;
    const now = performance.now();
    if (now < this.nextConnectAt && this.lastConnectError) {
      return Promise.reject(this.lastConnectError);
    }
    const p = this.doConnect(deadline).then(
      (c) => {
        this.connecting = undefined;
        this.failures = 0;
        this.lastConnectError = undefined;
        return c;
      },
      (err: RouterError) => {
        this.connecting = undefined;
        this.failures++;
        this.lastConnectError = err;
        this.nextConnectAt =
          performance.now() +
          backoffDelay(
            {
              attempts: 1,
              baseDelayMs: this.opts.reconnectBaseMs ?? 250,
              maxDelayMs: this.opts.reconnectMaxMs ?? 10_000,
            },
            this.failures,
          );
        throw err;
      },
    );
    this.connecting = p;
    return p;
  }

  private async doConnect(deadline: Deadline): Promise<Client> {
    let ssh2: Ssh2Module;
    try {
      ssh2 = await loadSsh2();
    } catch (err) {
      throw new RouterConnectionError(
        `SSH transport unavailable: cannot load the SSH library ssh2 (${(err as Error).message})`,
        'protocol',
        { ...this.ctx(), cause: err },
      );
    }
    if (this.closed) throw new RouterConnectionError('SSH client is closed', 'closed', this.ctx());
    return new Promise<Client>((resolve, reject) => {
      const client = new ssh2.Client();
      let hostKeyError: RouterHostVerificationError | undefined;
      let settled = false;
      const budget = Math.max(1, Math.min(deadline.remaining(), this.opts.connectTimeoutMs ?? 3000));
      const timer = setTimeout(() => {
        fail(
          new RouterTimeoutError(
            `SSH connection to ${this.opts.host}:${this.port} not ready within ${Math.round(budget)} ms`,
            budget,
            this.ctx(),
          ),
        );
      }, budget);
      const fail = (err: RouterError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.removeAllListeners('ready');
        client.on('error', () => {});
        client.destroy();
        reject(err);
      };
      client.once('ready', () => {
        if (settled) {
          client.destroy();
          return;
        }
        settled = true;
        clearTimeout(timer);
        // Small exec/close packets must not wait for Nagle + delayed ACK (~40 ms each).
        client.setNoDelay(true);
        this.conn = client;
        const drop = () => {
          if (this.conn === client) {
            this.conn = undefined;
            this.logger.debug?.(`SSH connection to ${this.opts.host}:${this.port} closed`);
          }
        };
        client.on('close', drop);
        client.on('end', drop);
        client.on('error', (e) => {
          this.logger.debug?.(`SSH connection error: ${e.message}`);
          drop();
        });
        resolve(client);
      });
      client.once('error', (err: Error & { level?: string; code?: string }) => {
        if (hostKeyError) return fail(hostKeyError);
        if (err.level === 'client-authentication') {
          return fail(
            new RouterAuthError(
              `SSH login as "${this.opts.user}" to ${this.opts.host}:${this.port} refused: check the user and its key or password`,
              { ...this.ctx(), cause: err },
            ),
          );
        }
        if (err.level === 'client-timeout') {
          return fail(
            new RouterTimeoutError(
              `SSH handshake with ${this.opts.host}:${this.port} timed out`,
              budget,
              this.ctx(),
            ),
          );
        }
        const code = err.code ?? '';
        const kind: RouterConnectionError['kind'] =
          code === 'ECONNREFUSED'
            ? 'refused'
            : code === 'ECONNRESET' || code === 'EPIPE'
              ? 'reset'
              : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
                ? 'dns'
                : code === 'EHOSTUNREACH' || code === 'ENETUNREACH'
                  ? 'unreachable'
                  : 'protocol';
        fail(
          new RouterConnectionError(
            `SSH ${this.opts.host}:${this.port}: ${code ? `${code} ` : ''}${err.message}`,
            kind,
            {
              ...this.ctx(),
              cause: err,
            },
          ),
        );
      });
      client.once('close', () => {
        if (!settled) {
          fail(
            hostKeyError ??
              new RouterConnectionError(
                `SSH ${this.opts.host}:${this.port} closed during the handshake`,
                'closed',
                this.ctx(),
              ),
          );
        }
      });
      let privateKey: Buffer | string | undefined = this.opts.privateKey;
      if (!privateKey && this.opts.privateKeyPath) {
        try {
          privateKey = readFileSync(this.opts.privateKeyPath);
        } catch (err) {
          return fail(
            new RouterAuthError(
              `cannot read SSH private key ${this.opts.privateKeyPath}: ${(err as Error).message}`,
              this.ctx(),
            ),
          );
        }
      }
      const cfg: ConnectConfig = {
        host: this.opts.host,
        port: this.port,
        username: `${this.opts.user}${this.opts.loginSuffix ?? '+ct'}`,
        readyTimeout: budget + 1000,
        keepaliveInterval: 15_000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          const err = verifyHostKey(key, {
            host: this.opts.host,
            port: this.port,
            hostKeyFingerprint: this.opts.hostKeyFingerprint,
            knownHostsPath: this.opts.knownHostsPath,
          });
          if (err) hostKeyError = err;
          return err === null;
        },
        ...(privateKey ? { privateKey } : {}),
        ...(this.opts.passphrase ? { passphrase: this.opts.passphrase } : {}),
        ...(this.opts.password !== undefined ? { password: this.opts.password } : {}),
      };
      try {
        client.connect(cfg);
      } catch (err) {
        fail(
          new RouterAuthError(`SSH configuration rejected: ${(err as Error).message}`, {
            ...this.ctx(),
            cause: err,
          }),
        );
      }
    });
  }

  /** Run one exec channel under the deadline; a timed-out channel tears the connection down. */
  private async exec(cmdText: string, deadline: Deadline): Promise<ExecResult> {
    const conn = await this.connect(deadline);
    const remaining = deadline.remaining();
    if (remaining <= 0) throw this.timeoutError(deadline, cmdText);
    return new Promise<ExecResult>((resolve, reject) => {
      let stream: ClientChannel | undefined;
      let done = false;
      const finish = (err: RouterError | null, res?: ExecResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (stream) this.channels.delete(stream);
        if (err) reject(err);
        else resolve(res!);
      };
      const timer = setTimeout(() => {
        // Never leave a half-open session behind: drop the connection, reconnect next call.
        if (this.conn === conn) this.conn = undefined;
        conn.destroy();
        finish(this.timeoutError(deadline, cmdText));
      }, remaining);
      const onConnClose = () =>
        finish(
          new RouterConnectionError(
            `SSH connection to ${this.opts.host} closed during a command`,
            'reset',
            this.ctx(cmdText),
          ),
        );
      conn.once('close', onConnClose);
      const cleanupConn = () => conn.removeListener('close', onConnClose);
      try {
        conn.exec(cmdText, (err, ch) => {
          if (err) {
            cleanupConn();
            if (this.conn === conn) this.conn = undefined;
            conn.destroy();
            return finish(
              new RouterConnectionError(`SSH exec failed on ${this.opts.host}: ${err.message}`, 'protocol', {
                ...this.ctx(cmdText),
                cause: err,
              }),
            );
          }
          stream = ch;
          this.channels.add(ch);
          const out: Buffer[] = [];
          const errOut: Buffer[] = [];
          let code: number | null = null;
          let size = 0;
          const limit = this.opts.maxOutputBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
          const take = (into: Buffer[]) => (d: Buffer) => {
            size += d.length;
            if (size <= limit) {
              into.push(d);
              return;
            }
            // Stop reading: drop the connection (the channel may still be streaming), reconnect next call.
            cleanupConn();
            if (this.conn === conn) this.conn = undefined;
            conn.destroy();
            finish(
              new RouterResponseTooLargeError(
                `SSH command output on ${this.opts.host} is larger than ${limit} bytes; reading aborted`,
                limit,
                this.ctx(cmdText),
              ),
            );
          };
          ch.on('data', take(out));
          ch.stderr.on('data', take(errOut));
          ch.on('exit', (c: number | null) => {
            code = c;
          });
          ch.on('close', () => {
            cleanupConn();
            finish(null, {
              stdout: Buffer.concat(out).toString('utf8'),
              stderr: Buffer.concat(errOut).toString('utf8'),
              code,
            });
          });
        });
      } catch (err) {
        cleanupConn();
        if (this.conn === conn) this.conn = undefined;
        finish(
          new RouterConnectionError(
            `SSH exec failed: ${(err as Error).message}`,
            'protocol',
            this.ctx(cmdText),
          ),
        );
      }
    });
  }

  private timeoutError(deadline: Deadline, cmd: string): RouterTimeoutError {
    return new RouterTimeoutError(
      `SSH command on ${this.opts.host} did not finish within its ${Math.round(deadline.budgetMs)} ms deadline`,
      deadline.budgetMs,
      this.ctx(cmd),
    );
  }

  /** exec + RouterOS error detection (errors are printed with exit status 0). */
  private async run(cmdText: string, deadline: Deadline, notFound?: string): Promise<string> {
    const res = await this.exec(cmdText, deadline);
    const text = res.stdout + (res.stderr ? `\n${res.stderr}` : '');
    const msg = findRouterOsError(text);
    if (msg) {
      if (isNotFoundMessage(msg)) throw new RouterNotFoundError(notFound ?? 'item', msg, this.ctx(cmdText));
      throw new RouterCommandError(`RouterOS refused the command over SSH: ${msg}`, msg, this.ctx(cmdText));
    }
    if (res.code !== null && res.code !== 0) {
      const m = text.trim() || `exit status ${res.code}`;
      throw new RouterCommandError(
        `SSH command failed with exit status ${res.code}: ${m}`,
        m,
        this.ctx(cmdText),
      );
    }
    return res.stdout;
  }

  /** Run `fn` under the call's deadline with the shared retry wrapper; keeps the health state. */
  private call<T>(opts: CallOptions | undefined, fn: (deadline: Deadline) => Promise<T>): Promise<T> {
    return callWithRetry(
      {
        deadlineMs: opts?.deadlineMs ?? this.opts.deadlineMs ?? 5000,
        policy: this.opts.retry,
        isRetryable,
        onRetry: (err, attempt, delay) =>
          this.logger.debug?.(`SSH retry ${attempt} in ${Math.round(delay)} ms: ${(err as Error).message}`),
        onSettled: (err) => this.health.record(err),
      },
      fn,
    );
  }

  private static records(text: string): Array<Record<string, string>> {
    const out = parsePrint(text);
    return out.records.map((r) => printRecordToMap(r, out.legend));
  }

  // ------------------------------------------------------------------ typed operations

  async setQueueLimits(limits: readonly QueueLimit[], opts?: CallOptions): Promise<void> {
    if (limits.length === 0) return;
    // Each queue is addressed by name (not [find]) so that a missing queue is reported as
    // "no such item" instead of silently matching nothing. The console never uses ids.
    const cmds = limits.map((l) => byName(commands.setQueueLimit(l)));
    const text = renderCliBatch(cmds);
    await this.call(opts, (d) => this.run(text, d, `queue ${limits.map((l) => `"${l.name}"`).join(' or ')}`));
  }

  async getQueueStats(names: readonly string[], opts?: CallOptions): Promise<QueueStats[]> {
    if (names.length === 0) return [];
    // `print stats detail` carries the counters, `print detail` the configuration (max-limit,
    // queue type); both run in one exec and merge by name into the same snapshot REST gives.
    const text = renderCliBatch(
      names.flatMap((n) => [
        commands.printQueues([n], ['detail']),
        commands.printQueues([n], ['stats', 'detail']),
      ]),
    );
    return this.call(opts, async (d) => {
      const out = await this.run(text, d);
      const merged = new Map<string, Record<string, string>>();
      for (const r of SshRouterClient.records(out)) {
        const name = r['name'];
        if (name !== undefined) merged.set(name, { ...merged.get(name), ...r });
      }
      return names.map((n) => {
        const rec = merged.get(n);
        if (!rec) throw new RouterNotFoundError(`queue "${n}"`, 'no such item', this.ctx(text));
        return queueStatsFromMap(rec, 'ssh', this.opts.host);
      });
    });
  }

  private ruleFrom(out: string, comment: string): MangleRule | null {
    const rec = SshRouterClient.records(out).find((r) => r['comment'] === comment);
    return rec ? mangleRuleFromMap(rec) : null;
  }

  async findMangleRule(comment: string, opts?: CallOptions): Promise<MangleRule | null> {
    const text = renderCli(commands.printMangle(comment));
    return this.call(opts, async (d) => this.ruleFrom(await this.run(text, d), comment));
  }

  private async toggleMangle(
    verb: 'enable' | 'disable',
    comment: string,
    opts?: CallOptions,
  ): Promise<MangleRule> {
    // Write and read back in one exec.
    const text = renderCliBatch([commands.mangle(verb, comment), commands.printMangle(comment)]);
    return this.call(opts, async (d) => {
      const rule = this.ruleFrom(await this.run(text, d), comment);
      if (!rule)
        throw new RouterNotFoundError(
          `mangle rule with comment "${comment}"`,
          'no such item',
          this.ctx(text),
        );
      return rule;
    });
  }

  enableMangleRule(comment: string, opts?: CallOptions): Promise<MangleRule> {
    return this.toggleMangle('enable', comment, opts);
  }

  disableMangleRule(comment: string, opts?: CallOptions): Promise<MangleRule> {
    return this.toggleMangle('disable', comment, opts);
  }

  async resetQueueCounters(names: readonly string[], opts?: CallOptions): Promise<void> {
    if (names.length === 0) return;
    const cmds = names.map((n) => byName(commands.resetQueue(n)));
    const text = renderCliBatch(cmds);
    await this.call(opts, (d) => this.run(text, d, `queue ${names.map((n) => `"${n}"`).join(' or ')}`));
  }

  async getIdentity(opts?: CallOptions): Promise<string> {
    return this.call(opts, async (d) => {
      const out = await this.run('/system/identity/print', d);
      const name = parseKeyValueBlock(out)['name'];
      if (name === undefined) {
        throw new RouterBadResponseError(
          `unexpected /system/identity/print output: ${out.slice(0, 80)}`,
          this.ctx(),
        );
      }
      return name;
    });
  }

  async getResource(opts?: CallOptions): Promise<SystemResource> {
    return this.call(opts, async (d) =>
      resourceFromMap(parseKeyValueBlock(await this.run('/system/resource/print', d))),
    );
  }

  async runCommand(cli: string, opts?: CallOptions): Promise<CommandResult> {
    const cmds = parseCommands(cli);
    const text = renderCliBatch(cmds);
    return this.call(opts, async (d) => {
      const out = await this.run(text, d);
      return { transport: 'ssh' as const, records: recordsFromConsole(out, cmds), raw: out };
    });
  }

  /** Send raw CLI text without the command model (for tools; errors still detected). */
  async runRaw(cliText: string, opts?: CallOptions): Promise<string> {
    return this.call(opts, (d) => this.run(cliText, d));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const ch of this.channels) ch.destroy();
    this.channels.clear();
    const c = this.conn;
    this.conn = undefined;
    if (this.connecting) await this.connecting.catch(() => {});
    if (c) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          c.destroy();
          resolve();
        }, 500);
        c.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        c.end();
      });
    }
    if (this.conn) {
      (this.conn as Client).destroy();
      this.conn = undefined;
    }
  }
}

/** Turn console output into records, choosing the parser from the commands' print modifiers. */
export function recordsFromConsole(
  out: string,
  cmds: readonly RouterCommand[],
): Array<Record<string, string>> {
  const prints = cmds.filter((c) => c.verb === 'print');
  if (prints.length === 0) return [];
  if (prints.every((c) => c.modifiers.includes('as-value'))) return parseAsValue(out);
  if (prints.every((c) => c.modifiers.includes('count-only'))) {
    return out
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => /^\d+$/.test(l))
      .map((count) => ({ count }));
  }
  const recs = SshRecords.of(out).filter((r) => Object.keys(r).some((k) => k !== '' && !BOOL_KEYS.has(k)));
  if (recs.length > 0) return recs;
  const block = parseKeyValueBlock(out);
  return Object.keys(block).length ? [block] : [];
}

const BOOL_KEYS = new Set(['disabled', 'invalid', 'dynamic']);

const SshRecords = {
  of(text: string): Array<Record<string, string>> {
    const out = parsePrint(text);
    return out.records.map((r) => printRecordToMap(r, out.legend));
  },
};
