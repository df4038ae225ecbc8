import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, run } from './helpers.js';

export const SSHD = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => fs.existsSync(p));

/** A real OpenSSH server on 127.0.0.1, its own host key, key auth for root only. */
export interface TestSshd {
  port: number;
  /** ssh options for deploy.sh: the client key and a known_hosts that pins the host key. */
  sshArgs: string[];
  stop(): Promise<void>;
}

function waitForPort(port: number, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > until) reject(new Error(`sshd did not listen on ${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

export async function startSshd(dir: string): Promise<TestSshd> {
  if (!SSHD) throw new Error('sshd not installed (apt-get install openssh-server)');
  fs.mkdirSync(dir, { recursive: true });
  const hostKey = path.join(dir, 'host_ed25519');
  const clientKey = path.join(dir, 'client_ed25519');
  for (const k of [hostKey, clientKey]) {
    const r = await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'wanctl-test', '-f', k]);
    if (r.code !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
  }
  fs.copyFileSync(`${clientKey}.pub`, path.join(dir, 'authorized_keys'));
  // sshd refuses to start without its privilege separation directory (Debian makes it at boot).
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'StrictModes no',
      'UsePAM no',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const knownHosts = path.join(dir, 'known_hosts');
  fs.writeFileSync(knownHosts, `[127.0.0.1]:${port} ${fs.readFileSync(`${hostKey}.pub`, 'utf8')}`);
  const child: ChildProcess = spawn(SSHD, ['-D', '-f', config, '-E', path.join(dir, 'sshd.log')], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, 15_000);
  return {
    port,
    sshArgs: [
      '-F',
      '/dev/null',
      '-p',
      String(port),
      '-i',
      clientKey,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'LogLevel=ERROR',
    ],
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
