import type { KeyObject } from 'node:crypto';
import { keyId } from '@tooltrail/core/integrity';
import * as sc from '@tooltrail/core/semconv';
import type { TrailSpan } from '../trail/record.js';
import { FindingCollector, plainFinding, rangeFinding, type Finding } from './findings.js';
import { finishStream, type StreamReport } from './stream-checks.js';
import { StreamState } from './stream-state.js';

/**
 * Verifies a trail as it streams by, one span at a time, in whatever order storage returns
 * them. Memory: what stream-state.ts keeps per stream (a fingerprint per record), never the
 * records themselves.
 */

export interface VerifyOptions {
  /** Public keys that may sign checkpoints. With any given, every checkpoint must carry a valid signature by one of them. */
  publicKeys?: KeyObject[];
  /** The integrity (MAC) key. With it, every record must carry a valid `tooltrail.mac`. */
  macKey?: Buffer | string;
  /** A stream still being written: no stream-end checkpoint and an unchecked tail are not findings. */
  allowOpen?: boolean;
  /** Verify only this stream. */
  stream?: string;
  /** Verify only the streams holding a record of this run (`tooltrail.run.id`). */
  run?: string;
  /**
   * The time range the source covers (ms since the epoch), for telling a deleted stream from one
   * that lies outside what was read; default: from the earliest to the latest record read.
   */
  window?: { from: number; to: number };
}

export interface VerifyEntry {
  span: TrailSpan;
  /** The writer the collector authenticated the line's request as. */
  writer?: string | undefined;
  /** Where the line was read: `file:line`, or the trace and span id from a query API. */
  where?: string | undefined;
}

export interface VerifyReport {
  streams: StreamReport[];
  /** Findings about the trail rather than one stream (unchained spans, a deleted stream, ...). */
  trailFindings: Finding[];
  /** Every finding: the trail's and the streams'. */
  findings: number;
  /** Things worth knowing that are not findings. */
  notes: string[];
  /** Spans read that carry no integrity attributes. */
  unchainedSpans: number;
  /** Chained records read (with duplicates), checkpoints read. */
  records: number;
  checkpoints: number;
  /** Spans of other streams, skipped by --stream or --run. */
  skipped: number;
  /** Signatures were checked, and every reported stream is covered by verified signatures with no finding. */
  authenticated: boolean;
}

/** Streams tracked at most (each costs a few hundred bytes before its records). */
export const MAX_STREAMS = 1_000_000;
/** A stream id as auditors write it: a UUID; anything printable up to this length is accepted. */
const STREAM_ID = /^[\x21-\x7e]{1,128}$/;

export class TrailVerifier {
  private readonly streams = new Map<string, StreamState>();
  /** Ids of every stream seen, selected or not: a predecessor read is not a missing one. */
  private readonly seenIds = new Set<string>();
  private readonly unchained = new FindingCollector();
  private readonly badStreamId = new FindingCollector();
  private streamsOverLimit = 0;
  private records = 0;
  private checkpoints = 0;
  private skipped = 0;
  private minTime = Infinity;
  private maxTime = -Infinity;
  private readonly keys: Map<string, KeyObject>;

  constructor(private readonly o: VerifyOptions = {}) {
    this.keys = new Map((o.publicKeys ?? []).map((k) => [keyId(k), k] as const));
  }

  add(e: VerifyEntry): void {
    const span = e.span;
    const id = span.attributes[sc.ATTR_STREAM_ID];
    if (id === undefined) {
      this.unchained.note(e.where);
      return;
    }
    if (typeof id !== 'string' || !STREAM_ID.test(id)) {
      this.badStreamId.note(e.where);
      return;
    }
    this.seenIds.add(id);
    const isCheckpoint = span.name === sc.SPAN_NAME_CHECKPOINT;
    if (isCheckpoint) this.checkpoints++;
    else {
      this.records++;
      const t = Number(span.startTimeUnixNano) / 1e6;
      if (Number.isFinite(t)) {
        if (t < this.minTime) this.minTime = t;
        if (t > this.maxTime) this.maxTime = t;
      }
    }
    if (this.o.stream !== undefined && id !== this.o.stream) {
      this.skipped++;
      return;
    }
    let s = this.streams.get(id);
    if (!s) {
      if (this.streams.size >= MAX_STREAMS) {
        this.streamsOverLimit++;
        return;
      }
      s = new StreamState(id, { macKey: this.o.macKey, run: this.o.run });
      this.streams.set(id, s);
    }
    if (isCheckpoint) s.addCheckpoint(span, e.where, e.writer);
    else s.addRecord(span, e.where, e.writer);
  }

  finish(): VerifyReport {
    const check = { keys: this.keys, macChecked: this.o.macKey !== undefined, allowOpen: this.o.allowOpen === true };
    const trailFindings: Finding[] = [];
    const notes: string[] = [];
    let reports: StreamReport[] = [];
    for (const s of this.streams.values()) reports.push(finishStream(s, check));
    if (this.o.run !== undefined) {
      const all = reports.length;
      reports = reports.filter((r) => r.run !== undefined);
      this.skipped += all - reports.length;
    }
    reports.sort((x, y) => (x.streamId < y.streamId ? -1 : x.streamId > y.streamId ? 1 : 0));

    if (!this.unchained.empty) {
      trailFindings.push(rangeFinding('unchained-span', this.unchained, `${this.unchained.events} span(s) without integrity attributes (no tooltrail.stream.id): not written by an auditor with the chain on, so nothing vouches for them`));
    }
    if (!this.badStreamId.empty) {
      trailFindings.push(rangeFinding('bad-stream-id', this.badStreamId, `${this.badStreamId.events} span(s) whose tooltrail.stream.id is not a string of 1-128 printable characters (forged or damaged)`));
    }
    if (this.streamsOverLimit > 0) {
      trailFindings.push(plainFinding('limit-exceeded', `${this.streamsOverLimit} span(s) of streams beyond the first ${MAX_STREAMS} were not checked`, this.streamsOverLimit));
    }
    this.lineage(reports, trailFindings, notes);
    if (reports.length === 0) {
      if (this.o.stream !== undefined) trailFindings.push(plainFinding('not-found', `no stream ${this.o.stream} in the trail`));
      else if (this.o.run !== undefined) trailFindings.push(plainFinding('not-found', `no record of run ${this.o.run} in the trail`));
      else trailFindings.push(plainFinding('no-streams', 'no tooltrail streams found: nothing to verify'));
    }
    const findings = trailFindings.length + reports.reduce((n, r) => n + r.findings.length, 0);
    return {
      streams: reports,
      trailFindings,
      findings,
      notes,
      unchainedSpans: this.unchained.events,
      records: this.records,
      checkpoints: this.checkpoints,
      skipped: this.skipped,
      authenticated: this.keys.size > 0 && findings === 0 && reports.every((r) => r.authenticated),
    };
  }

  /**
   * Contract B: a stream start names the stream its lineage file named before it. A predecessor
   * absent from what was read is a deleted stream when it started inside the range read; one
   * that started before it simply lies outside what was read.
   */
  private lineage(reports: StreamReport[], findings: Finding[], notes: string[]): void {
    const from = this.o.window?.from ?? this.minTime;
    const to = this.o.window?.to ?? this.maxTime;
    for (const r of reports) {
      const prev = r.start?.prevId;
      if (prev === undefined || this.seenIds.has(prev)) continue;
      const at = r.start?.prevStartedAt;
      const t = at === undefined ? NaN : Date.parse(at);
      const lineage = r.start?.lineage ?? '(no lineage)';
      if (Number.isNaN(t) || (t >= from && t <= to)) {
        findings.push(
          plainFinding(
            'stream-missing',
            `stream ${prev} of lineage ${lineage}, started ${at ?? '(no start time)'}, is named by stream ${r.streamId} as the stream before it, but none of its records is in the trail: deleted (or never delivered)`,
          ),
        );
      } else {
        notes.push(`stream ${r.streamId} continues stream ${prev} (lineage ${lineage}), which started ${at} outside the range read; it was not checked`);
      }
    }
  }
}

/** Verifies a collection of spans at once (the library call; the command streams). */
export function verifySpans(spans: Iterable<TrailSpan>, options: VerifyOptions = {}): VerifyReport {
  const v = new TrailVerifier(options);
  for (const span of spans) v.add({ span });
  return v.finish();
}
