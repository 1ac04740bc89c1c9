import { randomFillSync } from 'node:crypto';

// Span, trace and call ids from a pooled CSPRNG buffer: unpredictable ids (they appear in
// records that are chained and verified) without a system call or a Buffer slice per id.
// Hex comes from Buffer#toString: one flat string per id, where concatenating pairs made a chain
// of intermediate strings per id (garbage at once, and flattened again when the id is encoded).
const POOL = Buffer.allocUnsafeSlow(8192);
let offset = POOL.length;

export function randomHex(bytes: number): string {
  if (offset + bytes > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const start = offset;
  offset += bytes;
  return POOL.toString('hex', start, offset);
}

export function newTraceId(): string {
  return randomHex(16);
}

export function newSpanId(): string {
  return randomHex(8);
}
