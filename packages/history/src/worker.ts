/**
 * The recorder's worker thread: owns the SQLite connection (better-sqlite3 is synchronous, so
 * writes, checkpoints and maintenance run here, never on the daemon's control loop).
 * Messages in: `{type: 'batch', rows, n, events, now}`, `{type: 'close', now}`.
 * Messages out: `{type: 'health', health}` after each batch, `{type: 'closed', health}`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type PendingEvent, StoreWriter, type WriterSettings } from './writer.js';

type In =
  | { type: 'batch'; rows: Float64Array; n: number; events: PendingEvent[]; now: number }
  | { type: 'maintain'; now: number }
  | { type: 'close'; now: number };

const port = parentPort;
if (port) {
  const writer = new StoreWriter(workerData as WriterSettings, Date.now());
  port.postMessage({ type: 'health', health: writer.state });
  port.on('message', (m: In) => {
    if (m.type === 'batch') {
      writer.submit(m.rows, m.n, m.events, m.now);
      port.postMessage({ type: 'health', health: writer.state });
    } else if (m.type === 'maintain') {
      writer.maintain(m.now);
      port.postMessage({ type: 'health', health: writer.state });
    } else if (m.type === 'close') {
      writer.close(m.now);
      port.postMessage({ type: 'closed', health: writer.state });
      port.close();
    }
  });
}
