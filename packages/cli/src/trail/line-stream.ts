import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';

/**
 * Splits a file into its `\n`-terminated lines, reading fixed-size chunks: memory stays
 * bounded by the chunk plus the longest line kept, whatever the file's size (readline or
 * `readFile` would need the whole file, or decode it as text and lose the exact bytes).
 * Every line's SHA-256 is taken over its exact bytes, as the collector's chain needs.
 */

export interface RawLine {
  /** 1-based line number. */
  line: number;
  /** The line's bytes without its `\n`; undefined when longer than `maxLineBytes` (still hashed). */
  bytes: Buffer | undefined;
  /** Length of the line in bytes, without its `\n`. */
  size: number;
  /** SHA-256 of the line's bytes (without its `\n`), lowercase hex. */
  hash: string;
  /** False for a last line without its `\n` (a write cut short). */
  complete: boolean;
}

export interface LineStreamOptions {
  /** Bytes read at a time. Default 1 MiB. */
  chunkBytes?: number;
  /** Lines longer than this are not kept in memory (only hashed). Default 128 MiB. */
  maxLineBytes?: number;
  /** Called after each chunk with the bytes read so far in this file. */
  onChunk?: (bytesRead: number) => void;
}

export const DEFAULT_MAX_LINE_BYTES = 128 * 1024 * 1024;

export async function* readLines(file: string, options: LineStreamOptions = {}): AsyncGenerator<RawLine> {
  const chunkBytes = options.chunkBytes ?? 1024 * 1024;
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const handle = await fsp.open(file, 'r');
  try {
    let lineNo = 0;
    // The line being assembled across chunks.
    let parts: Buffer[] = [];
    let partSize = 0;
    let hasher = createHash('sha256');
    let dropped = false;
    let total = 0;
    for (;;) {
      // A fresh buffer each time: the lines handed out keep views into it.
      const whole = Buffer.allocUnsafe(chunkBytes);
      const { bytesRead } = await handle.read(whole, 0, chunkBytes, null);
      if (bytesRead === 0) break;
      const buf = whole.subarray(0, bytesRead);
      total += bytesRead;
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(0x0a, start);
        const piece = buf.subarray(start, nl === -1 ? bytesRead : nl);
        if (nl === -1) {
          // The rest of the chunk belongs to a line that goes on in the next chunk.
          if (piece.length > 0) {
            hasher.update(piece);
            partSize += piece.length;
            if (!dropped && partSize > maxLineBytes) {
              dropped = true;
              parts = [];
            }
            if (!dropped) parts.push(Buffer.from(piece)); // copy: small, and frees the chunk
          }
          break;
        }
        lineNo++;
        let bytes: Buffer | undefined;
        let size: number;
        if (partSize === 0) {
          size = piece.length;
          bytes = size > maxLineBytes ? undefined : piece;
          yield { line: lineNo, bytes, size, hash: createHash('sha256').update(piece).digest('hex'), complete: true };
        } else {
          hasher.update(piece);
          size = partSize + piece.length;
          bytes = dropped || size > maxLineBytes ? undefined : Buffer.concat([...parts, piece], size);
          yield { line: lineNo, bytes, size, hash: hasher.digest('hex'), complete: true };
          parts = [];
          partSize = 0;
          dropped = false;
          hasher = createHash('sha256');
        }
        start = nl + 1;
      }
      options.onChunk?.(total);
    }
    if (partSize > 0) {
      lineNo++;
      yield {
        line: lineNo,
        bytes: dropped ? undefined : Buffer.concat(parts, partSize),
        size: partSize,
        hash: hasher.digest('hex'),
        complete: false,
      };
    }
  } finally {
    await handle.close();
  }
}
