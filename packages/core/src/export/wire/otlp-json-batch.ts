import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { resourceJsonBytes, scopeJsonBytes, spanJsonInto } from './otlp-json-bytes.js';
import { TextPieces } from './text-pieces.js';
import { encodedRequestBytes, type EncodedSpan } from './otlp-json-request.js';

/**
 * One batch's ExportTraceServiceRequest, written in place as its records arrive: the envelope,
 * then each record's text straight into the same Buffer, which becomes the request at the end.
 * A record's bytes are written once and never copied again (no per-record Buffer to join at the
 * seal). Byte for byte what encodedRequestBytes() writes for the same records.
 */

const head = (resource: Buffer, scope: Buffer): Buffer =>
  Buffer.concat([Buffer.from('{"resourceSpans":[{"resource":'), resource, Buffer.from(',"scopeSpans":[{"scope":'), scope, Buffer.from(',"spans":[')]);
/** `]}` closes the spans and the scope entry, the next the resource entry, the last the request. */
const TAIL = Buffer.from(']}]}]}');
const COMMA = 0x2c;
const EMPTY: Buffer = Buffer.alloc(0);
/** One record's pieces, reused by every writer (push is synchronous and never re-entered). */
const PIECES = new TextPieces();

/** Where a writer's Buffer comes from and goes back to (a batch too small for its Buffer is copied out). */
export interface BufferSource {
  take(): Buffer;
  /** A Buffer no request refers to any more. */
  give(buffer: Buffer): void;
  /** A request of this many bytes kept its batch's own Buffer. */
  sealed(bytes: number): void;
}

type Resource = ReadableSpan['resource'];
type Scope = ReadableSpan['instrumentationScope'];

export class RequestWriter {
  /** Records written. */
  length = 0;
  /** Taken from the source with the first record (a batch that stays empty holds none). */
  private buf: Buffer = EMPTY;
  private at = 0;
  private headLength = 0;
  /** Where each record ends (the next one starts after its comma). */
  private readonly ends: number[] = [];
  private resource: Resource | undefined;
  private scope: Scope | undefined;
  /** Each record's resource and scope, kept only once a record of another resource or scope came. */
  private groups: { resource: Resource; scope: Scope }[] | undefined;

  constructor(private readonly source: BufferSource) {}

  /** Encodes and appends one record (throws, writing nothing, when it cannot be encoded). */
  push(span: ReadableSpan): void {
    // In pieces: a long argument goes into the Buffer straight from its escaped string, where
    // writing the record's whole rope would first flatten it (one more copy of every byte).
    const pieces = PIECES;
    pieces.reset();
    spanJsonInto(span, pieces);
    const units = pieces.units();
    if (this.length === 0) {
      this.buf = this.source.take();
      this.resource = span.resource;
      this.scope = span.instrumentationScope;
      const h = head(resourceJsonBytes(span.resource), scopeJsonBytes(span.instrumentationScope));
      this.room(h.length);
      this.at = this.headLength = h.copy(this.buf, 0);
    } else if (this.groups === undefined && (span.resource !== this.resource || span.instrumentationScope !== this.scope)) {
      // Rare (an auditor has one resource and one scope): from here on, grouped at the end.
      const first = { resource: this.resource as Resource, scope: this.scope as Scope };
      this.groups = this.ends.map(() => first);
    }
    // UTF-16 to UTF-8 is at most 3 bytes per code unit: the room is checked without measuring.
    this.room(units * 3 + 1);
    if (this.length > 0) this.buf[this.at++] = COMMA;
    const done = pieces.done;
    for (let i = 0; i < pieces.count; i++) this.at += this.buf.write(done[i] as string, this.at, 'utf8');
    this.ends.push(this.at);
    this.groups?.push({ resource: span.resource, scope: span.instrumentationScope });
    this.length++;
  }

  /** The request: the batch's own Buffer when it is mostly used, else an exact copy (the Buffer goes back to the source). */
  finish(): Buffer {
    const groups = this.groups;
    if (groups !== undefined) {
      const items: EncodedSpan[] = this.ends.map((end, i) => {
        const start = i === 0 ? this.headLength : (this.ends[i - 1] as number) + 1;
        const g = groups[i] as { resource: Resource; scope: Scope };
        return { bytes: this.buf.subarray(start, end), resource: g.resource, scope: g.scope };
      });
      const body = encodedRequestBytes(items);
      this.source.give(this.buf);
      return body;
    }
    this.room(TAIL.length);
    this.at += TAIL.copy(this.buf, this.at);
    if (this.at * 2 >= this.buf.length) {
      this.source.sealed(this.at);
      return this.buf.subarray(0, this.at);
    }
    const body = Buffer.allocUnsafeSlow(this.at);
    this.buf.copy(body, 0, 0, this.at);
    this.source.give(this.buf);
    return body;
  }

  private room(n: number): void {
    if (this.at + n + TAIL.length <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.at + n + TAIL.length));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}

/**
 * A sink's batch Buffers: sized to the largest request it has sealed in its own Buffer so far
 * (a full batch is written without growing, and its request keeps that Buffer), and one spare,
 * the Buffer of a small batch that was copied out, reused by the next batch.
 */
export class BatchBuffers implements BufferSource {
  private size = 64 * 1024;
  private spare: Buffer | undefined;

  take(): Buffer {
    const spare = this.spare;
    this.spare = undefined;
    return spare !== undefined && spare.length >= this.size ? spare : Buffer.allocUnsafeSlow(this.size);
  }

  give(buffer: Buffer): void {
    this.spare = buffer;
  }

  /** A request sealed in its batch's own Buffer: the next batches get room for one as large. */
  sealed(bytes: number): void {
    // A little over, so the next full batch fits without growing (it keeps the whole Buffer).
    this.size = Math.max(this.size, Math.ceil(bytes * 1.02) + 16 * 1024);
  }
}
