/**
 * SSH host key checking: a pinned `SHA256:` fingerprint, or OpenSSH known_hosts files (plain
 * and hashed entries, `@revoked`). Unknown keys are refused with the exact pin or
 * `ssh-keyscan` line that would trust them.
 */
import { createHash, createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RouterHostVerificationError } from './errors.js';

/** OpenSSH-style fingerprint of a host key blob: `SHA256:<base64 without padding>`. */
export function sshKeyFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

function normaliseSshFingerprint(fp: string): string {
  const t = fp.trim();
  const b64 = t.replace(/^SHA256:/i, '').replace(/=+$/, '');
  return `SHA256:${b64}`;
}

export type KnownHostsVerdict = 'match' | 'mismatch' | 'unknown';

/** Check a host key blob against an OpenSSH known_hosts text (plain and hashed entries). */
export function checkKnownHosts(
  text: string,
  host: string,
  port: number,
  keyBlob: Buffer,
): KnownHostsVerdict {
  const names = port === 22 ? [host, `[${host}]:22`] : [`[${host}]:${port}`];
  const keyB64 = keyBlob.toString('base64');
  let seen = false;
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    let fields = t.split(/\s+/);
    if (fields[0]?.startsWith('@')) {
      if (fields[0] === '@revoked' && fields[3] === keyB64) return 'mismatch';
      if (fields[0] !== '@cert-authority') fields = fields.slice(1);
      else continue;
    }
    const [hostsField, , key] = fields;
    if (!hostsField || !key) continue;
    let hostMatch = false;
    if (hostsField.startsWith('|1|')) {
      const [, , salt, hash] = hostsField.split('|');
      if (salt && hash) {
        for (const n of names) {
          const h = createHmac('sha1', Buffer.from(salt, 'base64')).update(n).digest('base64');
          if (h === hash) hostMatch = true;
        }
      }
    } else {
      const patterns = hostsField.split(',');
      hostMatch = patterns.some((p) => names.includes(p));
    }
    if (!hostMatch) continue;
    seen = true;
    if (key === keyB64) return 'match';
  }
  return seen ? 'mismatch' : 'unknown';
}

export interface HostKeyPolicy {
  host: string;
  port: number;
  /** Pinned `SHA256:<base64>` fingerprint; when set, known_hosts files are not read. */
  hostKeyFingerprint?: string | undefined;
  /** known_hosts file; default `~/.ssh/known_hosts` then `/etc/ssh/ssh_known_hosts`. */
  knownHostsPath?: string | undefined;
}

/** null when the key is trusted, else the error explaining why not and how to trust it. */
export function verifyHostKey(key: Buffer, p: HostKeyPolicy): RouterHostVerificationError | null {
  const fp = sshKeyFingerprint(key);
  const where = `${p.host}:${p.port}`;
  const ctx = { transport: 'ssh' as const, host: p.host, presentedFingerprint: fp };
  if (p.hostKeyFingerprint) {
    if (normaliseSshFingerprint(p.hostKeyFingerprint) === fp) return null;
    return new RouterHostVerificationError(
      `SSH host key of ${where} is ${fp}, which does not match the pinned ${p.hostKeyFingerprint}. If the router's key changed on purpose, update the pin.`,
      'hostkey',
      ctx,
    );
  }
  const files = p.knownHostsPath
    ? [p.knownHostsPath]
    : [join(homedir(), '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'];
  let verdict: KnownHostsVerdict = 'unknown';
  for (const f of files) {
    if (!existsSync(f)) continue;
    const v = checkKnownHosts(readFileSync(f, 'utf8'), p.host, p.port, key);
    if (v === 'match') return null;
    if (v === 'mismatch') verdict = 'mismatch';
  }
  if (verdict === 'mismatch') {
    return new RouterHostVerificationError(
      `SSH host key of ${where} (${fp}) does not match the key recorded in ${files.join(' or ')} (possible man-in-the-middle, or the router was reinstalled). Remove the old entry with ssh-keygen -R only if you know why it changed.`,
      'hostkey',
      ctx,
    );
  }
  const howToPin =
    `To trust it, pin the fingerprint (config router.ssh_host_key_sha256: "${fp}") or add the key to the known_hosts file (router.ssh_known_hosts_file): ` +
    `ssh-keyscan -p ${p.port} ${p.host} >> ${p.knownHostsPath ?? '~/.ssh/known_hosts'}`;
  return new RouterHostVerificationError(
    `SSH host key of ${where} is unknown (${fp}); refusing to connect. ${howToPin}`,
    'hostkey',
    ctx,
  );
}
