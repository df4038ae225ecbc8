/**
 * `--record <file>`: the daemon writes each cycle's inputs in the replay input format, so that
 * `wanctl-autorate replay` reproduces the run bit for bit. One JSON object per line:
 * `t` (monotonic seconds, as the control law saw it), `rtt_ms` or `rtts_ms`, `gateway_ok` and
 * `tcp_rtts_ms` when the fallback checks were consulted, `router_ok` when the cycle issued a
 * write (its outcome, applied before the next cycle as in replay). A write still unanswered at
 * the next cycle is marked `"late_write": true` (replay then assumes success at once, so those
 * lines are where a replay may part from the run). Lines are buffered and written in batches.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { CycleInput } from '../control/index.js';

export class Recorder {
  private fd: number | null;
  private buf: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  lines = 0;
  errors = 0;

  /** Opens (appends to) `path`. Throws if it cannot be opened. */
  constructor(
    readonly path: string,
    private readonly flushEvery = 20,
  ) {
    this.fd = openSync(path, 'a', 0o644);
    this.timer = setInterval(() => this.flush(), 1000);
    this.timer.unref();
  }

  /** The replay input object of one cycle (copied: the input object is reused). */
  inputLine(input: CycleInput, t: number): Record<string, unknown> {
    const o: Record<string, unknown> = { t };
    if (input.rtts_ms !== undefined && input.rtts_ms !== null) o['rtts_ms'] = Array.from(input.rtts_ms);
    else o['rtt_ms'] = input.rtt_ms ?? null;
    if (input.gateway_ok !== undefined) o['gateway_ok'] = input.gateway_ok;
    if (input.tcp_rtts_ms !== undefined && input.tcp_rtts_ms !== null)
      o['tcp_rtts_ms'] = Array.from(input.tcp_rtts_ms);
    return o;
  }

  write(line: Record<string, unknown>): void {
    if (this.fd === null) return;
    this.buf.push(JSON.stringify(line));
    this.lines++;
    if (this.buf.length >= this.flushEvery) this.flush();
  }

  flush(): void {
    if (this.fd === null || this.buf.length === 0) return;
    const text = `${this.buf.join('\n')}\n`;
    this.buf = [];
    try {
      writeSync(this.fd, text);
    } catch {
      this.errors++;
    }
  }

  close(): void {
    this.flush();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
