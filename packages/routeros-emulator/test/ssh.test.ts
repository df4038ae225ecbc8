import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, generateEd25519, startEmulator } from '../src/index.js';
import { lines, rest, sshConnect, sshExec, tempDir } from './helpers.js';

const run = promisify(execFile);

describe('SSH face (ssh2 client)', () => {
  let emu: Emulator;
  const userKey = generateEd25519();
  beforeAll(async () => {
    emu = await startEmulator({
      restPort: false,
      users: [
        { name: 'admin', password: 'admin', group: 'full', authorizedKeys: [userKey.public] },
        { name: 'viewer', password: 'view', group: 'read' },
      ],
    });
  });
  afterAll(async () => {
    await emu.stop();
  });
  beforeEach(() => {
    emu.requests.clear();
  });

  it('accepts password and public-key auth, rejects a wrong password or key', async () => {
    const pw = await sshConnect(emu);
    pw.end();
    const key = await sshConnect(emu, { password: undefined, privateKey: userKey.private });
    expect((await key.exec('/system identity print')).out).toContain('name: MikroTik');
    key.end();
    await expect(sshConnect(emu, { password: 'wrong' })).rejects.toThrow(/authentication/i);
    const other = generateEd25519();
    await expect(sshConnect(emu, { password: undefined, privateKey: other.private })).rejects.toThrow(
      /authentication/i,
    );
  });

  it('strips +ct… login suffixes and uses the w<width> for wrapping', async () => {
    const narrow = await sshConnect(emu, { username: 'admin+ct' });
    const a = await narrow.exec('/queue tree print where name="WAN-Download-1"');
    narrow.end();
    const wide = await sshConnect(emu, { username: 'admin+ct511w4098h' });
    const b = await wide.exec('/queue tree print where name="WAN-Download-1"');
    wide.end();
    expect(lines(a.out).length).toBeGreaterThan(2);
    expect(lines(b.out)).toHaveLength(2);
    expect(emu.requests.ssh()[0]).toMatchObject({ login: 'admin+ct', user: 'admin', channel: 'exec' });
  });

  it('sets max-limit by [find name=…] with ;-joined commands, both path styles', async () => {
    const r = await sshExec(
      emu,
      '/queue tree set [find name="WAN-Download-1"] queue=cake-down-wan1 max-limit=500000000; /queue/tree/set [find name="WAN-Upload-1"] max-limit=20M',
    );
    expect(r).toEqual({ code: 0, out: '' });
    expect(emu.state.get('/queue/tree', 'WAN-Download-1')?.['max-limit']).toBe('500000000');
    expect(emu.state.get('/queue/tree', 'WAN-Upload-1')?.['max-limit']).toBe('20000000');
    // an empty find is silently a no-op
    expect(await sshExec(emu, '/queue tree set [find name="missing"] max-limit=1')).toEqual({
      code: 0,
      out: '',
    });
  });

  it('prints stats detail in RouterOS layout', async () => {
    emu.state.staticTraffic.set('WAN-Download-1', {
      bytes: 272603902153,
      packets: 184614358,
      dropped: 17,
      queuedBytes: 4542,
      queuedPackets: 3,
      rate: 183296,
      packetRate: 40,
    });
    const { code, out } = await sshExec(emu, '/queue/tree/print stats detail where name="WAN-Download-1"');
    expect(code).toBe(0);
    expect(out).toContain('\r\n');
    const l = lines(out);
    expect(l[0]).toBe('Flags: X - disabled, I - invalid ');
    expect(l[1]).toMatch(/^ 0 {3}name="WAN-Download-1" parent=bridge1 packet-mark="" rate=183\.3kbps /);
    const text = l.join(' ').replace(/\s+/g, ' ');
    expect(text).toMatch(
      / queued-bytes=4542 queued-packets=3 bytes=272603902153 packets=184614358 dropped=17 $/,
    );
    for (const line of l.slice(2)) expect(line).toMatch(/^ {5}\S/);
    emu.state.staticTraffic.clear();
  });

  it('mangle print/enable/disable by comment (= and ~), with ;;; and the X flag', async () => {
    const comment = 'ADAPTIVE: Steer latency-sensitive to WAN2';
    const p = lines((await sshExec(emu, `/ip firewall mangle print where comment="${comment}"`)).out);
    expect(p[0]).toBe('Flags: X - disabled, I - invalid; D - dynamic ');
    expect(p[1]).toBe(` 0 X  ;;; ${comment}`);
    expect(p[2]).toMatch(/^ {6}chain=prerouting action=mark-routing new-routing-mark=to_WAN2 /);
    expect((await sshExec(emu, '/ip firewall mangle enable [find comment~"ADAPTIVE"]')).out).toBe('');
    expect(lines((await sshExec(emu, `/ip firewall mangle print where comment="${comment}"`)).out)[1]).toBe(
      ` 0    ;;; ${comment}`,
    );
    await sshExec(emu, `/ip/firewall/mangle/disable [find where comment="${comment}"]`);
    expect(emu.state.find('/ip/firewall/mangle', { comment })[0]?.['disabled']).toBe('true');
  });

  it('print terse and as-value', async () => {
    const t = lines((await sshExec(emu, '/queue tree print terse')).out);
    expect(t).toHaveLength(2);
    expect(t[0]).toMatch(
      /^ 0 {3}name=WAN-Download-1 parent=bridge1 packet-mark= limit-at=0 queue=cake-down-wan1 /,
    );
    const c = lines((await sshExec(emu, '/ip firewall mangle print terse')).out);
    expect(c[0]).toMatch(/^ 0 X {2}comment=ADAPTIVE: Steer latency-sensitive to WAN2 chain=prerouting /);
    const v = lines((await sshExec(emu, '/queue tree print as-value where name="WAN-Upload-1"')).out);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatch(/^\.id=\*[0-9A-F]+;bucket-size=0\.1;burst-limit=0;/);
    expect(v[0]).toContain(';name=WAN-Upload-1;');
  });

  it('reset-counters [find name=…]', async () => {
    emu.state.staticTraffic.set('WAN-Upload-1', { bytes: 999, packets: 9 });
    await sshExec(emu, '/queue tree reset-counters [find name="WAN-Upload-1"]');
    expect(emu.state.get('/queue/tree', 'WAN-Upload-1')?.['bytes']).toBe('0');
    emu.state.staticTraffic.clear();
  });

  it('prints RouterOS error texts with exit status 0, and a syntax error runs nothing', async () => {
    expect(await sshExec(emu, 'bogus')).toEqual({
      code: 0,
      out: 'bad command name bogus (line 1 column 1)\r\n',
    });
    const before = emu.state.get('/queue/tree', 'WAN-Upload-1')?.['max-limit'];
    const e = await sshExec(
      emu,
      '/queue tree set [find name="WAN-Upload-1"] max-limit=1M; /queue tree set foo=bar',
    );
    expect(e).toEqual({ code: 0, out: 'expected end of command (line 1 column 74)\r\n' });
    expect(emu.state.get('/queue/tree', 'WAN-Upload-1')?.['max-limit']).toBe(before);
    expect((await sshExec(emu, '/queue tree set WAN-Nope max-limit=1')).out).toBe(
      'no such item (/queue/tree/set; line 1)\r\n',
    );
    expect((await sshExec(emu, '/queue tree set [find name="WAN-Upload-1"] queue=nope')).out).toBe(
      'input does not match any value of queue (/queue/tree/set; line 1)\r\n',
    );
    expect((await sshExec(emu, '/export terse')).out).toBe('bad command name export (line 1 column 2)\r\n');
  });

  it('a read-only user gets not enough permissions', async () => {
    const c = await sshConnect(emu, { username: 'viewer', password: 'view' });
    expect((await c.exec('/queue tree set [find name="WAN-Upload-1"] max-limit=1')).out).toBe(
      'not enough permissions (9) (/queue/tree/set; line 1)\r\n',
    );
    expect((await c.exec('/queue tree print count-only')).out).toBe('2\r\n');
    c.end();
  });

  it('keeps item numbers per session: print, then set by number', async () => {
    const c = await sshConnect(emu);
    expect((await c.exec('/queue tree set 1 max-limit=1')).out).toContain('no such item');
    c.end();
    // a shell session keeps numbering between lines
    const conn = await sshConnect(emu);
    const out = await new Promise<string>((resolve, reject) => {
      conn.client.shell({ term: 'dumb', cols: 200, rows: 50 }, (err, stream) => {
        if (err) return reject(err);
        let buf = '';
        stream.on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes('interrupted')) stream.end();
        });
        stream.on('close', () => resolve(buf));
        stream.write('/queue tree print\r');
        stream.write('/queue tree set 1 max-limit=33M\r');
        stream.write('/queue tree\r');
        stream.write('print count-only\r');
        stream.write('quit\r');
      });
    });
    conn.end();
    expect(out).toContain('[admin@MikroTik] > ');
    expect(out).toContain('[admin@MikroTik] /queue/tree> print count-only\r\n2\r\n');
    expect(out).toContain('name="WAN-Upload-1"');
    expect(emu.state.get('/queue/tree', 'WAN-Upload-1')?.['max-limit']).toBe('33000000');
    const shellCmds = emu.requests
      .ssh()
      .filter((e) => e.channel === 'shell')
      .map((e) => e.command);
    expect(shellCmds).toEqual([
      '/queue tree print',
      '/queue tree set 1 max-limit=33M',
      '/queue tree',
      'print count-only',
      'quit',
    ]);
  });
});

describe('host key', () => {
  it('persists a generated host key and reuses it; fingerprint matches ssh-keygen', async () => {
    const t = await tempDir();
    try {
      const file = join(t.dir, 'host_key');
      const a = await startEmulator({ restPort: false, hostKeyFile: file });
      const fpA = a.ssh?.hostKeyFingerprint;
      await a.stop();
      const b = await startEmulator({ restPort: false, hostKeyFile: file });
      expect(b.ssh?.hostKeyFingerprint).toBe(fpA);
      await b.stop();
      await writeFile(join(t.dir, 'host.pub'), `${b.ssh?.hostPublicKey}\n`);
      const { stdout } = await run('ssh-keygen', ['-l', '-f', join(t.dir, 'host.pub')]);
      expect(stdout.split(' ')[1]).toBe(fpA);
      // a given key is used as is
      const given = await readFile(file, 'utf8');
      const c = await startEmulator({ restPort: false, hostKey: given });
      expect(c.ssh?.hostKeyFingerprint).toBe(fpA);
      // the ssh2 client sees the same key (host key pinning)
      let seen = '';
      const conn = await sshConnect(c, {
        hostVerifier: (key: Buffer) => {
          seen = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
          return true;
        },
      });
      conn.end();
      expect(seen).toBe(fpA);
      await c.stop();
    } finally {
      await t.cleanup();
    }
  });
});

describe('cross-face visibility', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator();
  });
  afterAll(async () => {
    await emu.stop();
  });

  it('a REST write is visible over SSH and an SSH write over REST', async () => {
    const id = emu.state.resolveId('/queue/tree', 'WAN-Download-1');
    await rest(emu, 'PATCH', `/queue/tree/${id}`, { 'max-limit': '425000000' });
    const out = (await sshExec(emu, '/queue tree print detail where name="WAN-Download-1"')).out;
    expect(out).toContain('max-limit=425M');
    await sshExec(emu, '/queue tree set [find name="WAN-Download-1"] max-limit=300000000');
    const r = await rest(emu, 'GET', '/queue/tree?name=WAN-Download-1');
    expect((r.json as Record<string, string>[])[0]?.['max-limit']).toBe('300000000');
    await sshExec(
      emu,
      '/ip firewall mangle enable [find comment="ADAPTIVE: Steer latency-sensitive to WAN2"]',
    );
    const m = await rest(emu, 'GET', '/ip/firewall/mangle');
    expect((m.json as Record<string, string>[])[0]?.['disabled']).toBe('false');
    await rest(emu, 'POST', '/ip/firewall/mangle/disable', {
      '.id': (m.json as Record<string, string>[])[0]?.['.id'],
    });
    const p = lines((await sshExec(emu, '/ip firewall mangle print')).out);
    expect(p[1]).toMatch(/^ 0 X {2};;; ADAPTIVE/);
  });
});
