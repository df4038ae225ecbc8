// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is wanctl config syntax, not a template
import { boolAt, type Context, getPath, isValidHost, numAt, strAt } from './context.js';
import { Secret } from './secret.js';
import type { EndpointConfig, RouterConfig, RouterTransport, Transport } from './types.js';

/** Normalises `router.*` (shared by both kinds) and checks the transport credential rules. */
export function normaliseRouter(ctx: Context, data: unknown, sshCommandSec: number): RouterConfig {
  const transport = (strAt(data, 'router.transport') ?? 'ssh') as RouterTransport;
  const passwordRaw = strAt(data, 'router.password');
  const password = passwordRaw === undefined ? null : new Secret(passwordRaw);
  const sshKey = strAt(data, 'router.ssh_key') ?? null;
  const hasRest = password !== null && !password.isEmpty;
  const hasSsh = sshKey !== null;
  const routerPresent = getPath(data, 'router') !== undefined;
  if (routerPresent && transport !== 'linux-cake') {
    // the autorate schema leaves these optional for linux-cake; RouterOS needs both
    for (const k of ['host', 'user']) {
      const reported = ctx.problems.some((p) => p.path === `router.${k}`);
      if (getPath(data, `router.${k}`) === undefined && !reported)
        ctx.error(`router.${k}`, `required when router.transport is "${transport}"`);
    }
  }
  if (routerPresent && transport === 'ssh' && !hasSsh && getPath(data, 'router.ssh_key') === undefined) {
    ctx.error('router.ssh_key', 'required when router.transport is "ssh" (the SSH private key file)');
  }
  const passwordReported = ctx.problems.some((p) => p.path === 'router.password');
  if (
    routerPresent &&
    transport === 'rest' &&
    !hasRest &&
    !passwordReported &&
    typeof getPath(data, 'router.password') !== 'number'
  ) {
    ctx.error('router.password', 'required (non-empty) when router.transport is "rest"', {
      expected: 'a password, e.g. "${WANCTL_ROUTER_PASSWORD}"',
    });
  }
  const host = strAt(data, 'router.host') ?? '';
  if (host !== '' && !isValidHost(host)) {
    ctx.error('router.host', 'not a valid address or host name', {
      expected: 'IPv4, IPv6 or RFC 1123 host name',
      found: host,
    });
  }
  const port = numAt(data, 'router.port') ?? 443;
  const scheme = (strAt(data, 'router.scheme') ?? (port === 443 ? 'https' : 'http')) as 'https' | 'http';
  const caFile = strAt(data, 'router.tls_ca_file') ?? null;
  const fp = strAt(data, 'router.tls_fingerprint_sha256');
  let certSha256: string | null = null;
  if (fp !== undefined) {
    const hex = fp.replace(/:/g, '').toUpperCase();
    certSha256 = hex.match(/.{2}/g)?.join(':') ?? null;
  }
  const verifyTls = (boolAt(data, 'router.verify_ssl') ?? false) || caFile !== null;
  if (routerPresent && scheme === 'http' && (caFile !== null || certSha256 !== null)) {
    ctx.error('router.scheme', 'TLS settings (tls_ca_file, tls_fingerprint_sha256) need https', {
      expected: '"https" (or port 443)',
      found: scheme,
    });
  }
  const hostKey = strAt(data, 'router.ssh_host_key_sha256');
  const fallback: Transport | null =
    transport === 'linux-cake'
      ? null
      : transport === 'rest'
        ? hasSsh
          ? 'ssh'
          : null
        : hasRest
          ? 'rest'
          : null;
  const restUsed = transport === 'rest' || fallback === 'rest';
  if (routerPresent && restUsed && scheme === 'https' && !verifyTls && certSha256 === null) {
    ctx.warn(
      'router.verify_ssl',
      'the router TLS certificate is not checked; set tls_fingerprint_sha256 or tls_ca_file',
    );
  }
  return {
    host,
    user: strAt(data, 'router.user') ?? '',
    transport,
    fallbackTransport: fallback,
    password,
    rest: { port, scheme, verifyTls, caFile, certSha256 },
    ssh: {
      port: numAt(data, 'router.ssh_port') ?? 22,
      keyFile: sshKey,
      knownHostsFile: strAt(data, 'router.ssh_known_hosts_file') ?? null,
      hostKeySha256: hostKey === undefined ? null : hostKey.replace(/=$/, ''),
    },
    callDeadlineMs: numAt(data, 'router.call_deadline_ms') ?? Math.round(sshCommandSec * 1000),
  };
}

/** Normalises an endpoint block (`health_check`, `metrics`). */
export function endpoint(data: unknown, key: string, enabled: boolean, port: number): EndpointConfig {
  return {
    enabled: boolAt(data, `${key}.enabled`) ?? enabled,
    host: strAt(data, `${key}.host`) ?? '127.0.0.1',
    port: numAt(data, `${key}.port`) ?? port,
  };
}

/** schema_version as a string, warning when it is not "1.0". */
export function schemaVersionOf(ctx: Context, data: unknown): string {
  const v = getPath(data, 'schema_version');
  const s = v === undefined ? '1.0' : typeof v === 'number' ? v.toFixed(1) : String(v);
  if (s !== '1.0') ctx.warn('schema_version', `schema_version "${s}" is not "1.0"; the file is read as 1.0`);
  return s;
}
