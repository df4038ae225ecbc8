import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/index.js';
import { tempDir } from './helpers.js';

const run = promisify(execFile);

/** Runs the system OpenSSH client against the emulator with key auth and a pinned host key. */
async function openssh(
  emu: Emulator,
  dir: string,
  command: string,
  knownHosts = join(dir, 'known_hosts'),
  user = 'admin',
): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = [
    '-F',
    '/dev/null',
    '-p',
    String(emu.ssh?.port),
    '-i',
    join(dir, 'id_ed25519'),
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'ConnectTimeout=10',
    `${user}@127.0.0.1`,
    command,
  ];
  try {
    const { stdout, stderr } = await run('ssh', args, { timeout: 15_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === 'number' ? err.code : -1,
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? '',
    };
  }
}

describe('SSH face with the system OpenSSH client', () => {
  let emu: Emulator;
  let t: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    t = await tempDir();
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test', '-f', join(t.dir, 'id_ed25519')]);
    const pub = await readFile(join(t.dir, 'id_ed25519.pub'), 'utf8');
    emu = await startEmulator({
      users: [{ name: 'admin', password: 'secret-not-used', authorizedKeys: [pub] }],
    });
    await writeFile(join(t.dir, 'known_hosts'), `[127.0.0.1]:${emu.ssh?.port} ${emu.ssh?.hostPublicKey}\n`);
  });
  afterAll(async () => {
    await emu.stop();
    await t.cleanup();
  });

  it('runs exec commands with key auth and a pinned host key; output and exit status as RouterOS', async () => {
    const set = await openssh(emu, t.dir, '/queue tree set [find name="WAN-Download-1"] max-limit=250M');
    expect(set).toMatchObject({ code: 0, stdout: '' });
    expect(emu.state.get('/queue/tree', 'WAN-Download-1')?.['max-limit']).toBe('250000000');
    const p = await openssh(emu, t.dir, '/queue/tree/print stats detail where name="WAN-Download-1"');
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(
      /^Flags: X - disabled, I - invalid \r\n 0 {3}name="WAN-Download-1" parent=bridge1/,
    );
    const bad = await openssh(emu, t.dir, '/queue tree set foo');
    expect(bad.code).toBe(0);
    expect(bad.stdout).toBe('no such item (/queue/tree/set; line 1)\r\n');
    const e = await openssh(emu, t.dir, '/queue tree prnt');
    expect(e).toMatchObject({ code: 0, stdout: 'bad command name prnt (line 1 column 13)\r\n' });
    expect(emu.requests.ssh().map((r) => r.command)).toContain('/queue tree prnt');
  });

  it('login suffix works with OpenSSH too', async () => {
    const r = await openssh(emu, t.dir, '/system identity print', undefined, 'admin+ct');
    expect(r).toMatchObject({ code: 0, stdout: '  name: MikroTik\r\n' });
  });

  it('fails host key verification against a different pinned key', async () => {
    const wrong = join(t.dir, 'known_hosts_wrong');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(t.dir, 'other')]);
    const otherPub = (await readFile(join(t.dir, 'other.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
    await writeFile(wrong, `[127.0.0.1]:${emu.ssh?.port} ${otherPub}\n`);
    const r = await openssh(emu, t.dir, '/system identity print', wrong);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/host key/i);
  });
});
