import { randomUUID, sign, type KeyObject } from 'node:crypto';
import { SpanKind, type Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { RecordStage } from '../export/record-pipeline.js';
import * as sc from '../semconv.js';
import type { AuditTracer } from '../telemetry/audit-tracer.js';
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
}

/**
 * The integrity chain: every record the auditor finishes gets a gapless sequence number in
 * its stream, the previous record's hash and its own (and a MAC when a key is set), assigned
 * in the order records finish. Checkpoints summarise ranges of the chain and are signed off the
 * per-call path (a timer or an immediate callback, never inside a call).
 */
export class IntegrityChain implements RecordStage {
  readonly streamId = randomUUID();
  private seq = 0;
  private prevHash = GENESIS_HASH;
  private checkpointedThrough = 0;
  private checkpointIndex = 0;
  private prevSignature = '';
  private pendingCheckpoint = false;
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
    if (this.seq - this.checkpointedThrough >= this.every && !this.pendingCheckpoint) {
      this.pendingCheckpoint = true;
      setImmediate(() => {
        this.pendingCheckpoint = false;
        if (this.seq - this.checkpointedThrough >= this.every) this.checkpoint(false);
      });
    }
    return record;
  }

  /** Writes the stream-end checkpoint, so a verifier can tell a complete stream from a cut one. */
  end(): void {
    if (this.ended) return;
    this.checkpoint(true);
    this.ended = true;
    if (this.timer) clearInterval(this.timer);
  }

  private checkpoint(final: boolean): void {
    if (this.ended || this.tracer === undefined) return;
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
