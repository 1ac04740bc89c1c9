/**
 * Collects records into the open batch (for the durable sink, a request written as they come) and decides when a batch is sealed (encoded and spooled
 * by `seal`). Sealing costs milliseconds, so it is kept off the stack of the call that fills a
 * batch: a batch that is full waits for the next turn of the event loop (setImmediate), and the
 * records that come before that turn (the rest of the same call) go into the room it leaves.
 *
 * Never more than one batch behind: records not yet sealed never exceed `maxBatch`. A batch is
 * "full" at `maxBatch - room`; when the records that follow fill the room before the event loop
 * turned, the full batch is sealed at once, inside that call. So a loop that never yields still
 * loses at most one batch to a SIGKILL, and pays for a seal no more often than before.
 */
/** What records are collected into (an array, or a request being written as they come). */
export interface Batch<T> {
  readonly length: number;
  push(item: T): void;
}

export class Batcher<T, B extends Batch<T> = T[]> {
  private open: B;
  /** A full batch waiting for the next turn of the event loop. */
  private full: B | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly fullAt: number;

  constructor(
    private readonly maxBatch: number,
    private readonly intervalMs: number,
    private readonly seal: (batch: B) => void,
    private readonly create: () => B,
  ) {
    this.open = create();
    // The room: an eighth of the batch, at most 16 records (a call writes a few), none for tiny batches.
    this.fullAt = maxBatch - Math.min(16, Math.floor(maxBatch / 8));
  }

  /** Records not yet sealed. */
  get size(): number {
    return this.open.length + (this.full?.length ?? 0);
  }

  add(span: T): void {
    if (this.full !== undefined && this.full.length + this.open.length + 1 > this.maxBatch) this.sealFull();
    this.open.push(span);
    if (this.full === undefined && this.open.length >= this.fullAt) {
      this.full = this.open;
      this.open = this.create();
      this.clearTimer();
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.sealAll();
      });
    } else if (this.timer === undefined && this.immediate === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.sealAll();
      }, this.intervalMs);
      this.timer.unref();
    }
  }

  /** Seals everything held, oldest first. Synchronous: safe in 'exit' handlers and strict commits. */
  sealAll(): void {
    this.clearTimer();
    this.sealFull();
    if (this.open.length === 0) return;
    const batch = this.open;
    this.open = this.create();
    this.seal(batch);
  }

  /** Stops the timers; what is held stays for a last sealAll(). */
  stop(): void {
    this.clearTimer();
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
  }

  private sealFull(): void {
    const spans = this.full;
    if (spans === undefined) return;
    this.full = undefined;
    this.seal(spans);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
