/**
 * `wanctl-steering replay`: streams JSON lines (the golden steering_daemon input format) through
 * the control law and writes one JSON line per input line as soon as it is computed, so it can
 * sit in a pipe (`simulator | wanctl-steering replay --input - | ...`).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { ReplayInputError, type SteeringParams, SteeringReplay, toReplayInput } from './control/index.js';

export { ReplayInputError };

export interface ReplayRunOptions {
  params: SteeringParams;
  input: Readable;
  output: Writable;
  t0?: number;
  dt?: number;
}

/** Resolves with the number of cycles replayed. Throws ReplayInputError (line number, field). */
export async function runReplayStream(o: ReplayRunOptions): Promise<number> {
  const rp = new SteeringReplay(o.params, {
    ...(o.t0 !== undefined ? { t0: o.t0 } : {}),
    ...(o.dt !== undefined ? { dt: o.dt } : {}),
  });
  const rl = createInterface({ input: o.input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let n = 0;
  for await (const raw of rl) {
    lineNo++;
    const line = raw.trim();
    if (line === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw new ReplayInputError(lineNo, `not valid JSON (${(e as Error).message})`);
    }
    const row = rp.step(toReplayInput(obj, lineNo));
    n++;
    if (!o.output.write(`${JSON.stringify(row)}\n`)) {
      await new Promise<void>((r) => o.output.once('drain', () => r()));
    }
  }
  return n;
}

/** Opens `input` (a path, or `-` for stdin). */
export function openInput(input: string): Readable {
  return input === '-' ? process.stdin : createReadStream(input, { encoding: 'utf8' });
}
