import { OtlpDecodeError } from './span-shape.js';

/** Field checks of the OTLP/JSON decoders (the protobuf JSON mapping): one message each, shared by both decoders. */

export type Json = Record<string, unknown>;

/** The request body as JSON; a body that is not JSON is malformed (400). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new OtlpDecodeError(`body is not valid JSON: ${(err as Error).message}`);
  }
}

export const SPAN_KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};

export const STATUS_CODES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

export function fail(message: string): never {
  throw new OtlpDecodeError(message);
}

export function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

export function object(v: unknown, at: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${at} must be an object`);
  return v as Json;
}

export function optionalObject(v: unknown, at: string): Json | undefined {
  return present(v) ? object(v, at) : undefined;
}

export function list(v: unknown, at: string): unknown[] {
  if (!present(v)) return [];
  if (!Array.isArray(v)) fail(`${at} must be an array`);
  return v;
}

export function string(v: unknown, at: string): string {
  if (!present(v)) return '';
  if (typeof v !== 'string') fail(`${at} must be a string`);
  return v;
}

export const DECIMAL = /^-?\d+$/;

/** A 64-bit integer field: a JSON number or a decimal string (proto3 JSON allows both). */
export function integer(v: unknown, at: string): bigint {
  if (!present(v)) return 0n;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && DECIMAL.test(v)) return BigInt(v);
  return fail(`${at} must be an integer (number or decimal string)`);
}

export function signed64(v: bigint, at: string): bigint {
  if (v !== BigInt.asIntN(64, v)) fail(`${at} is out of range for int64`);
  return v;
}

export function uint32(v: unknown, at: string): number {
  const n = integer(v, at);
  if (n < 0n || n > 0xffffffffn) fail(`${at} is out of range for uint32`);
  return Number(n);
}

export function double(v: unknown, at: string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return fail(`${at} must be a number`);
}

export function enumValue(v: unknown, names: Record<string, number>, at: string): number {
  if (!present(v)) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && Object.hasOwn(names, v)) return names[v]!;
  return fail(`${at} must be an enum integer`);
}

const HEX = /^[0-9a-fA-F]*$/;

export function hexId(v: unknown, length: number, at: string): string {
  if (typeof v !== 'string' || v.length !== length || !HEX.test(v)) fail(`${at} must be ${length} hex digits`);
  return v.toLowerCase();
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Normalised to standard padded base64, whichever alphabet the sender used. */
export function base64(v: unknown, at: string): string {
  if (typeof v !== 'string' || !BASE64.test(v)) fail(`${at} must be base64`);
  return Buffer.from(v, 'base64').toString('base64');
}
