import { hash } from 'node:crypto';

/**
 * The bytes of the lines one write of the trail writer stores, built in place: each chained line
 * is copied once into a chunk (its chain fields, then its own fields) and hashed there with one
 * call, instead of being hashed and written as separate pieces (three buffers and a hash object
 * per line). The chunks are written as they are.
 */

/** Chunks are about this big: few write calls, and no single huge copy for a large batch. */
const CHUNK_BYTES = 1024 * 1024;

export class LineBatch {
  /** Complete lines written so far. */
  lines = 0;
  private readonly done: Buffer[] = [];
  private buf: Buffer;
  private len = 0;

  /** `expected`: about how many bytes the batch will take (the first chunk's size, up to CHUNK_BYTES). */
  constructor(expected = 0) {
    this.buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(1024, expected)));
  }

  /**
   * Appends the line `head` + `,` + the fields of `rest` (a JSON object's UTF-8; `{}` adds none)
   * and its `\n`; returns the SHA-256 (hex) of the line without the `\n`. `head` is ASCII: the
   * chain fields, without the closing brace.
   */
  line(head: string, rest: Buffer): string {
    const empty = rest.length <= 2;
    const size = head.length + (empty ? 1 : rest.length) + 1;
    if (this.len + size > this.buf.length) this.next(size);
    const buf = this.buf;
    const start = this.len;
    let at = start + buf.write(head, start, 'latin1');
    if (empty) {
      buf[at++] = 0x7d; // }
    } else {
      buf[at++] = 0x2c; // ,
      at += rest.copy(buf, at, 1);
    }
    const digest = hash('sha256', buf.subarray(start, at), 'hex');
    buf[at++] = 0x0a;
    this.len = at;
    this.lines++;
    return digest;
  }

  /** The bytes to write, in order. */
  chunks(): Buffer[] {
    return this.len > 0 ? [...this.done, this.buf.subarray(0, this.len)] : [...this.done];
  }

  private next(size: number): void {
    if (this.len > 0) this.done.push(this.buf.subarray(0, this.len));
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, size));
    this.len = 0;
  }
}
