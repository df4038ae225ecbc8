/** Builds the router client options from a normalised config. */
import type { AutorateConfig } from '@wanctl/config';
import type { RouterClientOptions, RouterLogger } from '@wanctl/router-client';

/**
 * Router client options for one WAN: the configured transport is primary (D1); the other one is
 * configured only when its credentials are (REST: a password; SSH: a key), so the failover
 * client uses it as fallback exactly when the config says it can.
 */
export function routerClientOptions(cfg: AutorateConfig, logger?: RouterLogger): RouterClientOptions {
  const r = cfg.router;
  const opts: RouterClientOptions = {
    host: r.host,
    transport: r.transport,
    deadlineMs: r.callDeadlineMs,
    ...(logger ? { logger } : {}),
  };
  if (r.password !== null) {
    opts.rest = {
      port: r.rest.port,
      https: r.rest.scheme === 'https',
      user: r.user,
      password: r.password.reveal(),
      verifyTls: r.rest.verifyTls,
      ...(r.rest.caFile !== null ? { caFile: r.rest.caFile } : {}),
      ...(r.rest.certSha256 !== null ? { certFingerprint: r.rest.certSha256 } : {}),
    };
  }
  if (r.ssh.keyFile !== null || r.transport === 'ssh') {
    opts.ssh = {
      port: r.ssh.port,
      user: r.user,
      ...(r.ssh.keyFile !== null ? { privateKeyPath: r.ssh.keyFile } : {}),
      ...(r.ssh.knownHostsFile !== null ? { knownHostsPath: r.ssh.knownHostsFile } : {}),
      ...(r.ssh.hostKeySha256 !== null ? { hostKeyFingerprint: r.ssh.hostKeySha256 } : {}),
    };
  }
  return opts;
}
