/** v1.3's fallback connectivity checks: TCP connect RTT and a gateway ping. */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { findExecutable, parseFpingLine } from './fping.js';
import { ProbeUnavailableError } from './types.js';

/**
 * Time a TCP connect to `host:port`; the socket is closed at once. Resolves with the connect
 * time in ms, or null on refusal, timeout or any error (never rejects).
 */
export function tcpConnectCheck(host: string, port: number, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let done = false;
    const sock = connect({ host, port });
    const finish = (v: number | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    sock.once('connect', () => finish(performance.now() - t0));
    sock.once('error', () => finish(null));
  });
}

/** Result of {@link tcpFallbackCheck}. */
export interface TcpFallbackResult {
  /** At least one target connected. */
  ok: boolean;
  /** Median of the successful connect times (one success: that value), or null. */
  rttMs: number | null;
  /** Per target, in order: connect ms or null. */
  results: Array<number | null>;
}

/**
 * v1.3's TCP check: try every target (no short-circuit; here in parallel, so the worst case is
 * one `timeoutMs`, default 500 ms) and take the median of the successes.
 */
export async function tcpFallbackCheck(
  targets: ReadonlyArray<readonly [string, number]>,
  timeoutMs = 500,
): Promise<TcpFallbackResult> {
  const results = await Promise.all(targets.map(([h, p]) => tcpConnectCheck(h, p, timeoutMs)));
  const ok = results.filter((r): r is number => r !== null).sort((a, b) => a - b);
  let rttMs: number | null = null;
  if (ok.length > 0) {
    const mid = ok.length >> 1;
    rttMs = ok.length % 2 ? (ok[mid] as number) : ((ok[mid - 1] as number) + (ok[mid] as number)) / 2;
  }
  return { ok: ok.length > 0, rttMs, results };
}

/** Options of {@link gatewayCheck}. */
export interface GatewayCheckOptions {
  /** Reply deadline. Default 1000 ms (v1.3 `timeouts.ping`). */
  timeoutMs?: number;
  /** fping binary. Default `fping` on PATH. */
  binary?: string;
}

/**
 * v1.3's gateway check: one ICMP echo to the gateway (`fping -c 1 -t <timeout>`). Resolves
 * with the RTT in ms or null if it did not answer.
 *
 * @throws {ProbeUnavailableError} if fping is missing
 */
export async function gatewayCheck(host: string, options: GatewayCheckOptions = {}): Promise<number | null> {
  const bin = findExecutable(options.binary ?? 'fping');
  if (bin === null)
    throw new ProbeUnavailableError('fping not found; the gateway check needs it: apt-get install fping');
  const timeoutMs = Math.max(10, Math.round(options.timeoutMs ?? 1000));
  return new Promise((resolve) => {
    const child = spawn(bin, ['-c', '1', '-t', String(timeoutMs), host], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 2000);
    child.on('error', () => {
      clearTimeout(kill);
      resolve(null);
    });
    child.on('close', (code) => {
      clearTimeout(kill);
      if (code !== 0) return resolve(null);
      for (const line of out.split('\n')) {
        const p = parseFpingLine(line);
        if (p?.kind === 'reply') return resolve(p.rttMs);
      }
      resolve(null);
    });
  });
}
