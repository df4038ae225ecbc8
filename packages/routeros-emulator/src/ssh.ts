/**
 * The SSH face: an ssh2 Server with password and public-key auth, an exec channel per command and
 * an interactive shell, all running the console subset in console.ts against the shared state.
 * Sources (EMULATION.md): REF-B.6 (MikroTik's console login page), the ssh2 docs; routeros-samples/README.md "CLI" 6–7.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import type { Connection, ParsedKey, ServerChannel } from 'ssh2';
import ssh2 from 'ssh2';
import {
  type ConsoleResult,
  type ConsoleSession,
  newConsoleSession,
  parseLoginName,
  runConsoleLine,
} from './console.js';
import { EmulatorConfigError } from './errors.js';
import type { Faults } from './faults.js';
import { ManagedListener } from './listener.js';
import type { RequestLog, SshRequestEntry } from './requests.js';
import type { EmulatorUser } from './rest.js';
import type { RouterState } from './state.js';

const { Server, utils } = ssh2;

export interface SshFaceOptions {
  state: RouterState;
  users: EmulatorUser[];
  faults: Faults;
  log: RequestLog;
  host: string;
  /** Host private key (OpenSSH or PEM text). */
  hostKey: string;
  /** Line ending of output. Default `\r\n`. */
  lineEnding?: string;
  /** Wrap width when neither the login suffix nor a pty gives one. Default 80. */
  defaultWidth?: number;
  now: () => number;
}

/** `SHA256:<base64 without padding>` of a public key blob, as `ssh-keygen -l` prints it. */
export function sshFingerprint(publicBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicBlob).digest('base64').replace(/=+$/, '')}`;
}

/** Parses a private host key; throws EmulatorConfigError naming the problem. */
export function parsePrivateKey(text: string, what = 'host key'): ParsedKey {
  const k = utils.parseKey(text);
  if (k instanceof Error) throw new EmulatorConfigError(`cannot parse ${what}: ${k.message}`);
  const key = Array.isArray(k) ? k[0] : k;
  if (!key?.isPrivateKey()) throw new EmulatorConfigError(`${what} is not a private key`);
  return key;
}

/**
 * Generates an ed25519 key pair in OpenSSH format. ssh2 1.17's generator drops a leading zero byte
 * of the public key about once in 200 keys, which its own parser then rejects; such keys are
 * discarded and generated again.
 */
export function generateEd25519(): { private: string; public: string } {
  for (let i = 0; i < 100; i++) {
    const pair = utils.generateKeyPairSync('ed25519');
    const priv = utils.parseKey(pair.private);
    const pub = utils.parseKey(pair.public);
    if (!(priv instanceof Error) && !(pub instanceof Error)) return pair;
  }
  throw new Error('could not generate a valid ed25519 key');
}

function parsePublic(text: string): ParsedKey | undefined {
  const k = utils.parseKey(text.trim());
  if (k instanceof Error) return undefined;
  return Array.isArray(k) ? k[0] : k;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Runs a console line; an emulator bug is reported as a RouterOS-style failure, never thrown. */
function safeRun(state: RouterState, cs: ConsoleSession, line: string): ConsoleResult {
  try {
    return runConsoleLine(state, cs, line);
  } catch (err) {
    return {
      lines: [`failure: emulator error: ${err instanceof Error ? err.message : String(err)}`],
      quit: false,
    };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SshFace {
  readonly listener: ManagedListener;
  readonly hostKeyFingerprint: string;
  private readonly ssh: InstanceType<typeof Server>;
  private readonly byPeer = new Map<string, Socket>();
  private readonly clients = new Set<Connection>();
  private stopped = false;
  private readonly eol: string;

  constructor(private readonly o: SshFaceOptions) {
    const key = parsePrivateKey(o.hostKey);
    this.hostKeyFingerprint = sshFingerprint(key.getPublicSSH());
    this.eol = o.lineEnding ?? '\r\n';
    this.ssh = new Server({ hostKeys: [o.hostKey], ident: 'ROSSSH' }, (client, info) =>
      this.onClient(client, info),
    );
    const raw = createServer({ noDelay: true }, (sock) => {
      // Small command/answer packets: without TCP_NODELAY, Nagle and delayed ACK add ~40 ms each.
      sock.setNoDelay(true);
      const peer = `${sock.remoteAddress}:${sock.remotePort}`;
      this.byPeer.set(peer, sock);
      sock.on('close', () => this.byPeer.delete(peer));
      this.ssh.injectSocket(sock);
    });
    this.listener = new ManagedListener(raw, o.host, () => o.faults.get('ssh').maxSessions);
    o.faults.registerDownHook('ssh', async (down) => {
      if (down) await this.listener.close();
      else if (!this.stopped) await this.listener.reopen();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const c of this.clients) c.end();
    await this.listener.close();
  }

  private onClient(client: Connection, info: { ip: string; port: number }): void {
    this.clients.add(client);
    client.on('close', () => this.clients.delete(client));
    client.on('error', () => {
      /* a client vanishing is not the emulator's problem */
    });
    const sock = this.byPeer.get(`${info.ip}:${info.port}`);
    let login = '';
    client.on('authentication', (ctx) => {
      const { user: name } = parseLoginName(ctx.username);
      const user = this.o.users.find((u) => u.name === name);
      const methods: ('password' | 'publickey')[] = ['password', 'publickey'];
      if (!user) return ctx.reject(methods);
      if (ctx.method === 'password') {
        if (user.password !== undefined && safeEqual(user.password, ctx.password)) {
          login = ctx.username;
          return ctx.accept();
        }
        return ctx.reject(methods);
      }
      if (ctx.method === 'publickey') {
        for (const text of user.authorizedKeys ?? []) {
          const pub = parsePublic(text);
          if (!pub || pub.type !== ctx.key.algo || !pub.getPublicSSH().equals(ctx.key.data)) continue;
          if (!ctx.signature || !ctx.blob) return ctx.accept();
          if (pub.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) {
            login = ctx.username;
            return ctx.accept();
          }
        }
        return ctx.reject(methods);
      }
      return ctx.reject(methods);
    });
    client.on('ready', () => {
      const { user: name, width } = parseLoginName(login);
      const user = this.o.users.find((u) => u.name === name);
      if (!user) {
        client.end();
        return;
      }
      client.on('session', (accept) => {
        const session = accept();
        let ptyCols: number | undefined;
        session.on('pty', (acc, _rej, ptyInfo) => {
          ptyCols = ptyInfo.cols || undefined;
          acc?.();
        });
        session.on('env', (acc) => acc?.());
        session.on('window-change', (acc) => acc?.());
        const consoleUser = { name, group: user.group ?? 'full' };
        const widthFor = () => width ?? ptyCols ?? this.o.defaultWidth ?? 80;
        session.on('exec', (acc, _rej, execInfo) => {
          const ch = acc();
          const cs = newConsoleSession(consoleUser, 'exec', widthFor());
          void this.runExec(ch, cs, login, execInfo.command, sock);
        });
        session.on('shell', (acc) => {
          const ch = acc();
          const cs = newConsoleSession(consoleUser, 'shell', widthFor());
          this.runShell(ch, cs, login, ptyCols !== undefined, sock);
        });
      });
    });
  }

  private logEntry(login: string, channel: 'exec' | 'shell', command: string): SshRequestEntry {
    return this.o.log.push({
      face: 'ssh',
      seq: this.o.log.nextSeq(),
      time: this.o.now(),
      login,
      user: parseLoginName(login).user,
      channel,
      command,
    });
  }

  /**
   * Faults before a command runs: latency, then `hang` (the command never runs and never
   * answers). Returns false when the command must not run.
   */
  private async beforeCommand(entry: SshRequestEntry): Promise<boolean> {
    const latency = this.o.faults.get('ssh').latencyMs;
    if (latency) {
      const downs = this.o.faults.downCount('ssh');
      await sleep(latency);
      if (this.o.faults.downCount('ssh') !== downs) {
        // the face went down during the delay: the connection is gone and the command not run
        entry.fault = 'dropped';
        return false;
      }
    }
    if (this.o.faults.take('ssh', 'hang')) {
      entry.fault = 'hang';
      return false;
    }
    return true;
  }

  /**
   * Fault after a command ran: `disconnect` sends half the output and drops the connection (the
   * change was made; the answer is lost). Returns false when the answer must not be sent.
   */
  private afterCommand(entry: SshRequestEntry, out: string, ch: ServerChannel, sock?: Socket): boolean {
    if (!this.o.faults.take('ssh', 'disconnect')) return true;
    entry.fault = 'disconnect';
    const part = out.slice(0, Math.floor(out.length / 2));
    if (part) ch.write(part);
    setTimeout(() => sock?.destroy(), 10);
    return false;
  }

  private render(lines: string[]): string {
    return lines.length === 0 ? '' : lines.join(this.eol) + this.eol;
  }

  private async runExec(
    ch: ServerChannel,
    cs: ConsoleSession,
    login: string,
    command: string,
    sock?: Socket,
  ): Promise<void> {
    const entry = this.logEntry(login, 'exec', command);
    if (!(await this.beforeCommand(entry))) return;
    const result = safeRun(this.o.state, cs, command);
    const out = this.render(result.lines);
    entry.output = out;
    if (!this.afterCommand(entry, out, ch, sock)) return;
    if (out) ch.write(out);
    const oversize = this.o.faults.takeOversize('ssh');
    if (oversize !== undefined) {
      entry.fault = 'oversize';
      await writeOversize(ch, oversize, this.eol);
    }
    ch.exit(0);
    ch.end();
  }

  private prompt(cs: ConsoleSession): string {
    const identity = this.o.state.get('/system/identity')?.['name'] ?? 'MikroTik';
    return cs.cwd === '/' ? `[${cs.user.name}@${identity}] > ` : `[${cs.user.name}@${identity}] ${cs.cwd}> `;
  }

  private runShell(ch: ServerChannel, cs: ConsoleSession, login: string, echo: boolean, sock?: Socket): void {
    const eol = this.eol;
    const version = this.o.state.get('/system/resource')?.['version'] ?? '7';
    ch.write(`${eol}${eol}  MikroTik RouterOS ${version} (emulated)${eol}${eol}${this.prompt(cs)}`);
    let buf = '';
    let busy = Promise.resolve();
    let closed = false;
    const runLine = async (line: string) => {
      if (closed) return;
      const entry = this.logEntry(login, 'shell', line);
      if (!(await this.beforeCommand(entry))) return;
      const result = safeRun(this.o.state, cs, line);
      const out = this.render(result.lines);
      entry.output = out;
      if (!this.afterCommand(entry, out, ch, sock)) {
        closed = true;
        return;
      }
      if (result.quit) {
        closed = true;
        ch.write(`interrupted${eol}`);
        ch.exit(0);
        ch.end();
        return;
      }
      ch.write(out + this.prompt(cs));
    };
    // Input is handled strictly in order: echo of a later line never overtakes an earlier answer.
    const onChunk = async (data: Buffer) => {
      for (const c of data.toString('utf8')) {
        if (closed) return;
        if (c === '\r' || c === '\n') {
          if (c === '\n' && buf === '' && echo) continue;
          const line = buf;
          buf = '';
          if (echo) ch.write(eol);
          await runLine(line);
        } else if (c === '\x7f' || c === '\b') {
          if (buf.length > 0) {
            buf = buf.slice(0, -1);
            if (echo) ch.write('\b \b');
          }
        } else if (c === '\x03') {
          buf = '';
          if (echo) ch.write(eol + this.prompt(cs));
        } else if (c === '\x04' && buf === '') {
          await runLine('quit');
        } else if (c >= ' ') {
          buf += c;
          if (echo) ch.write(c);
        }
      }
    };
    ch.on('data', (data: Buffer) => {
      busy = busy.then(() => onChunk(data));
    });
    ch.on('close', () => {
      closed = true;
    });
  }
}

/** About `bytes` bytes of comment lines, written as fast as the client reads them. */
async function writeOversize(ch: ServerChannel, bytes: number, eol: string): Promise<void> {
  const chunk = `${` ;;; ${'x'.repeat(70)}${eol}`.repeat(800)}`;
  let sent = 0;
  let closed = false;
  ch.once('close', () => {
    closed = true;
  });
  while (sent < bytes && !closed) {
    if (!ch.write(chunk)) {
      await new Promise<void>((resolve) => {
        ch.once('drain', resolve);
        ch.once('close', resolve);
      });
    }
    sent += chunk.length;
  }
}
