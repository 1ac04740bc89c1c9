import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';

/**
 * The last complete line of a file, read from its end: what a collector's new file continues
 * (at start, and after a write failed part way). Reads backwards in chunks, so a huge file or
 * a huge last line costs no more than a chunk of memory.
 */

export interface LastLine {
  /** SHA-256 (hex) of the line's bytes, without its `\n`. */
  hash: string;
  /** The v2 line's `t`, `n` and `chain` (open and seal lines carry it), when it is one. */
  t?: string;
  n?: number;
  chain?: string;
  /** A seal's reason. */
  why?: string;
  /** Bytes after that line that are not a complete line (a torn write). */
  tornBytes: number;
}

const CHUNK = 64 * 1024;
const HEAD = /^\{"v":2,"t":"(\w+)","n":(\d+),"p":"[0-9a-f]{64}"(?:,"chain":"([0-9a-f]{32})"(?:,"why":"(\w+)")?)?/;

export async function lastCompleteLine(file: string): Promise<LastLine | undefined> {
  const handle = await fsp.open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const end = await lastIndexOf(handle, size, size); // the `\n` ending the last complete line
    if (end < 0) return undefined;
    const start = (await lastIndexOf(handle, end, end)) + 1;
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(CHUNK);
    let head: Buffer | undefined;
    for (let pos = start; pos < end; ) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(CHUNK, end - pos), pos);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      head ??= Buffer.from(buf.subarray(0, Math.min(bytesRead, 256)));
      pos += bytesRead;
    }
    const out: LastLine = { hash: hash.digest('hex'), tornBytes: size - end - 1 };
    const m = head ? HEAD.exec(head.toString('latin1')) : null;
    if (m) {
      out.t = m[1]!;
      out.n = Number(m[2]);
      if (m[3]) out.chain = m[3];
      if (m[4]) out.why = m[4];
    }
    return out;
  } finally {
    await handle.close();
  }
}

/** Position of the last `\n` before `before` (exclusive), or -1. */
async function lastIndexOf(handle: fsp.FileHandle, before: number, _size: number): Promise<number> {
  const buf = Buffer.allocUnsafe(CHUNK);
  let pos = before;
  while (pos > 0) {
    const from = Math.max(0, pos - CHUNK);
    const { bytesRead } = await handle.read(buf, 0, pos - from, from);
    const i = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (i >= 0) return from + i;
    pos = from;
  }
  return -1;
}
