/**
 * `wanctl-steering replay`: streams JSON lines (the golden steering_daemon input format) through
 * the control law and writes one JSON line per input line as soon as it is computed, so it can
 * sit in a pipe (`simulator | wanctl-steering replay --input - | ...`). The plumbing (input,
 * output, line numbers) is @wanctl/runtime's runJsonLines, shared with autorate.
 */
import type { Readable } from 'node:stream';
import { runJsonLines } from '@wanctl/runtime';
import { ReplayInputError, type SteeringParams, SteeringReplay, toReplayInput } from './control/index.js';

export interface ReplayRunOptions {
  params: SteeringParams;
  /** A file path, or `-` for standard input. */
  input: string;
  /** A file path; default standard output. */
  output?: string | undefined;
  /** Virtual time of the first cycle and step per cycle (seconds). */
  t0?: number;
  dt?: number;
  stdin?: Readable;
  /** Synchronous writer for standard output (default: fd 1). */
  writeStdout?: (text: string) => void;
}

/** Resolves with the number of cycles replayed. Throws ReplayInputError (line number, field). */
export function runReplay(o: ReplayRunOptions): Promise<number> {
  const rp = new SteeringReplay(o.params, {
    ...(o.t0 !== undefined ? { t0: o.t0 } : {}),
    ...(o.dt !== undefined ? { dt: o.dt } : {}),
  });
  return runJsonLines({
    input: o.input,
    output: o.output,
    step: (raw, lineNo) => {
      const line = raw.trim();
      if (line === '') return null;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch (e) {
        throw new ReplayInputError(lineNo, `not valid JSON (${(e as Error).message})`);
      }
      return rp.step(toReplayInput(obj, lineNo));
    },
    ...(o.stdin ? { stdin: o.stdin } : {}),
    ...(o.writeStdout ? { writeStdout: o.writeStdout } : {}),
  });
}
