import { AttrText, doubleJson } from './line-text.js';
import { ProtoReader, WireType, expectWireType } from './protobuf-reader.js';
import { MAX_VALUE_DEPTH, OtlpDecodeError, statusCode } from './span-shape.js';

/** The protobuf messages inside a span (attributes, events, links, status), as the JSON text of the stored line. */

export function hexId(b: Uint8Array, size: number, what: string): string {
  if (b.length !== size) throw new OtlpDecodeError(`${what} must be ${size} bytes, got ${b.length}`);
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

export function optionalHexId(b: Uint8Array, size: number, what: string): string {
  return b.length === 0 ? '' : hexId(b, size, what);
}

export function decodeEvent(r: ProtoReader): string {
  let time = '0';
  let name = '';
  const attributes = new AttrText();
  let dropped = 0;
  while (r.more()) {
    const { field, wireType } = r.tag();
    if (field === 1) {
      expectWireType(wireType, WireType.FIXED64, 'Span.Event.time_unix_nano');
      time = r.fixed64Text();
    } else if (field === 2) {
      expectWireType(wireType, WireType.LEN, 'Span.Event.name');
      name = r.string();
    } else if (field === 3) {
      expectWireType(wireType, WireType.LEN, 'Span.Event.attributes');
      decodeKeyValue(r.message(), attributes, 0);
    } else if (field === 4) {
      expectWireType(wireType, WireType.VARINT, 'Span.Event.dropped_attributes_count');
      dropped = r.uint32();
    } else {
      r.skip(wireType);
    }
  }
  const out = `{"timeUnixNano":"${time}","name":${JSON.stringify(name)},"attributes":${attributes.json()}`;
  return dropped ? `${out},"droppedAttributesCount":${dropped}}` : `${out}}`;
}

export function decodeLink(r: ProtoReader): string {
  let traceId = '';
  let spanId = '';
  let traceState = '';
  const attributes = new AttrText();
  let dropped = 0;
  let flags = 0;
  while (r.more()) {
    const { field, wireType } = r.tag();
    if (field === 1) {
      expectWireType(wireType, WireType.LEN, 'Span.Link.trace_id');
      traceId = hexId(r.bytes(), 16, 'link trace_id');
    } else if (field === 2) {
      expectWireType(wireType, WireType.LEN, 'Span.Link.span_id');
      spanId = hexId(r.bytes(), 8, 'link span_id');
    } else if (field === 3) {
      expectWireType(wireType, WireType.LEN, 'Span.Link.trace_state');
      traceState = r.string();
    } else if (field === 4) {
      expectWireType(wireType, WireType.LEN, 'Span.Link.attributes');
      decodeKeyValue(r.message(), attributes, 0);
    } else if (field === 5) {
      expectWireType(wireType, WireType.VARINT, 'Span.Link.dropped_attributes_count');
      dropped = r.uint32();
    } else if (field === 6) {
      expectWireType(wireType, WireType.FIXED32, 'Span.Link.flags');
      flags = r.fixed32();
    } else {
      r.skip(wireType);
    }
  }
  if (!traceId || !spanId) throw new OtlpDecodeError('a span link has no trace_id or span_id');
  let out = `{"traceId":"${traceId}","spanId":"${spanId}"`;
  if (traceState) out += `,"traceState":${JSON.stringify(traceState)}`;
  out += `,"attributes":${attributes.json()}`;
  if (dropped) out += `,"droppedAttributesCount":${dropped}`;
  return flags ? `${out},"flags":${flags}}` : `${out}}`;
}

export function decodeStatus(r: ProtoReader): string {
  let message = '';
  let code = 0;
  while (r.more()) {
    const { field, wireType } = r.tag();
    if (field === 2) {
      expectWireType(wireType, WireType.LEN, 'Status.message');
      message = r.string();
    } else if (field === 3) {
      expectWireType(wireType, WireType.VARINT, 'Status.code');
      code = r.int32();
    } else {
      // Field 1 is the deprecated `deprecated_code`.
      r.skip(wireType);
    }
  }
  const checked = statusCode(code);
  return message ? `{"code":${checked},"message":${JSON.stringify(message)}}` : `{"code":${checked}}`;
}

export function decodeKeyValue(r: ProtoReader, into: AttrText, depth: number): void {
  let key = '';
  let value = 'null';
  while (r.more()) {
    const { field, wireType } = r.tag();
    if (field === 1) {
      expectWireType(wireType, WireType.LEN, 'KeyValue.key');
      key = r.string();
    } else if (field === 2) {
      expectWireType(wireType, WireType.LEN, 'KeyValue.value');
      value = anyValue(r.message(), depth + 1);
    } else {
      r.skip(wireType);
    }
  }
  into.set(key, value);
}

/** An AnyValue as JSON text. A oneof: the last member on the wire wins; none set is null. */
function anyValue(r: ProtoReader, depth: number): string {
  if (depth > MAX_VALUE_DEPTH) throw new OtlpDecodeError(`attribute values nested deeper than ${MAX_VALUE_DEPTH}`);
  let value = 'null';
  while (r.more()) {
    const { field, wireType } = r.tag();
    switch (field) {
      case 1:
        expectWireType(wireType, WireType.LEN, 'AnyValue.string_value');
        value = JSON.stringify(r.string());
        break;
      case 2:
        expectWireType(wireType, WireType.VARINT, 'AnyValue.bool_value');
        value = r.bool() ? 'true' : 'false';
        break;
      case 3:
        expectWireType(wireType, WireType.VARINT, 'AnyValue.int_value');
        value = r.int64Json();
        break;
      case 4:
        expectWireType(wireType, WireType.FIXED64, 'AnyValue.double_value');
        value = doubleJson(r.double());
        break;
      case 5:
        expectWireType(wireType, WireType.LEN, 'AnyValue.array_value');
        value = arrayValue(r.message(), depth);
        break;
      case 6: {
        expectWireType(wireType, WireType.LEN, 'AnyValue.kvlist_value');
        const list = r.message();
        const obj = new AttrText();
        while (list.more()) {
          const t = list.tag();
          if (t.field === 1) {
            expectWireType(t.wireType, WireType.LEN, 'KeyValueList.values');
            decodeKeyValue(list.message(), obj, depth + 1);
          } else {
            list.skip(t.wireType);
          }
        }
        value = obj.json();
        break;
      }
      case 7:
        expectWireType(wireType, WireType.LEN, 'AnyValue.bytes_value');
        value = `"${Buffer.from(r.bytes()).toString('base64')}"`;
        break;
      default:
        r.skip(wireType);
    }
  }
  return value;
}

function arrayValue(arr: ProtoReader, depth: number): string {
  const values: string[] = [];
  while (arr.more()) {
    const t = arr.tag();
    if (t.field === 1) {
      expectWireType(t.wireType, WireType.LEN, 'ArrayValue.values');
      values.push(anyValue(arr.message(), depth + 1));
    } else {
      arr.skip(t.wireType);
    }
  }
  return `[${values.join(',')}]`;
}
