/**
 * A small line splitter for a child's stdout, used instead of node:readline on the fping hot
 * path: readline's Interface does far more per chunk (a regex split, history and terminal
 * handling, an event per line through its emitter) than a stream of short reply lines needs.
 *
 * Feed it decoded text chunks (`stream.setEncoding('utf8')`); it calls `onLine` once per
 * complete line, without the `\n` and without a `\r` before it. A line longer than
 * `maxLineLength` is dropped whole so a runaway child cannot grow
 * memory without bound (counted in `droppedLines`, reported through `onDropped`).
 */
export class LineSplitter {
  /** Lines dropped because they exceeded `maxLineLength`. */
  droppedLines = 0;
  private partial = '';
  private discarding = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineLength = 4096,
    private readonly onDropped?: () => void,
  ) {}

  /** Feed one chunk of text. */
  push(chunk: string): void {
    let start = 0;
    let nl = chunk.indexOf('\n');
    while (nl !== -1) {
      if (this.discarding) {
        this.discarding = false;
      } else if (this.partial === '') {
        this.emit(chunk, start, nl);
      } else {
        const line = this.partial + chunk.slice(start, nl);
        this.partial = '';
        this.emit(line, 0, line.length);
      }
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    if (start < chunk.length && !this.discarding) {
      this.partial = start === 0 ? this.partial + chunk : this.partial + chunk.slice(start);
      if (this.partial.length > this.maxLineLength) {
        this.partial = '';
        this.discarding = true;
        this.dropped();
      }
    }
  }

  /** End of stream: a last line without a newline is delivered. */
  end(): void {
    const rest = this.partial;
    this.partial = '';
    this.discarding = false;
    if (rest !== '') this.emit(rest, 0, rest.length);
  }

  private dropped(): void {
    this.droppedLines++;
    this.onDropped?.();
  }

  private emit(text: string, from: number, to: number): void {
    let end = to;
    if (end > from && text.charCodeAt(end - 1) === 13 /* \r */) end--;
    if (end - from > this.maxLineLength) {
      this.dropped();
      return;
    }
    this.onLine(from === 0 && end === text.length ? text : text.slice(from, end));
  }
}
