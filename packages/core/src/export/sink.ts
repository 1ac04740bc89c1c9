import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** Counters every sink keeps. Nothing leaves a sink without moving one of them. */
export interface SinkStats {
  /** Records handed to the sink. */
  recorded: number;
  /** Records the destination acknowledged. */
  exported: number;
  /** Records given up on; each drop was also warned about. */
  dropped: number;
  /** Export requests that failed and were retried. */
  failedExports: number;
  /** Records waiting in memory. */
  queueDepth: number;
}

/** Where finished audit records go. The seam between recording and delivery. */
export interface RecordSink {
  write(span: ReadableSpan): void;
  /** Resolves true when everything written so far was delivered before the deadline. */
  flush(timeoutMs: number): Promise<boolean>;
  shutdown(timeoutMs: number): Promise<boolean>;
  stats(): SinkStats;
}

export interface AuditLogger {
  warn(message: string): void;
}

export const consoleLogger: AuditLogger = {
  warn: (message) => console.warn(`[tooltrail] ${message}`),
};
