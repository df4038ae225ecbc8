/**
 * wanctl-router get-limits / set-limits (every transport) and probe for linux-cake, as a real
 * process: REST against the emulator; linux-cake against the real kernel in a network
 * namespace (root only, skipped visibly otherwise).
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Emulator } from '@wanctl/routeros-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certFingerprint, startEmu, tempDir } from './helpers.js';

const BIN = join(import.meta.dirname, '../dist/cli.js');
const EXAMPLES = join(import.meta.dirname, '../../../examples');

function runBin(args: string[], netns?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, argv] = netns
    ? ['ip', ['netns', 'exec', netns, process.execPath, BIN, ...args]]
    : [process.execPath, [BIN, ...args]];
  return new Promise((resolve) => {
    execFile(
      cmd as string,
      argv as string[],
      { env: { ...process.env, WANCTL_ROUTER_PASSWORD: 'secret-pw' }, timeout: 30_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('wanctl-router get-limits / set-limits over REST', () => {
  let emu: Emulator;
  const tmp = tempDir();
  let cfg: string;
  beforeAll(async () => {
    emu = await startEmu({ users: [{ name: 'wanctl', password: 'secret-pw', group: 'full' }] });
    cfg = tmp.file(
      'wan1.yaml',
      readFileSync(join(EXAMPLES, 'cable.yaml'), 'utf8')
        .replace('host: "router.example.net"', 'host: "127.0.0.1"')
        .replace(
          'port: 443',
          `port: ${emu.rest!.port}\n  scheme: "https"\n  tls_fingerprint_sha256: "${certFingerprint(emu)}"`,
        )
        .replace(/^ {2}ssh_key: .*\n/m, '')
        .replace(/^ {2}verify_ssl: false\n/m, '')
        .replace('download: "WAN-Download-Cable"', 'download: "WAN-Download-1"')
        .replace('upload: "WAN-Upload-Cable"', 'upload: "WAN-Upload-1"'),
    );
  });
  afterAll(async () => {
    await emu.stop();
  });

  it('sets both max-limits and prints what the router holds', async () => {
    const set = await runBin([
      'set-limits',
      '--config',
      cfg,
      '--download',
      '123000000',
      '--upload',
      '12000000',
    ]);
    expect(set.stderr).toBe('');
    expect(JSON.parse(set.stdout)).toEqual({
      transport: 'rest',
      download_bps: 123000000,
      upload_bps: 12000000,
    });
    const get = await runBin(['get-limits', '--config', cfg]);
    expect(JSON.parse(get.stdout)).toEqual({
      transport: 'rest',
      download_bps: 123000000,
      upload_bps: 12000000,
    });
  });

  it('refuses a rate that is not a whole number of bit/s (exit 2)', async () => {
    const r = await runBin(['set-limits', '--config', cfg, '--download', '12M', '--upload', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--download must be a whole number of bit\/s/);
  });
});

const ns = `wtb${process.pid}r`;
function skipReason(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  try {
    execFileSync('ip', ['netns', 'add', ns], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `ip netns not allowed here (${String((err as { stderr?: Buffer }).stderr ?? err).trim()})`;
  }
}
const reason = skipReason();

describe.skipIf(reason !== null)(
  `wanctl-router on linux-cake (real kernel)${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    const tmp = tempDir();
    let cfg: string;
    const tc = (...a: string[]) =>
      execFileSync('ip', ['netns', 'exec', ns, 'tc', ...a], { encoding: 'utf8' });
    beforeAll(() => {
      execFileSync('ip', ['-n', ns, 'link', 'add', 'name', 'rva', 'type', 'veth', 'peer', 'name', 'rvb']);
      for (const dev of ['rva', 'rvb']) execFileSync('ip', ['-n', ns, 'link', 'set', dev, 'up']);
      const text = readFileSync(join(EXAMPLES, 'linux-cake.yaml'), 'utf8')
        .replace('download_interface: "eth1"', 'download_interface: "rva"')
        .replace('upload_interface: "eth0"', 'upload_interface: "rvb"')
        .replace(/download_qdisc: "cake"/, 'download_qdisc: "tbf"')
        .replace(/upload_qdisc: "cake"/, 'upload_qdisc: "tbf"');
      cfg = tmp.file('lc.yaml', text);
    });
    afterAll(() => {
      execFileSync('ip', ['netns', 'del', ns]);
    });

    it('probe reports missing qdiscs; set-limits refuses to touch them; then works once they exist', async () => {
      const p1 = await runBin(['probe', '--config', cfg], ns);
      expect(p1.code).toBe(1);
      expect(p1.stdout).toMatch(
        /MISMATCH download "WAN-Download-Fiber" on rva: kind is "noqueue", expected "tbf"/,
      );
      const s1 = await runBin(
        ['set-limits', '--config', cfg, '--download', '50000000', '--upload', '10000000'],
        ns,
      );
      expect(s1.code).toBe(1);
      expect(s1.stderr).toMatch(/WANCTL_TC_MISMATCH/);
      for (const dev of ['rva', 'rvb'])
        tc(
          'qdisc',
          'replace',
          'dev',
          dev,
          'root',
          'handle',
          '1:',
          'tbf',
          'rate',
          '1mbit',
          'burst',
          '3028',
          'latency',
          '5ms',
        );
      const s2 = await runBin(
        ['set-limits', '--config', cfg, '--download', '50000000', '--upload', '10000000'],
        ns,
      );
      expect(s2.stderr).toBe('');
      expect(JSON.parse(s2.stdout)).toEqual({
        transport: 'linux-cake',
        download_bps: 50000000,
        upload_bps: 10000000,
      });
      expect(JSON.parse(tc('-j', 'qdisc', 'show', 'dev', 'rva'))[0].options.rate).toBe(50000000 / 8);
      const g = await runBin(['get-limits', '--config', cfg], ns);
      expect(JSON.parse(g.stdout)).toEqual({
        transport: 'linux-cake',
        download_bps: 50000000,
        upload_bps: 10000000,
      });
      const p2 = await runBin(['probe', '--config', cfg, '--json'], ns);
      expect(p2.code).toBe(0);
      expect(JSON.parse(p2.stdout)).toMatchObject({ ok: true, transport: 'linux-cake' });
    });
  },
);
