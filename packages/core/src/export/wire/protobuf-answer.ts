import { I32, I64, LEN, VARINT } from './protobuf-writer.js';

/**
 * From a protobuf ExportTraceServiceResponse: `partial_success` (field 1) with
 * `rejected_spans` (1, int64) and `error_message` (2). Undefined when none were rejected or
 * the bytes are not such a message.
 */
export function protobufPartialRejection(body: Uint8Array): { rejected: number; message: string } | undefined {
  try {
    const outer = fields(body, 0, body.length);
    const ps = outer.find((f) => f.field === 1 && f.type === LEN);
    if (ps === undefined) return undefined;
    let rejected = 0;
    let message = '';
    for (const f of fields(body, ps.start, ps.end)) {
      if (f.field === 1 && f.type === VARINT) rejected = Number(BigInt.asIntN(64, f.value));
      else if (f.field === 2 && f.type === LEN) message = Buffer.from(body.buffer, body.byteOffset + f.start, f.end - f.start).toString('utf8');
    }
    return rejected > 0 ? { rejected, message } : undefined;
  } catch {
    return undefined;
  }
}

function fields(b: Uint8Array, from: number, to: number): { field: number; type: number; value: bigint; start: number; end: number }[] {
  const out: { field: number; type: number; value: bigint; start: number; end: number }[] = [];
  let p = from;
  const varint = (): bigint => {
    let r = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (p >= to) throw new Error('truncated');
      const x = b[p++] as number;
      r |= BigInt(x & 0x7f) << shift;
      if ((x & 0x80) === 0) return r;
    }
    throw new Error('bad varint');
  };
  while (p < to) {
    const k = Number(varint());
    const field = k >>> 3;
    const type = k & 7;
    if (type === VARINT) out.push({ field, type, value: varint(), start: 0, end: 0 });
    else if (type === LEN) {
      const n = Number(varint());
      if (p + n > to) throw new Error('truncated');
      out.push({ field, type, value: 0n, start: p, end: p + n });
      p += n;
    } else if (type === I64) p += 8;
    else if (type === I32) p += 4;
    else throw new Error('unknown wire type');
  }
  return out;
}
