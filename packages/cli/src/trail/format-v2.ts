import type { TrailAttributes, TrailScope } from './record.js';

/**
 * The trail's line format, version 2 (docs/collector.md, "Line format v2"). Every line is a
 * JSON object that begins `{"v":2,"t":"<type>","n":<n>,"p":"<hex>"`: `n` numbers the lines of
 * one collector run (its chain) from 1, and `p` is the SHA-256 of the previous line's exact
 * bytes (without its `\n`), so the chain needs no canonical form: whoever changes a byte of a
 * line breaks the next line's `p`. `seal` lines sign the chain's head with the collector's key.
 * The writer and the reader both use this module; nothing else builds or parses these lines.
 */

export const LINE_VERSION = 2;

/** `p` of a chain's first line when nothing came before it. */
export const GENESIS_HASH = '0'.repeat(64);

/** Why a seal was written. `rotate` and `close` end a file; `close` ends the collector's run. */
export type SealReason = 'count' | 'time' | 'rotate' | 'close';
export const SEAL_REASONS: readonly SealReason[] = ['count', 'time', 'rotate', 'close'];

export interface ChainFields {
  v: 2;
  /** Line number within the collector's run (its chain), from 1. */
  n: number;
  /** SHA-256 (hex) of the previous line's bytes, or of the line this chain continues. */
  p: string;
}

/** What a run's first file continues: the last complete line found in the folder at start. */
export interface PrevLink {
  /** File name (no folder). */
  file: string;
  /** That line's `n` when it was a v2 line. */
  n?: number;
  /** That line's chain id when it was a v2 line. */
  chain?: string;
}

export interface OpenLine extends ChainFields {
  t: 'open';
  /** Random id of the collector's run, 32 hex digits. */
  chain: string;
  /** Index of this file within the run, from 1. */
  file: number;
  /** When the file was opened, ISO 8601 UTC. */
  at: string;
  /** Key id of the collector's seal key; absent when it runs without one (unsealed). */
  key?: string;
  /** The file (and line) this one continues; absent only for a folder's first file. */
  prev?: PrevLink;
}

export interface ResourceLine extends ChainFields {
  t: 'resource';
  /** Index of this resource within its request, from 0; 0 starts a new request. */
  r: number;
  /** The writer the request authenticated as; absent when the collector takes any writer. */
  writer?: string;
  /** When the collector received the request, ISO 8601 UTC with milliseconds. */
  receivedAt: string;
  resource: TrailAttributes;
  resourceDroppedAttributesCount?: number;
  resourceSchemaUrl?: string;
  /** The instrumentation scopes of this resource's spans; spans name theirs by index `s`. */
  scopes: TrailScope[];
}

/** A span line: the v1 span fields without `resource*`, `scope` and `receivedAt`. */
export interface SpanLine extends ChainFields {
  t: 'span';
  r: number;
  s: number;
  [field: string]: unknown;
}

export interface SealLine extends ChainFields {
  t: 'seal';
  chain: string;
  why: SealReason;
  /** When the seal was made, ISO 8601 UTC with milliseconds. */
  at: string;
  /** Key id of the key that signed; absent (with `sig`) when the collector has no seal key. */
  key?: string;
  /** Ed25519 signature of `sealMessage(...)`, base64. */
  sig?: string;
}

export type V2Line = OpenLine | ResourceLine | SpanLine | SealLine;

/** The bytes a seal signs: every field that gives the seal its meaning, space separated. */
export function sealMessage(s: { chain: string; n: number; p: string; why: SealReason; at: string }): Buffer {
  return Buffer.from(`tooltrail-seal-v2 ${s.chain} ${s.n} ${s.p} ${s.why} ${s.at}`, 'utf8');
}

/**
 * A line from its type, chain fields and the rest of its fields. The chain fields come first
 * (in this order) so a reader of a huge line finds them in its first bytes.
 */
export function formatLine(t: V2Line['t'], n: number, p: string, rest: Record<string, unknown>): string {
  const tail = JSON.stringify(rest);
  const head = `{"v":2,"t":"${t}","n":${n},"p":"${p}"`;
  return tail === '{}' ? `${head}}` : `${head},${tail.slice(1)}`;
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX32 = /^[0-9a-f]{32}$/;
const KEY_ID = /^[0-9a-f]{16}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Checks a parsed JSON value that says `"v":2`. Returns the typed line, or why it is not a
 * valid v2 line (the reader reports that as a malformed line).
 */
export function parseV2(value: Record<string, unknown>): V2Line | string {
  const { t, n, p } = value;
  if (!isCount(n) || n < 1) return 'its "n" is not a positive integer';
  if (typeof p !== 'string' || !HEX64.test(p)) return 'its "p" is not 64 hex digits';
  switch (t) {
    case 'open': {
      const v = value as Partial<OpenLine>;
      if (typeof v.chain !== 'string' || !HEX32.test(v.chain)) return 'open line without a valid "chain"';
      if (!isCount(v.file) || v.file < 1) return 'open line without a valid "file" index';
      if (typeof v.at !== 'string' || !ISO.test(v.at)) return 'open line without a valid "at"';
      if (v.key !== undefined && (typeof v.key !== 'string' || !KEY_ID.test(v.key))) return 'open line with an invalid "key"';
      if (v.prev !== undefined) {
        const prev = v.prev as unknown;
        if (!isObject(prev) || typeof prev.file !== 'string') return 'open line with an invalid "prev"';
        if (prev.n !== undefined && !isCount(prev.n)) return 'open line with an invalid "prev.n"';
        if (prev.chain !== undefined && (typeof prev.chain !== 'string' || !HEX32.test(prev.chain))) return 'open line with an invalid "prev.chain"';
      }
      return value as unknown as OpenLine;
    }
    case 'resource': {
      const v = value as Partial<ResourceLine>;
      if (!isCount(v.r)) return 'resource line without a valid "r"';
      if (typeof v.receivedAt !== 'string') return 'resource line without "receivedAt"';
      if (v.writer !== undefined && typeof v.writer !== 'string') return 'resource line with an invalid "writer"';
      if (!isObject(v.resource)) return 'resource line without "resource"';
      if (!Array.isArray(v.scopes) || !v.scopes.every(isObject)) return 'resource line without "scopes"';
      return value as unknown as ResourceLine;
    }
    case 'span': {
      if (!isCount(value.r) || !isCount(value.s)) return 'span line without valid "r" and "s"';
      return value as unknown as SpanLine;
    }
    case 'seal': {
      const v = value as Partial<SealLine>;
      if (typeof v.chain !== 'string' || !HEX32.test(v.chain)) return 'seal line without a valid "chain"';
      if (typeof v.why !== 'string' || !SEAL_REASONS.includes(v.why)) return 'seal line without a valid "why"';
      if (typeof v.at !== 'string' || !ISO.test(v.at)) return 'seal line without a valid "at"';
      if ((v.key === undefined) !== (v.sig === undefined)) return 'seal line with only one of "key" and "sig"';
      if (v.key !== undefined && (typeof v.key !== 'string' || !KEY_ID.test(v.key))) return 'seal line with an invalid "key"';
      if (v.sig !== undefined && typeof v.sig !== 'string') return 'seal line with an invalid "sig"';
      return value as unknown as SealLine;
    }
    default:
      return `unknown line type ${JSON.stringify(t)}`;
  }
}

/** Span fields that are not the span's own (chain fields and references). */
export const SPAN_LINE_META: ReadonlySet<string> = new Set(['v', 't', 'n', 'p', 'r', 's']);
