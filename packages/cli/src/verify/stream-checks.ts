import { verify as verifySignature, type KeyObject } from 'node:crypto';
import { canonicalCheckpointJson, GENESIS_HASH } from '@tooltrail/core/integrity';
import { FindingCollector, plainFinding, rangeFinding, type Finding } from './findings.js';
import type { Range } from './ranges.js';
import { F_STREAM_START, fingerprint } from './seq-table.js';
import { NO_WRITER, type Checkpoint, type StreamStart, type StreamState } from './stream-state.js';

/** The checks that need the whole stream: gaps, the stream start, checkpoints, signatures, the end. */

export interface CheckOptions {
  /** Trusted public keys by key id; empty: signatures are not checked. */
  keys: Map<string, KeyObject>;
  macChecked: boolean;
  allowOpen: boolean;
}

export interface StreamReport {
  streamId: string;
  service: string | undefined;
  /** Writers the collector recorded for this stream's lines ("" when it recorded none). */
  writers: string[];
  /** Distinct records (identical duplicates counted once). */
  records: number;
  /** Identical copies beyond the first: at-least-once delivery, not tampering. */
  duplicates: number;
  firstSeq: number | undefined;
  lastSeq: number | undefined;
  checkpoints: number;
  ended: boolean;
  /** Records 1..signedThrough are covered by checkpoints whose signatures verified with a trusted key (0: none). */
  signedThrough: number;
  /** With trusted keys: no findings, and every record is covered by a verified signature. */
  authenticated: boolean;
  /** Records no verified signature covers yet (a live stream checked with --allow-open). */
  unsignedTail: Range[];
  start: StreamStart | undefined;
  /** With --run: the sequence numbers of the run's records in this stream. */
  run?: { records: number; ranges: Range[] };
  findings: Finding[];
}

function signatureOk(streamId: string, cp: Checkpoint, key: KeyObject): boolean {
  const content = canonicalCheckpointJson({
    streamId,
    index: cp.index,
    seqStart: cp.seqStart,
    seqEnd: cp.seqEnd,
    lastHash: cp.lastHash,
    prevSignature: cp.prevSignature,
    final: cp.final,
  });
  try {
    return verifySignature(null, Buffer.from(content), key, Buffer.from(cp.signature as string, 'base64'));
  } catch {
    return false;
  }
}

export function finishStream(s: StreamState, o: CheckOptions): StreamReport {
  const findings: Finding[] = [];
  const push = (kind: Finding['kind'], c: FindingCollector, message: string) => {
    if (!c.empty) findings.push(rangeFinding(kind, c, message));
  };
  const t = s.table;
  const cps = [...s.checkpoints.values()].sort((x, y) => x.index - y.index);
  const byIndex = s.checkpoints;

  // The stream's end: its first final checkpoint. More ends, or checkpoints after it, are forged.
  const finals = cps.filter((c) => c.final);
  const finalCp = finals[0];
  const extraEnds = new FindingCollector();
  if (finalCp) for (const c of cps) if (c.index > finalCp.index) extraEnds.add(c.index);
  for (const c of finals.slice(1)) extraEnds.add(c.index);

  push('bad-seq', s.badSeq, "records of this stream whose tooltrail.seq is missing, not an integer, below 1 or beyond 2^53-1 (not part of any chain: forged or damaged)");
  const gapAt = findings.length;
  const startMissing = t.size === 0 || t.min !== 1 || (t.flags(1) & F_STREAM_START) === 0;
  if (startMissing || !s.misplacedStart.empty) {
    const why = t.size === 0 ? 'no records' : t.min !== 1 ? `the lowest seq is ${t.min}` : 'seq 1 is not a tooltrail.stream_start record';
    const c = s.misplacedStart;
    findings.push(
      c.empty
        ? plainFinding('stream-start-missing', `the stream does not begin with its stream start (${why}): its beginning was deleted, or it was written by something other than an auditor`)
        : rangeFinding('stream-start-missing', c, `stream start records at sequence numbers other than 1${startMissing ? ` (and ${why})` : ''}`),
    );
  }
  push('hash-mismatch', s.hashBad, 'records whose content does not match their hash (edited)');
  push('broken-link', s.linkBad, 'records whose prev_hash does not match the record before (edited, inserted or reordered chain)');
  push('conflicting-copies', s.conflicts, 'different records share these sequence numbers');
  push('bad-mac', s.macBad, 'records whose MAC does not verify (rewritten or forged without the integrity key)');
  push('missing-mac', s.macMissing, 'records without a MAC although a MAC key was given');
  const writers = [...s.writers.keys()];
  if (writers.length > 1 || s.otherWriters > 0) {
    const names = writers.map((w) => (w === NO_WRITER ? '(none recorded)' : w));
    findings.push(
      plainFinding(
        'multiple-writers',
        `lines of this stream were stored for more than one writer: ${names.map((w, i) => `${w} (${s.writers.get(writers[i] as string)})`).join(', ')}${s.otherWriters > 0 ? ` and ${s.otherWriters} line(s) of others` : ''}; one auditor writes one stream, so another writer added to it`,
        writers.length + (s.otherWriters > 0 ? 1 : 0),
      ),
    );
  }

  if (s.services.size > 1) {
    const names = [...s.services].map((n) => (n === '' ? '(none)' : n));
    findings.push(
      plainFinding(
        'multiple-services',
        `lines of this stream name more than one service.name (${names.join(', ')}): one auditor has one resource, and the resource is not covered by the chain, so it was changed after the auditor wrote it`,
        s.services.size,
      ),
    );
  }

  // Checkpoints: contiguous indexes and ranges, each chained to the one before, each vouching for
  // the hash of its last record, each signed by a trusted key when keys are given.
  push('bad-checkpoint', s.badCheckpoint, 'checkpoints with a field missing or out of range (index, seq_start, seq_end, last_hash, prev_signature, final, signature): forged or damaged');
  const cpGaps = new FindingCollector();
  let expectedIndex = 1;
  for (const c of cps) {
    if (c.index > expectedIndex) cpGaps.addRange(expectedIndex, c.index - 1);
    expectedIndex = c.index + 1;
  }
  const cpBad = s.checkpointConflicts;
  const cpConflictCount = cpBad.events;
  const sigBad = new FindingCollector();
  const sigMissing = new FindingCollector();
  const unknownKey = new FindingCollector();
  const verified = new Set<number>();
  for (const cp of cps) {
    let good = !cpBad.set.has(cp.index);
    const before = byIndex.get(cp.index - 1);
    const expectedPrev = cp.index === 1 ? '' : before ? (before.signature ?? before.lastHash) : undefined;
    if (expectedPrev !== undefined && cp.prevSignature !== expectedPrev) good = false;
    if (before && cp.seqStart !== before.seqEnd + 1) good = false;
    if (cp.index === 1 && cp.seqStart !== 1) good = false;
    if (cp.seqEnd === 0) {
      if (cp.lastHash !== GENESIS_HASH) good = false;
    } else {
      const fp = t.fp(cp.seqEnd);
      if (fp !== undefined && fp !== fingerprint(cp.lastHash)) good = false;
    }
    if (!good) cpBad.add(cp.index);
    if (o.keys.size > 0) {
      if (cp.signature === undefined) sigMissing.add(cp.index);
      else {
        const key = cp.keyId !== undefined ? o.keys.get(cp.keyId) : undefined;
        if (!key) unknownKey.add(cp.index);
        else if (!signatureOk(s.streamId, cp, key)) sigBad.add(cp.index);
        else if (good) verified.add(cp.index);
      }
    }
  }
  push('checkpoint-gap', cpGaps, 'checkpoints missing (removed)');
  if (!cpBad.empty) {
    const msg = cpConflictCount > 0 ? 'checkpoints that conflict with another copy, do not chain to the one before or do not match the records they cover' : 'checkpoints that do not chain to the one before or do not match the records they cover';
    push('checkpoint-mismatch', cpBad, msg);
  }
  push('bad-signature', sigBad, 'checkpoints whose signature does not verify');
  push('missing-signature', sigMissing, 'checkpoints without a signature although public keys were given');
  push('unknown-key', unknownKey, 'checkpoints signed by a key that is not trusted');
  if (o.keys.size > 0 && cps.length === 0 && t.size > 0) {
    findings.push(plainFinding('unsigned-stream', 'no checkpoint at all although public keys were given: nothing a trusted key signed vouches for this stream (a stream forged by someone without the signing key looks like this; so does one cut before its first checkpoint)'));
  }
  push('multiple-stream-ends', extraEnds, `checkpoints after the stream-end checkpoint (index ${finalCp?.index ?? ''}), or more than one stream end`);

  // Records 1..signedThrough are vouched for by an unbroken run of verified checkpoints from index 1.
  let signedThrough = 0;
  for (let i = 1; verified.has(i); i++) signedThrough = (byIndex.get(i) as Checkpoint).seqEnd;

  // One pass over the intervals of sequence numbers seen.
  const lastCp = cps[cps.length - 1];
  const maxClaimed = Math.max(t.size > 0 ? t.max : 0, finalCp ? finalCp.seqEnd : (lastCp?.seqEnd ?? 0));
  const gapLimit = finalCp ? finalCp.seqEnd : maxClaimed;
  const coveredThrough = finalCp ? finalCp.seqEnd : (lastCp?.seqEnd ?? 0);
  const gaps = new FindingCollector();
  const afterEnd = new FindingCollector();
  const tail = new FindingCollector();
  let expected = 1;
  for (const [a, b] of t.intervals()) {
    if (a > expected && expected <= gapLimit) gaps.addRange(expected, Math.min(a - 1, gapLimit));
    expected = b + 1;
    if (finalCp && b > finalCp.seqEnd) afterEnd.addRange(Math.max(a, finalCp.seqEnd + 1), b);
    if (b > coveredThrough) tail.addRange(Math.max(a, coveredThrough + 1), b);
  }
  if (expected <= gapLimit) gaps.addRange(expected, gapLimit);

  const signedTail = new FindingCollector();
  for (const [a, b] of t.intervals()) if (b > signedThrough) signedTail.addRange(Math.max(a, signedThrough + 1), b);
  // Findings that need the intervals, in the order the report lists them.
  const early: Finding[] = [];
  if (!gaps.empty) early.push(rangeFinding('sequence-gap', gaps, 'records missing (deleted or never delivered)'));
  findings.splice(gapAt, 0, ...early);

  const ended = finalCp !== undefined;
  if (finalCp) push('after-stream-end', afterEnd, 'records after the stream-end checkpoint (appended later)');
  else if (!o.allowOpen) {
    findings.push(plainFinding('stream-not-ended', 'no stream-end checkpoint: the stream was cut off, or is still being written (use --allow-open for a live stream)'));
    if (!(o.keys.size > 0 && cps.length === 0)) push('unchecked-tail', tail, 'records after the last checkpoint, not covered by one');
  }
  if (s.overLimit > 0) {
    findings.push(plainFinding('limit-exceeded', `${s.overLimit} line(s) of this stream were not checked: more scattered sequence numbers or checkpoints than verify keeps (a flood of forged lines)`, s.overLimit));
  }

  const report: StreamReport = {
    streamId: s.streamId,
    service: s.service,
    writers,
    records: t.size,
    duplicates: s.duplicates,
    firstSeq: t.size > 0 ? t.min : undefined,
    lastSeq: t.size > 0 ? t.max : undefined,
    checkpoints: cps.length,
    ended,
    signedThrough,
    authenticated: o.keys.size > 0 && findings.length === 0 && signedTail.empty,
    unsignedTail: o.keys.size > 0 ? signedTail.set.ranges().slice(0, 100) : [],
    start: s.start,
    findings,
  };
  if (!s.runSeqs.empty) report.run = { records: s.runSeqs.set.count, ranges: s.runSeqs.set.ranges() };
  return report;
}
