import { isUtf8 } from 'node:buffer';
import type { RequestLines } from '../trail/request-lines.js';
import { decodeJsonLines, type DecodeLinesOptions } from './json-lines.js';
import { attributes, once, string, uint32 } from './json-fast-values.js';
import { span } from './json-fast-span.js';
import { GIVE_UP, JsonScan, giveUp } from './json-scan.js';
import { AttrText } from './line-text.js';
import { LinesBuilder, scopeJson, type ResourceText, type ScopeText } from './lines-builder.js';

/**
 * OTLP/JSON bytes straight into the stored lines, without JSON.parse: one pass over the body,
 * string values copied as the bytes they are. It takes the common shape only (every value of the
 * type the field wants, no repeated field, no value that needs normalising) and hands anything
 * else, whole, to the reference decoder (`decodeJsonLines`), which also gives every refusal: the
 * lines stored are byte for byte the same (collect-lines-equivalence.test.ts). Its text is latin1
 * of UTF-8 throughout (json-scan.ts), so the builder writes it back as latin1.
 */

/** The request's lines from its body: the fast path, else the reference decoder. */
export function decodeJsonBody(body: Buffer, o: DecodeLinesOptions): RequestLines {
  return fastJsonLines(body, o) ?? decodeJsonLines(body.toString('utf8'), o);
}

/** The lines by the fast path, or undefined when the request is the reference decoder's. */
export function fastJsonLines(body: Buffer, o: DecodeLinesOptions): RequestLines | undefined {
  // Not UTF-8: the reference decoder's replacement characters are not the body's bytes.
  if (!isUtf8(body)) return undefined;
  try {
    return request(new JsonScan(body), o).finish(o.receivedAt(), o.writer);
  } catch (err) {
    // Anything else it throws (a cap, a bug) is also the reference decoder's to answer.
    if (err !== GIVE_UP && !(err instanceof Error)) throw err;
    return undefined;
  }
}

function request(s: JsonScan, o: DecodeLinesOptions): LinesBuilder {
  const out = new LinesBuilder(o.maxStoredBytes, 'latin1');
  const maxSpans = o.maxSpans ?? Infinity;
  let seen = 0;
  if (s.obj()) {
    do {
      if (s.key() !== 'resourceSpans') s.skip();
      else {
        seen = once(seen, 1);
        if (s.arr()) do resourceSpans(s, out, maxSpans);
        while (s.moreItems());
      }
    } while (s.more());
  }
  s.end();
  return out;
}

/** A ResourceSpans; its spans join the lines once it is read (its resource may come after them). */
function resourceSpans(s: JsonScan, out: LinesBuilder, maxSpans: number): void {
  const resource: ResourceText = { attributes: '{}', droppedAttributesCount: 0, schemaUrl: '' };
  const groups: [ScopeText, string[]][] = [];
  let seen = 0;
  if (s.obj()) {
    do {
      const k = s.key();
      if (k === 'resource') {
        seen = once(seen, 1);
        let rs = 0;
        if (s.obj()) {
          do {
            const rk = s.key();
            if (rk === 'attributes') {
              rs = once(rs, 1);
              resource.attributes = attributes(s, 1).json();
            } else if (rk === 'droppedAttributesCount') {
              rs = once(rs, 2);
              resource.droppedAttributesCount = uint32(s);
            } else s.skip();
          } while (s.more());
        }
      } else if (k === 'schemaUrl') {
        seen = once(seen, 2);
        resource.schemaUrl = string(s);
      } else if (k === 'scopeSpans') {
        seen = once(seen, 4);
        if (s.arr()) do groups.push(scopeSpans(s, resource));
        while (s.moreItems());
      } else s.skip();
    } while (s.more());
  }
  for (const [scope, spans] of groups) {
    if (out.spans + spans.length > maxSpans) giveUp();
    for (const rest of spans) out.span(scope, rest);
  }
}

function scopeSpans(s: JsonScan, resource: ResourceText): [ScopeText, string[]] {
  let name = '';
  let version = '';
  let attrs = new AttrText();
  let dropped = 0;
  let schemaUrl = '';
  const spans: string[] = [];
  let seen = 0;
  if (s.obj()) {
    do {
      const k = s.key();
      if (k === 'scope') {
        seen = once(seen, 1);
        let ss = 0;
        if (s.obj()) {
          do {
            const sk = s.key();
            if (sk === 'name') (ss = once(ss, 1)), (name = string(s));
            else if (sk === 'version') (ss = once(ss, 2)), (version = string(s));
            else if (sk === 'attributes') (ss = once(ss, 4)), (attrs = attributes(s, 1));
            else if (sk === 'droppedAttributesCount') (ss = once(ss, 8)), (dropped = uint32(s));
            else s.skip();
          } while (s.more());
        }
      } else if (k === 'schemaUrl') (seen = once(seen, 2)), (schemaUrl = string(s));
      else if (k === 'spans') {
        seen = once(seen, 4);
        if (s.arr()) do spans.push(span(s));
        while (s.moreItems());
      } else s.skip();
    } while (s.more());
  }
  return [{ resource, json: scopeJson(name, version, attrs, dropped, schemaUrl) }, spans];
}

