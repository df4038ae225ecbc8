import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { Emulator } from '../src/index.js';

export const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;

export interface RestReply {
  status: number;
  text: string;
  json: unknown;
  headers: Headers;
}

/** One REST call with node's fetch (Basic auth admin/admin unless `auth` given). */
export async function rest(
  emu: Emulator,
  method: string,
  path: string,
  body?: unknown,
  auth: string | null = AUTH,
): Promise<RestReply> {
  const headers: Record<string, string> = {};
  if (auth) headers['authorization'] = auth;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${emu.rest?.url}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

export interface SshConn {
  client: InstanceType<typeof ssh2.Client>;
  exec(cmd: string): Promise<{ code: number | undefined; out: string }>;
  end(): void;
}

/** Connects with the ssh2 client (password admin/admin by default). */
export async function sshConnect(emu: Emulator, opts: Partial<ssh2.ConnectConfig> = {}): Promise<SshConn> {
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
    client.connect({
      host: '127.0.0.1',
      port: emu.ssh?.port,
      username: 'admin',
      password: 'admin',
      readyTimeout: 10_000,
      ...opts,
    });
  });
  return {
    client,
    exec: (cmd) =>
      new Promise((resolve, reject) => {
        client.exec(cmd, (err, stream) => {
          if (err) return reject(err);
          let out = '';
          let code: number | undefined;
          stream.on('data', (d: Buffer) => {
            out += d.toString('utf8');
          });
          stream.stderr.on('data', (d: Buffer) => {
            out += d.toString('utf8');
          });
          stream.on('exit', (c: number) => {
            code = c;
          });
          stream.on('close', () => resolve({ code, out }));
        });
      }),
    end: () => client.end(),
  };
}

/** exec one command on a fresh connection. */
export async function sshExec(
  emu: Emulator,
  cmd: string,
): Promise<{ code: number | undefined; out: string }> {
  const c = await sshConnect(emu);
  try {
    return await c.exec(cmd);
  } finally {
    c.end();
  }
}

/** Lines without CR and without trailing empty line. */
export function lines(out: string): string[] {
  const l = out.replace(/\r\n/g, '\n').split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'routeros-emu-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
