import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { encodeTraceRequest } from './otlp-json.js';
import { postBody } from './http-post.js';
import { registerExitHooks } from './process-hooks.js';
import type { AuditLogger, RecordSink, SinkStats } from './sink.js';
import { Spool, type SpoolEntryRef } from './spool.js';

export type Durability = 'buffered' | 'strict';
export type FailMode = 'open' | 'closed';

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
  /** Encoded requests kept in memory so delivery need not read the spool back. Default 16 MiB. */
  memoryCacheBytes?: number;
  /** One request's deadline. Default 10 000 ms. */
  timeoutMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Warn when the collector has been unreachable this long, and again at this interval. Default 30 000 ms. */
  warnAfterMs?: number;
  /** Flush on SIGTERM/SIGINT/beforeExit and spool what is left on exit. Default true. */
  handleProcessExit?: boolean;
  /** How long a signal waits for delivery before the process goes on exiting. Default 2 000 ms. */
  signalFlushMs?: number;
}

/** A batch waiting for delivery: in the spool, in memory, or both. */
interface Entry {
  body: string | undefined;
  ref: SpoolEntryRef | undefined;
  spans: number;
  bytes: number;
  replay: boolean;
}

const BODY_PREFIX = '{"resourceSpans":[';

/** Concatenates OTLP/JSON requests into one: each keeps its own resource entry. */
export function mergeRequests(bodies: readonly string[]): string {
  if (bodies.length === 1) return bodies[0] as string;
  const parts: string[] = [];
  for (const b of bodies) {
    const inner = b.startsWith(BODY_PREFIX) ? b.slice(BODY_PREFIX.length, b.length - 2) : '';
    if (inner) parts.push(inner);
  }
  return `${BODY_PREFIX}${parts.join(',')}]}`;
}

/**
 * The export pipeline. Every span is encoded in batches and appended to the spool before it is
 * sent (a write-ahead log), then delivered in order with retries; memory holds at most one
 * open batch plus a bounded cache of encoded requests. Nothing is dropped without a counter and
 * a warning; what is not delivered by shutdown stays in the spool for the next start.
 */
export class DurableSink implements RecordSink {
  readonly url: URL;
  private readonly spool: Spool;
  private spoolWritable = true;
  private spoolError: string | undefined;
  private pending: ReadableSpan[] = [];
  private readonly queue: Entry[] = [];
  private queueHead = 0;
  private cachedBytes = 0;
  private undeliveredSpoolBytes = 0;
  private memoryOnlyBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private backoffMs = 0;
  private failingSince: number | undefined;
  private lastWarn = 0;
  private lastDropWarn = 0;
  private closed = false;
  private readonly unhook: () => void;
  private readonly counters = { recorded: 0, exported: 0, dropped: 0, failedExports: 0, spooled: 0, replayed: 0 };
  private readonly o: Required<Omit<DurableExportOptions, 'spoolDir'>>;

  constructor(
    serviceName: string,
    url: string,
    private readonly headers: Record<string, string>,
    readonly durability: Durability,
    readonly failMode: FailMode,
    private readonly logger: AuditLogger,
    options: DurableExportOptions = {},
  ) {
    this.url = new URL(url);
    this.o = {
      maxSpoolBytes: options.maxSpoolBytes ?? 1024 ** 3,
      segmentBytes: options.segmentBytes ?? 8 * 1024 ** 2,
      maxBatch: options.maxBatch ?? 512,
      flushIntervalMs: options.flushIntervalMs ?? 100,
      maxRequestBytes: options.maxRequestBytes ?? 4 * 1024 ** 2,
      memoryCacheBytes: options.memoryCacheBytes ?? 16 * 1024 ** 2,
      timeoutMs: options.timeoutMs ?? 10_000,
      initialBackoffMs: options.initialBackoffMs ?? 250,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      warnAfterMs: options.warnAfterMs ?? 30_000,
      handleProcessExit: options.handleProcessExit ?? true,
      signalFlushMs: options.signalFlushMs ?? 2_000,
    };
    // Leftovers are adopted only by a later process of the same service (which delivers them
    // wherever that service now sends its records): another service's records never mix in.
    const namespace = `${serviceName.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64)}-${createHash('sha256').update(serviceName).digest('hex').slice(0, 8)}`;
    const root = path.join(path.resolve(options.spoolDir ?? path.join(process.cwd(), '.tooltrail-spool')), namespace);
    this.spool = new Spool(root, `${process.pid}-${randomUUID().slice(0, 8)}`, this.o.segmentBytes);
    try {
      this.spool.open();
      this.recover();
    } catch (err) {
      this.markSpoolBroken(err);
    }
    this.unhook = this.o.handleProcessExit ? registerExitHooks(this, this.o.signalFlushMs) : () => undefined;
    if (this.queueLength() > 0) this.kick();
  }

  // ---- intake -------------------------------------------------------------------------------

  write(span: ReadableSpan): void {
    this.counters.recorded++;
    if (this.closed) {
      this.drop(1, 'the auditor was shut down');
      return;
    }
    this.pending.push(span);
    if (this.pending.length >= this.o.maxBatch) this.seal();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.seal();
      }, this.o.flushIntervalMs);
      this.timer.unref();
    }
  }

  /**
   * Encodes the open batch and appends it to the spool (or, when the spool is unusable, keeps
   * it in memory within the cache budget). Synchronous, so it is safe in 'exit' handlers.
   */
  seal(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const spans = this.pending;
    this.pending = [];
    let body: string;
    try {
      body = encodeTraceRequest(spans);
    } catch (err) {
      this.drop(spans.length, `records could not be encoded: ${(err as Error).message}`);
      return;
    }
    const bytes = Buffer.byteLength(body);
    const entry: Entry = { body, ref: undefined, spans: spans.length, bytes, replay: false };
    if (this.spoolWritable) {
      if (this.undeliveredSpoolBytes + bytes > this.o.maxSpoolBytes) {
        this.spoolError = `spool is over its cap of ${this.o.maxSpoolBytes} bytes`;
      } else {
        try {
          entry.ref = this.spool.append(`${spans.length} ${body}\n`, spans.length);
          this.undeliveredSpoolBytes += entry.ref.length;
          this.counters.spooled += spans.length;
          this.spoolError = undefined;
        } catch (err) {
          this.markSpoolBroken(err);
        }
      }
    }
    if (entry.ref === undefined) {
      // Not on disk: memory is all there is, within its budget.
      if (this.memoryOnlyBytes + bytes > this.o.memoryCacheBytes) {
        this.drop(spans.length, `records could be neither spooled (${this.spoolError ?? 'spool unavailable'}) nor held in memory`);
        return;
      }
      this.memoryOnlyBytes += bytes;
    } else if (this.cachedBytes + bytes > this.o.memoryCacheBytes) {
      entry.body = undefined; // read back from the spool when its turn comes
    } else {
      this.cachedBytes += bytes;
    }
    this.queue.push(entry);
    this.kick();
  }

  /** Strict mode: makes every record so far durable on disk. False when it cannot. */
  commit(): boolean {
    this.seal();
    if (!this.spoolWritable || this.spoolError !== undefined) return false;
    try {
      this.spool.sync();
      return true;
    } catch (err) {
      this.markSpoolBroken(err);
      return false;
    }
  }

  /**
   * Whether a new record can still be kept: spooled, or delivered. Under failMode 'closed'
   * the auditor refuses calls when this is false.
   */
  canRecord(): boolean {
    if (this.closed) return false;
    if (this.spoolWritable && this.spoolError === undefined) return true;
    return this.failingSince === undefined;
  }

  unavailableReason(): string {
    return `the audit trail cannot take records: collector ${this.url.origin} ${this.failingSince === undefined ? 'up' : 'unreachable'}, spool ${this.spoolError ?? 'unwritable'}`;
  }

  // ---- delivery -----------------------------------------------------------------------------

  private queueLength(): number {
    return this.queue.length - this.queueHead;
  }

  private kick(): void {
    if (this.inFlight !== undefined || this.retryTimer !== undefined || this.queueLength() === 0) return;
    this.inFlight = this.sendNext().finally(() => {
      this.inFlight = undefined;
      if (this.queueLength() > 0 && this.retryTimer === undefined) {
        if (this.backoffMs > 0) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.kick();
          }, this.backoffMs);
          this.retryTimer.unref();
        } else setImmediate(() => this.kick());
      }
    });
  }

  private bodyOf(entry: Entry): string | undefined {
    if (entry.body !== undefined) return entry.body;
    if (entry.ref === undefined) return undefined;
    try {
      return this.spool.read(entry.ref);
    } catch (err) {
      this.logger.warn(`a spooled request could not be read back: ${(err as Error).message}`);
      return undefined;
    }
  }

  private async sendNext(): Promise<void> {
    // Merge consecutive batches into one request, up to the request size.
    const taken: Entry[] = [];
    const bodies: string[] = [];
    let size = 0;
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const entry = this.queue[i] as Entry;
      if (taken.length > 0 && size + entry.bytes > this.o.maxRequestBytes) break;
      const body = this.bodyOf(entry);
      if (body === undefined) {
        if (taken.length > 0) break;
        this.finishEntries([entry], false, 'a spooled request could not be read back');
        return;
      }
      taken.push(entry);
      bodies.push(body);
      size += entry.bytes;
    }
    if (taken.length === 0) return;
    const result = await postBody(this.url, mergeRequests(bodies), { 'content-type': 'application/json', ...this.headers }, this.o.timeoutMs);
    if (result.status >= 200 && result.status < 300) {
      this.finishEntries(taken, true);
      this.backoffMs = 0;
      if (this.failingSince !== undefined) {
        this.logger.warn(`collector ${this.url.origin} reachable again after ${Math.round((Date.now() - this.failingSince) / 1000)} s`);
        this.failingSince = undefined;
      }
      return;
    }
    this.counters.failedExports++;
    const permanent = result.status >= 400 && result.status < 500 && result.status !== 408 && result.status !== 429;
    if (permanent) {
      if (taken.length > 1) {
        // Maybe just too big together: the next attempt sends the first batch alone.
        this.o.maxRequestBytes = Math.max(1, Math.min(this.o.maxRequestBytes, (taken[0] as Entry).bytes));
        return;
      }
      this.finishEntries(taken, false, `the collector rejected them (HTTP ${result.status}: ${result.body.slice(0, 200)})`);
      return;
    }
    const now = Date.now();
    this.failingSince ??= now;
    const exp = Math.min(this.o.maxBackoffMs, Math.max(this.o.initialBackoffMs, this.backoffMs * 2));
    this.backoffMs = result.retryAfterMs !== undefined ? Math.min(result.retryAfterMs, 300_000) : exp * (0.5 + Math.random() * 0.5);
    if (now - this.failingSince >= this.o.warnAfterMs && now - this.lastWarn >= this.o.warnAfterMs) {
      this.lastWarn = now;
      const s = this.stats();
      this.logger.warn(
        `collector ${this.url.origin} unreachable for ${Math.round((now - this.failingSince) / 1000)} s ` +
          `(${result.error?.message ?? `HTTP ${result.status}`}); ${s.queueDepth} records waiting, ${s.spoolBytes} bytes in the spool at ${this.spool.dir}`,
      );
    }
  }

  private finishEntries(entries: Entry[], delivered: boolean, why?: string): void {
    for (const entry of entries) {
      this.queueHead++;
      if (delivered) {
        if (entry.replay) this.counters.replayed += entry.spans;
        else this.counters.exported += entry.spans;
      } else this.drop(entry.spans, why ?? 'not delivered');
      if (entry.ref !== undefined) {
        this.undeliveredSpoolBytes -= entry.ref.length;
        try {
          this.spool.ack(entry.ref);
        } catch {
          /* the segment is already gone */
        }
        if (entry.body !== undefined) this.cachedBytes -= entry.bytes;
      } else this.memoryOnlyBytes -= entry.bytes;
      entry.body = undefined;
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    if (this.queueLength() === 0) this.spool.cleanAdopted();
  }

  // ---- recovery, failure, lifecycle ---------------------------------------------------------

  private recover(): void {
    let torn = 0;
    for (const rec of this.spool.adoptOrphans()) {
      torn += rec.tornBytes;
      for (const ref of rec.entries) {
        this.queue.push({ body: undefined, ref, spans: ref.spans, bytes: ref.length, replay: true });
        this.undeliveredSpoolBytes += ref.length;
      }
    }
    const spans = this.queue.reduce((n, e) => n + e.spans, 0);
    if (spans > 0) this.logger.warn(`found ${spans} undelivered audit records from an earlier process; delivering them first`);
    if (torn > 0) this.logger.warn(`an earlier process was cut off mid-write: ${torn} bytes at the end of its spool were incomplete and are skipped`);
  }

  private markSpoolBroken(err: unknown): void {
    if (this.spoolWritable) this.logger.warn(`spool ${this.spool.dir} is unwritable (${(err as Error).message}); records are held in memory only`);
    this.spoolWritable = false;
    this.spoolError = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }

  private drop(n: number, why: string): void {
    this.counters.dropped += n;
    const now = Date.now();
    if (now - this.lastDropWarn > 5_000) {
      this.lastDropWarn = now;
      this.logger.warn(`${n} audit record(s) lost: ${why}; ${this.counters.dropped} lost so far`);
    }
  }

  async flush(timeoutMs: number): Promise<boolean> {
    this.seal();
    const deadline = Date.now() + timeoutMs;
    while (this.queueLength() > 0 || this.inFlight !== undefined) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      if (this.inFlight === undefined && this.retryTimer !== undefined && this.backoffMs > left) {
        // The next retry comes after the deadline: no point waiting for it.
        return false;
      }
      this.kick();
      await Promise.race([
        this.inFlight ?? new Promise<void>((r) => setTimeout(r, Math.min(25, left)).unref()),
        new Promise<void>((r) => setTimeout(r, left).unref()),
      ]);
    }
    return true;
  }

  async shutdown(timeoutMs: number): Promise<boolean> {
    if (this.closed) return this.queueLength() === 0;
    const delivered = await this.flush(timeoutMs);
    this.closed = true;
    this.unhook();
    if (this.timer) clearTimeout(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const memoryOnly = this.queue.slice(this.queueHead).filter((e) => e.ref === undefined);
    if (memoryOnly.length > 0) this.drop(memoryOnly.reduce((n, e) => n + e.spans, 0), 'shut down before delivery, and the spool was unusable');
    else if (!delivered) {
      this.logger.warn(`${this.stats().queueDepth} audit records not yet delivered stay in ${this.spool.dir}; the next start delivers them`);
    }
    this.spool.close();
    if (delivered) this.spool.removeIfEmpty();
    return delivered;
  }

  /** Synchronous last resort for process exit: spool what is still in memory. */
  spillForExit(): void {
    if (!this.closed) this.seal();
  }

  stats(): SinkStats {
    let waiting = this.pending.length;
    for (let i = this.queueHead; i < this.queue.length; i++) waiting += (this.queue[i] as Entry).spans;
    return {
      ...this.counters,
      queueDepth: waiting,
      spoolBytes: this.undeliveredSpoolBytes,
      collectorUp: this.failingSince === undefined,
    };
  }

  get spoolDirectory(): string {
    return this.spool.dir;
  }
}
