/**
 * TLS verification and pinning (REST) and host key verification / auth (SSH), over real sockets.
 */
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Emulator } from '@wanctl/routeros-emulator';
import { utils } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkKnownHosts,
  normaliseCertFingerprint,
  RestRouterClient,
  RouterAuthError,
  RouterHostVerificationError,
  SshRouterClient,
  sshKeyFingerprint,
} from '../src/index.js';
import { captureLogger, certFingerprint, startEmu, tempDir } from './helpers.js';

describe('REST TLS', () => {
  let emu: Emulator;
  const tmp = tempDir();
  beforeAll(async () => {
    emu = await startEmu();
  });
  afterAll(async () => {
    await emu.stop();
    tmp.cleanup();
  });
  const base = () => ({
    host: '127.0.0.1',
    port: emu.rest!.port,
    user: 'admin',
    password: 'admin',
    deadlineMs: 3000,
  });

  it('verifies by default: a self-signed router certificate is refused, with the fingerprint to pin', async () => {
    const c = new RestRouterClient(base());
    try {
      const err = await c.getIdentity().catch((e) => e);
      expect(err).toBeInstanceOf(RouterHostVerificationError);
      expect(err.kind).toBe('tls');
      expect(err.presentedFingerprint).toBe(`sha256/${certFingerprint(emu)}`);
      expect(err.message).toContain(certFingerprint(emu));
      expect(err.message).toMatch(/pin/i);
      expect(emu.requests.rest().filter((r) => r.user)).toHaveLength(0);
    } finally {
      await c.close();
    }
  });

  it('pins by SHA-256 fingerprint (any common spelling)', async () => {
    const fp = certFingerprint(emu);
    for (const spelling of [fp, `sha256/${fp}`, fp.replace(/:/g, '').toLowerCase()]) {
      const c = new RestRouterClient({ ...base(), certFingerprint: spelling });
      expect(await c.getIdentity()).toBe('MikroTik');
      await c.close();
    }
  });

  it('a wrong pin is refused before any credential is sent', async () => {
    emu.requests.clear();
    const c = new RestRouterClient({ ...base(), certFingerprint: 'AA:'.repeat(31) + 'AA' });
    const err = await c.getIdentity().catch((e) => e);
    await c.close();
    expect(err).toBeInstanceOf(RouterHostVerificationError);
    expect(err.message).toContain('does not match the pinned');
    expect(emu.requests.rest()).toHaveLength(0);
  });

  it('pins by CA file (the router certificate itself)', async () => {
    const ca = tmp.file('router.pem', emu.rest!.cert!);
    const c = new RestRouterClient({ ...base(), caFile: ca });
    expect(await c.getIdentity()).toBe('MikroTik');
    await c.close();
  });

  it('verify_ssl: false still works, with a warning', async () => {
    const log = captureLogger();
    const c = new RestRouterClient({ ...base(), verifyTls: false, logger: log });
    expect(await c.getIdentity()).toBe('MikroTik');
    await c.close();
    expect(log.lines.filter((l) => l.level === 'warn' && /verification is OFF/.test(l.message))).toHaveLength(
      1,
    );
    expect(log.lines.some((l) => l.message.includes('admin:admin'))).toBe(false);
  });

  it('wrong password is RouterAuthError naming the user and the rest-api policy', async () => {
    const c = new RestRouterClient({ ...base(), password: 'nope', certFingerprint: certFingerprint(emu) });
    const err = await c.getIdentity().catch((e) => e);
    await c.close();
    expect(err).toBeInstanceOf(RouterAuthError);
    expect(err.message).toContain('"admin"');
    expect(err.message).toContain('rest-api');
    expect(err.message).not.toContain('nope');
  });

  it('normaliseCertFingerprint rejects garbage', () => {
    expect(() => normaliseCertFingerprint('abc')).toThrow(/not a SHA-256/);
  });
});

describe('SSH host key and auth', () => {
  let emu: Emulator;
  const tmp = tempDir();
  const userKey = utils.generateKeyPairSync('ed25519');
  beforeAll(async () => {
    emu = await startEmu({
      users: [
        { name: 'admin', password: 'admin', group: 'full' },
        { name: 'wanctl', group: 'full', authorizedKeys: [userKey.public] },
      ],
    });
  });
  afterAll(async () => {
    await emu.stop();
    tmp.cleanup();
  });
  const base = () => ({
    host: '127.0.0.1',
    port: emu.ssh!.port,
    user: 'admin',
    password: 'admin',
    deadlineMs: 3000,
  });

  async function attempt(o: ConstructorParameters<typeof SshRouterClient>[0]) {
    const c = new SshRouterClient(o);
    try {
      return await c.getIdentity();
    } catch (e) {
      return e as Error;
    } finally {
      await c.close();
    }
  }

  it('pinned fingerprint accepted', async () => {
    expect(await attempt({ ...base(), hostKeyFingerprint: emu.ssh!.hostKeyFingerprint })).toBe('MikroTik');
  });

  it('unknown host key is refused with the fingerprint and how to pin it', async () => {
    const kh = tmp.file('empty_known_hosts', '');
    const err = (await attempt({ ...base(), knownHostsPath: kh })) as RouterHostVerificationError;
    expect(err).toBeInstanceOf(RouterHostVerificationError);
    expect(err.kind).toBe('hostkey');
    expect(err.presentedFingerprint).toBe(emu.ssh!.hostKeyFingerprint);
    expect(err.message).toContain(emu.ssh!.hostKeyFingerprint);
    expect(err.message).toContain('ssh-keyscan');
    expect(err.message).toContain('ssh_host_key_sha256');
  });

  it('a wrong pin is refused', async () => {
    const err = await attempt({
      ...base(),
      hostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    });
    expect(err).toBeInstanceOf(RouterHostVerificationError);
    expect((err as Error).message).toContain('does not match the pinned');
  });

  it('known_hosts: plain [host]:port entry accepted; a different key for the host is refused', async () => {
    const ok = tmp.file('kh_ok', `[127.0.0.1]:${emu.ssh!.port} ${emu.ssh!.hostPublicKey}\n`);
    expect(await attempt({ ...base(), knownHostsPath: ok })).toBe('MikroTik');
    const other = utils.generateKeyPairSync('ed25519').public;
    const bad = tmp.file('kh_bad', `[127.0.0.1]:${emu.ssh!.port} ${other}\n`);
    const err = await attempt({ ...base(), knownHostsPath: bad });
    expect(err).toBeInstanceOf(RouterHostVerificationError);
    expect((err as Error).message).toContain('does not match the key recorded');
  });

  it('known_hosts hashed entries', () => {
    const blob = Buffer.from(emu.ssh!.hostPublicKey.split(' ')[1]!, 'base64');
    const salt = randomBytes(20);
    const name = `[127.0.0.1]:${emu.ssh!.port}`;
    const hash = createHmac('sha1', salt).update(name).digest('base64');
    const text = `|1|${salt.toString('base64')}|${hash} ${emu.ssh!.hostPublicKey}\n`;
    expect(checkKnownHosts(text, '127.0.0.1', emu.ssh!.port, blob)).toBe('match');
    expect(checkKnownHosts(text, '127.0.0.2', emu.ssh!.port, blob)).toBe('unknown');
    expect(sshKeyFingerprint(blob)).toBe(emu.ssh!.hostKeyFingerprint);
  });

  it('key auth', async () => {
    const keyPath = tmp.file('id_ed25519', userKey.private);
    expect(
      await attempt({
        host: '127.0.0.1',
        port: emu.ssh!.port,
        user: 'wanctl',
        privateKeyPath: keyPath,
        hostKeyFingerprint: emu.ssh!.hostKeyFingerprint,
      }),
    ).toBe('MikroTik');
  });

  it('wrong password / unknown key is RouterAuthError', async () => {
    const err = await attempt({
      ...base(),
      password: 'nope',
      hostKeyFingerprint: emu.ssh!.hostKeyFingerprint,
    });
    expect(err).toBeInstanceOf(RouterAuthError);
    const otherKey = generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const err2 = await attempt({
      host: '127.0.0.1',
      port: emu.ssh!.port,
      user: 'wanctl',
      privateKey: utils.generateKeyPairSync('ed25519').private,
      hostKeyFingerprint: emu.ssh!.hostKeyFingerprint,
    });
    expect(otherKey.length).toBeGreaterThan(0);
    expect(err2).toBeInstanceOf(RouterAuthError);
  });
});
