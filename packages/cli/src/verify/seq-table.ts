import { createHash } from 'node:crypto';
import type { Range } from './ranges.js';

/**
 * What one stream keeps per sequence number it has seen: a 16-byte fingerprint of the record's
 * claimed `tooltrail.hash` and a few flag bits. That is enough to check every link (a record's
 * `prev_hash` against the fingerprint of the record before it), every checkpoint's `last_hash`,
 * and whether a later copy of a record is an identical duplicate, in any storage order, without
 * keeping records. 128 bits make a forged copy that matches a fingerprint a second preimage of
 * SHA-256 truncated to 128 bits.
 *
 * Memory: runs of sequence numbers live in dense chunks of up to 1024 numbers (17 bytes each;
 * a chunk starts at 16 and doubles while it stays at least 1/8 full); numbers scattered far
 * apart (a forger's absurd seqs) live in a sparse map (~100 bytes each) until a chunk holds
 * enough of them to be worth making dense. Nothing is allocated in proportion to a number's size.
 */

export const FP_BYTES = 16;
const CHUNK = 1024;
/** Sparse entries in one chunk before it becomes dense: dense then costs at most 8x sparse. */
const PROMOTE_AT = 128;
/** Sparse entries per stream at most (a JavaScript Map holds at most 2^24). */
export const MAX_SPARSE = 8_000_000;

/** Flag bits stored with a fingerprint. */
export const F_HASH_OK = 1;
export const F_STREAM_START = 2;

const HEX64 = /^[0-9a-f]{64}$/;

/** The fingerprint of a hash as stored (16 bytes as a latin1 string); any string has one. */
export function fingerprint(hash: unknown): string {
  if (typeof hash === 'string' && HEX64.test(hash)) return Buffer.from(hash.slice(0, FP_BYTES * 2), 'hex').toString('latin1');
  // Not a hash at all (a forger's value): a fingerprint that no well-formed hash can share
  // without a preimage.
  return createHash('sha256').update(`not-a-hash:${typeof hash}:${String(hash)}`).digest().subarray(0, FP_BYTES).toString('latin1');
}

interface Dense {
  /** Fingerprints of offsets 0..cap-1 of the chunk. */
  fps: Buffer;
  /** 0 = absent, else flags | PRESENT. */
  flags: Uint8Array;
  cap: number;
  count: number;
}

const PRESENT = 0x80;
/** Shared by every table without sparse entries (never written: insert replaces it first). */
const EMPTY: Map<number, string> = new Map();
/** A dense chunk starts this small and doubles: a short stream costs a few hundred bytes. */
const MIN_CAP = 16;

const pow2 = (n: number) => {
  let c = MIN_CAP;
  while (c < n) c *= 2;
  return c;
};

/**
 * Invariant: a sparse entry never lies inside a dense chunk's capacity (growing a chunk takes
 * the sparse entries it now covers), so each number lives in exactly one place, and in a chunk
 * the dense offsets all come before the sparse ones.
 */
export class SeqTable {
  private readonly dense = new Map<number, Dense>();
  /** seq -> one flag char + the fingerprint. */
  private sparse: Map<number, string> = EMPTY;
  /** Sparse entries per chunk; created once a stream has them in more than one chunk. */
  private sparseInChunk: Map<number, number> | undefined;
  /** The chunk of the first sparse entries, counted without a map. */
  private firstChunk = NaN;
  private firstChunkCount = 0;
  size = 0;
  min = Infinity;
  max = -Infinity;

  /** Flags of `seq`, or -1 when it was not seen. */
  flags(seq: number): number {
    const chunk = Math.floor(seq / CHUNK);
    const d = this.dense.get(chunk);
    const i = seq - chunk * CHUNK;
    if (d && i < d.cap) {
      const f = d.flags[i] as number;
      return f === 0 ? -1 : f & ~PRESENT;
    }
    const s = this.sparse.get(seq);
    return s === undefined ? -1 : s.charCodeAt(0);
  }

  /** The fingerprint stored for `seq`, when seen. */
  fp(seq: number): string | undefined {
    const chunk = Math.floor(seq / CHUNK);
    const d = this.dense.get(chunk);
    const i = seq - chunk * CHUNK;
    if (d && i < d.cap) return d.flags[i] === 0 ? undefined : d.fps.toString('latin1', i * FP_BYTES, (i + 1) * FP_BYTES);
    return this.sparse.get(seq)?.slice(1);
  }

  /** Stores a sequence number not seen before; false when the sparse map is full. */
  insert(seq: number, flags: number, fp: string): boolean {
    const chunk = Math.floor(seq / CHUNK);
    const i = seq - chunk * CHUNK;
    let d = this.dense.get(chunk);
    // Dense when it stays at least 1/8 full: runs of numbers (every real stream) are dense from
    // the start; a forger's scattered numbers stay sparse.
    if (d && i >= d.cap && (d.count + 1) * 8 >= pow2(i + 1)) d = this.grow(chunk, d, pow2(i + 1));
    else if (!d && i < MIN_CAP) d = this.grow(chunk, undefined, MIN_CAP);
    if (d && i < d.cap) {
      this.writeDense(d, i, flags, fp);
    } else {
      if (this.sparse.size >= MAX_SPARSE) return false;
      if (this.sparse === EMPTY) this.sparse = new Map();
      this.sparse.set(seq, String.fromCharCode(flags) + fp);
      if (Number.isNaN(this.firstChunk)) this.firstChunk = chunk;
      let n: number;
      if (chunk === this.firstChunk) n = ++this.firstChunkCount;
      else {
        this.sparseInChunk ??= new Map();
        n = (this.sparseInChunk.get(chunk) ?? 0) + 1;
        this.sparseInChunk.set(chunk, n);
      }
      if (n >= PROMOTE_AT) this.grow(chunk, d, CHUNK);
    }
    this.size++;
    if (seq < this.min) this.min = seq;
    if (seq > this.max) this.max = seq;
    return true;
  }

  private writeDense(d: Dense, i: number, flags: number, fp: string): void {
    d.flags[i] = flags | PRESENT;
    d.fps.write(fp, i * FP_BYTES, FP_BYTES, 'latin1');
    d.count++;
  }

  /** Makes (or widens) a chunk's dense part to `cap`, taking the sparse entries it now covers. */
  private grow(chunk: number, old: Dense | undefined, cap: number): Dense {
    const d: Dense = { fps: Buffer.allocUnsafe(cap * FP_BYTES), flags: new Uint8Array(cap), cap, count: old?.count ?? 0 };
    if (old) {
      old.fps.copy(d.fps, 0, 0, old.cap * FP_BYTES);
      d.flags.set(old.flags);
    }
    const base = chunk * CHUNK;
    let moved = 0;
    if (this.sparse.size > 0) {
      for (let i = old?.cap ?? 0; i < cap; i++) {
        const s = this.sparse.get(base + i);
        if (s === undefined) continue;
        this.writeDense(d, i, s.charCodeAt(0), s.slice(1));
        this.sparse.delete(base + i);
        moved++;
      }
    }
    if (moved > 0) {
      if (chunk === this.firstChunk) this.firstChunkCount -= moved;
      else if (this.sparseInChunk) {
        const left = (this.sparseInChunk.get(chunk) ?? 0) - moved;
        if (left > 0) this.sparseInChunk.set(chunk, left);
        else this.sparseInChunk.delete(chunk);
      }
    }
    this.dense.set(chunk, d);
    return d;
  }

  /** The sequence numbers seen, as sorted intervals. */
  *intervals(): Generator<Range> {
    const sparse = [...this.sparse.keys()].sort((a, b) => a - b);
    const chunks = [...this.dense.keys()].sort((a, b) => a - b);
    let cur: Range | undefined;
    const push = function* (a: number, b: number): Generator<Range> {
      if (cur && a === cur[1] + 1) cur[1] = b;
      else {
        if (cur) yield cur;
        cur = [a, b];
      }
    };
    let si = 0;
    for (const chunk of chunks) {
      const base = chunk * CHUNK;
      while (si < sparse.length && (sparse[si] as number) < base) {
        const s = sparse[si++] as number;
        yield* push(s, s);
      }
      const { flags, cap } = this.dense.get(chunk) as Dense;
      let i = 0;
      while (i < cap) {
        if (flags[i] === 0) {
          i++;
          continue;
        }
        let j = i;
        while (j + 1 < cap && flags[j + 1] !== 0) j++;
        yield* push(base + i, base + j);
        i = j + 1;
      }
    }
    while (si < sparse.length) {
      const s = sparse[si++] as number;
      yield* push(s, s);
    }
    if (cur) yield cur;
  }
}
