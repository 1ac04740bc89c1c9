// Each record serialized once: the byte path (spanJsonBytes, traceRequestBytes) must give the
// bytes of the reference encoder (encodeTraceRequest), and the chain's one-pass canonical
// encoder (shape cache, escaped values left for the wire) the bytes of canonicalRecordJson.
import { SpanKind, SpanStatusCode, TraceFlags, type AttributeValue, type Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalRecordJson } from '../src/integrity/canonical.js';
import { spanCanonicalJson, spanToCanonical } from '../src/integrity/span-record.js';
import {
  encodeTraceRequest,
  encodeTraceRequestBytes,
  resourceJsonBytes,
  scopeJsonBytes,
  spanJsonBytes,
  traceRequestBytes,
} from '../src/export/wire/otlp-json.js';
import { AuditSpan } from '../src/tracing/audit-span.js';
import { RequestWriter, type BufferSource } from '../src/export/wire/otlp-json-batch.js';

const resource = resourceFromAttributes({ 'service.name': 'bytes-test', 'service.version': '1.2.3', 'host.tags': ['a', 'b'] });
const otherResource = resourceFromAttributes({ 'service.name': 'other \u2028 "quoted"' });
const scope = { name: 'tooltrail', version: '0.1.0' };
const bareScope = { name: 'plain' };
const sink = { onEnd: () => undefined };

interface SpanSpec {
  name: string;
  kind: SpanKind;
  attributes: Attributes;
  parent: boolean;
  status: { code: SpanStatusCode; message?: string };
  events: { name: string; attributes: Attributes }[];
  links: Attributes[];
  start: number;
  duration: number;
}

let counter = 0;
function makeSpan(spec: SpanSpec, res = resource, sc: { name: string; version?: string } = scope): AuditSpan {
  const n = ++counter;
  const hex = (len: number) => n.toString(16).padStart(len, '0');
  const span = new AuditSpan({
    name: spec.name,
    kind: spec.kind,
    context: { traceId: hex(32), spanId: hex(16), traceFlags: TraceFlags.SAMPLED },
    parent: spec.parent ? { traceId: hex(32), spanId: 'f'.repeat(16), traceFlags: TraceFlags.SAMPLED } : undefined,
    resource: res,
    scope: sc,
    sink,
    attributes: { ...spec.attributes },
    startTime: spec.start,
  });
  for (const e of spec.events) span.addEvent(e.name, e.attributes, spec.start + 1);
  for (const l of spec.links) span.addLink({ context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 }, attributes: l });
  span.setStatus(spec.status);
  span.end(spec.start + spec.duration);
  return span;
}

// Strings of every code unit, lone surrogates included, and the characters JSON escapes.
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u2028', '\ud800', '\udfff', 'é', '😀', 'a'), maxLength: 30 }),
  fc.constantFrom('', 'send_email', '{"to":"bob@example.com"}'),
  // Long values (over 256 characters) take the writer's own path: written from their own string.
  fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\ud800', '\udfff', 'é', '😀', 'a', 'b'), minLength: 120, maxLength: 700 }),
  fc.string({ unit: 'grapheme-ascii', minLength: 250, maxLength: 400 }),
);
const number = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 60, -(2 ** 62), 2 ** 64, 1e21, 1.5e-7, Number.MAX_VALUE),
);
const scalar = fc.oneof(text, number, fc.boolean());
const value: fc.Arbitrary<AttributeValue> = fc.oneof(
  { weight: 6, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(fc.oneof(scalar, fc.constant(null), fc.constant(undefined)), { maxLength: 5 }) as fc.Arbitrary<AttributeValue> },
);
const attributes = fc.dictionary(fc.oneof(text, fc.constantFrom('tooltrail.hash', 'tooltrail.mac', 'gen_ai.tool.name', '1', '42')), value, { maxKeys: 12 });
const spanSpec: fc.Arbitrary<SpanSpec> = fc.record({
  name: text,
  kind: fc.constantFrom(SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER),
  attributes,
  parent: fc.boolean(),
  status: fc.oneof(
    fc.record({ code: fc.constantFrom(SpanStatusCode.UNSET, SpanStatusCode.OK, SpanStatusCode.ERROR) }),
    fc.record({ code: fc.constant(SpanStatusCode.ERROR), message: text }),
  ),
  events: fc.array(fc.record({ name: text, attributes }), { maxLength: 2 }),
  links: fc.array(attributes, { maxLength: 2 }),
  start: fc.integer({ min: 0, max: 2_000_000_000_000 }),
  duration: fc.integer({ min: 0, max: 100_000 }),
});

const reference = (spans: readonly AuditSpan[]) => Buffer.from(encodeTraceRequest(spans), 'utf8');

describe('records in bytes: spanJsonBytes + traceRequestBytes = encodeTraceRequest', () => {
  it('gives the reference bytes for varied spans (unicode, lone surrogates, numbers, arrays, events, links, status)', () => {
    fc.assert(
      fc.property(fc.array(spanSpec, { minLength: 1, maxLength: 4 }), fc.boolean(), (specs, chained) => {
        const spans = specs.map((s) => makeSpan(s));
        // With the chain's escaped values on the record, and without.
        if (chained) for (const s of spans) spanCanonicalJson(s);
        const expected = reference(spans);
        const got = traceRequestBytes(spans.map(spanJsonBytes), resourceJsonBytes(resource), scopeJsonBytes(scope));
        expect(got.equals(expected)).toBe(true);
        expect(encodeTraceRequestBytes(spans).equals(expected)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('groups by resource and scope as the reference does', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(spanSpec, fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 6 }), (items) => {
        const spans = items.map(([s, g]) => makeSpan(s, g & 1 ? otherResource : resource, g & 2 ? bareScope : scope));
        expect(encodeTraceRequestBytes(spans).equals(reference(spans))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('RequestWriter (records written straight into the batch buffer) gives the reference bytes: one group, mixed groups, a buffer that must grow', () => {
    // An 8-byte first buffer: every batch has to grow it at least once.
    class Tiny implements BufferSource {
      take(): Buffer {
        return Buffer.allocUnsafeSlow(8);
      }
      give(): void {}
      sealed(): void {}
    }
    fc.assert(
      fc.property(fc.array(fc.tuple(spanSpec, fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 6 }), fc.boolean(), fc.boolean(), (items, mixed, chained) => {
        const spans = items.map(([s, g]) => (mixed ? makeSpan(s, g & 1 ? otherResource : resource, g & 2 ? bareScope : scope) : makeSpan(s)));
        const w = new RequestWriter(new Tiny());
        for (const s of spans) {
          if (chained) spanCanonicalJson(s);
          w.push(s);
        }
        expect(w.length).toBe(spans.length);
        expect(w.finish().equals(reference(spans))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('handles huge strings, and a value changed after the chain escaped it', () => {
    const big = 'x"\u00e9\ud83d'.repeat(300_000);
    const span = makeSpan({
      name: 'execute_tool big', kind: SpanKind.INTERNAL, parent: true, status: { code: SpanStatusCode.OK },
      attributes: { 'gen_ai.tool.call.arguments': big, 'n': 1, 'd': 0.25 }, events: [], links: [], start: 1_795_280_400_000, duration: 12,
    });
    spanCanonicalJson(span);
    // A stage that rewrites a value after hashing must not get the stale escape.
    span.attributes['gen_ai.tool.call.arguments'] = 'replaced';
    span.attributes['tooltrail.hash'] = 'f'.repeat(64);
    expect(encodeTraceRequestBytes([span]).equals(reference([span]))).toBe(true);
    expect(spanJsonBytes(span).toString()).toContain('"replaced"');
  });

  it('caches a span\'s bytes: the same Buffer every time', () => {
    const span = makeSpan({ name: 'n', kind: SpanKind.INTERNAL, parent: false, status: { code: SpanStatusCode.UNSET }, attributes: { a: 'b' }, events: [], links: [], start: 5, duration: 1 });
    expect(spanJsonBytes(span)).toBe(spanJsonBytes(span));
  });

  it('reuses the chain\'s escaped string values (the encoder does not escape them again)', () => {
    const span = makeSpan({ name: 'n', kind: SpanKind.INTERNAL, parent: false, status: { code: SpanStatusCode.UNSET }, attributes: { a: 'needs "escaping"' }, events: [], links: [], start: 5, duration: 1 });
    spanCanonicalJson(span);
    const realStringify = JSON.stringify;
    const escaped: unknown[] = [];
    JSON.stringify = ((v: unknown, ...rest: []) => {
      escaped.push(v);
      return realStringify(v, ...rest);
    }) as typeof JSON.stringify;
    try {
      spanJsonBytes(span);
    } finally {
      JSON.stringify = realStringify;
    }
    expect(escaped).not.toContain('needs "escaping"');
  });
});

describe('the chain\'s one-pass canonical encoding = canonicalRecordJson(spanToCanonical(span))', () => {
  it('agrees over varied spans, across repeated and new attribute shapes', () => {
    fc.assert(
      fc.property(spanSpec, fc.array(value, { minLength: 1, maxLength: 3 }), (spec, more) => {
        const span = makeSpan(spec);
        expect(spanCanonicalJson(span)).toBe(canonicalRecordJson(spanToCanonical(span)));
        // Same names, other values: the cached shape must not carry old values.
        const keys = Object.keys(spec.attributes);
        for (const v of more) {
          const again = makeSpan({ ...spec, attributes: Object.fromEntries(keys.map((k) => [k, v])) });
          expect(spanCanonicalJson(again)).toBe(canonicalRecordJson(spanToCanonical(again)));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('agrees over a long run of records of one shape whose values repeat, change and go missing at random (the cached runs of pairs never go stale)', () => {
    // Deterministic: a seeded generator, so a failure names its record.
    let seed = 20261201;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const keys = Array.from({ length: 14 }, (_, i) => `k.${String.fromCharCode(97 + ((i * 7) % 26))}${i}`);
    const pool: AttributeValue[] = ['a', 'b', 'same', '"q"', 'é😀', 1, 2, 0.5, true, false, ['x', 'y'], [1, 2]];
    const current: Record<string, AttributeValue | undefined | null> = Object.fromEntries(keys.map((k, i) => [k, pool[i % pool.length]]));
    let mismatches = 0;
    for (let n = 0; n < 20_000; n++) {
      for (const k of keys) {
        const r = rand();
        if (r < 0.12) current[k] = pool[Math.floor(rand() * pool.length)];
        else if (r < 0.15) current[k] = undefined;
        else if (r < 0.17) current[k] = null;
      }
      const attributes = Object.fromEntries(Object.entries(current).filter(([, v]) => v !== undefined)) as Attributes;
      const span = makeSpan({ name: 'execute_tool t', kind: SpanKind.INTERNAL, parent: true, status: { code: SpanStatusCode.OK }, attributes, events: [], links: [], start: 1_795_280_400_000 + n, duration: 3 });
      if (spanCanonicalJson(span) !== canonicalRecordJson(spanToCanonical(span))) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});
