import type { AttributeValue, Attributes } from '@opentelemetry/api';
import { escapedValue } from '../../payload/safe-json.js';
import { TextPieces } from './text-pieces.js';

/** OTLP/JSON KeyValue arrays, byte for byte what otlp-json.ts's encodeAttributes gives to JSON.stringify. */

function anyValue(v: AttributeValue): string | undefined {
  switch (typeof v) {
    case 'string':
      return `{"stringValue":${JSON.stringify(v)}}`;
    case 'boolean':
      return v ? '{"boolValue":true}' : '{"boolValue":false}';
    case 'number':
      // The same rules as otlp-json.ts's anyValue: int64 where it fits, non-finite as strings.
      if (Number.isSafeInteger(v)) return `{"intValue":"${String(v)}"}`;
      if (Number.isInteger(v) && Math.abs(v) < 2 ** 63) return `{"intValue":"${BigInt(v).toString()}"}`;
      return Number.isFinite(v) ? `{"doubleValue":${String(v)}}` : `{"doubleValue":"${String(v)}"}`;
    default: {
      if (!Array.isArray(v)) return undefined;
      let out = '';
      for (const item of v as unknown[]) {
        if (item === null || item === undefined) continue;
        const encoded = anyValue(item as AttributeValue);
        if (encoded !== undefined) out += out === '' ? encoded : `,${encoded}`;
      }
      return `{"arrayValue":{"values":[${out}]}}`;
    }
  }
}

// Per attribute name, the text before its value: `{"key":"name","value":`, and the same with
// `{"stringValue":` after it (most values are strings), each also with the comma before it.
// Names repeat on every record of a shape: made once. And the last short value seen under the
// name with its whole `,{"key":..,"value":..}` text as one flat string: most values repeat from
// record to record (the principal, the tool, the outcome), so they are one piece.
interface KeyTexts {
  readonly first: string;
  readonly next: string;
  readonly firstString: string;
  readonly nextString: string;
  lastValue: string | number | boolean | undefined;
  /** The value's JSON text and what closes it (`}` or `}}`). */
  lastJson: string;
  lastClose: string;
  /** The whole pair for the last value, flat; '' until the value repeats. */
  lastNext: string;
}
const keyTexts = new Map<string, KeyTexts>();
function textsOf(key: string): KeyTexts {
  let t = keyTexts.get(key);
  if (t === undefined) {
    const first = `{"key":${JSON.stringify(key)},"value":`;
    t = { first, next: `,${first}`, firstString: `${first}{"stringValue":`, nextString: `,${first}{"stringValue":`, lastValue: undefined, lastJson: '', lastClose: '', lastNext: '' };
    if (keyTexts.size >= 4096) keyTexts.clear();
    keyTexts.set(key, t);
  }
  return t;
}

/** Short values are remembered per name (never a long argument or result). */
const MEMO_VALUE_LENGTH = 128;

/**
 * Escaped values longer than this are pieces of their own (TextPieces.long): written into the
 * batch Buffer from the string the chain escaped, never copied into the record's text.
 */
const LONG_PIECE = 256;

/**
 * The attributes as an OTLP KeyValue array, added to `out`; `reuse`: string values the chain
 * escaped for this record are taken from its memo (payload/safe-json.ts).
 */
export function attributesInto(attrs: Attributes, reuse: boolean, out: TextPieces): void {
  out.add('[');
  let first = true;
  let i = 0;
  for (const key in attrs) {
    const v = attrs[key];
    if (v !== undefined) {
      const t = textsOf(key);
      if (v === t.lastValue && !first) {
        // Joined flat the first time the value repeats (a value new on every record never is).
        if (t.lastNext === '') t.lastNext = [typeof v === 'string' ? t.nextString : t.next, t.lastJson, t.lastClose].join('');
        out.add(t.lastNext);
      } else if (typeof v === 'string') {
        const json = (reuse ? escapedValue(i, v) : undefined) ?? JSON.stringify(v);
        out.add(first ? t.firstString : t.nextString);
        if (json.length > LONG_PIECE) out.long(json);
        else out.add(json);
        out.add('}}');
        if (!first && v.length <= MEMO_VALUE_LENGTH) remember(t, v, json, '}}');
        first = false;
      } else {
        const value = anyValue(v);
        if (value !== undefined) {
          out.add(first ? t.first : t.next);
          out.add(value);
          out.add('}');
          if (!first && typeof v !== 'object') remember(t, v, value, '}');
          first = false;
        }
      }
    }
    i++;
  }
  out.add(']');
}

function remember(t: KeyTexts, value: string | number | boolean, json: string, close: string): void {
  t.lastValue = value;
  t.lastJson = json;
  t.lastClose = close;
  t.lastNext = '';
}

/** The attributes as an OTLP KeyValue array (a resource's: made once). */
export function attributesJson(attrs: Attributes): string {
  const out = new TextPieces();
  attributesInto(attrs, false, out);
  return out.text();
}
