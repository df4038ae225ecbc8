#!/usr/bin/env node
/**
 * wanctl-routeros-emulator: run the emulator as a process.
 *   wanctl-routeros-emulator --rest-port 0 --ssh-port 0 [--tls] [--seed FILE] [--user U --password P]
 *                            [--authorized-key FILE] [--host-key FILE] [--admin-port N] [--host ADDR]
 * Prints the ports and credentials it listens with; stops cleanly on SIGINT/SIGTERM.
 * Exit codes: 0 clean stop, 2 bad arguments or seed, 1 other fatal errors.
 */
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { startEmulator } from './emulator.js';
import { EmulatorConfigError } from './errors.js';
import type { EmulatorUser } from './rest.js';

function port(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 65535)
    throw new InvalidArgumentError('expected a port number 0..65535');
  return Number(v);
}

interface CliOptions {
  host: string;
  restPort: number;
  sshPort: number;
  adminPort?: number;
  rest: boolean;
  ssh: boolean;
  tls?: boolean;
  tlsKey?: string;
  tlsCert?: string;
  seed?: string;
  empty?: boolean;
  user: string;
  password?: string;
  authorizedKey?: string[];
  hostKey?: string;
  readOnlyUser?: string;
  json?: boolean;
}

async function main(argv: string[]): Promise<number> {
  // Handlers first, so a signal that arrives while starting still means a clean stop.
  let requestStop: () => void = () => {};
  const stopRequested = new Promise<void>((resolve) => {
    requestStop = resolve;
  });
  process.once('SIGINT', () => requestStop());
  process.once('SIGTERM', () => requestStop());
  const program = new Command()
    .name('wanctl-routeros-emulator')
    .description('A RouterOS 7 stand-in speaking REST and SSH over one shared state, with fault injection')
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--rest-port <n>', 'REST port (0 = pick a free one)', port, 0)
    .option('--ssh-port <n>', 'SSH port (0 = pick a free one)', port, 0)
    .option('--admin-port <n>', 'admin HTTP port for faults/request log (0 = pick a free one)', port)
    .option('--no-rest', 'do not start the REST face')
    .option('--no-ssh', 'do not start the SSH face')
    .option('--tls', 'serve REST over HTTPS with a self-signed certificate')
    .option('--tls-key <file>', 'HTTPS private key (PEM); with --tls-cert')
    .option('--tls-cert <file>', 'HTTPS certificate (PEM); with --tls-key')
    .option('--seed <file>', 'YAML or JSON fixture to seed the state (default: the wanctl fixture)')
    .option('--empty', 'start with no queues or mangle rules')
    .option('--user <name>', 'user name', 'admin')
    .option('--password <pw>', 'password (default "admin" unless only --authorized-key is given)')
    .option('--authorized-key <file...>', 'OpenSSH public key file(s) accepted for the user')
    .option('--host-key <file>', 'SSH host key file: used if present, else generated and saved there')
    .option('--read-only-user <name:password>', 'an extra user in the read group')
    .option('--json', 'print the startup information as one JSON line')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  let o: CliOptions;
  try {
    program.parse(argv);
    o = program.opts<CliOptions>();
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  try {
    if ((o.tlsKey === undefined) !== (o.tlsCert === undefined)) {
      throw new EmulatorConfigError('--tls-key and --tls-cert must be given together');
    }
    if (o.seed && o.empty) throw new EmulatorConfigError('--seed and --empty exclude each other');
    const keys: string[] = [];
    for (const f of o.authorizedKey ?? []) {
      const text = await readFile(f, 'utf8').catch((e: Error) => {
        throw new EmulatorConfigError(`cannot read --authorized-key ${f}: ${e.message}`);
      });
      keys.push(...text.split('\n').filter((l) => l.trim() && !l.startsWith('#')));
    }
    const password = o.password ?? (keys.length > 0 ? undefined : 'admin');
    const users: EmulatorUser[] = [
      { name: o.user, group: 'full', ...(password !== undefined ? { password } : {}), authorizedKeys: keys },
    ];
    if (o.readOnlyUser) {
      const i = o.readOnlyUser.indexOf(':');
      if (i <= 0) throw new EmulatorConfigError('--read-only-user expects name:password');
      users.push({ name: o.readOnlyUser.slice(0, i), password: o.readOnlyUser.slice(i + 1), group: 'read' });
    }
    let tls: boolean | { key: string; cert: string } | undefined = o.tls;
    if (o.tlsKey && o.tlsCert) {
      tls = { key: await readFile(o.tlsKey, 'utf8'), cert: await readFile(o.tlsCert, 'utf8') };
    }
    const emu = await startEmulator({
      host: o.host,
      restPort: o.rest ? o.restPort : false,
      sshPort: o.ssh ? o.sshPort : false,
      adminPort: o.adminPort ?? false,
      users,
      ...(tls ? { tls } : {}),
      ...(o.empty ? { seed: 'empty' as const } : o.seed ? { seed: o.seed } : {}),
      ...(o.hostKey ? { hostKeyFile: o.hostKey } : {}),
    });
    const info = {
      host: emu.host,
      rest: emu.rest ? { port: emu.rest.port, url: emu.rest.url, protocol: emu.rest.protocol } : null,
      ssh: emu.ssh ? { port: emu.ssh.port, hostKeyFingerprint: emu.ssh.hostKeyFingerprint } : null,
      admin: emu.admin ?? null,
      user: o.user,
      password: password ?? null,
      authorizedKeys: keys.length,
    };
    if (o.json) process.stdout.write(`${JSON.stringify(info)}\n`);
    else {
      const lines = ['wanctl-routeros-emulator listening'];
      if (emu.rest) lines.push(`  rest:  ${emu.rest.url} (port ${emu.rest.port}, ${emu.rest.protocol})`);
      if (emu.ssh)
        lines.push(`  ssh:   ${emu.host} port ${emu.ssh.port} host key ${emu.ssh.hostKeyFingerprint}`);
      if (emu.admin) lines.push(`  admin: ${emu.admin.url}`);
      lines.push(`  user:  ${o.user}${password !== undefined ? ` password: ${password}` : ''}`);
      if (keys.length) lines.push(`  authorized keys: ${keys.length}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    await stopRequested;
    await emu.stop();
    process.stdout.write('stopped\n');
    return 0;
  } catch (e) {
    if (e instanceof EmulatorConfigError) {
      process.stderr.write(`wanctl-routeros-emulator: ${e.message}\n`);
      return 2;
    }
    const err = e as NodeJS.ErrnoException;
    process.stderr.write(`wanctl-routeros-emulator: ${err.code ? `${err.code}: ` : ''}${err.message}\n`);
    return 1;
  }
}

main(process.argv).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`wanctl-routeros-emulator: ${String(e)}\n`);
    process.exit(1);
  },
);
