import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { Backoff } from './backoff.js';
import { Settlements } from './settlements.js';
import type { AuditLogger } from '../contract/logger.js';
import type { RecordSink, SinkStats } from '../contract/record-sink.js';

export interface BatchingSinkOptions {
  /** Records held in memory at most; past it new records are dropped, counted and warned about. */
  maxQueue?: number;
  maxBatch?: number;
  /** How long a record may wait for companions before a batch is sent. */
  flushIntervalMs?: number;
  /** Back-off after a failed export, doubled up to maxBackoffMs (with jitter: backoff.ts, shared with the durable sink). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * The queue in front of a user-supplied SpanExporter (the built-in OTLP path uses DurableSink).
 * Batches records to any SpanExporter, one export in flight at a time, keeping a failed batch at
 * the head of the queue and retrying it with back-off. Unlike the SDK's BatchSpanProcessor it
 * never drops without counting and warning.
 */
export class BatchingSink implements RecordSink {
  private queue: ReadableSpan[] = [];
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private closed = false;
  private readonly counters = { recorded: 0, exported: 0, dropped: 0, failedExports: 0 };
  private readonly maxQueue: number;
  private readonly maxBatch: number;
  private readonly flushIntervalMs: number;
  private lastDropWarning = 0;
  private lastFailureWarning = 0;
  private readonly settlements = new Settlements();
  private lastError: string | undefined;
  private left = 0;
  private shutdownResult: Promise<boolean> | undefined;

  constructor(
    private readonly exporter: SpanExporter,
    private readonly logger: AuditLogger,
    options: BatchingSinkOptions = {},
  ) {
    this.maxQueue = options.maxQueue ?? 100_000;
    this.maxBatch = options.maxBatch ?? 512;
    this.flushIntervalMs = options.flushIntervalMs ?? 200;
    this.backoff = new Backoff(options.initialBackoffMs ?? 100, options.maxBackoffMs ?? 5_000);
  }

  write(span: ReadableSpan): void {
    this.counters.recorded++;
    if (this.closed || this.queue.length >= this.maxQueue) {
      this.counters.dropped++;
      this.lastError = `audit records dropped: ${this.closed ? 'the auditor was shut down' : `the queue is full at ${this.maxQueue} (exportQueue.maxQueue)`}`;
      const now = Date.now();
      if (now - this.lastDropWarning > 5_000) {
        this.lastDropWarning = now;
        this.logger.warn(
          `audit record dropped (${this.closed ? 'auditor shut down' : `queue full at ${this.maxQueue}`}); ${this.counters.dropped} dropped so far`,
        );
      }
      return;
    }
    this.queue.push(span);
    this.schedule();
  }

  private schedule(): void {
    if (this.inFlight || this.timer) return;
    const delay = this.backoff.failing ? this.backoff.delayMs : this.queue.length >= this.maxBatch ? 0 : this.flushIntervalMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sendNext();
    }, delay);
    this.timer.unref();
  }

  private sendNext(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.queue.slice(0, this.maxBatch);
    this.inFlight = new Promise<ExportResult>((resolve) => {
      try {
        this.exporter.export(batch, resolve);
      } catch (error) {
        resolve({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
      }
    }).then((result) => {
      this.inFlight = undefined;
      if (result.code === ExportResultCode.SUCCESS) {
        // The batch is still the head of the queue: nothing else removes from it.
        this.queue.splice(0, batch.length);
        this.counters.exported += batch.length;
        this.backoff.reset();
      } else {
        this.counters.failedExports++;
        this.backoff.fail();
        const now = Date.now();
        this.lastError = `export failed: ${result.error?.message ?? 'unknown error'}; records are kept in memory and retried`;
        if (now - this.lastFailureWarning > 10_000) {
          this.lastFailureWarning = now;
          this.logger.warn(
            `export failed, ${this.queue.length} records waiting, retrying in ${Math.round(this.backoff.delayMs)} ms: ${result.error?.message ?? 'unknown error'}`,
          );
        }
      }
      if (this.queue.length > 0) this.schedule();
      this.settlements.check();
    });
  }

  /**
   * Resolves true once the queue is empty (and nothing was ever dropped), false at the deadline.
   * Always settles by the deadline, even when the exporter never calls back, and holds a ref'd
   * timer until then.
   */
  flush(timeoutMs: number): Promise<boolean> {
    const tryNow = () => {
      if (!this.inFlight && this.queue.length > 0 && !this.backoff.failing) {
        if (this.timer) {
          clearTimeout(this.timer);
          this.timer = undefined;
        }
        this.sendNext();
      }
    };
    tryNow();
    return this.settlements
      .wait(timeoutMs, () => {
        if (this.queue.length === 0 && !this.inFlight) return true;
        tryNow();
        return undefined;
      })
      .then((drained) => {
        this.left = this.queue.length;
        return drained && this.counters.dropped === 0;
      });
  }

  shutdown(timeoutMs: number): Promise<boolean> {
    this.shutdownResult ??= this.close(timeoutMs);
    return this.shutdownResult;
  }

  private async close(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const delivered = await this.flush(timeoutMs);
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (!delivered && this.queue.length > 0) {
      this.counters.dropped += this.queue.length;
      this.lastError = `the shutdown deadline passed with ${this.queue.length} audit records undelivered; a custom exporter has no spool, so they are lost`;
      this.logger.warn(`shutdown deadline passed with ${this.queue.length} audit records undelivered; they are lost`);
      this.queue = [];
    }
    this.left = 0;
    // The exporter's own shutdown gets what is left of the deadline, no more.
    let exporterDone = false;
    const finished = this.exporter
      .shutdown()
      .catch(() => undefined)
      .finally(() => {
        exporterDone = true;
        this.settlements.check();
      });
    void finished;
    await this.settlements.wait(Math.max(0, deadline - Date.now()), () => (exporterDone ? true : undefined));
    return delivered && this.counters.dropped === 0;
  }

  stats(): SinkStats {
    return {
      ...this.counters,
      queueDepth: this.queue.length,
      spooled: 0,
      replayed: 0,
      spoolBytes: 0,
      collectorUp: !this.backoff.failing,
      quarantined: 0,
      damaged: 0,
      left: this.left,
      lastError: this.lastError,
    };
  }
}
