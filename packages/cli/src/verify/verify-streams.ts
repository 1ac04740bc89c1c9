import { verify as verifySignature, type KeyObject } from 'node:crypto';
import {
  canonicalCheckpointJson,
  GENESIS_HASH,
  keyId,
  recordHash,
  recordMac,
  semconv as sc,
} from '@tooltrail/core';
import type { TrailSpan } from '../trail/record.js';
import { trailToCanonical } from './to-canonical.js';

export interface VerifyOptions {
  /** Public keys that may sign checkpoints. With any given, every checkpoint must carry a valid signature by one of them. */
  publicKeys?: KeyObject[];
  /** The integrity (MAC) key. With it, every record must carry a valid `tooltrail.mac`. */
  macKey?: Buffer | string;
  /** A stream still being written: no stream-end checkpoint and an unchecked tail are not findings. */
  allowOpen?: boolean;
}

export type Range = [number, number];

export interface StreamReport {
  streamId: string;
  service: string | undefined;
  /** Distinct records (identical duplicates counted once). */
  records: number;
  /** Identical copies beyond the first: at-least-once delivery, not tampering. */
  duplicates: number;
  firstSeq: number | undefined;
  lastSeq: number | undefined;
  checkpoints: number;
  ended: boolean;
  findings: Finding[];
}

export type FindingKind =
  | 'sequence-gap'
  | 'hash-mismatch'
  | 'broken-link'
  | 'conflicting-copies'
  | 'bad-mac'
  | 'missing-mac'
  | 'bad-signature'
  | 'missing-signature'
  | 'unknown-key'
  | 'checkpoint-gap'
  | 'checkpoint-mismatch'
  | 'stream-not-ended'
  | 'unchecked-tail'
  | 'after-stream-end';

export interface Finding {
  kind: FindingKind;
  /** Sequence numbers (or checkpoint indexes for checkpoint findings) concerned, as ranges. */
  ranges: Range[];
  message: string;
}

export interface VerifyReport {
  streams: StreamReport[];
  /** Spans that carry no integrity attributes (written by something else). */
  unchainedSpans: number;
  findings: number;
}

interface Rec {
  seq: number;
  hash: string;
  prevHash: string;
  mac: string | undefined;
  computed: string;
}

interface Checkpoint {
  index: number;
  seqStart: number;
  seqEnd: number;
  lastHash: string;
  prevSignature: string;
  final: boolean;
  signature: string | undefined;
  keyId: string | undefined;
}

/** Compresses a sorted list of numbers into [from, to] ranges. */
export function toRanges(nums: number[]): Range[] {
  const out: Range[] = [];
  for (const n of nums) {
    const last = out[out.length - 1];
    if (last && n === last[1] + 1) last[1] = n;
    else if (!last || n > last[1]) out.push([n, n]);
  }
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function num(v: unknown): number | undefined {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined;
}

function fmt(ranges: Range[]): string {
  return ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ');
}

/**
 * Verifies every stream found in `spans`, in whatever order storage returned them: sequence
 * gaps, hashes, links, MACs, checkpoint signatures and coverage, and whether each stream ended.
 */
export function verifySpans(spans: Iterable<TrailSpan>, options: VerifyOptions = {}): VerifyReport {
  const streams = new Map<string, { service: string | undefined; recs: Map<number, Rec[]>; cps: Map<number, Checkpoint[]> }>();
  let unchained = 0;
  for (const span of spans) {
    const a = span.attributes;
    const streamId = str(a[sc.ATTR_STREAM_ID]);
    if (streamId === undefined) {
      unchained++;
      continue;
    }
    let s = streams.get(streamId);
    if (!s) {
      s = { service: str(span.resource['service.name']), recs: new Map(), cps: new Map() };
      streams.set(streamId, s);
    }
    if (span.name === sc.SPAN_NAME_CHECKPOINT) {
      const index = num(a[sc.ATTR_CHECKPOINT_INDEX]);
      if (index === undefined) continue;
      const cp: Checkpoint = {
        index,
        seqStart: num(a[sc.ATTR_CHECKPOINT_SEQ_START]) ?? 0,
        seqEnd: num(a[sc.ATTR_CHECKPOINT_SEQ_END]) ?? -1,
        lastHash: str(a[sc.ATTR_CHECKPOINT_LAST_HASH]) ?? '',
        prevSignature: str(a[sc.ATTR_CHECKPOINT_PREV_SIGNATURE]) ?? '',
        final: a[sc.ATTR_CHECKPOINT_FINAL] === true,
        signature: str(a[sc.ATTR_CHECKPOINT_SIGNATURE]),
        keyId: str(a[sc.ATTR_CHECKPOINT_KEY_ID]),
      };
      const list = s.cps.get(index) ?? [];
      list.push(cp);
      s.cps.set(index, list);
      continue;
    }
    const seq = num(a[sc.ATTR_SEQ]);
    if (seq === undefined) {
      unchained++;
      continue;
    }
    const rec: Rec = {
      seq,
      hash: str(a[sc.ATTR_HASH]) ?? '',
      prevHash: str(a[sc.ATTR_PREV_HASH]) ?? '',
      mac: str(a[sc.ATTR_MAC]),
      computed: recordHash(trailToCanonical(span)),
    };
    const list = s.recs.get(seq) ?? [];
    list.push(rec);
    s.recs.set(seq, list);
  }

  const reports: StreamReport[] = [];
  for (const [streamId, s] of streams) reports.push(verifyStream(streamId, s.service, s.recs, s.cps, options));
  reports.sort((x, y) => x.streamId.localeCompare(y.streamId));
  return { streams: reports, unchainedSpans: unchained, findings: reports.reduce((n, r) => n + r.findings.length, 0) };
}

function verifyStream(
  streamId: string,
  service: string | undefined,
  byseq: Map<number, Rec[]>,
  bycp: Map<number, Checkpoint[]>,
  o: VerifyOptions,
): StreamReport {
  const findings: Finding[] = [];
  const add = (kind: FindingKind, nums: number[], message: string) => {
    if (nums.length > 0) {
      const ranges = toRanges([...nums].sort((x, y) => x - y));
      findings.push({ kind, ranges, message: `${message}: ${fmt(ranges)}` });
    }
  };

  // One copy per sequence number; identical copies are duplicates, different ones a conflict.
  let duplicates = 0;
  const conflicts: number[] = [];
  const recs = new Map<number, Rec>();
  for (const [seq, copies] of byseq) {
    const first = copies[0] as Rec;
    for (const c of copies.slice(1)) {
      if (c.computed === first.computed && c.hash === first.hash) duplicates++;
      else if (!conflicts.includes(seq)) conflicts.push(seq);
    }
    recs.set(seq, first);
  }
  add('conflicting-copies', conflicts, 'different records share these sequence numbers');

  const cps: Checkpoint[] = [];
  const cpConflicts: number[] = [];
  for (const [index, copies] of bycp) {
    const first = copies[0] as Checkpoint;
    if (copies.some((c) => JSON.stringify(c) !== JSON.stringify(first))) cpConflicts.push(index);
    cps.push(first);
  }
  cps.sort((x, y) => x.index - y.index);
  add('checkpoint-mismatch', cpConflicts, 'different checkpoints share these indexes');

  const seqs = [...recs.keys()].sort((x, y) => x - y);
  const finalCp = cps.find((c) => c.final);
  const lastCp = cps[cps.length - 1];
  const expectedLast = Math.max(seqs[seqs.length - 1] ?? 0, finalCp?.seqEnd ?? 0, lastCp?.seqEnd ?? 0);

  // Gaps: every sequence number from 1 to the last one any record or checkpoint vouches for.
  const missing: number[] = [];
  for (let n = 1; n <= expectedLast; n++) if (!recs.has(n)) missing.push(n);
  add('sequence-gap', missing, 'records missing (deleted or never delivered)');

  const hashBad: number[] = [];
  const linkBad: number[] = [];
  const macBad: number[] = [];
  const macMissing: number[] = [];
  for (const seq of seqs) {
    const r = recs.get(seq) as Rec;
    if (r.computed !== r.hash) hashBad.push(seq);
    const prev = seq === 1 ? GENESIS_HASH : recs.get(seq - 1)?.hash;
    if (prev !== undefined && r.prevHash !== prev) linkBad.push(seq);
    if (o.macKey !== undefined) {
      if (r.mac === undefined) macMissing.push(seq);
      else if (r.mac !== recordMac(o.macKey, r.hash)) macBad.push(seq);
    }
  }
  add('hash-mismatch', hashBad, 'records whose content does not match their hash (edited)');
  add('broken-link', linkBad, 'records whose prev_hash does not match the record before (edited, inserted or reordered chain)');
  add('bad-mac', macBad, 'records whose MAC does not verify (rewritten or forged without the integrity key)');
  add('missing-mac', macMissing, 'records without a MAC although a MAC key was given');

  // Checkpoints: contiguous indexes and ranges, each chained to the one before, each vouching for
  // the hash of its last record, each signed by a trusted key when keys are given.
  const keys = new Map((o.publicKeys ?? []).map((k) => [keyId(k), k] as const));
  const cpGaps: number[] = [];
  const cpBad: number[] = [];
  const sigBad: number[] = [];
  const sigMissing: number[] = [];
  const unknownKey: number[] = [];
  let prev: Checkpoint | undefined;
  const maxIndex = lastCp?.index ?? 0;
  const byIndex = new Map(cps.map((c) => [c.index, c]));
  for (let i = 1; i <= maxIndex; i++) if (!byIndex.has(i)) cpGaps.push(i);
  for (const cp of cps) {
    const before = byIndex.get(cp.index - 1);
    const expectedPrev = cp.index === 1 ? '' : before ? (before.signature ?? before.lastHash) : undefined;
    if (expectedPrev !== undefined && cp.prevSignature !== expectedPrev) cpBad.push(cp.index);
    if (before && cp.seqStart !== before.seqEnd + 1) cpBad.push(cp.index);
    if (cp.index === 1 && cp.seqStart !== 1) cpBad.push(cp.index);
    if (cp.seqEnd >= cp.seqStart) {
      const last = recs.get(cp.seqEnd);
      if (last && last.hash !== cp.lastHash) cpBad.push(cp.index);
    }
    if (keys.size > 0) {
      if (cp.signature === undefined) sigMissing.push(cp.index);
      else {
        const key = cp.keyId !== undefined ? keys.get(cp.keyId) : undefined;
        if (!key) unknownKey.push(cp.index);
        else {
          const content = canonicalCheckpointJson({ streamId, index: cp.index, seqStart: cp.seqStart, seqEnd: cp.seqEnd, lastHash: cp.lastHash, prevSignature: cp.prevSignature, final: cp.final });
          let ok = false;
          try {
            ok = verifySignature(null, Buffer.from(content), key, Buffer.from(cp.signature, 'base64'));
          } catch {
            ok = false;
          }
          if (!ok) sigBad.push(cp.index);
        }
      }
    }
    prev = cp;
  }
  add('checkpoint-gap', cpGaps, 'checkpoints missing (removed)');
  add('checkpoint-mismatch', [...new Set(cpBad)], 'checkpoints that do not chain to the one before or do not match the records they cover');
  add('bad-signature', sigBad, 'checkpoints whose signature does not verify');
  add('missing-signature', sigMissing, 'checkpoints without a signature although public keys were given');
  add('unknown-key', unknownKey, 'checkpoints signed by a key that is not trusted');

  const ended = finalCp !== undefined;
  if (finalCp) {
    const after = seqs.filter((n) => n > finalCp.seqEnd);
    add('after-stream-end', after, 'records after the stream-end checkpoint (appended later)');
  } else if (!o.allowOpen) {
    findings.push({ kind: 'stream-not-ended', ranges: [], message: 'no stream-end checkpoint: the stream was cut off, or is still being written (use --allow-open for a live stream)' });
  }
  const covered = prev?.seqEnd ?? 0;
  const tail = seqs.filter((n) => n > covered);
  if (!finalCp && !o.allowOpen) add('unchecked-tail', tail, 'records after the last checkpoint, not yet covered by one');

  return {
    streamId,
    service,
    records: recs.size,
    duplicates,
    firstSeq: seqs[0],
    lastSeq: seqs[seqs.length - 1],
    checkpoints: cps.length,
    ended,
    findings,
  };
}
