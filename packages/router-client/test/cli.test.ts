/**
 * The wanctl-router bin as a real process against the emulator, configured by wanctl YAML.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Emulator } from '@wanctl/routeros-emulator';
import { utils } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certFingerprint, startEmu, tempDir } from './helpers.js';

const BIN = join(import.meta.dirname, '../dist/cli.js');
const EXAMPLES = join(import.meta.dirname, '../../../examples');

function runBin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, WANCTL_ROUTER_PASSWORD: 'secret-pw' }, timeout: 30_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('wanctl-router CLI', () => {
  let emu: Emulator;
  const tmp = tempDir();
  const key = utils.generateKeyPairSync('ed25519');
  let autorate: string;
  let steering: string;

  function localise(example: string, extra = ''): string {
    return readFileSync(join(EXAMPLES, example), 'utf8')
      .replace('host: "router.example.net"', 'host: "127.0.0.1"')
      .replace(
        'port: 443',
        `port: ${emu.rest!.port}\n  scheme: "https"\n  tls_fingerprint_sha256: "${certFingerprint(emu)}"\n  ssh_port: ${emu.ssh!.port}\n  ssh_host_key_sha256: "${emu.ssh!.hostKeyFingerprint}"${extra}`,
      )
      .replace('ssh_key: "/etc/wanctl/ssh/router.key"', `ssh_key: "${tmp.file('router.key', key.private)}"`)
      .replace(/^ {2}verify_ssl: false\n/m, '');
  }

  beforeAll(async () => {
    emu = await startEmu({
      users: [{ name: 'wanctl', password: 'secret-pw', group: 'full', authorizedKeys: [key.public] }],
    });
    autorate = tmp.file(
      'wan1.yaml',
      localise('cable.yaml')
        .replace('wan_name: "cable"', 'wan_name: "wan1"')
        .replace('download: "WAN-Download-Cable"', 'download: "WAN-Download-1"')
        .replace('upload: "WAN-Upload-Cable"', 'upload: "WAN-Upload-1"'),
    );
    steering = tmp.file('steering.yaml', localise('steering.yaml'));
  });
  afterAll(async () => {
    await emu.stop();
    tmp.cleanup();
  });

  it('probe (autorate config): both transports, latency, identity, queues and queue types; exit 0', async () => {
    const r = await runBin(['probe', '--config', autorate, '--count', '5']);
    expect(r.stderr).not.toContain('secret-pw');
    expect(r.stdout).toMatch(
      /rest \(primary\): identity "MikroTik", latency p50 [\d.]+ ms, p99 [\d.]+ ms \(n=5\)/,
    );
    expect(r.stdout).toMatch(/ssh \(fallback\): identity "MikroTik"/);
    expect(r.stdout).toContain('ok      queue tree "WAN-Download-1"');
    expect(r.stdout).toContain('ok      queue type "cake-up-wan1": kind cake');
    expect(r.stdout).toMatch(/OK\n$/);
    expect(r.code).toBe(0);
  });

  it('probe (steering config): the mangle rule by exact comment', async () => {
    const r = await runBin(['probe', '--config', steering, '--count', '2', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(true);
    expect(out.transports.map((t: { transport: string }) => t.transport)).toEqual(['rest', 'ssh']);
    expect(out.transports[0].checks).toContainEqual({
      what: 'mangle rule "ADAPTIVE: Steer latency-sensitive to WAN2"',
      ok: true,
      detail: expect.stringMatching(/^present/),
    });
  });

  it('probe: a missing queue type and an unreachable transport exit 1 with a clear message', async () => {
    const t = emu.state.find('/queue/type', { name: 'cake-down-wan1' })[0]!;
    emu.state.remove('/queue/type', t['.id']!);
    await emu.faults.set('ssh', { down: true });
    try {
      const r = await runBin(['probe', '--config', autorate, '--count', '1']);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('MISSING queue type "cake-down-wan1"');
      expect(r.stdout).toMatch(/ssh \(fallback\): UNREACHABLE: .*ECONNREFUSED/);
      expect(r.stdout).toContain('FAILED');
    } finally {
      await emu.faults.clear();
      const props = Object.fromEntries(
        Object.entries(t).filter(([k]) => !['.id', 'default', 'invalid', 'dynamic'].includes(k)),
      );
      emu.state.add('/queue/type', props);
    }
  });

  it('run: one command over the configured transport, and over --transport ssh', async () => {
    const r = await runBin(['run', '--config', autorate, '/queue/tree/print where name="WAN-Upload-1"']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/name=WAN-Upload-1/);
    expect(r.stderr).toContain('via rest');
    const s = await runBin([
      'run',
      '--config',
      autorate,
      '--transport',
      'ssh',
      '--json',
      '/queue tree set [find name="WAN-Upload-1"] max-limit=20000000',
    ]);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout).transport).toBe('ssh');
    expect(emu.state.find('/queue/tree', { name: 'WAN-Upload-1' })[0]?.['max-limit']).toBe('20000000');
  });

  it('bad command text or bad config exits 2; a RouterOS refusal exits 1', async () => {
    const bad = await runBin(['run', '--config', autorate, 'queue tree print']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('menu path');
    const cfg = await runBin(['probe', '--config', tmp.file('broken.yaml', 'wan_name: [\n')]);
    expect(cfg.code).toBe(2);
    const refused = await runBin([
      'run',
      '--config',
      autorate,
      '/queue/tree/set [find name="WAN-Upload-1"] max-limit=lots',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('RouterCommandError');
  });
});
