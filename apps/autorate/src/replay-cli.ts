/**
 * `wanctl-autorate replay`: runs the control law on recorded per-cycle inputs, one JSON line in,
 * one JSON line out, written (and flushed) as soon as its input line has been read, so a link
 * simulator can drive it in closed loop through a pipe (the plumbing: @wanctl/runtime's
 * runJsonLines).
 */
import type { Readable } from 'node:stream';
import { runJsonLines } from '@wanctl/runtime';
import {
  type ControlLawName,
  type ControlParams,
  ReplaySession,
  type WritePolicyParams,
} from './control/index.js';

export interface ReplayRunOptions {
  params: ControlParams;
  /** `continuous_monitoring.control_law` (default v1.3). */
  law?: ControlLawName | undefined;
  /** The adaptive law's write policy (config `write_policy`, see writePolicyFromConfig); default 2/s, burst 4, 1 %. */
  writePolicy?: Partial<WritePolicyParams> | undefined;
  /** Config `cut_below_floor` (adaptive law; default true). */
  cutBelowFloor?: boolean | undefined;
  /** A file path, or `-` for standard input. */
  input: string;
  /** A file path; default standard output. */
  output?: string | undefined;
  stdin?: Readable;
  /** Synchronous writer for standard output (default: fd 1). */
  writeStdout?: (text: string) => void;
}

/**
 * Streams the replay. Resolves with the number of output lines. Throws ReplayInputError on a
 * malformed line (the lines before it have been written).
 */
export function runReplay(o: ReplayRunOptions): Promise<number> {
  const session = new ReplaySession(o.params, {
    law: o.law,
    writePolicy: o.writePolicy,
    cutBelowFloor: o.cutBelowFloor,
  });
  return runJsonLines({
    input: o.input,
    output: o.output,
    step: (line) => session.step(line),
    ...(o.stdin ? { stdin: o.stdin } : {}),
    ...(o.writeStdout ? { writeStdout: o.writeStdout } : {}),
  });
}
