import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { decodeJsonRequest } from '../src/collector/otlp-json.js';
import { decodeProtobufRequest } from '../src/collector/otlp-protobuf.js';
import { OtlpDecodeError } from '../src/collector/span-shape.js';
import { formatRecord, type TrailSpan } from '../src/trail/record.js';
import { sampleAttributes, sdkSpans } from './helpers.js';
import { hex, keyValue, pb } from './proto-encode.js';

const TRACE = '5b8efff798038103d269b633813fc60c';
const SPAN = 'eee19b7ec3c1b174';

function jsonSpan(extra: Record<string, unknown>): string {
  return JSON.stringify({
    resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: TRACE, spanId: SPAN, name: 's', ...extra }] }] }],
  });
}

function jsonAttr(value: Record<string, unknown>): unknown {
  return decodeJsonRequest(jsonSpan({ attributes: [{ key: 'k', value }] }))[0]!.attributes.k;
}

function decodeError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OtlpDecodeError);
    return (err as Error).message;
  }
  throw new Error('expected an OtlpDecodeError');
}

describe('the stock OTel serializers, decoded', () => {
  const spans = sdkSpans();
  const fromJson = decodeJsonRequest(Buffer.from(JsonTraceSerializer.serializeRequest(spans)!).toString('utf8'));
  const fromProto = decodeProtobufRequest(ProtobufTraceSerializer.serializeRequest(spans)!);

  it('JSON and protobuf give identical records, byte for byte', () => {
    expect(fromProto).toHaveLength(2);
    expect(fromProto).toEqual(fromJson);
    const lines = (list: TrailSpan[]) => list.map((s) => formatRecord('t', s)).join('');
    expect(lines(fromProto)).toBe(lines(fromJson));
  });

  it('keeps every attribute type exactly', () => {
    const child = fromProto.find((s) => s.name === 'child')!;
    const parent = fromProto.find((s) => s.name === 'parent')!;
    const sdkChild = spans.find((s) => s.name === 'child')!;
    expect(child.attributes).toStrictEqual(sampleAttributes);
    expect(child.kind).toBe(3); // CLIENT
    expect(parent.kind).toBe(2); // SERVER
    expect(child.traceId).toBe(sdkChild.spanContext().traceId);
    expect(child.spanId).toBe(sdkChild.spanContext().spanId);
    expect(child.parentSpanId).toBe(parent.spanId);
    expect(parent.parentSpanId).toBeUndefined();
    expect(child.status).toEqual({ code: 2, message: 'it failed' });
    expect(parent.status).toEqual({ code: 1 });
    expect(child.events).toEqual([{ timeUnixNano: expect.stringMatching(/^\d{19}$/), name: 'something', attributes: { 'event.n': 1 } }]);
    expect(child.links).toEqual([{ traceId: parent.traceId, spanId: parent.spanId, attributes: { 'link.attr': 'x' }, flags: 0x101 }]);
    const [sec, ns] = sdkChild.startTime;
    expect(child.startTimeUnixNano).toBe((BigInt(sec) * 1_000_000_000n + BigInt(ns)).toString());
    expect(child.scope).toEqual({ name: 'sample-scope', version: '2.0.0' });
    expect(child.resource).toMatchObject({ 'service.name': 'sample-service', 'deployment.environment.name': 'test' });
    expect(child.flags).toBe(sdkChild.spanContext().traceFlags | 0x100); // sampled, plus "has is_remote" bit
  });
});

describe('OTLP/JSON', () => {
  it('reads int64 from strings and numbers, and keeps big ones as decimal strings', () => {
    expect(jsonAttr({ intValue: '12' })).toBe(12);
    expect(jsonAttr({ intValue: -5 })).toBe(-5);
    expect(jsonAttr({ intValue: '9223372036854775807' })).toBe('9223372036854775807');
    expect(jsonAttr({ intValue: '-9223372036854775808' })).toBe('-9223372036854775808');
    expect(decodeError(() => jsonAttr({ intValue: '9223372036854775808' }))).toMatch(/out of range for int64/);
    expect(decodeError(() => jsonAttr({ intValue: 1.5 }))).toMatch(/intValue must be an integer/);
  });

  it('converts doubles, bytes, arrays, kvlists and empty values', () => {
    expect(jsonAttr({ doubleValue: 0.1 })).toBe(0.1);
    expect(jsonAttr({ doubleValue: 'NaN' })).toBe('NaN');
    expect(jsonAttr({ doubleValue: '-Infinity' })).toBe('-Infinity');
    expect(jsonAttr({ doubleValue: '2.5' })).toBe(2.5);
    expect(jsonAttr({ bytesValue: 'AQID' })).toBe('AQID');
    expect(jsonAttr({ bytesValue: '-_8' })).toBe('+/8='); // URL-safe alphabet normalised
    expect(jsonAttr({ arrayValue: { values: [{ stringValue: 'a' }, { intValue: 1 }, {}] } })).toEqual(['a', 1, null]);
    expect(jsonAttr({ arrayValue: {} })).toEqual([]);
    expect(jsonAttr({ kvlistValue: { values: [{ key: 'x', value: { boolValue: true } }, { key: 'y', value: { kvlistValue: { values: [] } } }] } })).toEqual({ x: true, y: {} });
    expect(jsonAttr({})).toBeNull();
    expect(jsonAttr({ stringValue: null, boolValue: false })).toBe(false);
  });

  it('normalises ids to lowercase, accepts enum names, ignores unknown fields and nulls', () => {
    const [s] = decodeJsonRequest(
      jsonSpan({ traceId: TRACE.toUpperCase(), kind: 'SPAN_KIND_PRODUCER', status: { code: 'STATUS_CODE_OK', message: null }, parentSpanId: '', unknownField: { a: 1 }, events: null }),
    );
    expect(s).toMatchObject({ traceId: TRACE, kind: 4, status: { code: 1 }, events: [] });
    expect(s!.parentSpanId).toBeUndefined();
  });

  it('fills defaults for an all-but-empty span and orders the fields of a line', () => {
    const [s] = decodeJsonRequest(jsonSpan({}));
    expect(formatRecord('2025-01-01T00:00:00.000Z', s!)).toBe(
      `{"receivedAt":"2025-01-01T00:00:00.000Z","resource":{},"scope":{"name":""},"traceId":"${TRACE}","spanId":"${SPAN}","name":"s","kind":0,"startTimeUnixNano":"0","endTimeUnixNano":"0","attributes":{},"events":[],"links":[],"status":{"code":0}}\n`,
    );
  });

  it('stores a __proto__ attribute as data', () => {
    const [s] = decodeJsonRequest(jsonSpan({ attributes: [{ key: '__proto__', value: { stringValue: 'p' } }] }));
    expect(JSON.parse(formatRecord('t', s!)).attributes).toEqual(JSON.parse('{"__proto__":"p"}'));
    expect(Object.getPrototypeOf(s!.attributes)).toBe(Object.prototype);
  });

  it('accepts an empty request', () => {
    expect(decodeJsonRequest('{}')).toEqual([]);
    expect(decodeJsonRequest('{"resourceSpans":[]}')).toEqual([]);
  });

  it('refuses malformed requests with a message that says where', () => {
    expect(decodeError(() => decodeJsonRequest('{"resourceSpans":'))).toMatch(/not valid JSON/);
    expect(decodeError(() => decodeJsonRequest('[]'))).toMatch(/the request must be an object/);
    expect(decodeError(() => decodeJsonRequest('{"resourceSpans":{}}'))).toMatch(/resourceSpans must be an array/);
    expect(decodeError(() => decodeJsonRequest(jsonSpan({ traceId: 'abc' })))).toMatch(/resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId must be 32 hex digits/);
    expect(decodeError(() => decodeJsonRequest(jsonSpan({ spanId: undefined })))).toMatch(/spanId must be 16 hex digits/);
    expect(decodeError(() => decodeJsonRequest(jsonSpan({ kind: 9 })))).toMatch(/span kind 9/);
    expect(decodeError(() => decodeJsonRequest(jsonSpan({ status: { code: 3 } })))).toMatch(/status code 3/);
    expect(decodeError(() => decodeJsonRequest(jsonSpan({ startTimeUnixNano: '-1' })))).toMatch(/out of range for uint64/);
    expect(decodeError(() => decodeJsonRequest(jsonSpan({ name: 5 })))).toMatch(/name must be a string/);
    expect(decodeError(() => jsonAttr({ stringValue: 1 }))).toMatch(/stringValue must be a string/);
    let deep: Record<string, unknown> = { stringValue: 'x' };
    for (let i = 0; i < 100; i++) deep = { arrayValue: { values: [deep] } };
    expect(decodeError(() => jsonAttr(deep))).toMatch(/nested deeper than 64/);
  });
});

describe('OTLP protobuf', () => {
  const span = (...fields: number[][]) =>
    Uint8Array.from(pb.message(1, pb.message(2, pb.message(2, pb.bytes(1, hex(TRACE)), pb.bytes(2, hex(SPAN)), pb.string(5, 's'), ...fields))));
  const attr = (...anyValue: number[][]) => decodeProtobufRequest(span(keyValue(9, 'k', ...anyValue)))[0]!.attributes.k;

  it('decodes int64 edge values, doubles, bytes and nested values', () => {
    expect(attr(pb.varint(3, -1n))).toBe(-1);
    expect(attr(pb.varint(3, -(2n ** 63n)))).toBe('-9223372036854775808');
    expect(attr(pb.varint(3, 2n ** 63n - 1n))).toBe('9223372036854775807');
    expect(attr(pb.varint(3, 2n ** 53n))).toBe('9007199254740992');
    expect(attr(pb.double(4, NaN))).toBe('NaN');
    expect(attr(pb.double(4, Infinity))).toBe('Infinity');
    expect(attr(pb.double(4, 1e300))).toBe(1e300);
    expect(attr(pb.bytes(7, [0, 255, 1]))).toBe('AP8B');
    expect(attr(pb.varint(2, 1))).toBe(true);
    expect(attr()).toBeNull();
    expect(attr(pb.message(5, pb.message(1, pb.string(1, 'a')), pb.message(1, pb.message(6, keyValue(1, 'x', pb.varint(3, 5))))))).toEqual(['a', { x: 5 }]);
    // A oneof set twice: the last one wins, as protobuf says.
    expect(attr(pb.string(1, 'first'), pb.varint(3, 2))).toBe(2);
  });

  it('takes fields in any order and skips unknown ones of every wire type', () => {
    const body = Uint8Array.from([
      ...pb.varint(99, 1),
      ...pb.message(
        1,
        pb.fixed32(50, 7),
        pb.message(
          2,
          pb.message(2, pb.string(5, 'late'), pb.fixed64(51, 1n), pb.bytes(2, hex(SPAN)), pb.bytes(1, hex(TRACE)), pb.varint(6, 1), pb.message(15, pb.varint(1, 2), pb.varint(3, 2))),
          pb.bytes(9, [1, 2]),
        ),
        pb.message(1, keyValue(1, 'service.name', pb.string(1, 'svc')), pb.varint(2, 3)),
        pb.string(3, 'https://opentelemetry.io/schemas/1.30.0'),
      ),
    ]);
    expect(decodeProtobufRequest(body)).toEqual([
      {
        resource: { 'service.name': 'svc' },
        resourceDroppedAttributesCount: 3,
        resourceSchemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
        scope: { name: '' },
        traceId: TRACE,
        spanId: SPAN,
        name: 'late',
        kind: 1,
        startTimeUnixNano: '0',
        endTimeUnixNano: '0',
        attributes: {},
        events: [],
        links: [],
        status: { code: 2 },
      },
    ]);
  });

  it('keeps times above 2^53 exactly', () => {
    const [s] = decodeProtobufRequest(span(pb.fixed64(7, 1_700_000_000_123_456_789n), pb.fixed64(8, 2n ** 64n - 1n)));
    expect(s!.startTimeUnixNano).toBe('1700000000123456789');
    expect(s!.endTimeUnixNano).toBe('18446744073709551615');
  });

  it('refuses malformed messages', () => {
    const good = span();
    expect(decodeError(() => decodeProtobufRequest(good.subarray(0, good.length - 3)))).toMatch(/truncated/);
    expect(decodeError(() => decodeProtobufRequest(Uint8Array.from([0x0b])))).toMatch(/wire type 3/);
    expect(decodeError(() => decodeProtobufRequest(Uint8Array.from([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])))).toMatch(/varint longer/);
    expect(decodeError(() => decodeProtobufRequest(Uint8Array.from(pb.varint(1, 5))))).toMatch(/resource_spans has wire type 0/);
    expect(decodeError(() => decodeProtobufRequest(Uint8Array.from(pb.message(1, pb.message(2, pb.message(2, pb.bytes(1, [1, 2, 3])))))))).toMatch(/trace_id must be 16 bytes, got 3/);
    expect(decodeError(() => decodeProtobufRequest(span(pb.bytes(5, [0xc3, 0x28]))))).toMatch(/not valid UTF-8/);
    expect(decodeError(() => decodeProtobufRequest(Uint8Array.from(pb.message(1, pb.message(2, pb.message(2, pb.string(5, 'no ids')))))))).toMatch(/no valid trace id/);
    expect(decodeError(() => decodeProtobufRequest(Buffer.from('{"resourceSpans":[]}')))).toMatch(/protobuf/);
  });

  it('accepts an empty request', () => {
    expect(decodeProtobufRequest(new Uint8Array(0))).toEqual([]);
  });
});
