import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../src/lines.js';

function split(chunks: string[], max?: number): { lines: string[]; dropped: number } {
  const lines: string[] = [];
  let dropped = 0;
  const s = new LineSplitter(
    (l) => lines.push(l),
    max,
    () => dropped++,
  );
  for (const c of chunks) s.push(c);
  s.end();
  expect(s.droppedLines).toBe(dropped);
  return { lines, dropped };
}

const FPING = [
  '127.0.0.1 : [0], 64 bytes, 0.051 ms (0.051 avg, 0% loss)',
  '::1       : [0], 64 bytes, 0.321 ms (0.321 avg, 0% loss)',
  '[1795747335.40513] 127.0.0.1 : [1], 64 bytes, 0.072 ms (0.072 avg, 0% loss)',
];

describe('LineSplitter', () => {
  it('one line per chunk, several per chunk, and lines split across chunks at every position', () => {
    const text = `${FPING.join('\n')}\n`;
    expect(split([text]).lines).toEqual(FPING);
    expect(split(FPING.map((l) => `${l}\n`)).lines).toEqual(FPING);
    for (let cut = 0; cut <= text.length; cut++) {
      expect(split([text.slice(0, cut), text.slice(cut)]).lines, `cut at ${cut}`).toEqual(FPING);
    }
    // one character at a time
    expect(split([...text]).lines).toEqual(FPING);
  });

  it('strips \\r before \\n (also when the \\r ends one chunk), keeps empty lines, delivers a last line without newline at end', () => {
    expect(split(['a\r', '\nb\r\n', '\n', 'c']).lines).toEqual(['a', 'b', '', 'c']);
    expect(split(['x\r\n\r\n']).lines).toEqual(['x', '']);
    expect(split(['']).lines).toEqual([]);
  });

  it('drops an over-long line whole and carries on with the next one', () => {
    const long = 'z'.repeat(50);
    // inside one chunk
    expect(split([`ok1\n${long}\nok2\n`], 20)).toEqual({ lines: ['ok1', 'ok2'], dropped: 1 });
    // growing over several chunks without a newline, then the rest of it and a good line
    expect(split(['ok1\nzzzzzzzzzz', 'zzzzzzzzzz', 'zzzzzzzzzz', 'zz\nok2\n'], 20)).toEqual({
      lines: ['ok1', 'ok2'],
      dropped: 1,
    });
    // partial under the limit, completed over it
    expect(split(['zzzzzzzzzzzzzzz', 'zzzzzzzzzz\nok\n'], 20)).toEqual({ lines: ['ok'], dropped: 1 });
    // a line of exactly the limit is kept
    expect(split([`${'y'.repeat(20)}\n`], 20).lines).toEqual(['y'.repeat(20)]);
  });
});
