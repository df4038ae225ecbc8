/**
 * Mapping from @wanctl/config's normalised `router` section to RouterClientOptions.
 *
 * The section is described here by its shape, not imported from @wanctl/config, so that this
 * package (types included) installs and type-checks without @wanctl/config: only the
 * wanctl-router CLI loads it, lazily (an optional peer dependency).
 */
import { RouterOptionsError, type Transport } from './errors.js';
import type { RouterClientOptions, RouterLogger } from './types.js';

/** The fields of @wanctl/config's `RouterConfig` that {@link routerOptionsFromConfig} reads. */
export interface RouterConfigSection {
  host: string;
  user: string;
  /** linux-cake has no RouterOS to reach: refused here. */
  transport: Transport | 'linux-cake';
  callDeadlineMs: number;
  /** The REST password (a `Secret`), or null when not configured. */
  password: { readonly isEmpty: boolean; reveal(): string } | null;
  rest: {
    port: number;
    scheme: 'https' | 'http';
    verifyTls: boolean;
    caFile: string | null;
    certSha256: string | null;
  };
  ssh: {
    port: number;
    keyFile: string | null;
    knownHostsFile: string | null;
    hostKeySha256: string | null;
  };
}

export function routerOptionsFromConfig(
  router: RouterConfigSection,
  logger?: RouterLogger,
): RouterClientOptions {
  if (router.transport === 'linux-cake')
    throw new RouterOptionsError(
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
