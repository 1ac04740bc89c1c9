import { randomUUID, sign, type KeyObject } from 'node:crypto';
import { SpanKind, type Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { RecordStage } from '../contract/record-sink.js';
import * as sc from '../contract/semconv.js';
import type { AuditTracer } from '../tracing/audit-tracer.js';
import { canonicalCheckpointJson, canonicalHash, GENESIS_HASH, recordMac, type CheckpointContent } from './canonical.js';
import { keyId } from './keys.js';
import { spanCanonicalJson } from './span-record.js';

export interface IntegrityOptions {
  /** HMAC key for `tooltrail.mac` (not the masking key). Default: TOOLTRAIL_INTEGRITY_KEY, else no MAC. */
  macKey?: string | Buffer;
  /** Ed25519 private key (KeyObject, PEM text or a PEM file path) that signs checkpoints. Default: TOOLTRAIL_SIGNING_KEY_FILE, else unsigned checkpoints. */
  signingKey?: KeyObject | string;
  /** A checkpoint after this many records. Default 1000. */
  checkpointEvery?: number;
  /** And at least this often while records come in. Default 10 000 ms. */
  checkpointIntervalMs?: number;
  /**
   * The stream lineage file (docs/integrity.md): each new stream names the one before it, so a
   * stream deleted whole is visible. Default: `<spoolDir>/<namespace>.lineage.json` with the
   * built-in exporter; with a custom exporter only when given here (otherwise every stream
   * starts a lineage of its own).
   */
  lineageFile?: string;
}

/** Where a stream comes from: its lineage and the stream before it in that lineage. */
export interface StreamOrigin {
  readonly lineage: string;
  readonly prevId?: string | undefined;
  readonly prevStartedAt?: string | undefined;
}

/**
 * The integrity chain: every record the auditor finishes gets a gapless sequence number in
 * its stream, the previous record's hash and its own (and a MAC when a key is set), assigned
 * in the order records finish. Seq 1 is the stream-start record. Checkpoints summarise ranges
 * of the chain: one is written right after the record that makes `checkpointEvery` records
 * due, synchronously in the record path (a loop that never yields still gets one every N
 * records; signing costs ~40 µs once per N records), one every `checkpointIntervalMs` while
 * records come in, and the final one when the stream ends.
 */
export class IntegrityChain implements RecordStage {
  readonly streamId = randomUUID();
  private seq = 0;
  private prevHash = GENESIS_HASH;
  private checkpointedThrough = 0;
  private checkpointIndex = 0;
  private prevSignature = '';
  /** `checkpointEvery` records since the last checkpoint: one is written once the record is stored. */
  private due = false;
  /** The seq that makes the next count checkpoint due (the signed stream start does not move it). */
  private dueAt: number;
  private started = false;
  private ended = false;
  private timer: NodeJS.Timeout | undefined;
  private tracer: AuditTracer | undefined;
  private readonly signingKeyId: string | undefined;

  constructor(
    private readonly macKey: Buffer | string | undefined,
    private readonly signingKey: KeyObject | undefined,
    private readonly every: number,
    intervalMs: number,
  ) {
    this.signingKeyId = signingKey ? keyId(signingKey) : undefined;
    this.dueAt = every;
    if (intervalMs > 0) {
      this.timer = setInterval(() => {
        if (this.seq > this.checkpointedThrough) this.checkpoint(false);
      }, intervalMs);
      this.timer.unref();
    }
  }

  /** The tracer checkpoints are written with (the auditor's own, set once it exists). */
  attach(tracer: AuditTracer): void {
    this.tracer = tracer;
  }

  process(record: ReadableSpan): ReadableSpan {
    if (record.name === sc.SPAN_NAME_CHECKPOINT) return record;
    // Audit spans are ours (telemetry/audit-span.ts): their attribute object stays writable
    // after end, which is what lets the chain extend a finished record in place.
    const attrs = record.attributes as Attributes;
    attrs[sc.ATTR_STREAM_ID] = this.streamId;
    attrs[sc.ATTR_SEQ] = ++this.seq;
    attrs[sc.ATTR_PREV_HASH] = this.prevHash;
    const hash = canonicalHash(spanCanonicalJson(record));
    attrs[sc.ATTR_HASH] = hash;
    if (this.macKey !== undefined) attrs[sc.ATTR_MAC] = recordMac(this.macKey, hash);
    this.prevHash = hash;
    if (this.seq >= this.dueAt) this.due = true;
    return record;
  }

  /**
   * Called once a record went through the pipeline into the sink: writes the checkpoint that
   * record made due, so it lands after the records it covers.
   */
  afterRecord(): void {
    if (!this.due) return;
    this.due = false;
    this.checkpoint(false);
  }

  /**
   * Writes the stream-start record (seq 1): when and where the stream began, and the stream
   * before it in its lineage. Called once, right after the auditor's tracer is attached.
   */
  start(origin: StreamOrigin, startedAt: string): void {
    if (this.started || this.tracer === undefined) return;
    this.started = true;
    const attrs: Attributes = {
      [sc.ATTR_STREAM_STARTED_AT]: startedAt,
      [sc.ATTR_STREAM_LINEAGE]: origin.lineage,
    };
    if (origin.prevId !== undefined) {
      attrs[sc.ATTR_STREAM_PREV_ID] = origin.prevId;
      if (origin.prevStartedAt !== undefined) attrs[sc.ATTR_STREAM_PREV_STARTED_AT] = origin.prevStartedAt;
    }
    this.tracer.startOwned(sc.SPAN_NAME_STREAM_START, SpanKind.INTERNAL, attrs, undefined).end();
    // Signed at once: a stream start only the key holder could have written. Without it a
    // live stream checked before its first checkpoint looks exactly like a forged one.
    if (this.signingKey !== undefined) this.checkpoint(false, false);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Writes the stream-end checkpoint, so a verifier can tell a complete stream from a cut one. */
  end(): void {
    if (this.ended) return;
    this.checkpoint(true);
    this.ended = true;
    if (this.timer) clearInterval(this.timer);
  }

  private checkpoint(final: boolean, resetCount = true): void {
    if (this.ended || this.tracer === undefined) return;
    this.due = false;
    if (resetCount) this.dueAt = this.seq + this.every;
    const content: CheckpointContent = {
      streamId: this.streamId,
      index: ++this.checkpointIndex,
      seqStart: this.checkpointedThrough + 1,
      seqEnd: this.seq,
      lastHash: this.prevHash,
      prevSignature: this.prevSignature,
      final,
    };
    const attrs: Attributes = {
      [sc.ATTR_STREAM_ID]: content.streamId,
      [sc.ATTR_CHECKPOINT_INDEX]: content.index,
      [sc.ATTR_CHECKPOINT_SEQ_START]: content.seqStart,
      [sc.ATTR_CHECKPOINT_SEQ_END]: content.seqEnd,
      [sc.ATTR_CHECKPOINT_LAST_HASH]: content.lastHash,
      [sc.ATTR_CHECKPOINT_PREV_SIGNATURE]: content.prevSignature,
      [sc.ATTR_CHECKPOINT_FINAL]: final,
    };
    if (this.signingKey !== undefined) {
      const signature = sign(null, Buffer.from(canonicalCheckpointJson(content)), this.signingKey).toString('base64');
      attrs[sc.ATTR_CHECKPOINT_SIGNATURE] = signature;
      attrs[sc.ATTR_CHECKPOINT_KEY_ID] = this.signingKeyId as string;
      this.prevSignature = signature;
    } else {
      // Unsigned checkpoints still chain: each names the last hash of the one before.
      this.prevSignature = content.lastHash;
    }
    this.checkpointedThrough = this.seq;
    this.tracer.startOwned(sc.SPAN_NAME_CHECKPOINT, SpanKind.INTERNAL, attrs, undefined).end();
  }
}
