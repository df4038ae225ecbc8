import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { LinkSimConfigError } from './errors.js';
import { Prng } from './prng.js';

/** What the reflector needs from the simulation: the path RTT right now. */
export interface RttSource {
  rttMs(): number;
}

export interface LinkReflectorOptions {
  sim: RttSource;
  /** UDP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Bind address. Default 127.0.0.1. */
  host?: string;
  /** Replies waiting at most at once; datagrams beyond are not answered. Default 1024. */
  maxPending?: number;
  /** Largest datagram answered, bytes. Default 2048. */
  maxDatagramBytes?: number;
  /** Extra uniform random delay in [0, jitterMs), seeded. Default 0. */
  jitterMs?: number;
  seed?: number;
}

export interface LinkReflectorStats {
  received: number;
  answered: number;
  /** Not answered because too many replies were pending or the datagram was too big. */
  dropped: number;
  pending: number;
}

export interface LinkReflector {
  readonly port: number;
  readonly host: string;
  readonly stats: Readonly<LinkReflectorStats>;
  /** Stops answering, cancels pending replies and closes the socket. */
  close(): Promise<void>;
}

/**
 * A UDP echo reflector for one simulated WAN: each datagram is sent back unchanged to its
 * sender after the simulated path RTT at the moment it arrived (base RTT + shaper and
 * bottleneck queueing of both directions). The probe is on loopback, so the whole path
 * delay is added here.
 */
export async function startLinkReflector(opts: LinkReflectorOptions): Promise<LinkReflector> {
  const host = opts.host ?? '127.0.0.1';
  const maxPending = opts.maxPending ?? 1024;
  const maxBytes = opts.maxDatagramBytes ?? 2048;
  const jitterMs = opts.jitterMs ?? 0;
  if (!(maxPending >= 1)) throw new LinkSimConfigError('maxPending', 'expected >= 1');
  if (!(jitterMs >= 0)) throw new LinkSimConfigError('jitterMs', 'expected >= 0');
  const rng = new Prng(opts.seed ?? 1);
  const stats: LinkReflectorStats = { received: 0, answered: 0, dropped: 0, pending: 0 };
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  const socket: Socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
  socket.on('error', () => {
    // A send error (e.g. the prober went away) must not take the reflector down.
  });
  socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    stats.received++;
    if (closed) return;
    if (timers.size >= maxPending || msg.length > maxBytes) {
      stats.dropped++;
      return;
    }
    let delay = opts.sim.rttMs();
    if (!Number.isFinite(delay) || delay < 0) delay = 0;
    if (jitterMs > 0) delay += rng.next() * jitterMs;
    const timer = setTimeout(() => {
      timers.delete(timer);
      stats.pending = timers.size;
      if (closed) return;
      socket.send(msg, rinfo.port, rinfo.address, (err) => {
        if (!err) stats.answered++;
      });
    }, delay);
    timers.add(timer);
    stats.pending = timers.size;
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      socket.close();
      reject(err);
    };
    socket.once('error', fail);
    socket.bind(opts.port ?? 0, host, () => {
      socket.off('error', fail);
      resolve();
    });
  });
  const port = socket.address().port;
  return {
    port,
    host,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) {
          resolve();
          return;
        }
        closed = true;
        for (const t of timers) clearTimeout(t);
        timers.clear();
        stats.pending = 0;
        socket.close(() => resolve());
      }),
  };
}
