import { isAscii } from 'node:buffer';
import { int64Json, uint64Text } from './line-text.js';
import { OtlpDecodeError } from './span-shape.js';

/**
 * A minimal protobuf wire-format reader: enough for OTLP, with no schema compiler and no
 * dependency. Every read is bounds-checked; a truncated or inconsistent message throws
 * OtlpDecodeError rather than returning garbage.
 */

export const WireType = {
  VARINT: 0,
  FIXED64: 1,
  LEN: 2,
  FIXED32: 5,
} as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Node's latin1 reader without `toString`'s argument handling (every Buffer has it). */
interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
}

/** Strings up to this long are checked for ASCII here; longer ones by `isAscii` (SIMD). */
const SHORT_STRING = 48;

export class ProtoReader {
  private pos: number;
  private readonly end: number;
  /** Shared by every reader over one body: a message's reader costs no view of its own. */
  private readonly view: DataView;
  private readonly text: Latin1Buffer;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
    shared?: ProtoReader,
  ) {
    this.pos = start;
    this.end = end;
    this.view = shared ? shared.view : new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.text = shared ? shared.text : (Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength) as Latin1Buffer);
  }

  /** True while unread bytes remain. */
  more(): boolean {
    return this.pos < this.end;
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wireType: number } {
    const key = this.uint32();
    const field = key >>> 3;
    if (field === 0) throw new OtlpDecodeError(`protobuf: field number 0 at byte ${this.pos}`);
    return { field, wireType: key & 7 };
  }

  /** A varint as an unsigned 64-bit bigint (int64 callers apply BigInt.asIntN). */
  varint64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new OtlpDecodeError('protobuf: varint longer than 10 bytes');
  }

  /**
   * An int64 varint as the JSON text of its value (`int64Json`). Values below 2^49 (up to seven
   * bytes: nearly every count and size) are read as a double; the rest, negatives included, as a bigint.
   */
  int64Json(): string {
    const start = this.pos;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 7 && this.pos < this.end; i++) {
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return String(result);
      scale *= 128;
    }
    this.pos = start;
    return int64Json(BigInt.asIntN(64, this.varint64()));
  }

  /** A fixed64 as decimal digits, without a bigint. */
  fixed64Text(): string {
    this.need(8);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    return uint64Text(lo, hi);
  }

  /** A varint truncated to 32 bits, as protobuf does for uint32 and enums. */
  uint32(): number {
    // Fast path: most tags, lengths and counts fit in a few bytes.
    let result = 0;
    for (let i = 0; i < 4; i++) {
      const b = this.byte();
      result |= (b & 0x7f) << (7 * i);
      if ((b & 0x80) === 0) return result >>> 0;
    }
    // Bytes 5 to 10: only the low 4 bits of the fifth still land inside 32 bits.
    const b5 = this.byte();
    result |= (b5 & 0x0f) << 28;
    if (b5 & 0x80) {
      for (let i = 0; i < 5; i++) {
        if ((this.byte() & 0x80) === 0) return result >>> 0;
      }
      throw new OtlpDecodeError('protobuf: varint longer than 10 bytes');
    }
    return result >>> 0;
  }

  /** An enum: a varint read as int32 (negative enum values are sign-extended on the wire). */
  int32(): number {
    return this.uint32() | 0;
  }

  bool(): boolean {
    // One byte for a bool as every encoder writes it; longer varints through the 64-bit read.
    const b = this.pos < this.end ? this.buf[this.pos]! : 0x80;
    if (b < 0x80) {
      this.pos++;
      return b !== 0;
    }
    return this.varint64() !== 0n;
  }

  fixed32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  fixed64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A length-delimited field's bytes, as a view into the buffer (no copy). */
  bytes(): Uint8Array {
    const len = this.uint32();
    this.need(len);
    const start = this.pos;
    this.pos += len;
    return this.buf.subarray(start, start + len);
  }

  /** Proto3 strings must be UTF-8; invalid bytes are refused, as the Go collector does. */
  string(): string {
    const len = this.uint32();
    this.need(len);
    const start = this.pos;
    this.pos += len;
    if (len === 0) return '';
    // ASCII (nearly every key and value) is its own UTF-8 and has no BOM for the decoder to
    // strip: read as latin1, the cheapest string Node makes. The rest goes through the decoder.
    if (len <= SHORT_STRING ? this.ascii(start, start + len) : isAscii(this.buf.subarray(start, start + len))) {
      return this.text.latin1Slice(start, start + len);
    }
    try {
      return utf8.decode(this.buf.subarray(start, start + len));
    } catch {
      throw new OtlpDecodeError('protobuf: string field is not valid UTF-8');
    }
  }

  private ascii(start: number, end: number): boolean {
    const buf = this.buf;
    for (let i = start; i < end; i++) if (buf[i]! >= 0x80) return false;
    return true;
  }

  /** A reader over an embedded message, sharing this buffer. */
  message(): ProtoReader {
    const len = this.uint32();
    this.need(len);
    const sub = new ProtoReader(this.buf, this.pos, this.pos + len, this);
    this.pos += len;
    return sub;
  }

  /** Skips an unknown field. Groups (wire types 3, 4) are deprecated and not in OTLP: refused. */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.VARINT:
        this.varint64();
        return;
      case WireType.FIXED64:
        this.need(8);
        this.pos += 8;
        return;
      case WireType.LEN: {
        const len = this.uint32();
        this.need(len);
        this.pos += len;
        return;
      }
      case WireType.FIXED32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new OtlpDecodeError(`protobuf: unsupported wire type ${wireType} at byte ${this.pos}`);
    }
  }

  private byte(): number {
    if (this.pos >= this.end) throw new OtlpDecodeError('protobuf: message truncated');
    return this.buf[this.pos++]!;
  }

  private need(n: number): void {
    if (n > this.end - this.pos) throw new OtlpDecodeError('protobuf: message truncated');
  }
}

/** Throws unless a known field arrived with the wire type its schema gives it. */
export function expectWireType(actual: number, expected: number, where: string): void {
  if (actual !== expected) {
    throw new OtlpDecodeError(`protobuf: ${where} has wire type ${actual}, expected ${expected}`);
  }
}
