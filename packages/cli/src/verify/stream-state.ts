import { GENESIS_HASH, recordHash, recordMac, type CheckpointContent } from '@tooltrail/core/integrity';
import * as sc from '@tooltrail/core/semconv';
import type { TrailSpan } from '../trail/record.js';
import { FindingCollector } from './findings.js';
import { F_HASH_OK, F_STREAM_START, fingerprint, SeqTable } from './seq-table.js';
import { trailToCanonical } from './to-canonical.js';

/**
 * What verify keeps about one stream while the trail streams by: a fingerprint per sequence
 * number (seq-table.ts), the links still waiting for a predecessor, the checkpoints, the writers
 * and the stream start. Checks that need one record (hash, MAC, link to a neighbour already
 * seen, duplicate or conflict) run as it arrives; the rest runs in stream-checks.ts at the end.
 */

// Contract B (docs/integrity.md, "Stream start and lineage"): the names come from core's semconv.
const { SPAN_NAME_STREAM_START, ATTR_STREAM_STARTED_AT, ATTR_STREAM_LINEAGE, ATTR_STREAM_PREV_ID, ATTR_STREAM_PREV_STARTED_AT } = sc;

/** Checkpoints kept per stream; a forger could write any number. */
export const MAX_CHECKPOINTS = 1_000_000;
/** Distinct writer names kept per stream (more are counted, not named). */
const MAX_WRITERS = 8;
/** Writer of lines stored without one (v1 lines, a collector that takes any writer, query APIs). */
export const NO_WRITER = '';

/** A checkpoint as read: what its signature covers (the stream id is the stream's), and the signature. */
export interface Checkpoint extends Omit<CheckpointContent, 'streamId'> {
  signature: string | undefined;
  keyId: string | undefined;
}

export interface StreamStart {
  startedAt: string | undefined;
  lineage: string | undefined;
  prevId: string | undefined;
  prevStartedAt: string | undefined;
}

export interface StateOptions {
  macKey?: Buffer | string | undefined;
  /** Only records of this run are counted in `runSeqs` (verify --run). */
  run?: string | undefined;
}

/** An identical copy (at-least-once delivery), not a different checkpoint under the same index. */
function sameCheckpoint(a: Checkpoint, b: Checkpoint): boolean {
  return (
    a.seqStart === b.seqStart &&
    a.seqEnd === b.seqEnd &&
    a.lastHash === b.lastHash &&
    a.prevSignature === b.prevSignature &&
    a.final === b.final &&
    a.signature === b.signature &&
    a.keyId === b.keyId
  );
}

const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const optString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export class StreamState {
  readonly table = new SeqTable();
  /** seq -> fingerprint of its prev_hash, for records whose predecessor was not seen yet. */
  private waiting: Map<number, string> | undefined;
  readonly checkpoints = new Map<number, Checkpoint>();
  readonly writers = new Map<string, number>();
  otherWriters = 0;
  /** service.name values seen (the resource is not covered by the chain); at most MAX_WRITERS kept. */
  readonly services = new Set<string>();
  duplicates = 0;
  checkpointDuplicates = 0;
  start: StreamStart | undefined;
  service: string | undefined;

  readonly badSeq = new FindingCollector();
  readonly hashBad = new FindingCollector();
  readonly linkBad = new FindingCollector();
  readonly conflicts = new FindingCollector();
  readonly macBad = new FindingCollector();
  readonly macMissing = new FindingCollector();
  readonly misplacedStart = new FindingCollector();
  readonly badCheckpoint = new FindingCollector();
  readonly checkpointConflicts = new FindingCollector();
  readonly runSeqs = new FindingCollector();
  /** Records or checkpoints not kept because a limit was reached. */
  overLimit = 0;

  constructor(
    readonly streamId: string,
    private readonly o: StateOptions,
  ) {}

  private noteWriter(writer: string | undefined): void {
    const w = writer ?? NO_WRITER;
    const n = this.writers.get(w);
    if (n !== undefined) this.writers.set(w, n + 1);
    else if (this.writers.size < MAX_WRITERS) this.writers.set(w, 1);
    else this.otherWriters++;
  }

  private noteService(span: TrailSpan): void {
    const name = span.resource['service.name'];
    const service = typeof name === 'string' ? name : '';
    if (this.service === undefined) this.service = service === '' ? undefined : service;
    if (this.services.size < MAX_WRITERS) this.services.add(service);
  }

  addRecord(span: TrailSpan, where: string | undefined, writer: string | undefined): void {
    this.noteWriter(writer);
    this.noteService(span);
    const a = span.attributes;
    const seq = a[sc.ATTR_SEQ];
    if (!isSeq(seq)) {
      this.badSeq.note(where);
      return;
    }
    const claimed = a[sc.ATTR_HASH];
    const computed = recordHash(trailToCanonical(span));
    const hashOk = claimed === computed;
    const fp = fingerprint(claimed);
    const mac = a[sc.ATTR_MAC];
    if (this.o.macKey !== undefined) {
      if (typeof mac !== 'string') this.macMissing.add(seq, where);
      else if (typeof claimed !== 'string' || mac !== recordMac(this.o.macKey, claimed)) this.macBad.add(seq, where);
    }
    if (this.o.run !== undefined && a[sc.ATTR_RUN_ID] === this.o.run) this.runSeqs.add(seq);

    const seen = this.table.flags(seq);
    if (seen >= 0) {
      // A second copy: identical (at-least-once delivery) only when both hash what they claim
      // and claim the same hash; anything else is a different record under the same number.
      if (hashOk && (seen & F_HASH_OK) !== 0 && this.table.fp(seq) === fp) this.duplicates++;
      else this.conflicts.add(seq, where);
      return;
    }
    const isStart = span.name === SPAN_NAME_STREAM_START;
    if (isStart && seq !== 1) this.misplacedStart.add(seq, where);
    if (!this.table.insert(seq, (hashOk ? F_HASH_OK : 0) | (isStart && seq === 1 ? F_STREAM_START : 0), fp)) {
      this.overLimit++;
      return;
    }
    if (!hashOk) this.hashBad.add(seq, where);
    if (seq === 1 && isStart) {
      this.start = {
        startedAt: optString(a[ATTR_STREAM_STARTED_AT]),
        lineage: optString(a[ATTR_STREAM_LINEAGE]),
        prevId: optString(a[ATTR_STREAM_PREV_ID]),
        prevStartedAt: optString(a[ATTR_STREAM_PREV_STARTED_AT]),
      };
    }

    // The link back: to genesis for seq 1, else to the record before, now or when it arrives.
    const prevHash = a[sc.ATTR_PREV_HASH];
    if (seq === 1) {
      if (prevHash !== GENESIS_HASH) this.linkBad.add(1, where);
    } else {
      const before = this.table.fp(seq - 1);
      if (before !== undefined) {
        if (fingerprint(prevHash) !== before) this.linkBad.add(seq, where);
      } else (this.waiting ??= new Map()).set(seq, fingerprint(prevHash));
    }
    // The link forward, when the record after this one came first.
    const next = this.waiting?.get(seq + 1);
    if (next !== undefined) {
      if (next !== fp) this.linkBad.add(seq + 1);
      this.waiting?.delete(seq + 1);
    }
  }

  addCheckpoint(span: TrailSpan, where: string | undefined, writer: string | undefined): void {
    this.noteWriter(writer);
    this.noteService(span);
    const a = span.attributes;
    const index = a[sc.ATTR_CHECKPOINT_INDEX];
    const seqStart = a[sc.ATTR_CHECKPOINT_SEQ_START];
    const seqEnd = a[sc.ATTR_CHECKPOINT_SEQ_END];
    const lastHash = a[sc.ATTR_CHECKPOINT_LAST_HASH];
    const prevSignature = a[sc.ATTR_CHECKPOINT_PREV_SIGNATURE];
    const final = a[sc.ATTR_CHECKPOINT_FINAL] ?? false;
    const signature = a[sc.ATTR_CHECKPOINT_SIGNATURE];
    const keyId = a[sc.ATTR_CHECKPOINT_KEY_ID];
    // Every field as the auditor writes it, or the checkpoint is not one: a forger's absurd
    // range or a hash that is not a string must not be read as something it is not.
    const ok =
      isSeq(index) &&
      isSeq(seqStart) &&
      isCount(seqEnd) &&
      seqEnd >= seqStart - 1 &&
      typeof lastHash === 'string' &&
      typeof prevSignature === 'string' &&
      typeof final === 'boolean' &&
      (signature === undefined || typeof signature === 'string') &&
      (keyId === undefined || typeof keyId === 'string');
    if (!ok) {
      this.badCheckpoint.note(where);
      return;
    }
    const cp: Checkpoint = {
      index,
      seqStart,
      seqEnd,
      lastHash,
      prevSignature,
      final,
      signature: signature as string | undefined,
      keyId: keyId as string | undefined,
    };
    const first = this.checkpoints.get(index);
    if (first) {
      if (sameCheckpoint(first, cp)) this.checkpointDuplicates++;
      else this.checkpointConflicts.add(index, where);
      return;
    }
    if (this.checkpoints.size >= MAX_CHECKPOINTS) {
      this.overLimit++;
      return;
    }
    this.checkpoints.set(index, cp);
  }
}
