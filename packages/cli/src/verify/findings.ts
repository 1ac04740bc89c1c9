import { formatRanges, RangeSet, type Range } from './ranges.js';

/**
 * Every finding `tooltrail verify` can report. This list is a contract: docs/integrity.md
 * ("What verify reports") names each kind with what it means; scripts match on the kinds.
 */
export const STREAM_FINDING_KINDS = [
  'bad-seq',
  'sequence-gap',
  'stream-start-missing',
  'hash-mismatch',
  'broken-link',
  'conflicting-copies',
  'bad-mac',
  'missing-mac',
  'multiple-writers',
  'multiple-services',
  'bad-checkpoint',
  'checkpoint-gap',
  'checkpoint-mismatch',
  'bad-signature',
  'missing-signature',
  'unknown-key',
  'unsigned-stream',
  'multiple-stream-ends',
  'stream-not-ended',
  'unchecked-tail',
  'after-stream-end',
  'limit-exceeded',
] as const;

export const TRAIL_FINDING_KINDS = [
  'source-problem',
  'unchained-span',
  'bad-stream-id',
  'stream-missing',
  'no-streams',
  'not-found',
  'seal',
  'limit-exceeded',
] as const;

export type FindingKind = (typeof STREAM_FINDING_KINDS)[number] | (typeof TRAIL_FINDING_KINDS)[number];

export interface Finding {
  kind: FindingKind;
  /** Sequence numbers (or checkpoint indexes for checkpoint findings) concerned, as ranges. */
  ranges: Range[];
  /** How many numbers (or spans, lines) the finding concerns. */
  count: number;
  message: string;
  /** Where some of the lines concerned were read (`file:line`, or a trace and span id); the first few. */
  where?: string[];
  /** For `seal` findings: the collector's own kind. */
  sealKind?: string;
}

/** Locations kept per finding. */
const MAX_WHERE = 5;

/** Collects the numbers (and where they were read) of one kind of finding while a trail streams by. */
export class FindingCollector {
  // Allocated on first use: a stream keeps a dozen of these, and most stay empty.
  private numbers: RangeSet | undefined;
  private places: string[] | undefined;
  events = 0;

  get set(): RangeSet {
    return (this.numbers ??= new RangeSet());
  }

  get where(): readonly string[] {
    return this.places ?? [];
  }

  add(n: number, where?: string): void {
    this.set.add(n);
    this.note(where);
  }

  addRange(a: number, b: number, where?: string): void {
    this.set.addRange(a, b);
    this.note(where);
  }

  /** Counts an occurrence that has no number (a span without a seq, say). */
  note(where?: string): void {
    this.events++;
    if (where !== undefined) {
      this.places ??= [];
      if (this.places.length < MAX_WHERE) this.places.push(where);
    }
  }

  get empty(): boolean {
    return this.events === 0;
  }
}

/** A finding with its ranges in the message. */
export function rangeFinding(kind: FindingKind, c: FindingCollector, message: string): Finding {
  const ranges = c.set.ranges();
  const count = c.set.size > 0 || c.set.droppedRanges > 0 ? c.set.count : c.events;
  const text = ranges.length > 0 ? `${message}: ${formatRanges(ranges, c.set.droppedRanges)}` : message;
  const f: Finding = { kind, ranges, count, message: text };
  if (c.where.length > 0) f.where = [...c.where];
  return f;
}

export function plainFinding(kind: FindingKind, message: string, count = 1, where?: string[]): Finding {
  const f: Finding = { kind, ranges: [], count, message };
  if (where && where.length > 0) f.where = where.slice(0, MAX_WHERE);
  return f;
}
