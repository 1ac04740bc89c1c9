import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { AuditLogger, RecordSink, SinkStats } from './sink.js';

export interface BatchingSinkOptions {
  /** Records held in memory at most; past it new records are dropped, counted and warned about. */
  maxQueue?: number;
  maxBatch?: number;
  /** How long a record may wait for companions before a batch is sent. */
  flushIntervalMs?: number;
  /** Back-off after a failed export, doubled up to maxBackoffMs (with jitter). */
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
  private backoffMs = 0;
  private closed = false;
  private readonly counters = { recorded: 0, exported: 0, dropped: 0, failedExports: 0 };
  private readonly maxQueue: number;
  private readonly maxBatch: number;
  private readonly flushIntervalMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private lastDropWarning = 0;
  private lastFailureWarning = 0;

  constructor(
    private readonly exporter: SpanExporter,
    private readonly logger: AuditLogger,
    options: BatchingSinkOptions = {},
  ) {
    this.maxQueue = options.maxQueue ?? 100_000;
    this.maxBatch = options.maxBatch ?? 512;
    this.flushIntervalMs = options.flushIntervalMs ?? 200;
    this.initialBackoffMs = options.initialBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
  }

  write(span: ReadableSpan): void {
    this.counters.recorded++;
    if (this.closed || this.queue.length >= this.maxQueue) {
      this.counters.dropped++;
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
    const delay = this.backoffMs > 0 ? this.backoffMs : this.queue.length >= this.maxBatch ? 0 : this.flushIntervalMs;
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
        this.backoffMs = 0;
      } else {
        this.counters.failedExports++;
        const next = Math.min(this.maxBackoffMs, Math.max(this.initialBackoffMs, this.backoffMs * 2));
        this.backoffMs = next * (0.75 + Math.random() * 0.5);
        const now = Date.now();
        if (now - this.lastFailureWarning > 10_000) {
          this.lastFailureWarning = now;
          this.logger.warn(
            `export failed, ${this.queue.length} records waiting, retrying in ${Math.round(this.backoffMs)} ms: ${result.error?.message ?? 'unknown error'}`,
          );
        }
      }
      if (this.queue.length > 0) this.schedule();
    });
  }

  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 || this.inFlight) {
      if (Date.now() >= deadline) return false;
      if (!this.inFlight && this.backoffMs === 0) {
        if (this.timer) {
          clearTimeout(this.timer);
          this.timer = undefined;
        }
        this.sendNext();
      }
      const wait = this.inFlight ?? new Promise<void>((r) => setTimeout(r, Math.min(20, this.backoffMs || 20)).unref());
      await Promise.race([wait, new Promise<void>((r) => setTimeout(r, Math.max(1, deadline - Date.now())).unref())]);
    }
    return true;
  }

  async shutdown(timeoutMs: number): Promise<boolean> {
    const delivered = await this.flush(timeoutMs);
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (!delivered && this.queue.length > 0) {
      this.counters.dropped += this.queue.length;
      this.logger.warn(`shutdown deadline passed with ${this.queue.length} audit records undelivered; they are lost`);
      this.queue = [];
    }
    await this.exporter.shutdown().catch(() => undefined);
    return delivered;
  }

  stats(): SinkStats {
    return { ...this.counters, queueDepth: this.queue.length, spooled: 0, replayed: 0, spoolBytes: 0, collectorUp: this.backoffMs === 0 };
  }
}
