import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const run = promisify(execFile);
const PKG = join(__dirname, '..');
const BIN = join(PKG, 'dist', 'cli.js');

interface Started {
  info: {
    rest: { port: number; url: string; protocol: string } | null;
    ssh: { port: number; hostKeyFingerprint: string } | null;
    admin: { port: number; url: string } | null;
    user: string;
    password: string | null;
  };
  stop(signal: NodeJS.Signals): Promise<{ code: number | null; stdout: string }>;
}

function startCli(args: string[]): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    const exited = new Promise<{ code: number | null; stdout: string }>((r) =>
      child.on('exit', (code, sig) => r({ code: code ?? (sig as unknown as number), stdout: out + err })),
    );
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0 && !out.startsWith('{')) reject(new Error(`unexpected output ${out}`));
      if (nl >= 0) {
        resolve({
          info: JSON.parse(out.slice(0, nl)),
          stop: (signal) => {
            child.kill(signal);
            return exited;
          },
        });
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

describe('wanctl-routeros-emulator CLI', () => {
  beforeAll(async () => {
    if (!existsSync(BIN)) await run('npx', ['tsc', '-b'], { cwd: PKG });
  }, 120_000);

  it('starts on free loopback ports, prints them, serves both faces, stops on SIGTERM', async () => {
    const s = await startCli(['--rest-port', '0', '--ssh-port', '0', '--admin-port', '0']);
    expect(s.info.rest?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/rest$/);
    expect(s.info.ssh?.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(s.info).toMatchObject({ user: 'admin', password: 'admin' });
    const r = await fetch(`${s.info.rest?.url}/queue/tree?name=WAN-Download-1`, {
      headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` },
    });
    expect(((await r.json()) as { name: string }[])[0]?.name).toBe('WAN-Download-1');
    const faults = await fetch(`${s.info.admin?.url}/faults`);
    expect(await faults.json()).toEqual({ rest: {}, ssh: {} });
    const done = await s.stop('SIGTERM');
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('stopped');
  }, 60_000);

  it('stops on SIGINT; --tls, --empty, custom user and persisted host key', async () => {
    const t = await tempDir();
    try {
      const hk = join(t.dir, 'hk');
      const s = await startCli([
        '--tls',
        '--empty',
        '--user',
        'ops',
        '--password',
        'pw',
        '--host-key',
        hk,
        '--no-ssh',
      ]);
      expect(s.info.rest?.protocol).toBe('https');
      expect(s.info.ssh).toBeNull();
      expect(s.info).toMatchObject({ user: 'ops', password: 'pw' });
      expect((await s.stop('SIGINT')).code).toBe(0);
      const a = await startCli(['--host-key', hk, '--no-rest']);
      const b1 = a.info.ssh?.hostKeyFingerprint;
      await a.stop('SIGTERM');
      const b = await startCli(['--host-key', hk, '--no-rest']);
      expect(b.info.ssh?.hostKeyFingerprint).toBe(b1);
      await b.stop('SIGTERM');
      expect((await readFile(hk, 'utf8')).length).toBeGreaterThan(0);
    } finally {
      await t.cleanup();
    }
  }, 60_000);

  it('--authorized-key: the system OpenSSH client logs in with that key', async () => {
    const t = await tempDir();
    try {
      const key = join(t.dir, 'id');
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      const s = await startCli(['--no-rest', '--authorized-key', `${key}.pub`]);
      expect(s.info.password).toBeNull();
      const { stdout } = await run(
        'ssh',
        [
          '-F',
          '/dev/null',
          '-p',
          String(s.info.ssh?.port),
          '-i',
          key,
          '-o',
          'BatchMode=yes',
          '-o',
          'IdentitiesOnly=yes',
          '-o',
          'StrictHostKeyChecking=no',
          '-o',
          `UserKnownHostsFile=${join(t.dir, 'kh')}`,
          'admin@127.0.0.1',
          '/queue tree print count-only',
        ],
        { timeout: 20_000 },
      );
      expect(stdout).toBe('2\r\n');
      expect((await s.stop('SIGTERM')).code).toBe(0);
    } finally {
      await t.cleanup();
    }
  }, 60_000);

  it('exits 2 on bad arguments or a bad seed', async () => {
    const bad = await run(process.execPath, [BIN, '--rest-port', 'x']).catch(
      (e) => e as { code: number; stderr: string },
    );
    expect((bad as { code: number }).code).toBe(2);
    const seed = await run(process.execPath, [BIN, '--seed', '/nonexistent/seed.yaml']).catch(
      (e) => e as { code: number; stderr: string },
    );
    expect(seed).toMatchObject({ code: 2 });
    expect((seed as { stderr: string }).stderr).toMatch(/cannot read fixture \/nonexistent\/seed\.yaml/);
  }, 60_000);
});
