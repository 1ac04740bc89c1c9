import { randomUUID } from 'node:crypto';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { AuditLogger } from '../contract/logger.js';
import type { RecordSink, SinkStats } from '../contract/record-sink.js';
import { Batcher } from './batcher.js';
import { Deliverer } from './deliverer.js';
import { DeliveryQueue, type Entry } from './delivery-queue.js';
import { exportSettings, type DurableExportOptions, type ExportSettings } from './export-options.js';
import { registerExitHooks } from './process-hooks.js';
import { Quarantine } from './quarantine.js';
import { BatchBuffers, RequestWriter } from './wire/otlp-json-batch.js';
import { RequestSender, type WireFormat } from './request-sender.js';
import { Settlements } from './settlements.js';
import { SinkReport } from './sink-report.js';
import { SpoolAdoption } from './spool-adoption.js';
import { spoolLocation } from './spool-location.js';
import { SpoolStore } from './spool-store.js';
import { Spool } from './spool.js';

export type { DurableExportOptions } from './export-options.js';
export type { WireFormat } from './request-sender.js';
export type Durability = 'buffered' | 'strict';
export type FailMode = 'open' | 'closed';

/** What a DurableSink is built from. */
export interface DurableSinkSettings {
  serviceName: string;
  /** The traces URL. */
  url: string;
  headers: Record<string, string>;
  logger: AuditLogger;
  options?: DurableExportOptions;
  wire?: WireFormat;
}

/**
 * The export pipeline. Every span is batched (batcher.ts), encoded once and appended to the spool
 * before it is sent (a write-ahead log; spool-store.ts), queued (delivery-queue.ts) and delivered
 * with retries (deliverer.ts, request-sender.ts); what earlier processes left is adopted
 * (spool-adoption.ts). Memory holds at most one batch of records not yet sealed plus a bounded
 * cache of encoded requests. A record leaves the spool only as delivered (2xx) or into the
 * quarantine; every loss moves a counter and is warned about; what is not delivered by shutdown
 * stays in the spool for the next start (docs/export.md).
 */
export class DurableSink implements RecordSink {
  readonly url: URL;
  private readonly o: ExportSettings;
  private readonly report: SinkReport;
  private readonly settlements = new Settlements();
  private readonly batcher: Batcher<ReadableSpan, RequestWriter>;
  private readonly buffers = new BatchBuffers();
  private readonly queue: DeliveryQueue;
  private readonly store: SpoolStore;
  private readonly adoption: SpoolAdoption;
  private readonly deliverer: Deliverer;
  private readonly unhook: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  private left = 0;
  private closed = false;
  private shutdownResult: Promise<boolean> | undefined;

  constructor(s: DurableSinkSettings) {
    const options = s.options ?? {};
    this.url = new URL(s.url);
    this.o = exportSettings(options);
    this.report = new SinkReport(s.logger);
    // Leftovers are adopted only by a later process of the same service (which delivers them
    // wherever that service now sends its records): another service's records never mix in.
    const { namespaceDir } = spoolLocation(s.serviceName, options.spoolDir);
    const spool = new Spool(namespaceDir, `${process.pid}-${randomUUID().slice(0, 8)}`, this.o.segmentBytes);
    this.queue = new DeliveryQueue(this.o, (entry) => this.finished(entry));
    this.store = new SpoolStore(spool, this.queue, this.report, this.o.maxSpoolBytes);
    this.adoption = new SpoolAdoption(spool, this.queue, this.report, this.o.ownerStaleMs);
    const quarantine = new Quarantine(spool.quarantineDir);
    const wire = s.wire ?? { protocol: 'http/json', compression: 'none' };
    const sender = new RequestSender(this.url, s.headers, wire, this.o.timeoutMs, this.queue, spool, quarantine, this.report);
    this.deliverer = new Deliverer(sender, this.queue, this.report, this.settlements, this.o, () => {
      const st = this.stats();
      return `${st.queueDepth} records waiting, ${st.spoolBytes} bytes in the spool at ${spool.dir}`;
    });
    this.batcher = new Batcher(this.o.maxBatch, this.o.flushIntervalMs, (batch) => this.sealBatch(batch), () => new RequestWriter(this.buffers));
    this.store.open();
    if (quarantine.holdsEarlierRecords()) {
      this.report.logger.warn(`the spool's quarantine ${spool.quarantineDir} holds records the collector refused earlier; docs/export.md says how to replay them`);
    }
    this.adopt(true);
    // Ref-free: the heartbeat never keeps a process alive (a pending flush holds its own timer).
    this.heartbeat = setInterval(() => this.tick(), this.o.heartbeatMs);
    this.heartbeat.unref();
    this.unhook = this.o.handleProcessExit ? registerExitHooks(this, this.o.signalFlushMs) : () => undefined;
    this.deliverer.kick();
  }

  write(span: ReadableSpan): void {
    this.report.counters.recorded++;
    if (this.closed) this.report.drop(1, 'the auditor was shut down');
    else {
      // Encoded now, while the chain's escaped values for this record are at hand (and the
      // record is final: it went through every stage), straight into its batch's request: the
      // batch holds bytes, not spans, and they are written once.
      try {
        this.batcher.add(span);
      } catch (err) {
        this.report.drop(1, `a record could not be encoded: ${(err as Error).message}`);
      }
    }
  }

  /** Seals what the batcher holds into the spool now. Synchronous, so it is safe in 'exit' handlers. */
  seal(): void {
    this.batcher.sealAll();
  }

  /** Encodes one batch and appends it to the spool (or, when the spool is unusable, keeps it in memory within the cache budget). */
  private sealBatch(batch: RequestWriter): void {
    const body = batch.finish();
    // Also from here, not only from the timer: a loop that never yields still beats.
    if (this.store.healthy && !this.store.spool.owner.beatIfDue(this.o.heartbeatMs)) this.store.takenOver(this.o.ownerStaleMs);
    const entry: Entry = { body, ref: undefined, spans: batch.length, bytes: body.length, replay: false, seq: 0, settled: 0 };
    if (!this.queue.admit(entry, this.store.write(entry))) {
      this.report.drop(batch.length, `records could be neither spooled (${this.store.broken ?? 'spool over its cap'}) nor held in memory (memoryCacheBytes is full)`);
      return;
    }
    this.deliverer.kick();
  }

  /** Strict mode: makes every record so far durable on disk. False when it cannot. */
  commit(): boolean {
    this.seal();
    return this.store.sync();
  }

  /** Whether a new record can still be kept: spooled, or delivered. Under failMode 'closed' the auditor refuses calls when this is false. */
  canRecord(): boolean {
    if (this.closed) return false;
    return this.store.writable || this.deliverer.collectorUp;
  }

  unavailableReason(): string {
    return `the audit trail cannot take records: collector ${this.url.origin} ${this.deliverer.collectorUp ? 'up' : 'unreachable'}, spool ${this.store.broken ?? (this.store.capped ? 'over its cap' : 'writable')}`;
  }

  /** A finished entry: acknowledged in the spool; adopted folders with nothing left go. */
  private finished(entry: Entry): void {
    if (entry.ref !== undefined) this.adoption.ack(entry.ref);
    if (this.queue.isEmpty() && this.store.opened) this.store.spool.cleanAdopted();
  }

  private tick(): void {
    if (this.closed) return;
    if (this.store.healthy && !this.store.spool.owner.beat()) this.store.takenOver(this.o.ownerStaleMs);
    this.store.retry();
    this.adopt(false);
  }

  private adopt(atStart: boolean): void {
    if (!this.store.healthy || this.closed) return;
    this.adoption.adopt(atStart);
    this.deliverer.kick();
  }

  /**
   * Resolves once everything written before the call is delivered (true, when nothing was
   * ever dropped, quarantined or found damaged either), or at the deadline (false; the rest
   * stays spooled). It always settles by the deadline, and holds a ref'd timer until then so
   * the process cannot exit under a pending flush.
   */
  flush(timeoutMs: number): Promise<boolean> {
    this.seal();
    const target = this.queue.lastSeq;
    this.deliverer.hurry(timeoutMs);
    return this.settlements
      .wait(timeoutMs, (deadline) => {
        if (this.queue.finishedSeq >= target) return true;
        // The next attempt comes after the deadline: no point waiting for it.
        return this.deliverer.waitsPast(deadline) ? false : undefined;
      })
      .then((drained) => {
        this.left = this.stats().queueDepth;
        if (!drained && this.report.lastError === undefined) this.report.lastError = `${this.left} audit records not delivered within ${timeoutMs} ms`;
        return drained && this.report.lossFree();
      });
  }

  shutdown(timeoutMs: number): Promise<boolean> {
    this.shutdownResult ??= this.close(timeoutMs);
    return this.shutdownResult;
  }

  private async close(timeoutMs: number): Promise<boolean> {
    const delivered = await this.flush(timeoutMs);
    this.closed = true;
    this.unhook();
    this.batcher.stop();
    clearInterval(this.heartbeat);
    this.deliverer.close(); // a request still in flight is abandoned: its records stay spooled
    this.store.spill();
    let memoryOnly = 0;
    for (const e of this.queue.unfinished()) if (e.ref === undefined) memoryOnly += e.spans - e.settled;
    if (memoryOnly > 0) this.report.drop(memoryOnly, `shut down before delivery, and the spool could not take them (${this.store.broken ?? 'over its cap'})`);
    this.left = this.stats().queueDepth - memoryOnly;
    const dir = this.store.spool.dir;
    if (this.left > 0) this.report.logger.warn(`${this.left} audit records not yet delivered stay in ${dir}; the next start delivers them`);
    this.store.spool.close();
    if (this.queue.isEmpty()) this.store.spool.removeIfEmpty();
    return delivered && memoryOnly === 0;
  }

  /** Synchronous last resort for process exit: spool what is still in memory. */
  spillForExit(): void {
    if (this.closed) return;
    this.seal();
    this.store.spill();
  }

  stats(): SinkStats {
    return {
      ...this.report.counters,
      queueDepth: this.batcher.size + this.queue.waiting,
      spoolBytes: this.queue.undeliveredSpoolBytes,
      collectorUp: this.deliverer.collectorUp,
      left: this.left,
      lastError: this.report.lastError,
    };
  }

  get spoolDirectory(): string {
    return this.store.spool.dir;
  }
}
