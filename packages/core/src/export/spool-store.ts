import type { DeliveryQueue, Entry } from './delivery-queue.js';
import type { SinkReport } from './sink-report.js';
import type { Spool } from './spool.js';

/**
 * The spool's health as the sink sees it: appends batches, notices when the disk is full or
 * unwritable or the spool over its cap, holds records in memory meanwhile (the queue's memory
 * budget), and moves them to disk as soon as the spool takes appends again.
 */
export class SpoolStore {
  opened = false;
  /** Why the spool is unwritable (an errno code), while it is. */
  broken: string | undefined;
  capped = false;

  constructor(
    readonly spool: Spool,
    private readonly queue: DeliveryQueue,
    private readonly report: SinkReport,
    private readonly maxSpoolBytes: number,
  ) {}

  open(): void {
    try {
      this.spool.open();
      this.opened = true;
    } catch (err) {
      this.failed(err);
    }
  }

  /** Whether new records can be kept on disk now. */
  get writable(): boolean {
    return this.broken === undefined && !this.capped;
  }

  get healthy(): boolean {
    return this.opened && this.broken === undefined;
  }

  /** Appends an entry's request; false when the spool cannot take it (it stays memory-only). */
  write(entry: Entry): boolean {
    if (this.queue.undeliveredSpoolBytes + entry.bytes > this.maxSpoolBytes) {
      if (!this.capped) {
        this.capped = true;
        this.report.problem(`the spool is over its cap of ${this.maxSpoolBytes} bytes (maxSpoolBytes): new records are held in memory only until delivery catches up`);
      }
      return false;
    }
    const wasBroken = this.broken !== undefined;
    try {
      entry.ref = this.spool.append(entry.body as Buffer, entry.spans);
    } catch (err) {
      this.failed(err);
      return false;
    }
    this.opened = true;
    this.capped = false;
    this.queue.undeliveredSpoolBytes += entry.ref.length;
    this.report.counters.spooled += entry.spans;
    if (wasBroken) this.recovered();
    return true;
  }

  /** Puts what memory alone holds into the spool, oldest first, while it takes them. */
  spill(): number {
    let moved = 0;
    if (this.queue.memoryOnlyBytes === 0) return moved;
    for (const e of this.queue.unfinished()) {
      if (e.ref !== undefined || e.body === undefined) continue;
      if (!this.write(e)) break;
      this.queue.spooledLater(e);
      moved += e.spans;
    }
    return moved;
  }

  /** From the heartbeat: nothing new may come to retry a broken spool with, so retry it with what memory holds. */
  retry(): void {
    if (this.broken !== undefined && this.queue.memoryOnlyBytes > 0) this.spill();
  }

  /** Strict mode: everything appended so far made durable. False when it cannot be. */
  sync(): boolean {
    if (!this.writable) return false;
    const newest = this.queue.newest();
    if (newest !== undefined && newest.ref === undefined) return false;
    try {
      this.spool.sync();
      return true;
    } catch (err) {
      this.failed(err);
      return false;
    }
  }

  failed(err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code;
    const where = this.spool.dir;
    const what =
      code === 'ENOSPC' || code === 'EDQUOT'
        ? `the disk holding the spool ${where} is full (${code})`
        : code === 'EACCES' || code === 'EPERM'
          ? `no permission to write the spool ${where} (${code})`
          : code === 'EROFS'
            ? `the spool ${where} is on a read-only filesystem (EROFS)`
            : `the spool ${where} cannot be written (${(err as Error).message})`;
    if (this.broken === undefined) {
      this.report.logger.warn(`${what}; the spool is unwritable: records are held in memory (up to memoryCacheBytes) and the spool is tried again with every batch`);
    }
    this.broken = code ?? (err as Error).message;
    this.report.lastError = what;
  }

  /** After the spool came back: what was held in memory meanwhile goes to disk too. */
  private recovered(): void {
    this.broken = undefined;
    const moved = this.spill();
    this.report.logger.warn(`the spool ${this.spool.dir} is writable again${moved > 0 ? `; ${moved} records held in memory meanwhile are spooled now` : ''}`);
  }

  /** Our folder was adopted by another process (or deleted) while we are alive. */
  takenOver(ownerStaleMs: number): void {
    this.report.logger.warn(
      `the spool folder ${this.spool.dir} was taken away while this process is alive (another process judged its heartbeat stale after ownerStaleMs ${ownerStaleMs} ms: was the event loop blocked?, or it was deleted); starting it afresh; records may be delivered twice`,
    );
    const segments = new Set<NonNullable<Entry['ref']>['segment']>();
    for (const e of this.queue.unfinished()) if (e.ref !== undefined) segments.add(e.ref.segment);
    try {
      this.spool.rehome(segments);
    } catch (err) {
      this.failed(err);
    }
  }
}
