/**
 * Reading a child's stdout pipe on demand instead of per event (internal).
 *
 * A stream read through the event loop wakes the process once per chunk the child writes, and
 * fping writes (and flushes) one line per reply: 3 reflectors at 20 Hz are 60 wake-ups a second
 * beside the cycle's own 20. Since fping measures each RTT itself (the number is in the line),
 * nothing is lost by reading the pipe only when a cycle asks: the lines wait in the kernel's
 * pipe buffer (64 KiB, over ten seconds of replies at 60 lines a second) and one non-blocking
 * `read(2)` per call takes all of them.
 *
 * Node has no public API for that on a child's pipe, so this uses the pipe handle's file
 * descriptor (`socket._handle.fd`) and stops libuv from polling it (`readStop()`). Both have
 * existed since Node 0.x on Unix; if they are missing (another platform or runtime),
 * {@link detachPipe} returns null and the caller keeps reading through events.
 */
import { readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

interface PipeHandle {
  fd?: number;
  reading?: boolean;
  readStop?: () => number;
}

/** A pipe read on demand. */
export interface DetachedPipe {
  readonly fd: number;
  /**
   * Reads everything the pipe holds now, without waiting. Returns the text (possibly empty),
   * or null at end of file (the writer closed it: the child exited).
   */
  drain(): string | null;
}

const CHUNK = 16 * 1024;

/**
 * Takes a freshly spawned child's stdout off the event loop. Must be called in the same tick as
 * `spawn()` (before the loop polls the pipe once). Returns null if the stream's handle does not
 * expose what this needs; the stream is then left untouched.
 */
export function detachPipe(stream: Readable): DetachedPipe | null {
  const handle = (stream as unknown as { _handle?: PipeHandle })._handle;
  if (!handle || typeof handle.readStop !== 'function' || typeof handle.fd !== 'number' || handle.fd < 0)
    return null;
  const fd = handle.fd;
  handle.readStop();
  // net.Socket restarts reading from its _read() only when `reading` is false: leave it true so
  // the stream machinery never polls the pipe again.
  handle.reading = true;
  const buf = Buffer.allocUnsafe(CHUNK);
  const decoder = new StringDecoder('utf8');
  return {
    fd,
    drain(): string | null {
      let text = '';
      for (;;) {
        let n: number;
        try {
          n = readSync(fd, buf, 0, CHUNK, null);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return text;
          if (code === 'EINTR') continue;
          if (code === 'EBADF') return text === '' ? null : text; // closed under us: as EOF
          throw e;
        }
        if (n === 0) return text === '' ? null : text;
        text += decoder.write(buf.subarray(0, n));
        if (n < CHUNK) return text;
      }
    },
  };
}
