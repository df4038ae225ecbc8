/** A net.Server wrapper that tracks sockets, enforces max-sessions, and can go down and come back. */
import type { Server, Socket } from 'node:net';

export class ManagedListener {
  readonly sockets = new Set<Socket>();
  private boundPort = 0;
  private listening = false;

  constructor(
    readonly server: Server,
    private readonly host: string,
    private readonly maxSessions: () => number | undefined,
    connectionEvent = 'connection',
  ) {
    server.on(connectionEvent, (sock: Socket) => {
      const max = this.maxSessions();
      if (max !== undefined && this.sockets.size >= max) {
        sock.destroy();
        return;
      }
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
    });
  }

  get port(): number {
    return this.boundPort;
  }

  async listen(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error) => reject(e);
      this.server.once('error', onErr);
      this.server.listen(port, this.host, () => {
        this.server.off('error', onErr);
        resolve();
      });
    });
    const addr = this.server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : port;
    this.listening = true;
    return this.boundPort;
  }

  /** Stops accepting and drops every open connection. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (!this.listening) return;
    this.listening = false;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listens again on the same port (after `close`). */
  async reopen(): Promise<void> {
    if (this.listening) return;
    await this.listen(this.boundPort);
  }
}
