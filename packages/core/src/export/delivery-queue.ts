import type { SpoolEntryRef } from './spool.js';
import type { SpanList } from './wire/otlp-split.js';

/** A sealed batch waiting for delivery: in the spool, in memory, or both. */
export interface Entry {
  body: Buffer | undefined;
  ref: SpoolEntryRef | undefined;
  readonly spans: number;
  /** The request's length in bytes (without the spool line's prefix and newline). */
  readonly bytes: number;
  /** Left by an earlier process (counted as replayed when delivered). */
  readonly replay: boolean;
  /** Position in the queue since the start: flush() waits for the entries before its call. */
  seq: number;
  /** Spans of it delivered, quarantined or lost so far (the slices of a split request settle apart). */
  settled: number;
}

/** One request's worth: consecutive entries, or a slice of one entry's spans. */
export type Work = { kind: 'entries'; entries: Entry[] } | { kind: 'slice'; entry: Entry; list: SpanList; from: number; to: number };

export function spansOf(work: Work): number {
  return work.kind === 'slice' ? work.to - work.from : work.entries.reduce((n, e) => n + e.spans, 0);
}

/** A request's size, near enough to budget by (a slice counts as its whole batch). */
export function bytesOf(work: Work): number {
  return work.kind === 'slice' ? work.entry.bytes : work.entries.reduce((n, e) => n + e.bytes, 0);
}

/**
 * Sealed batches in the order they were sealed, and what memory holds of them. Requests may be
 * answered in any order; an entry is finished (and `onFinished` acknowledges it in the spool)
 * only when it and every entry before it have settled, so the spool's acknowledgement marker
 * only ever covers records the collector took.
 */
export class DeliveryQueue {
  private entries: Entry[] = [];
  /** The first unfinished entry. */
  private head = 0;
  /** The first entry never handed out for delivery. */
  private next = 0;
  /** Work handed back (failed, split): sent before anything new. */
  private readonly retry: Work[] = [];
  private seq = 0;
  /** The seq of the last finished entry. */
  finishedSeq = 0;
  /** Spans not yet settled. */
  waiting = 0;
  cachedBytes = 0;
  memoryOnlyBytes = 0;
  undeliveredSpoolBytes = 0;

  constructor(
    private readonly limits: { readonly memoryCacheBytes: number; readonly maxRequestBytes: number },
    private readonly onFinished: (entry: Entry) => void,
  ) {}

  get lastSeq(): number {
    return this.seq;
  }

  isEmpty(): boolean {
    return this.head === this.entries.length;
  }

  hasWork(): boolean {
    return this.retry.length > 0 || this.next < this.entries.length;
  }

  /** A newly sealed batch. False when it is neither spooled nor fits in memory (the caller drops it). */
  admit(entry: Entry, spooled: boolean): boolean {
    if (!spooled) {
      if (this.memoryOnlyBytes + entry.bytes > this.limits.memoryCacheBytes) return false;
      this.memoryOnlyBytes += entry.bytes;
    } else this.cache(entry);
    this.push(entry);
    return true;
  }

  /** A batch an earlier process left in the spool. */
  addReplay(ref: SpoolEntryRef): void {
    this.undeliveredSpoolBytes += ref.length;
    this.push({ body: undefined, ref, spans: ref.spans, bytes: ref.length, replay: true, seq: 0, settled: 0 });
  }

  /** A memory-only entry that the spool took after all. */
  spooledLater(entry: Entry): void {
    this.memoryOnlyBytes -= entry.bytes;
    this.cache(entry);
  }

  /** The last entry sealed, while it is unfinished. */
  newest(): Entry | undefined {
    return this.isEmpty() ? undefined : this.entries[this.entries.length - 1];
  }

  /** Entries not finished yet, oldest first. */
  *unfinished(): IterableIterator<Entry> {
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i] as Entry;
      if (e.settled < e.spans) yield e;
    }
  }

  /**
   * The next request: handed-back work first, else consecutive new entries merged up to
   * maxRequestBytes. With `budget`, only a request of at most that many bytes (undefined if the
   * next one is larger).
   */
  take(budget = Infinity): Work | undefined {
    const again = this.retry[this.retry.length - 1];
    if (again !== undefined) {
      if (bytesOf(again) > budget) return undefined;
      return this.retry.pop();
    }
    const entries: Entry[] = [];
    let size = 0;
    const limit = Math.min(budget, this.limits.maxRequestBytes);
    while (this.next < this.entries.length) {
      const entry = this.entries[this.next] as Entry;
      if (size + entry.bytes > limit && (entries.length > 0 || budget !== Infinity)) break;
      entries.push(entry);
      size += entry.bytes;
      this.next++;
    }
    return entries.length > 0 ? { kind: 'entries', entries } : undefined;
  }

  /** Work to send again (the last handed back goes first). */
  giveBack(...work: Work[]): void {
    this.retry.push(...work);
  }

  /** `spans` of `entry` are done with; finishes the entries at the head that are complete. */
  settle(entry: Entry, spans: number): void {
    entry.settled += spans;
    this.waiting -= spans;
    while (this.head < this.entries.length) {
      const e = this.entries[this.head] as Entry;
      if (e.settled < e.spans) break;
      this.head++;
      this.finishedSeq = e.seq;
      if (e.ref !== undefined) {
        this.undeliveredSpoolBytes -= e.ref.length;
        if (e.body !== undefined) this.cachedBytes -= e.bytes;
      } else this.memoryOnlyBytes -= e.bytes;
      e.body = undefined;
      this.onFinished(e);
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.next -= this.head;
      this.head = 0;
    }
  }

  private cache(entry: Entry): void {
    if (this.cachedBytes + entry.bytes > this.limits.memoryCacheBytes) entry.body = undefined; // read back from the spool when its turn comes
    else this.cachedBytes += entry.bytes;
  }

  private push(entry: Entry): void {
    entry.seq = ++this.seq;
    this.waiting += entry.spans;
    this.entries.push(entry);
  }
}
