import type { ServerResponse } from 'node:http';
import type { BodyFormat } from './body.js';

/** OTLP error bodies: a google.rpc.Status, in the request's own encoding. */

/** google.rpc.Code values the collector answers with. */
export const RpcCode = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** The google.rpc code that goes with an HTTP status. */
export function rpcCodeFor(status: number): number {
  if (status === 401) return RpcCode.UNAUTHENTICATED;
  if (status === 408) return RpcCode.DEADLINE_EXCEEDED;
  if (status === 413 || status === 431) return RpcCode.RESOURCE_EXHAUSTED;
  if (status === 503 || status >= 500) return RpcCode.UNAVAILABLE;
  return RpcCode.INVALID_ARGUMENT;
}

export function sendStatus(res: ServerResponse, status: number, format: BodyFormat, message: string, headers: Record<string, string> = {}): void {
  const code = rpcCodeFor(status);
  if (format === 'protobuf') {
    res.writeHead(status, { ...headers, 'content-type': 'application/x-protobuf' }).end(encodeRpcStatus(code, message));
  } else {
    res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify({ code, message }));
  }
}

/** google.rpc.Status { int32 code = 1; string message = 2; } */
export function encodeRpcStatus(code: number, message: string): Buffer {
  const text = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from([0x08, code, 0x12]), varint(text.length), text]);
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}
