import { randomFillSync } from 'node:crypto';

// Span, trace and call ids from a pooled CSPRNG buffer: unpredictable ids (they appear in
// records that are chained and verified) without a system call or a Buffer slice per id.
const POOL = new Uint8Array(8192);
let offset = POOL.length;
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function randomHex(bytes: number): string {
  if (offset + bytes > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  let out = '';
  for (let i = offset, end = offset + bytes; i < end; i++) out += HEX[POOL[i] as number];
  offset += bytes;
  return out;
}

export function newTraceId(): string {
  return randomHex(16);
}

export function newSpanId(): string {
  return randomHex(8);
}
