/** startEmulator(): one RouterState behind a REST face, an SSH face and an admin HTTP endpoint. */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import selfsigned from 'selfsigned';
import { AdminFace } from './admin.js';
import { EmulatorConfigError } from './errors.js';
import { Faults } from './faults.js';
import { applyFixture, defaultFixture, type Fixture, loadFixture } from './fixture.js';
import { RequestLog } from './requests.js';
import { type EmulatorUser, RestFace } from './rest.js';
import { generateEd25519, parsePrivateKey, SshFace } from './ssh.js';
import { RouterState } from './state.js';
import type { TrafficModel } from './traffic.js';

export interface EmulatorOptions {
  /** Address to bind every face to. Default `127.0.0.1`. */
  host?: string;
  /** REST port; 0 (default) picks a free one. `false` disables the REST face. */
  restPort?: number | false;
  /** SSH port; 0 (default) picks a free one. `false` disables the SSH face. */
  sshPort?: number | false;
  /** Admin HTTP port (faults, request log, state); 0 picks a free one; `false` (default) disables it. */
  adminPort?: number | false;
  /** Serve REST over HTTPS. `true` makes a self-signed certificate; or give `{key, cert}` PEM text. */
  tls?: boolean | { key: string; cert: string };
  /** Users. Default one `admin` / `admin` in group `full`. */
  users?: EmulatorUser[];
  /** Seed: a Fixture, a path to a YAML/JSON file, or `'empty'`. Default `defaultFixture`. */
  seed?: Fixture | string;
  /** SSH host key: private key text. */
  hostKey?: string;
  /** SSH host key file: read if it exists, else generated (ed25519) and written (mode 600). */
  hostKeyFile?: string;
  /** 401 body: `empty` (default) or `json`. */
  unauthorizedBody?: 'empty' | 'json';
  /**
   * REST `GET …?comment=X` when X has characters other than letters, digits, space, `-`, `_`, `.`:
   * `ignore` (default; field report: the router ignores such a filter), `empty` (answers `[]`),
   * or `exact` (filters like any other property). Clients should filter by comment themselves.
   */
  restCommentQuery?: 'ignore' | 'empty' | 'exact';
  /** REST command timeout before `Session closed` (used by the `sessionClosed` fault). Default 60000. */
  restCommandTimeoutMs?: number;
  /** SSH output line ending. Default `\r\n`. */
  sshLineEnding?: string;
  /** SSH wrap width when the login suffix and pty give none. Default 80. */
  sshWidth?: number;
  /** Clock (ms) for the traffic model and the request log. Default `Date.now`. */
  now?: () => number;
  /** Traffic model. Default: the state's StaticTrafficModel. */
  trafficModel?: TrafficModel;
}

export interface Emulator {
  readonly host: string;
  /** REST face (absent when disabled). `url` is the base including `/rest`. */
  readonly rest: { port: number; url: string; protocol: 'http' | 'https'; cert?: string } | undefined;
  /** SSH face (absent when disabled). */
  readonly ssh: { port: number; hostKeyFingerprint: string; hostPublicKey: string } | undefined;
  /** Admin endpoint (absent unless enabled). */
  readonly admin: { port: number; url: string } | undefined;
  readonly users: readonly EmulatorUser[];
  /** The shared RouterOS state. */
  readonly state: RouterState;
  readonly faults: Faults;
  readonly requests: RequestLog;
  /** Replaces the traffic model (queue counters source). */
  setTrafficModel(model: TrafficModel): void;
  /** Stops every face and drops every connection. Safe to call twice. */
  stop(): Promise<void>;
}

async function resolveHostKey(opts: EmulatorOptions): Promise<string> {
  if (opts.hostKey) {
    parsePrivateKey(opts.hostKey, 'hostKey');
    return opts.hostKey;
  }
  if (opts.hostKeyFile && existsSync(opts.hostKeyFile)) {
    const text = await readFile(opts.hostKeyFile, 'utf8');
    parsePrivateKey(text, `host key file ${opts.hostKeyFile}`);
    return text;
  }
  const pair = generateEd25519();
  if (opts.hostKeyFile) {
    await mkdir(dirname(opts.hostKeyFile), { recursive: true });
    await writeFile(opts.hostKeyFile, pair.private, { mode: 0o600 });
    await chmod(opts.hostKeyFile, 0o600);
  }
  return pair.private;
}

/** Starts an emulator; resolves once every enabled face listens. */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const host = opts.host ?? '127.0.0.1';
  const now = opts.now ?? Date.now;
  const users = opts.users ?? [{ name: 'admin', password: 'admin', group: 'full' }];
  for (const u of users) {
    if (!u.name) throw new EmulatorConfigError('every user needs a name');
    if (u.password === undefined && !u.authorizedKeys?.length) {
      throw new EmulatorConfigError(`user "${u.name}" has neither a password nor authorized keys`);
    }
  }
  const state = new RouterState({ now, ...(opts.trafficModel ? { trafficModel: opts.trafficModel } : {}) });
  const seed = opts.seed ?? defaultFixture;
  if (seed !== 'empty') applyFixture(state, typeof seed === 'string' ? await loadFixture(seed) : seed);
  const faults = new Faults();
  const requests = new RequestLog();

  let tls: { key: string; cert: string } | undefined;
  if (opts.tls === true) {
    const gen = await selfsigned.generate([{ name: 'commonName', value: 'routeros-emulator' }], {
      keyType: 'ec',
      curve: 'P-256',
      extensions: [
        {
          name: 'subjectAltName',
          altNames: [
            { type: 7, ip: '127.0.0.1' },
            { type: 2, value: 'localhost' },
          ],
        },
      ],
    });
    tls = { key: gen.private, cert: gen.cert };
  } else if (opts.tls) {
    tls = opts.tls;
  }

  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    await Promise.all(started.map((s) => s.stop()));
  };
  try {
    let rest: Emulator['rest'];
    if (opts.restPort !== false) {
      const face = new RestFace({
        state,
        users,
        faults,
        log: requests,
        host,
        ...(tls ? { tls } : {}),
        unauthorizedBody: opts.unauthorizedBody ?? 'empty',
        commentQuery: opts.restCommentQuery ?? 'ignore',
        ...(opts.restCommandTimeoutMs !== undefined ? { commandTimeoutMs: opts.restCommandTimeoutMs } : {}),
        now,
      });
      started.push(face);
      const port = await face.listener.listen(opts.restPort ?? 0);
      const h = host.includes(':') ? `[${host}]` : host;
      rest = {
        port,
        protocol: face.protocol,
        url: `${face.protocol}://${h}:${port}/rest`,
        ...(tls ? { cert: tls.cert } : {}),
      };
    }
    let ssh: Emulator['ssh'];
    if (opts.sshPort !== false) {
      const hostKey = await resolveHostKey(opts);
      const face = new SshFace({
        state,
        users,
        faults,
        log: requests,
        host,
        hostKey,
        ...(opts.sshLineEnding !== undefined ? { lineEnding: opts.sshLineEnding } : {}),
        ...(opts.sshWidth !== undefined ? { defaultWidth: opts.sshWidth } : {}),
        now,
      });
      started.push(face);
      const port = await face.listener.listen(opts.sshPort ?? 0);
      const pub = parsePrivateKey(hostKey);
      ssh = {
        port,
        hostKeyFingerprint: face.hostKeyFingerprint,
        hostPublicKey: `${pub.type} ${pub.getPublicSSH().toString('base64')}`,
      };
    }
    let admin: Emulator['admin'];
    if (opts.adminPort !== undefined && opts.adminPort !== false) {
      const face = new AdminFace({ state, faults, log: requests, host });
      started.push(face);
      const port = await face.listen(opts.adminPort);
      admin = { port, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` };
    }
    let stopped: Promise<void> | undefined;
    return {
      host,
      rest,
      ssh,
      admin,
      users,
      state,
      faults,
      requests,
      setTrafficModel: (m) => state.setTrafficModel(m),
      stop: () => {
        stopped ??= stopAll();
        return stopped;
      },
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
