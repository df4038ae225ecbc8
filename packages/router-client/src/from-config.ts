/**
 * Mapping from @wanctl/config's normalised `router` section to RouterClientOptions.
 */
import type { RouterConfig } from '@wanctl/config';
import { RouterError } from './errors.js';
import type { RouterClientOptions, RouterLogger } from './types.js';

export function routerOptionsFromConfig(router: RouterConfig, logger?: RouterLogger): RouterClientOptions {
  if (router.transport === 'linux-cake')
    throw new RouterError(
      'router.transport is linux-cake: there is no RouterOS to reach (@wanctl/linux-cake shapes)',
    );
  const opts: RouterClientOptions = {
    host: router.host,
    transport: router.transport,
    deadlineMs: router.callDeadlineMs,
    ...(logger ? { logger } : {}),
  };
  if (router.password !== null && !router.password.isEmpty) {
    opts.rest = {
      port: router.rest.port,
      https: router.rest.scheme === 'https',
      user: router.user,
      password: router.password.reveal(),
      // A pin or a CA file turns verification on; otherwise v1.3's verify_ssl decides (false = warned).
      verifyTls: router.rest.verifyTls || router.rest.caFile !== null,
      ...(router.rest.caFile !== null ? { caFile: router.rest.caFile } : {}),
      ...(router.rest.certSha256 !== null ? { certFingerprint: router.rest.certSha256 } : {}),
    };
  }
  if (router.ssh.keyFile !== null) {
    opts.ssh = {
      port: router.ssh.port,
      user: router.user,
      privateKeyPath: router.ssh.keyFile,
      ...(router.ssh.knownHostsFile !== null ? { knownHostsPath: router.ssh.knownHostsFile } : {}),
      ...(router.ssh.hostKeySha256 !== null ? { hostKeyFingerprint: router.ssh.hostKeySha256 } : {}),
    };
  }
  return opts;
}
