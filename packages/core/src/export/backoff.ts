/**
 * The wait between failed attempts, shared by both sinks so they back off alike: exponential
 * from `initialMs` up to `maxMs`, with "equal jitter" (a random point in the upper half of the
 * step), so processes that failed together do not retry together. A collector's Retry-After
 * replaces the step, bounded by the same limits.
 */
export class Backoff {
  private stepMs = 0;
  /** The wait before the next attempt; 0 while nothing is failing. */
  delayMs = 0;
  /** The current wait came from the collector's Retry-After (a flush does not cut it short). */
  fromRetryAfter = false;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
  ) {}

  get failing(): boolean {
    return this.delayMs > 0;
  }

  /** After a failure: the next wait (ms, at least 1). */
  fail(retryAfterMs?: number): number {
    this.stepMs = Math.min(this.maxMs, Math.max(this.initialMs, this.stepMs * 2));
    this.fromRetryAfter = retryAfterMs !== undefined;
    this.delayMs =
      retryAfterMs !== undefined
        ? Math.max(1, Math.min(this.maxMs, Math.max(this.initialMs, retryAfterMs)))
        : Math.max(1, this.stepMs * (0.5 + Math.random() * 0.5));
    return this.delayMs;
  }

  /** The next attempt may go at once (a refused request was split), the step is kept. */
  goNow(): void {
    this.delayMs = 0;
    this.fromRetryAfter = false;
  }

  /** After a success: start from the first step again. */
  reset(): void {
    this.stepMs = 0;
    this.goNow();
  }
}
