/**
 * `wanctl-autorate replay`: runs the control law on recorded per-cycle inputs, one JSON line in,
 * one JSON line out, written (and flushed) as soon as its input line has been read, so a link
 * simulator can drive it in closed loop through a pipe.
 */
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import {
  type ControlLawName,
  type ControlParams,
  ReplayInputError,
  ReplaySession,
  type WritePolicyParams,
} from './control/index.js';

export interface ReplayRunOptions {
  params: ControlParams;
  /** `continuous_monitoring.control_law` (default v1.3). */
  law?: ControlLawName | undefined;
  /** The adaptive law's write policy (config `write_policy`, see writePolicyFromConfig); default 2/s, burst 4, 1 %. */
  writePolicy?: Partial<WritePolicyParams> | undefined;
  /** A file path, or `-` for standard input. */
  input: string;
  /** A file path; default standard output. */
  output?: string | undefined;
  stdin?: Readable;
  /** Synchronous writer for standard output (default: fd 1). */
  writeStdout?: (text: string) => void;
}

/** Thrown for a bad input line (exit 2); carries the 1-based line number. */
export { ReplayInputError };

/**
 * Streams the replay. Resolves with the number of output lines. Throws ReplayInputError on a
 * malformed line (the lines before it have been written).
 */
export async function runReplay(o: ReplayRunOptions): Promise<number> {
  const session = new ReplaySession(o.params, { law: o.law, writePolicy: o.writePolicy });
  const input: Readable = o.input === '-' ? (o.stdin ?? process.stdin) : createReadStream(o.input);
  let outFd: number | null = null;
  let write: (text: string) => void;
  if (o.output !== undefined && o.output !== '-') {
    const fd = openSync(o.output, 'w', 0o644);
    outFd = fd;
    write = (t) => {
      writeSync(fd, t);
    };
  } else {
    write =
      o.writeStdout ??
      ((t) => {
        writeAllSync(1, t);
      });
  }
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  try {
    for await (const line of rl) {
      const out = session.step(line);
      if (out === null) continue;
      write(`${JSON.stringify(out)}\n`);
      n++;
    }
  } finally {
    rl.close();
    if (outFd !== null) closeSync(outFd);
    if (input !== process.stdin && input !== o.stdin) input.destroy();
  }
  return n;
}

/** writeSync to a descriptor, retrying on EAGAIN (a non-blocking pipe that is full). */
function writeAllSync(fd: number, text: string): void {
  let buf = Buffer.from(text);
  while (buf.length > 0) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}
