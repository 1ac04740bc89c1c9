import { describe, expect, it } from 'vitest';
import { SseSplitter } from '../src/transport/sse-splitter.js';

/** The SSE splitter gives the same events however the stream is cut into chunks. */

const EVENTS = ['event: message\ndata: {"a":1}', 'id: 7\ndata: x\ndata: y', ': a comment', 'data: ' + 'z'.repeat(5000)];

function splitAll(chunks: string[]): string[] {
  const s = new SseSplitter();
  const out = chunks.flatMap((c) => s.push(c));
  return [...out, ...s.end()];
}

// A deterministic generator: the same cuts on every run.
function cuts(text: string, seed: number): string[] {
  let x = seed;
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (x % 40);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

describe('SseSplitter', () => {
  for (const [name, eol] of [['LF', '\n'], ['CRLF', '\r\n'], ['CR', '\r']] as const) {
    it(`${name}: whole, one character at a time, and at 200 sets of random cuts, the same events`, () => {
      const text = EVENTS.map((e) => e.replace(/\n/g, eol)).join(eol + eol) + eol + eol;
      expect(splitAll([text])).toEqual(EVENTS);
      expect(splitAll([...text])).toEqual(EVENTS);
      for (let seed = 1; seed <= 200; seed++) expect(splitAll(cuts(text, seed))).toEqual(EVENTS);
    });
  }

  it('a last event without its blank line is given by end(); an empty stream gives nothing', () => {
    expect(splitAll(['data: 1\n\ndata: 2'])).toEqual(['data: 1', 'data: 2']);
    expect(splitAll(['data: 1\r\n\r\ndata: 2\r'])).toEqual(['data: 1', 'data: 2']);
    expect(splitAll(['data: 1\n', '\n', 'data: 2\n'])).toEqual(['data: 1', 'data: 2']);
    expect(splitAll(['', '\n'])).toEqual([]);
  });

  it('splits a 16 MiB event in 64 KiB chunks whole', () => {
    const big = 'data: ' + 'x'.repeat(16 * 1024 * 1024);
    const text = `${big}\n\ndata: after\n\n`;
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += 65536) chunks.push(text.slice(i, i + 65536));
    const got = splitAll(chunks);
    expect(got.map((e) => e.length)).toEqual([big.length, 'data: after'.length]);
  });
});
