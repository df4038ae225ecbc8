// got and ssh2 are loaded on first use of their transport, so a daemon pays only for the one
// it uses. Checked in fresh Node processes running the built package (dist/), looking at the
// CommonJS module cache: ssh2 is CommonJS, and got is seen through its CommonJS dependency
// http2-wrapper.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Emulator } from '@wanctl/routeros-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certFingerprint, startEmu } from './helpers.js';

const ENTRY = pathToFileURL(join(import.meta.dirname, '../dist/index.js')).href;

interface Loaded {
  got: boolean;
  ssh2: boolean;
}

function runChild(body: string): Promise<Loaded> {
  const code = `
const rc = await import(${JSON.stringify(ENTRY)});
${body}
const { createRequire } = await import('node:module');
const cache = Object.keys(createRequire(import.meta.url).cache);
const has = (n) => cache.some((k) => k.includes('/node_modules/' + n + '/'));
console.log(JSON.stringify({ got: has('http2-wrapper'), ssh2: has('ssh2') }));
process.exit(0);
`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', code],
      { timeout: 30_000, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${err.message}\n${stderr}`));
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Loaded);
      },
    );
  });
}

const LIMITS = `[{ name: 'WAN-Download-1', maxLimitBps: 400000000 }, { name: 'WAN-Upload-1', maxLimitBps: 30000000 }]`;

describe('transport libraries load on first use', () => {
  let emu: Emulator;
  let rest: string;
  let ssh: string;

  beforeAll(async () => {
    emu = await startEmu();
    rest = JSON.stringify({
      host: '127.0.0.1',
      port: emu.rest!.port,
      user: 'admin',
      password: 'admin',
      certFingerprint: certFingerprint(emu),
    });
    ssh = JSON.stringify({
      host: '127.0.0.1',
      port: emu.ssh!.port,
      user: 'admin',
      password: 'admin',
      hostKeyFingerprint: emu.ssh!.hostKeyFingerprint,
    });
  });
  afterAll(async () => {
    await emu?.stop();
  });

  it('importing the package and building clients loads neither got nor ssh2', async () => {
    const loaded = await runChild(`
new rc.RestRouterClient(${rest});
new rc.SshRouterClient(${ssh});
rc.parseCommands('/queue/tree/print');`);
    expect(loaded).toEqual({ got: false, ssh2: false });
  }, 40_000);

  it('a REST call loads got only', async () => {
    const loaded = await runChild(`
const c = new rc.RestRouterClient(${rest});
await c.setQueueLimits(${LIMITS});
if ((await c.getQueueStats(['WAN-Download-1']))[0].maxLimitBps !== 400000000) throw new Error('not written');
await c.close();`);
    expect(loaded).toEqual({ got: true, ssh2: false });
  }, 40_000);

  it('an SSH call loads ssh2 only', async () => {
    const loaded = await runChild(`
const c = new rc.SshRouterClient(${ssh});
await c.setQueueLimits(${LIMITS});
if ((await c.getQueueStats(['WAN-Upload-1']))[0].maxLimitBps !== 30000000) throw new Error('not written');
await c.close();`);
    expect(loaded).toEqual({ got: false, ssh2: true });
  }, 40_000);

  it('a failover client on a healthy REST primary never loads ssh2', async () => {
    const loaded = await runChild(`
const c = rc.getRouterClientWithFailover({ host: '127.0.0.1', transport: 'rest', rest: ${rest}, ssh: ${ssh} });
await c.setQueueLimits(${LIMITS});
await c.close();`);
    expect(loaded).toEqual({ got: true, ssh2: false });
  }, 40_000);
});
