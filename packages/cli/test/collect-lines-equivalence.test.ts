import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeJsonBody, fastJsonLines } from '../src/collector/json-fast-lines.js';
import { decodeJsonLines } from '../src/collector/json-lines.js';
import { decodeJsonRequest } from '../src/collector/otlp-json.js';
import { decodeProtobufRequest } from '../src/collector/otlp-protobuf.js';
import { requestLines } from '../src/trail/request-lines.js';
import { hex, pb } from './proto-encode.js';

// The stored lines are a contract (the chain hashes their raw bytes): the OTLP/JSON decoder that
// builds them straight from the request must give exactly what the first path (decode to span
// objects, then `requestLines`) gives, or refuse exactly as it does; and the protobuf path (span
// objects, then `requestLines`) must give the same lines as OTLP/JSON for the same request.

type Outcome = { lines: string[]; bytes: number; spans: number } | { error: string };
const AT = '2025-03-04T05:06:07.890Z';

function run(f: () => { lines: { t: string; rest: Buffer }[]; bytes: number; spans: number }): Outcome {
  try {
    const r = f();
    return { lines: r.lines.map((l) => `${l.t} ${l.rest.toString('latin1')}`), bytes: r.bytes, spans: r.spans };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

/** The lines of a protobuf body, the way the collector stores them. */
const protobufLines = (body: Uint8Array, maxSpans = Infinity, maxBytes = Infinity, writer?: string) =>
  run(() => requestLines(decodeProtobufRequest(body, maxSpans), AT, writer, maxBytes));

/** How many bodies the OTLP/JSON fast path (json-fast-lines.ts) stored itself, and how many it handed on. */
const fastPath = { taken: 0, handedOn: 0 };

function same(format: 'json' | 'protobuf', body: string | Uint8Array, maxSpans = Infinity, maxBytes = Infinity, writer?: string): Outcome {
  if (format === 'json' && typeof body !== 'string') {
    // Raw bytes (not UTF-8, say): the server reads them as UTF-8 for the reference decoder.
    const bytes = Buffer.from(body);
    return sameBytes(bytes, bytes.toString('utf8'), maxSpans, maxBytes, writer);
  }
  if (format === 'protobuf') {
    // One decoder: what it must do is refuse with a decode error or give lines, never crash.
    const r = protobufLines(body as Uint8Array, maxSpans, maxBytes, writer);
    if ('error' in r) expect(r.error).toMatch(/^(OtlpDecodeError|TooManySpansError|StoredBytesError): /);
    return r;
  }
  return sameBytes(Buffer.from(body as string, 'utf8'), body as string, maxSpans, maxBytes, writer);
}

/**
 * The JSON paths on one body: the first decoder, the straight decoder, and the byte-level fast
 * path, which either stores exactly the same lines or hands the request on (then the straight
 * decoder's lines or refusal are the answer, checked here too through `decodeJsonBody`).
 */
function sameBytes(bytes: Buffer, text: string, maxSpans: number, maxBytes: number, writer: string | undefined): Outcome {
  const o = { maxSpans, maxStoredBytes: maxBytes, receivedAt: () => AT, writer };
  const old = run(() => requestLines(decodeJsonRequest(text, maxSpans), AT, writer, maxBytes));
  const now = run(() => decodeJsonLines(text, o));
  expect(now).toEqual(old);
  const fast = fastJsonLines(bytes, o);
  if (fast) {
    fastPath.taken++;
    expect(run(() => fast)).toEqual(old);
  } else fastPath.handedOn++;
  expect(run(() => decodeJsonBody(bytes, o))).toEqual(old);
  return now;
}

type J = Record<string, unknown>;
const sv = (key: string, v: unknown): J => ({ key, value: { stringValue: v } });
const span = (i: number, extra: J = {}): J => ({
  traceId: (i + 1).toString(16).padStart(32, '0'),
  spanId: (i + 1).toString(16).padStart(16, '0'),
  name: 'execute_tool send_email',
  kind: 1,
  startTimeUnixNano: '1741064767889000000',
  endTimeUnixNano: '1741064767890000000',
  attributes: [sv('gen_ai.tool.name', 'send_email'), { key: 'tooltrail.attempts', value: { intValue: '1' } }],
  status: { code: 1 },
  ...extra,
});
const request = (spans: J[], resource: J = { attributes: [sv('service.name', 'agent')] }, scope: unknown = { name: '@tooltrail/core', version: '0.1.0' }): J => ({
  resourceSpans: [{ resource, scopeSpans: [{ scope, spans }] }],
});
const attrs = (...values: J[]) => request([span(0, { attributes: values })]);

/** OTLP protobuf of a (well-typed) OTLP/JSON request, for the same cases in both encodings. */
function toProto(req: J): Uint8Array {
  const anyValue = (v: J): number[] => {
    if (v.stringValue !== undefined) return pb.string(1, v.stringValue as string);
    if (v.boolValue !== undefined) return pb.varint(2, v.boolValue ? 1 : 0);
    if (v.intValue !== undefined) return pb.varint(3, BigInt(v.intValue as string));
    if (v.doubleValue !== undefined) return pb.double(4, v.doubleValue as number);
    if (v.arrayValue) return pb.message(5, ...((v.arrayValue as J).values as J[]).map((x) => pb.message(1, ...[anyValue(x)])));
    if (v.kvlistValue) return pb.message(6, ...((v.kvlistValue as J).values as J[]).map((kv) => pb.message(1, keyValue(kv))));
    if (v.bytesValue !== undefined) return pb.bytes(7, [...Buffer.from(v.bytesValue as string, 'base64')]);
    return [];
  };
  const keyValue = (kv: J): number[] => [...pb.string(1, kv.key as string), ...(kv.value ? pb.message(2, anyValue(kv.value as J)) : [])];
  const kvs = (field: number, list: unknown): number[] => ((list as J[] | undefined) ?? []).flatMap((kv) => pb.message(field, keyValue(kv)));
  const u64 = (field: number, v: unknown) => (v === undefined ? [] : pb.fixed64(field, BigInt(v as string)));
  const str = (field: number, v: unknown) => (v ? pb.string(field, v as string) : []);
  const num = (field: number, v: unknown) => (v ? pb.varint(field, v as number) : []);
  const spanBytes = (s: J) => [
    ...pb.bytes(1, hex(s.traceId as string)), ...pb.bytes(2, hex(s.spanId as string)), ...str(3, s.traceState),
    ...(s.parentSpanId ? pb.bytes(4, hex(s.parentSpanId as string)) : []), ...str(5, s.name), ...num(6, s.kind),
    ...u64(7, s.startTimeUnixNano), ...u64(8, s.endTimeUnixNano), ...kvs(9, s.attributes), ...num(10, s.droppedAttributesCount),
    ...((s.events as J[] | undefined) ?? []).flatMap((e) => pb.message(11, u64(1, e.timeUnixNano), str(2, e.name), kvs(3, e.attributes), num(4, e.droppedAttributesCount))),
    ...num(12, s.droppedEventsCount),
    ...((s.links as J[] | undefined) ?? []).flatMap((l) => pb.message(13, pb.bytes(1, hex(l.traceId as string)), pb.bytes(2, hex(l.spanId as string)), str(3, l.traceState), kvs(4, l.attributes), num(5, l.droppedAttributesCount), l.flags ? pb.fixed32(6, l.flags as number) : [])),
    ...num(14, s.droppedLinksCount),
    ...(s.status ? pb.message(15, str(2, (s.status as J).message), num(3, (s.status as J).code)) : []),
    ...(s.flags ? pb.fixed32(16, s.flags as number) : []),
  ];
  const bytes = ((req.resourceSpans as J[]) ?? []).flatMap((rs) => {
    const res = rs.resource as J | undefined;
    const scopeSpans = ((rs.scopeSpans as J[]) ?? []).flatMap((ss) => {
      const sc = ss.scope as J | undefined;
      const scope = sc ? pb.message(1, str(1, sc.name), str(2, sc.version), kvs(3, sc.attributes), num(4, sc.droppedAttributesCount)) : [];
      return pb.message(2, scope, ...((ss.spans as J[]) ?? []).map((s) => pb.message(2, spanBytes(s))), str(3, ss.schemaUrl));
    });
    return pb.message(1, res ? pb.message(1, kvs(1, res.attributes), num(2, res.droppedAttributesCount)) : [], scopeSpans, str(3, rs.schemaUrl));
  });
  return Uint8Array.from(bytes);
}

/** Both encodings of one request: the JSON paths agree, and protobuf stores the same lines (or refuses too). */
// OTLP/JSON writes a non-finite double as a string ("Infinity", "-Infinity", "NaN", the proto3 JSON
// mapping); JSON.stringify would write null, which is another request than the protobuf one.
const otlpJson = (req: J) => JSON.stringify(req, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));

const both = (req: J, maxSpans?: number, maxBytes?: number, writer?: string) => {
  const json = same('json', otlpJson(req), maxSpans, maxBytes, writer);
  const protobuf = same('protobuf', toProto(req), maxSpans, maxBytes, writer);
  if ('lines' in json) expect(protobuf).toEqual(json);
  else expect(protobuf).toHaveProperty('error');
  return protobuf;
};

describe('the stored lines straight from OTLP/JSON are the lines of the first decoder, and protobuf stores the same', () => {
  it('realistic spans, events, links, several resources and scopes, a writer', () => {
    const ev = { timeUnixNano: '1741064767889500000', name: 'tooltrail.approval', attributes: [sv('by', 'user:alice')], droppedAttributesCount: 2 };
    const ln = { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), traceState: 'k=v', attributes: [sv('a', 'b')], droppedAttributesCount: 1, flags: 257 };
    const full = span(1, { parentSpanId: 'a1b2c3d4e5f60718', traceState: 'x=1', flags: 257, droppedAttributesCount: 3, events: [ev, ev], droppedEventsCount: 4, links: [ln], droppedLinksCount: 5, status: { code: 2, message: 'boom' } });
    const r = both({
      resourceSpans: [
        { resource: { attributes: [sv('service.name', 'a')], droppedAttributesCount: 7 }, schemaUrl: 'https://x/1', scopeSpans: [{ scope: { name: 's', attributes: [sv('k', 'v')], droppedAttributesCount: 1 }, schemaUrl: 'https://s', spans: [span(0), full] }, { scope: { name: 's' }, spans: [] }] },
        { resource: { attributes: [sv('service.name', 'a')], droppedAttributesCount: 7 }, schemaUrl: 'https://x/1', scopeSpans: [{ scope: { name: 's' }, spans: [span(2)] }, { scope: { name: 's', attributes: [sv('k', 'v')], droppedAttributesCount: 1 }, schemaUrl: 'https://s', spans: [span(3)] }] },
        { resource: { attributes: [sv('service.name', 'b')] }, scopeSpans: [{ spans: [span(4)] }] },
        { scopeSpans: [{ scope: { name: '' }, spans: [span(5, { kind: undefined, status: undefined, attributes: undefined, name: undefined })] }] },
      ],
    }, Infinity, Infinity, 'support-agent');
    expect(r).toMatchObject({ spans: 6 });
    const taken = fastPath.taken;
    same('json', JSON.stringify({ resourceSpans: [{ resource: { attributes: [sv('service.name', 'a')] }, scopeSpans: [{ scope: { name: 's' }, spans: [span(0), full] }] }] }), Infinity, Infinity, 'agent ü');
    expect(fastPath.taken).toBe(taken + 1);
    expect('lines' in r && r.lines.length).toBe(9);
  });

  it('unicode, escapes, huge attributes, integer-like, __proto__ and repeated keys', () => {
    both(attrs(sv('emoji', '🔑 ключ 鍵'), sv('ctl', '\u0000\u001f\n\t"\\/\u2028'), sv('big', 'x'.repeat(1 << 20)), sv('🔑', 'k')));
    both(attrs(sv('b', '1'), sv('4294967294', '2'), sv('4294967295', '3'), sv('01', '4'), sv('1', '5'), sv('0', '6'), sv('b', '7'), sv('__proto__', '8'), sv('__proto__', '9')));
    both(attrs(...Array.from({ length: 40 }, (_, i) => sv(`k${i % 25}`, String(i))), { key: 'nested', value: { kvlistValue: { values: [sv('7', 'a'), sv('x', 'b'), sv('7', 'c')] } } }));
    same('json', '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"' + '0'.repeat(31) + '1","spanId":"' + 'A'.repeat(16) + '","name":"\\ud800 lone \\udfff","attributes":[{"key":"k","key":"dup","value":{"stringValue":"\\u0041"}}]}]}]}]}');
    same('json', Buffer.from([...Buffer.from('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"' + '1'.repeat(32) + '","spanId":"' + '1'.repeat(16) + '","name":"'), 0xff, 0xc3, ...Buffer.from('"}]}]}]}')]).toString('utf8'));
    same('protobuf', Uint8Array.from([...pb.message(1, pb.message(2, pb.message(2, pb.bytes(1, hex('1'.repeat(32))), pb.bytes(2, hex('1'.repeat(16))), pb.bytes(5, [0xed, 0xa0, 0x80]))))]));
  });

  it('int64, uint64 and double edge values', () => {
    for (const v of ['0', '-0', '007', '9007199254740991', '9007199254740992', '-9007199254740993', '9223372036854775807', '-9223372036854775808', '123456789012345', '-123456789012345', '1234567890123456']) {
      both(attrs({ key: 'i', value: { intValue: v } }));
    }
    for (const v of [0, -0, 1.5, 2 ** 53, -(2 ** 53), 1e20, 5e18, '9223372036854775808', '-9223372036854775809', '1e3', ' 1', true]) same('json', JSON.stringify(attrs({ key: 'i', value: { intValue: v } })));
    for (const v of [0, -0, 0.1, 1e21, -1e-7, 5e-324, Number.MAX_VALUE, 'NaN', 'Infinity', '-Infinity', '1.5', ' ', '1e400', 'x', null]) same('json', JSON.stringify(attrs({ key: 'd', value: { doubleValue: v } })));
    for (const v of [NaN, Infinity, -Infinity, -0, 1e-300]) same('protobuf', toProto(attrs({ key: 'd', value: { doubleValue: v } })));
    // The counterexample CI found (seed -1953473600): a non-finite double, in both encodings.
    for (const v of [NaN, Infinity, -Infinity]) {
      both(attrs({ key: 'd', value: { doubleValue: v } }));
      both(request([span(0)], { attributes: [{ key: 'a', value: { doubleValue: v } }] }));
    }
    for (const t of ['0', '-0', '000123', '18446744073709551615', '18446744073709551616', '-1', '9007199254740993', '4503599627370496000', '99999999999999999999']) {
      same('json', JSON.stringify(request([span(0, { startTimeUnixNano: t, events: [{ timeUnixNano: t }] })])));
    }
    for (const t of [0, -0, -5, 1.7e18, 2 ** 64, 1.5, '', null]) same('json', JSON.stringify(request([span(0, { endTimeUnixNano: t })])));
    for (const t of [0n, 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 1741064767889123456n, 2n ** 63n, 2n ** 64n - 1n, 10n ** 19n, 2n ** 63n + 12345n]) {
      same('protobuf', toProto(request([span(0, { startTimeUnixNano: String(t) })])));
    }
    for (const v of [0n, 1n, 127n, 128n, 2n ** 49n - 1n, 2n ** 49n, 2n ** 53n, -1n, -(2n ** 63n), 2n ** 63n - 1n]) {
      same('protobuf', Uint8Array.from(pb.message(1, pb.message(2, pb.message(2, pb.bytes(1, hex('1'.repeat(32))), pb.bytes(2, hex('1'.repeat(16))), pb.message(9, pb.string(1, 'i'), pb.message(2, pb.varint(3, v), pb.varint(2, v))))))));
    }
  });

  it('wrong types, missing fields, deep nesting and enum names are refused or read alike', () => {
    const hostile: unknown[] = [null, 1, 'x', true, [], {}, [1], { a: 1 }, -1, 2 ** 32, 1.5, '1', 'SPAN_KIND_SERVER', 'STATUS_CODE_ERROR', '__proto__'];
    const fields = ['traceId', 'spanId', 'parentSpanId', 'traceState', 'flags', 'name', 'kind', 'startTimeUnixNano', 'attributes', 'droppedAttributesCount', 'events', 'droppedEventsCount', 'links', 'status'];
    for (const f of fields) for (const v of hostile) same('json', JSON.stringify(request([span(0, { [f]: v })])));
    for (const v of hostile) {
      same('json', JSON.stringify(request([span(0)], v as J)));
      same('json', JSON.stringify(request([span(0)], undefined, v)));
      same('json', JSON.stringify({ resourceSpans: [{ scopeSpans: v }] }));
      same('json', JSON.stringify(request([span(0, { status: { code: v, message: v } })])));
      same('json', JSON.stringify(attrs({ key: v, value: { stringValue: 'x' } }, { key: 'k', value: v })));
      for (const member of ['stringValue', 'boolValue', 'arrayValue', 'kvlistValue', 'bytesValue']) same('json', JSON.stringify(attrs({ key: 'k', value: { [member]: v } })));
      same('json', JSON.stringify(request([span(0, { events: [{ name: v }], links: [{ traceId: v, spanId: v }] })])));
    }
    for (const text of ['', '[]', 'null', '{"resourceSpans":{}}', '{"resourceSpans":[null]}', '{"resourceSpans":[{"scopeSpans":[{"spans":[null]}]}]}', '{', '{"a":1}']) same('json', text);
    for (const depth of [62, 63, 64, 65, 300]) {
      let v: J = { stringValue: 'leaf' };
      for (let i = 0; i < depth; i++) v = i % 2 ? { arrayValue: { values: [v] } } : { kvlistValue: { values: [{ key: 'k', value: v }] } };
      // The encodings count the nesting limit one level apart (an AnyValue in protobuf, its
      // members in JSON), so each is checked on its own here.
      same('json', JSON.stringify(attrs({ key: 'deep', value: v })));
      same('protobuf', toProto(attrs({ key: 'deep', value: v })));
    }
    same('json', `{"resourceSpans":${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
  });

  it('bodies the OTLP/JSON fast path must store alike or hand on: escapes, layout, repeats, unknown fields, numbers', () => {
    const base = JSON.stringify(request([span(0, { events: [{ timeUnixNano: '5', name: 'e', attributes: [sv('k', 'v')] }], links: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8) }] })]));
    const strings = ['plain', 'q\\"uote', 'back\\\\slash', 'tab\\t nl\\n cr\\r \\b \\f', 'sl\\/ash', '\\u0041\\u00e9\\u20ac', '\\ud83d\\ude00', '\\ud800 lone', 'lone \\udfff', '\\u0000\\u001f\\u007f', 'raw\ttab', 'ü € 😀', '\\x', '\\u12', '\u2028'];
    for (const v of strings) {
      for (const field of ['"name":"execute_tool send_email"', '"key":"gen_ai.tool.name"', '"stringValue":"send_email"', '"name":"@tooltrail/core"', '"key":"service.name"', '"name":"e"']) {
        const [name] = field.split(':');
        same('json', base.replace(field, `${name}:"${v}"`));
      }
      same('json', base.replace('"spanId":"', `"spa\\u006eId":"`));
      same('json', base.replace('{"traceId"', `{"x-unknown":"${v}","traceId"`));
    }
    // Layout, duplicate members, unknown members at every level, literals and numbers.
    same('json', JSON.stringify(JSON.parse(base), null, 2));
    same('json', ` \r\n\t${base}\n `);
    for (const bad of ['\ufeff', 'x', '{}', ',']) same('json', `${base}${bad}`), same('json', `${bad}${base}`);
    for (const [from, to] of [
      ['"name":"execute_tool send_email"', '"name":"a","name":"b"'],
      ['"kind":1', '"kind":1,"kind":2'],
      ['"key":"gen_ai.tool.name"', '"key":"a","key":"b"'],
      ['"stringValue":"send_email"', '"stringValue":"a","boolValue":true'],
      ['"stringValue":"send_email"', '"stringValue":"a","stringValue":"b"'],
      ['"status":{"code":1}', '"status":{"code":1,"code":2}'],
      ['"resourceSpans":[', '"other":[{"a":[1,-2.5e-3,true,false,null,{"b":"\\u0041"}]}],"resourceSpans":['],
      ['"spans":[', '"x":{"y":[[[]]]},"spans":['],
      ['"resource":{', '"resource":{"entityRefs":[{"type":"t"}],'],
      ['"kind":1', '"kind":"SPAN_KIND_SERVER"'], ['"kind":1', '"kind":1.0'], ['"kind":1', '"kind":6'], ['"kind":1', '"kind":-0'], ['"kind":1', '"kind":"1"'], ['"kind":1', '"kind":null'],
      ['"code":1', '"code":"STATUS_CODE_ERROR"'], ['"code":1', '"code":3'], ['"code":1', '"code":2e0'],
      ['"intValue":"1"', '"intValue":1'], ['"intValue":"1"', '"intValue":-0'], ['"intValue":"1"', '"intValue":"01"'], ['"intValue":"1"', '"intValue":1e2'], ['"intValue":"1"', '"intValue":"-7"'], ['"intValue":"1"', '"intValue":123456789012345678'],
      ['"intValue":"1"', '"doubleValue":1.50'], ['"intValue":"1"', '"doubleValue":-0.0'], ['"intValue":"1"', '"doubleValue":1E400'], ['"intValue":"1"', '"doubleValue":"NaN"'], ['"intValue":"1"', '"doubleValue":01'], ['"intValue":"1"', '"doubleValue":1.'], ['"intValue":"1"', '"doubleValue":-'],
      ['"intValue":"1"', '"bytesValue":"AQI-_w"'], ['"intValue":"1"', '"bytesValue":"!!"'], ['"intValue":"1"', '"boolValue":tru'], ['"intValue":"1"', '"arrayValue":{}'], ['"intValue":"1"', '"kvlistValue":{"values":[]}'],
      ['"startTimeUnixNano":"1741064767889000000"', '"startTimeUnixNano":1741064767889000000'], ['"startTimeUnixNano":"1741064767889000000"', '"startTimeUnixNano":17410647'],
      ['"startTimeUnixNano":"1741064767889000000"', '"startTimeUnixNano":"0017"'], ['"startTimeUnixNano":"1741064767889000000"', '"startTimeUnixNano":"18446744073709551615"'],
      ['"traceId":"', '"parentSpanId":"","traceId":"'], ['"traceId":"', '"parentSpanId":"AbCdEf0123456789","traceId":"'], ['"traceId":"', '"parentSpanId":null,"traceId":"'],
      ['"traceId":"', '"flags":257,"droppedAttributesCount":4294967295,"droppedEventsCount":999999999,"traceId":"'],
      ['"traceId":"', '"traceState":"","traceId":"'],
    ]) same('json', base.replace(from!, to!));
  });

  it('caps: spans and stored bytes, and which refusal comes first', () => {
    const many = request(Array.from({ length: 20 }, (_, i) => span(i)));
    for (const maxSpans of [0, 1, 19, 20]) both(many, maxSpans);
    const sized = both(many);
    const bytes = 'bytes' in sized ? sized.bytes : 0;
    for (const max of [0, 100, bytes - 1, bytes, bytes + 1]) both(many, Infinity, max);
    // Over the byte cap and malformed further on: the malformed span is what both report.
    const bad = request([...Array.from({ length: 20 }, (_, i) => span(i)), span(21, { spanId: 'zz' })]);
    same('json', JSON.stringify(bad), Infinity, 200);
    same('json', JSON.stringify(bad), 5, 200);
  });

  it('random requests and corrupted protobuf bodies', () => {
    const key = fc.oneof(fc.constantFrom('a', 'b', '1', '__proto__', 'service.name'), fc.string({ maxLength: 4 }));
    const leaf = fc.oneof(
      fc.string().map((s) => ({ stringValue: s })),
      fc.boolean().map((b) => ({ boolValue: b })),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((i) => ({ intValue: String(i) })),
      fc.double({ noNaN: true }).map((d) => ({ doubleValue: d })),
      fc.uint8Array({ maxLength: 8 }).map((b) => ({ bytesValue: Buffer.from(b).toString('base64') })),
      fc.constant({}),
    );
    const { value } = fc.letrec<{ value: J }>((tie) => ({
      value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('value'), { maxLength: 3 }).map((values) => ({ arrayValue: { values } })), fc.array(fc.record({ key, value: tie('value') }), { maxLength: 3 }).map((values) => ({ kvlistValue: { values } }))),
    }));
    const kvs = fc.array(fc.record({ key, value }), { maxLength: 5 });
    const id = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Buffer.from(b).toString('hex'));
    const aSpan = fc.record({ traceId: id(16), spanId: id(8), name: fc.string(), kind: fc.integer({ min: 0, max: 5 }), startTimeUnixNano: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String), attributes: kvs, droppedAttributesCount: fc.nat(3), status: fc.record({ code: fc.integer({ min: 0, max: 2 }), message: fc.string({ maxLength: 3 }) }) }, { requiredKeys: ['traceId', 'spanId'] });
    const req = fc.array(fc.record({ resource: fc.record({ attributes: kvs }), scopeSpans: fc.array(fc.record({ scope: fc.record({ name: fc.constantFrom('s', 't'), attributes: kvs }, { requiredKeys: [] }), spans: fc.array(aSpan, { maxLength: 3 }) }), { maxLength: 2 }) }), { maxLength: 3 }).map((resourceSpans) => ({ resourceSpans }));
    const before = { ...fastPath };
    fc.assert(fc.property(req, (r) => void both(r as J)), { numRuns: 300 });
    // The fast path must store most ordinary requests itself (it hands on big int64s and the like).
    expect(fastPath.taken - before.taken).toBeGreaterThan((fastPath.handedOn - before.handedOn) * 2);
    // OTLP/JSON bodies corrupted byte by byte: the fast path stores what the reference stores or hands them on.
    const interesting = [...'"\\{}[],:0-.eu/ \n', '\u0000', '\u007f'].map((c) => c.charCodeAt(0)).concat([0x80, 0xc3, 0xed, 0xff]);
    fc.assert(
      fc.property(req, fc.array(fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(...interesting), fc.integer({ min: 0, max: 255 }))), { minLength: 1, maxLength: 3 }), fc.nat(), (r, flips, cut) => {
        const body = Buffer.from(JSON.stringify(r), 'utf8');
        for (const [at, byte] of flips) body[at % body.length] = byte;
        same('json', body.subarray(0, cut % 7 === 0 ? cut % (body.length + 1) : body.length));
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(req, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), (r, flips, cut) => {
        const body = Buffer.from(toProto(r as J));
        for (const [at, byte] of flips) if (body.length) body[at % body.length] = byte;
        same('protobuf', body.subarray(0, body.length ? cut % (body.length + 1) : 0));
      }),
      { numRuns: 500 },
    );
  });
});
