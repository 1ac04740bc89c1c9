/** A tiny protobuf writer for hand-made test messages (field order, unknown fields, edge values). */

export function varint(v: bigint | number): number[] {
  let n = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (n > 0x7fn) {
    out.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  out.push(Number(n));
  return out;
}

const tag = (field: number, wireType: number) => varint((field << 3) | wireType);

export const pb = {
  varint: (field: number, v: bigint | number) => [...tag(field, 0), ...varint(v)],
  fixed64: (field: number, v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    return [...tag(field, 1), ...b];
  },
  double: (field: number, v: number) => {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    return [...tag(field, 1), ...b];
  },
  fixed32: (field: number, v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return [...tag(field, 5), ...b];
  },
  bytes: (field: number, v: Uint8Array | number[]) => [...tag(field, 2), ...varint(v.length), ...v],
  string: (field: number, s: string) => pb.bytes(field, [...Buffer.from(s, 'utf8')]),
  message: (field: number, ...parts: number[][]) => pb.bytes(field, parts.flat()),
};

export const hex = (s: string) => [...Buffer.from(s, 'hex')];

export function keyValue(field: number, key: string, ...anyValue: number[][]): number[] {
  return pb.message(field, pb.string(1, key), pb.message(2, ...anyValue));
}
