import { SPAN_LINE_META, parseV2, type ResourceLine, type V2Line } from './format-v2.js';
import { isTrailRecord, type TrailRecord } from './record.js';

/**
 * Turns one line's text into a record in the v1 shape (what every reader consumes), whatever
 * the line's version. A v2 span names its resource by index within its request, so the decoder
 * keeps the current request's resource lines (bounded by one request's size) and nothing else.
 */

export type DecodedLine =
  | { kind: 'record'; record: TrailRecord; writer: string | undefined; v2: V2Line | undefined }
  | { kind: 'meta'; v2: V2Line }
  | { kind: 'malformed'; message: string; v2: V2Line | undefined };

export class LineDecoder {
  private resources: ResourceLine[] = [];

  /** A new file: requests never span files. */
  reset(): void {
    this.resources = [];
  }

  decode(text: string): DecodedLine {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return { kind: 'malformed', message: `not JSON: ${(err as Error).message}`, v2: undefined };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { kind: 'malformed', message: 'JSON, but not a trail record', v2: undefined };
    }
    const obj = value as Record<string, unknown>;
    if (obj.v === undefined) {
      return isTrailRecord(obj)
        ? { kind: 'record', record: obj, writer: undefined, v2: undefined }
        : { kind: 'malformed', message: 'JSON, but not a trail record', v2: undefined };
    }
    if (obj.v !== 2) {
      return { kind: 'malformed', message: `line format version ${JSON.stringify(obj.v)} is not one this reader knows (it reads 1 and 2)`, v2: undefined };
    }
    const line = parseV2(obj);
    if (typeof line === 'string') return { kind: 'malformed', message: `not a valid v2 line: ${line}`, v2: undefined };
    switch (line.t) {
      case 'resource':
        if (line.r === 0) this.resources = [];
        if (line.r !== this.resources.length) {
          return { kind: 'malformed', message: `resource line r=${line.r} out of order (expected r=${this.resources.length})`, v2: line };
        }
        this.resources.push(line);
        return { kind: 'meta', v2: line };
      case 'span': {
        const res = this.resources[line.r];
        const scope = res?.scopes[line.s];
        if (!res || !scope) {
          return { kind: 'malformed', message: `span line refers to resource ${line.r} / scope ${line.s}, which its request does not have`, v2: line };
        }
        const record = flatten(res, scope, line);
        if (!isTrailRecord(record)) return { kind: 'malformed', message: 'v2 span line without the fields of a span', v2: line };
        return { kind: 'record', record, writer: res.writer, v2: line };
      }
      default:
        return { kind: 'meta', v2: line };
    }
  }
}

/**
 * The v1 record: `receivedAt`, the resource fields, `scope`, then the span's fields in the
 * order they were written. Spans of one request share the resource and scope objects: read-only.
 */
function flatten(res: ResourceLine, scope: unknown, line: Record<string, unknown>): unknown {
  const out: Record<string, unknown> = { receivedAt: res.receivedAt, resource: res.resource };
  if (res.resourceDroppedAttributesCount !== undefined) out.resourceDroppedAttributesCount = res.resourceDroppedAttributesCount;
  if (res.resourceSchemaUrl !== undefined) out.resourceSchemaUrl = res.resourceSchemaUrl;
  out.scope = scope;
  for (const key of Object.keys(line)) {
    if (SPAN_LINE_META.has(key)) continue;
    if (key === '__proto__') Object.defineProperty(out, key, { value: line[key], enumerable: true, writable: true, configurable: true });
    else out[key] = line[key];
  }
  return out;
}
