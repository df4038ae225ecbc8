import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAutorateConfig, parseSteeringConfig } from '@wanctl/config';
import { describe, expect, it } from 'vitest';
import { routerOptionsFromConfig } from '../src/index.js';

const EXAMPLES = join(import.meta.dirname, '../../../examples');
const env = { WANCTL_ROUTER_PASSWORD: 'pw' };

describe('routerOptionsFromConfig', () => {
  it('v1.3-style config: REST primary (port 443 = https), SSH fallback from ssh_key, verify_ssl false kept', () => {
    const cfg = parseAutorateConfig(readFileSync(join(EXAMPLES, 'cable.yaml'), 'utf8'), { env });
    const o = routerOptionsFromConfig(cfg.router);
    expect(o).toMatchObject({
      host: 'router.example.net',
      transport: 'rest',
      deadlineMs: 15_000,
      rest: { port: 443, https: true, user: 'wanctl', password: 'pw', verifyTls: false },
      ssh: { port: 22, user: 'wanctl', privateKeyPath: '/etc/wanctl/ssh/router.key' },
    });
  });

  it('pins and SSH transport', () => {
    const text = readFileSync(join(EXAMPLES, 'steering.yaml'), 'utf8')
      .replace('transport: "rest"', 'transport: "ssh"')
      .replace(
        'verify_ssl: false',
        'tls_fingerprint_sha256: "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89"\n  ssh_host_key_sha256: "SHA256:h66fH8Ejzywg6iAC0DrL89TXEFg2CzMdgF7+lPIPbJc"\n  ssh_known_hosts_file: "/etc/wanctl/ssh/known_hosts"',
      );
    const o = routerOptionsFromConfig(parseSteeringConfig(text, { env }).router);
    expect(o.transport).toBe('ssh');
    expect(o.rest?.certFingerprint).toMatch(/^AB:CD:EF/);
    expect(o.ssh).toMatchObject({
      hostKeyFingerprint: 'SHA256:h66fH8Ejzywg6iAC0DrL89TXEFg2CzMdgF7+lPIPbJc',
      knownHostsPath: '/etc/wanctl/ssh/known_hosts',
    });
  });

  it('no REST settings without a password', () => {
    const text = readFileSync(join(EXAMPLES, 'cable.yaml'), 'utf8')
      .replace('transport: "rest"', 'transport: "ssh"')
      .replace(/^ {2}password: .*\n/m, '');
    const o = routerOptionsFromConfig(parseAutorateConfig(text, { env }).router);
    expect(o.rest).toBeUndefined();
    expect(o.ssh).toBeDefined();
  });
});
