/** The built-in pipeline's options (docs/export.md, "Options"), and their defaults. */
export interface DurableExportOptions {
  /** Spool folder. Default `./.tooltrail-spool` under the working directory. */
  spoolDir?: string;
  /** Stop spooling past this many undelivered bytes. Default 1 GiB. */
  maxSpoolBytes?: number;
  /** Spool segment size before a new file is started. Default 8 MiB. */
  segmentBytes?: number;
  /** Spans gathered before they are encoded and spooled. Default 512. */
  maxBatch?: number;
  /** How long a span may wait for companions. Default 100 ms. */
  flushIntervalMs?: number;
  /** Bytes of one export request at most (several spooled batches are merged). Default 4 MiB. */
  maxRequestBytes?: number;
  /** Requests in flight at once while the collector keeps up (one while it fails). Default 3. */
  maxConcurrentRequests?: number;
  /** Encoded requests kept in memory so delivery need not read the spool back. Default 16 MiB. */
  memoryCacheBytes?: number;
  /** One request's deadline: connect, send and the complete answer. Default 10 000 ms. */
  timeoutMs?: number;
  initialBackoffMs?: number;
  /** Longest wait between attempts; also the bound on a collector's Retry-After. Default 30 000 ms. */
  maxBackoffMs?: number;
  /** Warn when the collector has been unreachable this long, and again at this interval. Default 30 000 ms. */
  warnAfterMs?: number;
  /** Flush on SIGTERM/SIGINT/beforeExit and spool what is left on exit. Default true. */
  handleProcessExit?: boolean;
  /** How long a signal waits for delivery before the process goes on exiting. Default 2 000 ms. */
  signalFlushMs?: number;
  /** How often the spool folder's heartbeat is refreshed and gone processes' folders are looked for. Default 5 000 ms. */
  heartbeatMs?: number;
  /** A folder whose heartbeat is this old is adopted when this host cannot prove its owner alive. Default 30 000 ms. */
  ownerStaleMs?: number;
}

/** Options with their defaults filled in. Frozen: nothing the pipeline learns while running is kept here. */
export type ExportSettings = Readonly<Required<Omit<DurableExportOptions, 'spoolDir'>>>;

export function exportSettings(options: DurableExportOptions): ExportSettings {
  return Object.freeze({
    maxSpoolBytes: options.maxSpoolBytes ?? 1024 ** 3,
    segmentBytes: options.segmentBytes ?? 8 * 1024 ** 2,
    maxBatch: options.maxBatch ?? 512,
    flushIntervalMs: options.flushIntervalMs ?? 100,
    maxRequestBytes: options.maxRequestBytes ?? 4 * 1024 ** 2,
    maxConcurrentRequests: options.maxConcurrentRequests ?? 3,
    memoryCacheBytes: options.memoryCacheBytes ?? 16 * 1024 ** 2,
    timeoutMs: options.timeoutMs ?? 10_000,
    initialBackoffMs: options.initialBackoffMs ?? 250,
    maxBackoffMs: options.maxBackoffMs ?? 30_000,
    warnAfterMs: options.warnAfterMs ?? 30_000,
    handleProcessExit: options.handleProcessExit ?? true,
    signalFlushMs: options.signalFlushMs ?? 2_000,
    heartbeatMs: options.heartbeatMs ?? 5_000,
    ownerStaleMs: options.ownerStaleMs ?? 30_000,
  });
}
