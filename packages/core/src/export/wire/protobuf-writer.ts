// Protobuf's wire primitives, as the OTLP encoder writes them (opentelemetry-proto).

/** Field numbers and wire types: (field << 3) | type, precomputed. */
export const LEN = 2;
export const VARINT = 0;
export const I64 = 1;
export const I32 = 5;
export const key = (field: number, type: number) => (field << 3) | type;

/** A growable buffer that writes protobuf's primitives: varints, fixed64/32, length-delimited fields. */
export class Writer {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(Math.max(256, size));
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  varint(v: number): void {
    // Non-negative integers below 2^53 (lengths, tags, counts, safe int64 values).
    this.ensure(10);
    while (v > 0x7f) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  varintBig(v: bigint): void {
    let n = BigInt.asUintN(64, v);
    this.ensure(10);
    while (n > 0x7fn) {
      this.buf[this.pos++] = Number(n & 0x7fn) | 0x80;
      n >>= 7n;
    }
    this.buf[this.pos++] = Number(n);
  }
  tag(field: number, type: number): void {
    this.varint(key(field, type));
  }
  string(field: number, s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.tag(field, LEN);
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }
  hex(field: number, s: string): void {
    if (!s) return;
    const n = s.length >>> 1;
    this.tag(field, LEN);
    this.varint(n);
    this.ensure(n);
    const written = this.buf.write(s, this.pos, n, 'hex');
    if (written < n) this.buf.fill(0, this.pos + written, this.pos + n); // not hex: the length stays right
    this.pos += n;
  }
  bytes(field: number, b: Uint8Array): void {
    this.tag(field, LEN);
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  fixed64(field: number, decimal: string): void {
    this.tag(field, I64);
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(decimal || '0')), this.pos);
    this.pos += 8;
  }
  fixed32(field: number, v: number): void {
    this.tag(field, I32);
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }
  double(field: number, v: number): void {
    this.tag(field, I64);
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
  /** Starts a length-delimited field; returns where its content begins. One byte is reserved for the length. */
  begin(field: number): number {
    this.tag(field, LEN);
    this.ensure(1);
    this.pos += 1;
    return this.pos;
  }
  /** Writes the length of the field begun at `start`, moving the content when it needs more than one byte. */
  end(start: number): void {
    const len = this.pos - start;
    if (len < 0x80) {
      this.buf[start - 1] = len;
      return;
    }
    let extra = 0;
    for (let v = len >>> 7; v > 0; v >>>= 7) extra++;
    this.ensure(extra);
    this.buf.copyWithin(start + extra, start, this.pos);
    let p = start - 1;
    let v = len;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
    this.pos += extra;
  }
  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

