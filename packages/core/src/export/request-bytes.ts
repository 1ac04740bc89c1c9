/**
 * Export requests as bytes. A batch is encoded once, to a Buffer (wire/otlp-json-batch.ts); that Buffer is spooled, kept
 * in the cache, merged with its neighbours as a slice and sent, and its length is known from
 * then on without measuring a string again.
 */

const PREFIX = Buffer.from('{"resourceSpans":[');
const SUFFIX = Buffer.from(']}');
const COMMA = Buffer.from(',');

/** Several requests as one: each keeps its own resource entry (the inner slices are joined, not copied twice). */
export function mergeBodies(bodies: readonly Buffer[]): Buffer {
  if (bodies.length === 1) return bodies[0] as Buffer;
  const parts: Buffer[] = [PREFIX];
  let length = PREFIX.length + SUFFIX.length;
  for (const b of bodies) {
    if (b.length <= PREFIX.length + SUFFIX.length || b.compare(PREFIX, 0, PREFIX.length, 0, PREFIX.length) !== 0) continue;
    if (parts.length > 1) {
      parts.push(COMMA);
      length += 1;
    }
    const inner = b.subarray(PREFIX.length, b.length - SUFFIX.length);
    parts.push(inner);
    length += inner.length;
  }
  parts.push(SUFFIX);
  return Buffer.concat(parts, length);
}
