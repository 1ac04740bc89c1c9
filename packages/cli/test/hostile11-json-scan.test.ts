import { afterEach, describe, expect, it } from 'vitest';
import { decodeJsonBody, fastJsonLines } from '../src/collector/json-fast-lines.js';
import { decodeJsonRequest } from '../src/collector/otlp-json.js';
import { requestLines } from '../src/trail/request-lines.js';
import { cleanup, startCliCollector, stopCli, tempDir } from './helpers.js';

// The OTLP/JSON byte scanner against hostile bodies: exactly the reference's lines or refusal
// (decodeJsonRequest + requestLines on the body read as UTF-8), and a real collector that answers
// every one of them and keeps storing.

afterEach(cleanup);
const AT = '2025-03-04T05:06:07.890Z';
type Outcome = { lines: string[] } | { error: string };
const run = (f: () => { lines: { t: string; rest: Buffer }[] }): Outcome => {
  try {
    return { lines: f().lines.map((l) => `${l.t} ${l.rest.toString('latin1')}`) };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
};
let taken = 0;
function check(body: Buffer): void {
  const o = { maxSpans: 1000, maxStoredBytes: 1 << 26, receivedAt: () => AT, writer: undefined };
  const ref = run(() => requestLines(decodeJsonRequest(body.toString('utf8'), 1000), AT, undefined, 1 << 26));
  const fast = fastJsonLines(body, o);
  if (fast) taken++;
  if (fast) expect(run(() => fast), body.toString('latin1').slice(0, 200)).toEqual(ref);
  expect(run(() => decodeJsonBody(body, o))).toEqual(ref);
}

const ID = `"traceId":"${'1'.repeat(32)}","spanId":"${'2'.repeat(16)}"`;
const wrap = (spanInner: string, head = '') => `{${head}"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"scope":{"name":"s"},"spans":[{${spanInner}}]}]}]}`;
const withAttr = (key: string, value: string) => wrap(`${ID},"attributes":[{"key":${key},"value":${value}}]`);
const B = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

const hostile: Buffer[] = [
  // Invalid UTF-8 in a string value and in a key; overlong encodings of '/' and of NUL; raw surrogates (CESU-8).
  B(withAttr('"k"', '{"stringValue":"a'), [0xc0, 0xaf], '"}'),
  ...[[0xc0, 0x80], [0xed, 0xa0, 0x80]].map((bad) => {
    const [head, tail] = withAttr('"k@"', '{"stringValue":"a"}').split('@');
    return B(head!, bad, tail!);
  }),
  B(withAttr('"k"', '{"stringValue":"'), [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80], '"}'),
  B(withAttr('"k"', '{"stringValue":"'), [0xf4, 0x90, 0x80, 0x80], '"}'),
  B(withAttr('"k"', '{"stringValue":"'), [0xe2, 0x82], '"}'),
  // NUL bytes: raw in a key and a value (invalid JSON), escaped in a key and a value, and between tokens.
  B(withAttr('"k\u0000"', '{"stringValue":"a"}')),
  B(withAttr('"k"', '{"stringValue":"\u0000"}')),
  B(withAttr('"k\\u0000"', '{"stringValue":"\\u0000"}')),
  B(wrap(`${ID}`).replace('"spans":', '"spans":\u0000')),
  // Escaped surrogates: pairs, lone, reversed, in keys.
  B(withAttr('"\\ud83d\\ude00"', '{"stringValue":"\\ud83d\\ude00"}')),
  B(withAttr('"\\ud83d"', '{"stringValue":"a"}')),
  B(withAttr('"k"', '{"stringValue":"\\ude00\\ud83d"}')),
  B(withAttr('"k"', '{"stringValue":"\\uD83D\\uDE00"}')),
  // Duplicate and __proto__ keys at every level the decoders read.
  B(wrap(`${ID}`, '"resourceSpans":[],')),
  B(wrap(`${ID},"__proto__":{"name":"x"}`)),
  B(wrap(`"__proto__":{},${ID}`).replace('"resource":', '"__proto__":{"attributes":[{"key":"p","value":{"stringValue":"q"}}]},"resource":')),
  B(wrap(`${ID},"name":"a","name":"b"`)),
  B(withAttr('"__proto__"', '{"stringValue":"x"}')),
  B(withAttr('"constructor"', '{"kvlistValue":{"values":[{"key":"__proto__","value":{"intValue":"1"}},{"key":"__proto__","value":{"intValue":"2"}}]}}')),
  B(wrap(`${ID},"status":{"__proto__":{"code":2},"code":1}`)),
  // Numbers: 1e400, -0, 00, 9007199254740993 (as numbers and strings), in every numeric field.
  ...['1e400', '-0', '00', '9007199254740993', '-9007199254740993', '1E+2', '0.0', '-', '1.', '.5', '+1', '0x10', 'NaN', 'Infinity', '1e-400', '4294967296', '99999999999999999999999'].flatMap((n) => [
    B(wrap(`${ID},"kind":${n}`)),
    B(wrap(`${ID},"startTimeUnixNano":${n}`)),
    B(wrap(`${ID},"startTimeUnixNano":"${n}"`)),
    B(wrap(`${ID},"flags":${n},"droppedAttributesCount":${n}`)),
    B(wrap(`${ID},"status":{"code":${n}}`)),
    B(withAttr('"i"', `{"intValue":${n}}`)),
    B(withAttr('"i"', `{"intValue":"${n}"}`)),
    B(withAttr('"d"', `{"doubleValue":${n}}`)),
  ]),
  // BOM (first, inside, last) and trailing data.
  B([0xef, 0xbb, 0xbf], wrap(ID)),
  B(wrap(ID), [0xef, 0xbb, 0xbf]),
  B(wrap(ID), ' {}'),
  B(wrap(ID), '\u0000'),
  B(wrap(ID), ' \n\t\r '),
  B(wrap(ID), '\u00a0'),
  // Deep nesting: in an unknown member (past the skipper's depth), in attribute values (past the fast path's), in arrays.
  B(wrap(`${ID},"x":${'['.repeat(5000)}${']'.repeat(5000)}`)),
  B(wrap(`${ID},"x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`)),
  B(withAttr('"deep"', `${'{"arrayValue":{"values":['.repeat(40)}{"stringValue":"x"}${']}}'.repeat(40)}`)),
  B(withAttr('"deep"', `${'{"kvlistValue":{"values":[{"key":"k","value":'.repeat(70)}{"stringValue":"x"}${'}]}}'.repeat(70)}`)),
  // Huge strings: a value, a key, an unknown member, with escapes at the very end.
  B(withAttr('"k"', `{"stringValue":"${'x'.repeat(3 << 20)}\\n"}`)),
  B(withAttr(`"${'k'.repeat(1 << 20)}"`, '{"stringValue":"v"}')),
  B(wrap(`${ID},"x":"${'\\\\'.repeat(1 << 19)}"`)),
  // Unterminated string, a backslash as the last byte, an escape of a quote at the end.
  B(wrap(ID).slice(0, -10), '"abc'),
  B(withAttr('"k"', '{"stringValue":"a\\')),
  B(withAttr('"k"', '{"stringValue":"\\"}')),
];

describe('hostile OTLP/JSON bodies: the fast path stores what the reference stores or refuses alike', () => {
  it('every hostile body', () => {
    for (const body of hostile) check(body);
    // Not a comparison of two refusals only: the fast path stores many of these itself.
    expect(taken).toBeGreaterThan(20);
  });
});

describe('hostile OTLP/JSON bodies at a real collector', () => {
  it('answers every one, never crashes or hangs, and still stores a good request after', async () => {
    const c = await startCliCollector(await tempDir());
    try {
      for (const body of hostile) {
        const res = await fetch(c.tracesUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
        expect([200, 400, 413]).toContain(res.status);
        await res.arrayBuffer();
      }
      const good = await fetch(c.tracesUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: wrap(`${ID},"name":"after"`) });
      expect(good.status).toBe(200);
    } finally {
      expect((await stopCli(c)).code).toBe(0);
    }
  });
});
