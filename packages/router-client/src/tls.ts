/**
 * TLS trust for the REST transport: CA file, SHA-256 certificate pinning, or (warned) no
 * verification; and turning a TLS failure into a RouterHostVerificationError that tells the
 * user how to trust the router.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { type RouterErrorContext, RouterHostVerificationError, RouterOptionsError } from './errors.js';
import type { RestOptions, RouterLogger } from './types.js';

/** Normalise a certificate fingerprint to upper-case colon-separated hex. */
export function normaliseCertFingerprint(fp: string): string {
  const hex = fp
    .trim()
    .replace(/^sha256[/:]/i, '')
    .replace(/[^0-9a-fA-F]/g, '')
    .toUpperCase();
  if (hex.length !== 64) throw new RouterOptionsError(`not a SHA-256 certificate fingerprint: "${fp}"`);
  return hex.match(/.{2}/g)!.join(':');
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'ERR_WANCTL_CERT_PIN',
]);

/** True when a socket error code means the router's certificate was not trusted. */
export function isTlsTrustFailure(code: string): boolean {
  return TLS_CODES.has(code);
}

/** Raised inside the agent when the presented certificate does not match the pin. */
export class PinMismatchError extends Error {
  readonly code = 'ERR_WANCTL_CERT_PIN';
  constructor(
    readonly presented: string,
    readonly expected: string,
  ) {
    super(`certificate fingerprint ${presented} does not match the pinned ${expected}`);
  }
}

/**
 * https.Agent that verifies the peer certificate's SHA-256 fingerprint before handing the
 * socket to the request (so nothing, not even the Authorization header, is sent to an
 * unpinned peer). Chain verification is replaced by the pin (RouterOS certs are self-signed).
 * Deliberately no TLS session cache: a resumed TLS 1.3 session carries no peer certificate to
 * check against the pin, and resumption measured no faster on reconnect (keep-alive makes
 * reconnects rare anyway).
 */
class FingerprintPinnedAgent extends https.Agent {
  constructor(
    opts: https.AgentOptions,
    private readonly pin: string,
  ) {
    super(opts);
  }

  override createConnection(
    options: tls.ConnectionOptions,
    callback?: (err: Error | null, socket: Duplex) => void,
  ): Duplex | undefined {
    const socket = tls.connect({ ...options, rejectUnauthorized: false });
    const onError = (err: Error) => callback?.(err, socket);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.removeListener('error', onError);
      const presented = socket.getPeerCertificate().fingerprint256 ?? '';
      if (presented.toUpperCase() !== this.pin) {
        const err = new PinMismatchError(presented, this.pin);
        socket.destroy();
        callback?.(err, socket);
        return;
      }
      callback?.(null, socket);
    });
    return undefined;
  }
}

/** The keep-alive agent for a REST client: plain HTTP, pinned, CA file, or unverified (warned). */
export function createRestAgent(
  opts: RestOptions & { host: string },
  useHttps: boolean,
  baseUrl: string,
  logger: RouterLogger,
): http.Agent {
  const agentOpts = {
    keepAlive: true,
    keepAliveMsecs: 1000,
    maxSockets: opts.maxSockets ?? 4,
    maxFreeSockets: opts.maxSockets ?? 4,
  };
  if (!useHttps) return new http.Agent(agentOpts);
  if (opts.certFingerprint) {
    return new FingerprintPinnedAgent(agentOpts, normaliseCertFingerprint(opts.certFingerprint));
  }
  const verify = opts.verifyTls ?? true;
  if (!verify) {
    logger.warn(
      `TLS certificate verification is OFF for ${baseUrl} (verify_ssl: false). Anyone on the path can read the router password; pin the router's certificate fingerprint or CA file instead.`,
      { host: opts.host },
    );
  }
  return new https.Agent({
    ...agentOpts,
    rejectUnauthorized: verify,
    ...(opts.caFile ? { ca: readFileSync(opts.caFile) } : {}),
  });
}

/** Fetch the certificate fingerprint a server presents (for error messages only). */
export function presentedCertFingerprint(
  host: string,
  port: number,
  timeoutMs = 1000,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port,
      rejectUnauthorized: false,
      ...(isIP(host) ? {} : { servername: host }),
    });
    const done = (v: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.once('secureConnect', () => done(socket.getPeerCertificate().fingerprint256));
    socket.once('error', () => done(undefined));
  });
}

/** The error for an untrusted certificate, with the exact config line that would trust it. */
export async function tlsTrustError(
  cause: Error,
  code: string,
  err: unknown,
  where: { baseUrl: string; host: string; port: number; timeoutMs: number },
  ctx: RouterErrorContext,
): Promise<RouterHostVerificationError> {
  const presented =
    cause instanceof PinMismatchError
      ? cause.presented
      : await presentedCertFingerprint(where.host, where.port, Math.min(1000, where.timeoutMs));
  const how = presented
    ? `To trust this router, pin its certificate (config router.tls_fingerprint_sha256: "${presented}") or give its CA/certificate file (router.tls_ca_file).`
    : 'Pin the certificate fingerprint or give a CA file.';
  return new RouterHostVerificationError(
    `TLS certificate of ${where.baseUrl} not trusted (${code}: ${cause.message}). ${how}`,
    'tls',
    { ...ctx, cause: err, ...(presented ? { presentedFingerprint: `sha256/${presented}` } : {}) },
  );
}
