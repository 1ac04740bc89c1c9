import { sign, type KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { canonicalCheckpointJson, GENESIS_HASH, recordHash, recordMac } from '@tooltrail/core';
import type { TrailRecord } from '../src/trail/record.js';
import { trailToCanonical } from '../src/verify/to-canonical.js';

/**
 * Crafted trails for verify's tests: streams built the way an auditor builds them (stream start
 * at seq 1, hash chain, MACs, signed checkpoints), as v1 trail lines, so each test can then
 * forge, cut or edit exactly what it means to.
 */

export interface CraftOptions {
  streamId: string;
  service?: string;
  /** Records after the stream start (the stream has records + 1 chained records). */
  records: number;
  macKey?: string;
  signingKey?: KeyObject;
  signingKeyId?: string;
  checkpointEvery?: number;
  /** Write the stream-end checkpoint. Default true. */
  end?: boolean;
  /** Omit the stream start: seq 1 is an ordinary record (a trail written before stream starts). */
  noStart?: boolean;
  lineage?: string;
  prevId?: string;
  prevStartedAt?: string;
  /** Stream start time, ms since the epoch. Default 2026-11-21T00:00:00Z. */
  startMs?: number;
  runId?: string;
  /** Extra attribute bytes per record (to make big trails). */
  pad?: number;
  /** The trace id of the record at `seq` (default: one trace per record). */
  traceOf?: (seq: number) => string;
}

const BASE_MS = Date.UTC(2026, 10, 21);

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0').slice(-width);

function ns(ms: number): string {
  return `${BigInt(Math.round(ms * 1000)) * 1000n}`;
}

export function baseRecord(streamId: string, service: string, seq: number, startMs: number): TrailRecord {
  const t = startMs + seq * 10;
  return {
    receivedAt: new Date(t + 5).toISOString(),
    resource: { 'service.name': service },
    scope: { name: 'tooltrail', version: '0.1.0' },
    traceId: hex(seq + 0xabc0000, 32),
    spanId: hex(seq + 0x10000, 16),
    name: 'execute_tool step',
    kind: 1,
    startTimeUnixNano: ns(t),
    endTimeUnixNano: ns(t + 2),
    attributes: {},
    events: [],
    links: [],
    status: { code: 1 },
  };
}

/** Recomputes a record's hash (and its MAC with a key; without one the old MAC stays) after an edit. */
export function rehash(r: TrailRecord, macKey?: string): TrailRecord {
  const hash = recordHash(trailToCanonical(r));
  r.attributes['tooltrail.hash'] = hash;
  if (macKey) r.attributes['tooltrail.mac'] = recordMac(macKey, hash);
  return r;
}

export interface CpFields {
  streamId: string;
  index: number;
  seqStart: number;
  seqEnd: number;
  lastHash: string;
  prevSignature: string;
  final: boolean;
}

export function checkpointRecord(service: string, c: CpFields, key: KeyObject | undefined, keyIdValue: string | undefined, startMs: number): TrailRecord {
  const r = baseRecord(c.streamId, service, c.seqEnd, startMs);
  r.name = 'tooltrail.checkpoint';
  r.spanId = hex(c.index + 0x900000, 16);
  r.traceId = hex(c.index + 0xcc00000, 32);
  r.attributes = {
    'tooltrail.stream.id': c.streamId,
    'tooltrail.checkpoint.index': c.index,
    'tooltrail.checkpoint.seq_start': c.seqStart,
    'tooltrail.checkpoint.seq_end': c.seqEnd,
    'tooltrail.checkpoint.last_hash': c.lastHash,
    'tooltrail.checkpoint.prev_signature': c.prevSignature,
    'tooltrail.checkpoint.final': c.final,
  };
  if (key) {
    r.attributes['tooltrail.checkpoint.signature'] = sign(null, Buffer.from(canonicalCheckpointJson(c)), key).toString('base64');
    r.attributes['tooltrail.checkpoint.key_id'] = keyIdValue as string;
  }
  return r;
}

/** One stream as an auditor would write it: records and checkpoints, in the order written. */
export function craftStream(o: CraftOptions): TrailRecord[] {
  const service = o.service ?? 'crafted-agent';
  const startMs = o.startMs ?? BASE_MS;
  const out: TrailRecord[] = [];
  const every = o.checkpointEvery ?? 5;
  let prevHash = GENESIS_HASH;
  let checkpointed = 0;
  let index = 0;
  let prevSignature = '';
  const checkpoint = (seqEnd: number, final: boolean) => {
    const c: CpFields = { streamId: o.streamId, index: ++index, seqStart: checkpointed + 1, seqEnd, lastHash: prevHash, prevSignature, final };
    const r = checkpointRecord(service, c, o.signingKey, o.signingKeyId, startMs);
    prevSignature = (r.attributes['tooltrail.checkpoint.signature'] as string | undefined) ?? c.lastHash;
    checkpointed = seqEnd;
    out.push(r);
  };
  const total = o.records + (o.noStart ? 0 : 1);
  for (let seq = 1; seq <= total; seq++) {
    const r = baseRecord(o.streamId, service, seq, startMs);
    if (o.traceOf) r.traceId = o.traceOf(seq);
    if (seq === 1 && !o.noStart) {
      r.name = 'tooltrail.stream_start';
      r.attributes['tooltrail.stream.started_at'] = new Date(startMs).toISOString();
      r.attributes['tooltrail.stream.lineage'] = o.lineage ?? `lineage-of-${o.streamId}`;
      if (o.prevId !== undefined) {
        r.attributes['tooltrail.stream.prev_id'] = o.prevId;
        r.attributes['tooltrail.stream.prev_started_at'] = o.prevStartedAt ?? new Date(startMs - 60_000).toISOString();
      }
    } else {
      r.attributes['gen_ai.tool.name'] = 'step';
      r.attributes['tooltrail.outcome'] = 'ok';
      if (o.runId !== undefined) r.attributes['tooltrail.run.id'] = o.runId;
      if (o.pad) r.attributes['gen_ai.tool.call.result'] = 'x'.repeat(o.pad);
    }
    r.attributes['tooltrail.stream.id'] = o.streamId;
    r.attributes['tooltrail.seq'] = seq;
    r.attributes['tooltrail.prev_hash'] = prevHash;
    rehash(r, o.macKey);
    prevHash = r.attributes['tooltrail.hash'] as string;
    out.push(r);
    if (seq - checkpointed >= every) checkpoint(seq, false);
  }
  if (o.end !== false) checkpoint(total, true);
  return out;
}

export const toLine = (r: TrailRecord) => JSON.stringify(r);
export const clone = (r: TrailRecord) => JSON.parse(JSON.stringify(r)) as TrailRecord;
export const isCheckpoint = (r: TrailRecord) => r.name === 'tooltrail.checkpoint';
export const seqOf = (r: TrailRecord) => r.attributes['tooltrail.seq'];
export const indexOf = (r: TrailRecord) => r.attributes['tooltrail.checkpoint.index'];

/** Writes lines as one collector file in `dir` (v1 lines). */
export function writeTrailFile(dir: string, lines: string[], name = 'spans-20261121T000000-1-1.jsonl'): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
  return file;
}

type AnyValue = Record<string, unknown>;

function anyValue(v: unknown): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  return {};
}

const keyValues = (attrs: Record<string, unknown>) => Object.entries(attrs).map(([key, value]) => ({ key, value: anyValue(value) }));

/** Stored records back to an OTLP/JSON request, one resource per service, as an exporter would POST them. */
export function toOtlpJson(records: TrailRecord[]): string {
  const byService = new Map<string, TrailRecord[]>();
  for (const r of records) {
    const s = String(r.resource['service.name']);
    byService.set(s, [...(byService.get(s) ?? []), r]);
  }
  return JSON.stringify({
    resourceSpans: [...byService].map(([service, rs]) => ({
      resource: { attributes: keyValues({ 'service.name': service }) },
      scopeSpans: [
        {
          scope: { name: rs[0]!.scope.name, version: rs[0]!.scope.version },
          spans: rs.map((r) => ({
            traceId: r.traceId,
            spanId: r.spanId,
            ...(r.parentSpanId ? { parentSpanId: r.parentSpanId } : {}),
            name: r.name,
            kind: r.kind,
            startTimeUnixNano: r.startTimeUnixNano,
            endTimeUnixNano: r.endTimeUnixNano,
            attributes: keyValues(r.attributes),
            events: r.events.map((e) => ({ name: e.name, timeUnixNano: e.timeUnixNano, attributes: keyValues(e.attributes) })),
            status: r.status,
          })),
        },
      ],
    })),
  });
}
