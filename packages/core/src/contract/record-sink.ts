import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** Counters every sink keeps. Nothing leaves a sink without moving one of them. */
export interface SinkStats {
  /** Records handed to the sink. */
  recorded: number;
  /** Records the destination acknowledged. */
  exported: number;
  /** Records given up on; each drop was also warned about. */
  dropped: number;
  /** Export requests that failed and were retried (or split). */
  failedExports: number;
  /** Records waiting for delivery (in memory or in the spool). */
  queueDepth: number;
  /** Records written to the on-disk spool. */
  spooled: number;
  /** Records delivered from a spool an earlier process left behind. */
  replayed: number;
  /** Undelivered bytes in the spool. */
  spoolBytes: number;
  /** False while deliveries are failing. */
  collectorUp: boolean;
  /** Records this sink moved into the spool's quarantine file (refused by the collector one by one). */
  quarantined: number;
  /** Records lost to damaged spool segments (each damaged segment was also warned about). */
  damaged: number;
  /** Records still undelivered when the last flush()/shutdown() settled. */
  left: number;
  /** The latest delivery or spool problem, human readable, with the fix; undefined if none so far. */
  lastError: string | undefined;
}

/** Where finished audit records go. The seam between recording and delivery. */
export interface RecordSink {
  write(span: ReadableSpan): void;
  /**
   * Resolves true when everything written so far was delivered before the deadline and
   * nothing was ever dropped, quarantined or lost to damage. Always settles by the deadline,
   * and keeps the process alive (a ref'd timer) until it does.
   */
  flush(timeoutMs: number): Promise<boolean>;
  /** flush(), then closes; the same promise for every call. */
  shutdown(timeoutMs: number): Promise<boolean>;
  stats(): SinkStats;
  /** Strict durability: make every record so far durable; false when that cannot be done. */
  commit?(): boolean;
  /** False when a new record could be neither delivered nor kept (failMode 'closed' refuses calls then). */
  canRecord?(): boolean;
  unavailableReason?(): string;
  /** Encodes the open batch into the spool now (synchronous). */
  seal?(): void;
  /** Synchronous last step at process exit: what memory still holds goes to the spool. */
  spillForExit?(): void;
}

/**
 * A stage a finished record passes through before export. The integrity chain is one; each
 * stage returns the record to pass on (possibly a new object with more attributes).
 */
export interface RecordStage {
  process(record: ReadableSpan): ReadableSpan;
}
