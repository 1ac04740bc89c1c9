import type { AttributeValue, Attributes, HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { hrTimeToNanos } from '../tracing/clock.js';
import { escapedValues, needsEscape, quoteJson } from '../payload/safe-json.js';
import { RECORD_VERSION, type CanonicalRecord, type CanonicalValue } from './canonical.js';
import { MEMO_VALUE_LENGTH, shapeOfAttributes, type RecordShape } from './record-shapes.js';

/**
 * A span as its hash sees it: the same values the OTLP/JSON encoder sends (integers as numbers,
 * null array items dropped), so a verifier reading the collector's copy gets the same bytes.
 */
function attributeValue(v: AttributeValue): CanonicalValue {
  if (Array.isArray(v)) {
    const out: CanonicalValue[] = [];
    for (const item of v) if (item !== null && item !== undefined) out.push(item as CanonicalValue);
    return out;
  }
  return v as CanonicalValue;
}

export function canonicalAttributes(attrs: Attributes): Record<string, CanonicalValue> {
  // No prototype: an attribute named "__proto__" is hashed like any other (as the verifier and
  // the one-pass encoder do), not swallowed by the assignment below.
  const out = Object.create(null) as Record<string, CanonicalValue>;
  for (const key in attrs) {
    const v = attrs[key];
    if (v !== undefined && v !== null) out[key] = attributeValue(v);
  }
  return out;
}

export function spanToCanonical(span: ReadableSpan): CanonicalRecord {
  const ctx = span.spanContext();
  return {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? '',
    name: span.name,
    kind: span.kind + 1,
    startTimeUnixNano: hrTimeToNanos(span.startTime),
    endTimeUnixNano: hrTimeToNanos(span.endTime),
    statusCode: span.status.code,
    statusMessage: span.status.message ?? '',
    attributes: canonicalAttributes(span.attributes),
    events: span.events.map((e) => ({
      name: e.name,
      timeUnixNano: hrTimeToNanos(e.time),
      attributes: e.attributes ? canonicalAttributes(e.attributes) : {},
    })),
  };
}

/** `["tooltrail-record-v1",` : every canonical record starts with it. */
const HEAD = `[${JSON.stringify(RECORD_VERSION)},`;
/** The same with the trace id's opening quote. */
const HEAD_QUOTE = `${HEAD}"`;

/** An element of the canonical array as JSON.stringify writes it (undefined as null). */
function el(v: unknown): string {
  return JSON.stringify(v) ?? 'null';
}

/** A small integer (kind, status code) as JSON writes it; anything else through JSON.stringify. */
function int(v: number): string | number {
  return Number.isInteger(v) ? v : el(v);
}

/** An attribute value's canonical JSON (what `sortedPairs` + JSON.stringify give for it), strings aside. */
function valueJson(v: AttributeValue): string {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? String(v) : `"${String(v)}"`;
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return Array.isArray(v) ? arrayJson(v) : el(v);
  }
}

/** An array value's canonical JSON, written directly (no normalised copy to stringify): null items dropped. */
function arrayJson(v: readonly unknown[]): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const item = v[i];
    if (item === null || item === undefined) continue;
    const json =
      typeof item === 'string' ? quoteJson(item) : typeof item === 'number' || typeof item === 'boolean' ? valueJson(item) : el(normalise(item as CanonicalValue));
    out = out === '' ? json : out + ',' + json;
  }
  return '[' + out + ']';
}

/** hrTimeToNanos inside quotes, without the destructuring (the chain's hot path). */
function quotedNanos(t: HrTime): string {
  const sec = t[0];
  return sec === 0 ? `"${t[1]}"` : `"${sec}${String(t[1]).padStart(9, '0')}"`;
}

/**
 * The head's parts that repeat from record to record, each kept as one flat piece with the text
 * around it: the trace id (a run's records share it), the name and kind, the status.
 */
let lastTrace = '';
let lastTraceText = `${HEAD_QUOTE}","`;
let lastName = '';
let lastKind = -1;
let lastNameText = '",,';
let lastCode = -1;
let lastMessage = '';
let lastStatusText = '';

/** The record's attribute values in its names' order, filled per record (record-shapes.ts). */
const values: unknown[] = [];

/**
 * The canonical encoding of a span in one pass, without building the intermediate record: the
 * chain's hot path. Produces exactly canonicalRecordJson(spanToCanonical(span)) (asserted in the
 * tests). Attribute names are sorted once per shape (record-shapes.ts), each value escaped once,
 * and the escaped string values are left in the shared memo for the OTLP/JSON encoder
 * (payload/safe-json.ts), which encodes the record next. The pieces go into one reused array,
 * joined once: a rope of them would allocate a node per piece and be copied flat for the hash.
 */
export function spanCanonicalJson(span: ReadableSpan): string {
  const shape = shapeOfAttributes(span.attributes, values);
  const { order, prefixes, joiners, lastValues, lastJson, lastPairs, runs } = shape;
  const memo = escapedValues.pairs;
  const out = parts;
  let n = head(span, out);
  // Each pair's close goes out with the next pair's opening (`],["name",`).
  let empty = true;
  // The repeated pairs written one by one since position `runStart` (piece `runFrom`): kept as
  // a run when two or more sit side by side, for the next record.
  let runStart = -1;
  let runFrom = 0;
  for (let j = 0; j < order.length; j++) {
    // A run's text opens with a joiner: only after a pair.
    const run = runs[j];
    if (run !== undefined && !empty) {
      const end = run.end;
      const runValues = run.values;
      let k = j;
      for (; k < end; k++) {
        const i = order[k] as number;
        const v = values[i];
        if (v !== runValues[k - j]) break;
        if (typeof v === 'string') {
          memo[2 * i] = v;
          memo[2 * i + 1] = run.json[k - j];
        }
      }
      if (k === end) {
        // Not merged into an open run: a run's JSON texts are taken from pairs written one by one.
        if (runStart >= 0) runStart = closeRun(shape, runStart, j, runFrom, n);
        out[n++] = run.text;
        j = end - 1;
        continue;
      }
      // A value in it changed: the run is dropped, its pairs go one by one (and may form a shorter run).
      runs[j] = undefined;
    }
    const i = order[j] as number;
    const v = values[i] as AttributeValue | null | undefined;
    if (v === undefined || v === null) {
      if (runStart >= 0) runStart = closeRun(shape, runStart, j, runFrom, n);
      continue;
    }
    let json: string;
    if (v === lastValues[j]) {
      json = lastJson[j] as string;
      if (empty) {
        out[n++] = ',[';
        out[n++] = prefixes[j] as string;
        out[n++] = json;
      } else {
        // The flat pair is made the first time a value repeats (values that change on every
        // record, a call id, a seq, never pay for it).
        let pair = lastPairs[j] as string;
        if (pair === '') pair = lastPairs[j] = [joiners[j], json].join('');
        if (runStart < 0) {
          runStart = j;
          runFrom = n;
        }
        out[n++] = pair;
      }
    } else {
      if (runStart >= 0) runStart = closeRun(shape, runStart, j, runFrom, n);
      json = typeof v === 'string' ? JSON.stringify(v) : valueJson(v);
      if (typeof v !== 'object' && (typeof v !== 'string' || v.length <= MEMO_VALUE_LENGTH)) {
        lastValues[j] = v;
        lastJson[j] = json;
        lastPairs[j] = '';
      }
      out[n++] = empty ? ',[' + (prefixes[j] as string) : (joiners[j] as string);
      out[n++] = json;
    }
    empty = false;
    if (typeof v === 'string') {
      memo[2 * i] = v;
      memo[2 * i + 1] = json;
    }
  }
  if (runStart >= 0) closeRun(shape, runStart, order.length, runFrom, n);
  out[n++] = empty ? ',[],' : ']],';
  out[n++] =
    span.events.length === 0
      ? '[]]'
      : JSON.stringify(
          span.events.map((e) => {
            const a = e.attributes ? canonicalAttributes(e.attributes) : {};
            return [e.name, hrTimeToNanos(e.time), Object.keys(a).sort().map((k) => [k, normalise(a[k] as CanonicalValue)])];
          }),
        ) + ']';
  out.length = n;
  return out.join('');
}

/**
 * Keeps the pairs written as pieces `from` to `to` (positions `start` to `end`) as one run of the
 * shape, when there are two or more; returns -1 (no run open).
 */
function closeRun(shape: RecordShape, start: number, end: number, from: number, to: number): number {
  if (to - from > 1) {
    const runValues: unknown[] = [];
    const json: string[] = [];
    for (let k = start; k < end; k++) {
      runValues.push(values[shape.order[k] as number]);
      json.push(shape.lastJson[k] as string);
    }
    shape.runs[start] = { end, text: parts.slice(from, to).join(''), values: runValues, json };
  }
  return -1;
}

/** The record's text, piece by piece (shrunk to each record's count, never emptied: no regrowth). */
const parts: string[] = [];

/**
 * The record's head, up to the status message, into `out`; returns the pieces written. Ids are
 * hex: written between quotes as they are, after one check, instead of through JSON.stringify.
 */
function head(span: ReadableSpan, out: string[]): number {
  const ctx = span.spanContext();
  const status = span.status;
  const traceId = ctx.traceId;
  const spanId = ctx.spanId;
  const parent = span.parentSpanContext?.spanId ?? '';
  const name = span.name;
  const kind = span.kind;
  if (name !== lastName || kind !== lastKind) {
    lastNameText = ['",', quoteJson(name), ',', int(kind + 1), ','].join('');
    lastName = name;
    lastKind = kind;
  }
  const code = status.code;
  const message = status.message ?? '';
  if (code !== lastCode || message !== lastMessage || lastStatusText === '') {
    lastStatusText = [',', int(code), ',', message === '' ? '""' : quoteJson(message)].join('');
    lastCode = code;
    lastMessage = message;
  }
  let n = 0;
  if (typeof traceId === 'string' && typeof spanId === 'string' && typeof parent === 'string' && !needsEscape(spanId) && !needsEscape(parent) && (traceId === lastTrace || !needsEscape(traceId))) {
    if (traceId !== lastTrace) {
      lastTraceText = [HEAD_QUOTE, traceId, '","'].join('');
      lastTrace = traceId;
    }
    out[n++] = lastTraceText;
    out[n++] = spanId;
    out[n++] = '","';
    out[n++] = parent;
    out[n++] = lastNameText;
  } else {
    out[n++] = HEAD;
    out[n++] = el(traceId);
    out[n++] = ',';
    out[n++] = el(spanId);
    out[n++] = ',';
    out[n++] = el(parent);
    out[n++] = lastNameText.slice(1);
  }
  out[n++] = quotedNanos(span.startTime);
  out[n++] = ',';
  out[n++] = quotedNanos(span.endTime);
  out[n++] = lastStatusText;
  return n;
}

function normalise(v: CanonicalValue): CanonicalValue {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (Array.isArray(v)) return v.map(normalise);
  return v;
}
