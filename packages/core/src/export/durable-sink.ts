import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { classify, type Handling } from './answers.js';
import { postBody, type PostResult } from './http-post.js';
import { encodeTraceRequest } from './wire/otlp-json.js';
import { mergeRequests, partialRejection, SpanList } from './wire/otlp-split.js';
import { protobufFromJson, protobufPartialRejection } from './wire/otlp-protobuf.js';
import { registerExitHooks } from './process-hooks.js';
import { Quarantine } from './quarantine.js';
import type { AuditLogger } from '../contract/logger.js';
import type { RecordSink, SinkStats } from '../contract/record-sink.js';
import { Settlements } from './settlements.js';
import { spoolLocation } from './spool-location.js';
import { adoptOrphans, rescanTail, type RecoveredSegment } from './spool-recovery.js';
import { Spool, SpoolReadError, type Segment, type SpoolEntryRef } from './spool.js';

export { mergeRequests } from './wire/otlp-split.js';

export type Durability = 'buffered' | 'strict';

/** How requests go on the wire. The spool always holds OTLP/JSON; protobuf and gzip are made from it when a request is sent. */
export interface WireFormat {
  protocol: 'http/json' | 'http/protobuf';
  compression: 'gzip' | 'none';
}

// On libuv's thread pool: a 4 MiB request compressed on the event loop would hold up calls.
const gzip = promisify(zlib.gzip);
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

/** A batch waiting for delivery: in the spool, in memory, or both. */
interface Entry {
  body: string | undefined;
  ref: SpoolEntryRef | undefined;
  spans: number;
  bytes: number;
  replay: boolean;
  /** Position in the queue since the start: flush() waits for the entries before its call. */
  seq: number;
}

/** One request's worth: consecutive entries from the head of the queue, or a slice of the head entry's spans. */
type Work = { kind: 'entries'; entries: Entry[] } | { kind: 'slice'; entry: Entry; list: SpanList; from: number; to: number };

const RETRYABLE_READ = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EINTR']);

/**
 * The export pipeline. Every span is encoded in batches and appended to the spool before it is
 * sent (a write-ahead log), then delivered in order with retries; memory holds at most one
 * open batch plus a bounded cache of encoded requests. A record leaves the spool only as
 * delivered (2xx) or into the quarantine; every loss moves a counter and is warned about; what
 * is not delivered by shutdown stays in the spool for the next start (docs/export.md).
 */
export class DurableSink implements RecordSink {
  readonly url: URL;
  private readonly spool: Spool;
  private readonly quarantine: Quarantine;
  private readonly o: Required<Omit<DurableExportOptions, 'spoolDir'>>;
  private readonly unhook: () => void;
  private readonly requestHeaders: Record<string, string>;
  private readonly settlements = new Settlements();
  private readonly counters = { recorded: 0, exported: 0, dropped: 0, failedExports: 0, spooled: 0, replayed: 0, quarantined: 0, damaged: 0 };
  private lastError: string | undefined;
  private left = 0;

  // intake
  private pending: ReadableSpan[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly queue: Entry[] = [];
  private queueHead = 0;
  private seq = 0;
  private finishedSeq = 0;
  /** Spans of the head entry already delivered or quarantined slice by slice. */
  private headDone = 0;
  private cachedBytes = 0;
  private memoryOnlyBytes = 0;
  private undeliveredSpoolBytes = 0;

  // the spool's health
  private spoolOpened = false;
  private spoolBroken: string | undefined;
  private spoolCapped = false;

  // delivery
  private readonly work: Work[] = [];
  private inFlight: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = 0;
  private lastAttemptAt = 0;
  private retryAfterHonoured = false;
  private backoffMs = 0;
  private expBackoffMs = 0;
  private failingSince: number | undefined;
  private lastProblem: string | undefined;
  private lastWarn = 0;
  private lastDropWarn = 0;
  private abort = new AbortController();
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;
  private shutdownResult: Promise<boolean> | undefined;

  constructor(
    serviceName: string,
    url: string,
    headers: Record<string, string>,
    readonly durability: Durability,
    readonly failMode: FailMode,
    private readonly logger: AuditLogger,
    options: DurableExportOptions = {},
    private readonly wire: WireFormat = { protocol: 'http/json', compression: 'none' },
  ) {
    this.url = new URL(url);
    this.requestHeaders = {
      'content-type': wire.protocol === 'http/protobuf' ? 'application/x-protobuf' : 'application/json',
      ...(wire.compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
      ...headers,
    };
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
      heartbeatMs: options.heartbeatMs ?? 5_000,
      ownerStaleMs: options.ownerStaleMs ?? 30_000,
    };
    // Leftovers are adopted only by a later process of the same service (which delivers them
    // wherever that service now sends its records): another service's records never mix in.
    const { namespaceDir } = spoolLocation(serviceName, options.spoolDir);
    this.spool = new Spool(namespaceDir, `${process.pid}-${randomUUID().slice(0, 8)}`, this.o.segmentBytes);
    this.quarantine = new Quarantine(this.spool.quarantineDir);
    try {
      this.spool.open();
      this.spoolOpened = true;
    } catch (err) {
      this.spoolFailed(err);
    }
    if (this.quarantine.holdsEarlierRecords()) {
      this.logger.warn(`the spool's quarantine ${this.spool.quarantineDir} holds records the collector refused earlier; docs/export.md says how to replay them`);
    }
    this.adopt(true);
    // Ref-free: the heartbeat never keeps a process alive (a pending flush holds its own timer).
    this.heartbeat = setInterval(() => this.tick(), this.o.heartbeatMs);
    this.heartbeat.unref();
    this.unhook = this.o.handleProcessExit ? registerExitHooks(this, this.o.signalFlushMs) : () => undefined;
    this.kick();
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
    // Also from here, not only from the timer: a loop that never yields still beats.
    if (this.spoolOpened && this.spoolBroken === undefined && !this.spool.owner.beatIfDue(this.o.heartbeatMs)) this.takenOver();
    const entry: Entry = { body, ref: undefined, spans: spans.length, bytes: Buffer.byteLength(body), replay: false, seq: 0 };
    if (!this.toSpool(entry)) {
      if (this.memoryOnlyBytes + entry.bytes > this.o.memoryCacheBytes) {
        this.drop(spans.length, `records could be neither spooled (${this.spoolBroken ?? 'spool over its cap'}) nor held in memory (memoryCacheBytes is full)`);
        return;
      }
      this.memoryOnlyBytes += entry.bytes;
    } else if (this.cachedBytes + entry.bytes > this.o.memoryCacheBytes) {
      entry.body = undefined; // read back from the spool when its turn comes
    } else {
      this.cachedBytes += entry.bytes;
    }
    entry.seq = ++this.seq;
    this.queue.push(entry);
    this.kick();
  }

  /** Appends an entry to the spool; false when the spool cannot take it (it stays memory-only). */
  private toSpool(entry: Entry): boolean {
    if (this.undeliveredSpoolBytes + entry.bytes > this.o.maxSpoolBytes) {
      if (!this.spoolCapped) {
        this.spoolCapped = true;
        this.problem(`the spool is over its cap of ${this.o.maxSpoolBytes} bytes (maxSpoolBytes): new records are held in memory only until delivery catches up`);
      }
      return false;
    }
    const wasBroken = this.spoolBroken !== undefined;
    try {
      entry.ref = this.spool.append(`${entry.spans} ${entry.body as string}\n`, entry.spans);
    } catch (err) {
      this.spoolFailed(err);
      return false;
    }
    this.spoolOpened = true;
    this.spoolCapped = false;
    this.undeliveredSpoolBytes += entry.ref.length;
    this.counters.spooled += entry.spans;
    if (wasBroken) this.spoolRecovered();
    return true;
  }

  /** After the spool came back: what was held in memory meanwhile goes to disk too. */
  private spoolRecovered(): void {
    this.spoolBroken = undefined;
    let moved = 0;
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const e = this.queue[i] as Entry;
      if (e.ref !== undefined || e.body === undefined) continue;
      if (!this.toSpool(e)) break;
      moved += e.spans;
      this.memoryOnlyBytes -= e.bytes;
      if (this.cachedBytes + e.bytes > this.o.memoryCacheBytes) e.body = undefined;
      else this.cachedBytes += e.bytes;
    }
    this.logger.warn(`the spool ${this.spool.dir} is writable again${moved > 0 ? `; ${moved} records held in memory meanwhile are spooled now` : ''}`);
  }

  private spoolFailed(err: unknown): void {
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
    if (this.spoolBroken === undefined) {
      this.logger.warn(`${what}; the spool is unwritable: records are held in memory (up to memoryCacheBytes) and the spool is tried again with every batch`);
    }
    this.spoolBroken = code ?? (err as Error).message;
    this.lastError = what;
  }

  /** Strict mode: makes every record so far durable on disk. False when it cannot. */
  commit(): boolean {
    this.seal();
    if (this.spoolBroken !== undefined || this.spoolCapped) return false;
    const last = this.queue[this.queue.length - 1];
    if (last !== undefined && last.ref === undefined && this.queue.length > this.queueHead) return false;
    try {
      this.spool.sync();
      return true;
    } catch (err) {
      this.spoolFailed(err);
      return false;
    }
  }

  /**
   * Whether a new record can still be kept: spooled, or delivered. Under failMode 'closed'
   * the auditor refuses calls when this is false.
   */
  canRecord(): boolean {
    if (this.closed) return false;
    if (this.spoolBroken === undefined && !this.spoolCapped) return true;
    return this.failingSince === undefined;
  }

  unavailableReason(): string {
    return `the audit trail cannot take records: collector ${this.url.origin} ${this.failingSince === undefined ? 'up' : 'unreachable'}, spool ${this.spoolBroken ?? (this.spoolCapped ? 'over its cap' : 'writable')}`;
  }

  // ---- delivery -----------------------------------------------------------------------------

  private queueLength(): number {
    return this.queue.length - this.queueHead;
  }

  private kick(): void {
    if (this.closed || this.inFlight !== undefined || this.retryTimer !== undefined) return;
    if (this.work.length === 0 && this.queueLength() === 0) return;
    this.inFlight = this.deliverOne()
      .catch((err: unknown) => {
        // A bug, not an answer: keep everything and back off rather than spin.
        this.problem(`delivery failed unexpectedly: ${(err as Error).message}`);
        this.scheduleBackoff(undefined);
      })
      .finally(() => {
        this.inFlight = undefined;
        this.settlements.check();
        if (this.closed || (this.work.length === 0 && this.queueLength() === 0)) return;
        if (this.backoffMs > 0) {
          this.retryAt = Date.now() + this.backoffMs;
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.kick();
          }, Math.min(this.backoffMs, 2 ** 31 - 1));
          this.retryTimer.unref();
          this.settlements.check();
        } else setImmediate(() => this.kick());
      });
  }

  /** Consecutive batches from the head of the queue, merged up to the request size. */
  private takeMerged(): Work | undefined {
    const entries: Entry[] = [];
    let size = 0;
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const entry = this.queue[i] as Entry;
      if (entries.length > 0 && size + entry.bytes > this.o.maxRequestBytes) break;
      entries.push(entry);
      size += entry.bytes;
    }
    return entries.length > 0 ? { kind: 'entries', entries } : undefined;
  }

  private bodyOf(entry: Entry): string {
    if (entry.body !== undefined) return entry.body;
    if (entry.ref === undefined) throw new SpoolReadError('a batch held in memory lost its body');
    return this.spool.read(entry.ref);
  }

  private async deliverOne(): Promise<void> {
    const work = this.work.pop() ?? this.takeMerged();
    if (work === undefined) return;
    let body: string;
    try {
      body = work.kind === 'slice' ? work.list.encode(work.from, work.to) : mergeRequests(work.entries.map((e) => this.bodyOf(e)));
    } catch (err) {
      this.unreadable(work, err);
      return;
    }
    const wire = await this.onTheWire(body);
    if (this.closed) {
      this.work.push(work);
      return;
    }
    this.lastAttemptAt = Date.now();
    const result = await postBody(this.url, wire.payload, wire.headers, this.o.timeoutMs, this.abort.signal);
    if (this.closed) {
      this.work.push(work); // abandoned at shutdown: still in the spool
      return;
    }
    const ok = result.status >= 200 && result.status < 300;
    const handling = classify(result, ok ? this.rejectedIn(result) : undefined, this.url, this.spool.dir, this.wire.protocol);
    if (handling.kind === 'delivered') {
      this.completed(work, 'delivered');
      this.backoffMs = 0;
      this.expBackoffMs = 0;
      if (this.failingSince !== undefined) {
        this.logger.warn(`collector ${this.url.origin} reachable again after ${Math.round((Date.now() - this.failingSince) / 1000)} s`);
        this.failingSince = undefined;
        this.lastProblem = undefined;
      }
      return;
    }
    this.counters.failedExports++;
    if (handling.kind === 'split') {
      if (this.split(work, body)) {
        this.backoffMs = 0;
        return;
      }
      this.toQuarantine(work, body, result, handling.problem);
      return;
    }
    this.work.push(work);
    this.scheduleBackoff(result);
    this.reportFailure(result, handling);
  }

  /** The request's bytes in the configured protocol and compression (from the spooled OTLP/JSON). */
  private async onTheWire(json: string): Promise<{ payload: Buffer | string; headers: Record<string, string> }> {
    let body: Buffer | string = json;
    let headers = this.requestHeaders;
    if (this.wire.protocol === 'http/protobuf') {
      try {
        body = protobufFromJson(json);
      } catch {
        // Not a request tooltrail can read (a damaged spool line): sent as the JSON it is, with its
        // own content-type, so the collector's answer (400) moves it to the quarantine rather than
        // have it block the queue.
        headers = { ...headers, 'content-type': 'application/json' };
      }
    }
    return { payload: this.wire.compression === 'gzip' ? await gzip(body) : body, headers };
  }

  /** partialSuccess of a 2xx answer, in the answer's own encoding. */
  private rejectedIn(result: PostResult): { rejected: number; message: string } | undefined {
    if (result.contentType?.includes('protobuf') && result.raw !== undefined) return protobufPartialRejection(result.raw);
    return partialRejection(result.body);
  }

  /** Halves a refused request: entries first, then the spans of a single batch. False for a single record. */
  private split(work: Work, body: string): boolean {
    if (work.kind === 'entries' && work.entries.length > 1) {
      const half = Math.ceil(work.entries.length / 2);
      this.work.push({ kind: 'entries', entries: work.entries.slice(half) }, { kind: 'entries', entries: work.entries.slice(0, half) });
      return true;
    }
    let slice: Extract<Work, { kind: 'slice' }>;
    if (work.kind === 'slice') slice = work;
    else {
      const entry = work.entries[0] as Entry;
      const list = entry.spans > 1 ? SpanList.parse(body) : undefined;
      if (list === undefined || list.length < 2) return false;
      slice = { kind: 'slice', entry, list, from: 0, to: list.length };
    }
    if (slice.to - slice.from < 2) return false;
    const mid = slice.from + Math.ceil((slice.to - slice.from) / 2);
    this.work.push({ ...slice, from: mid }, { ...slice, to: mid });
    return true;
  }

  private toQuarantine(work: Work, body: string, result: PostResult, problem: string): void {
    const spans = work.kind === 'slice' ? work.to - work.from : work.entries.reduce((n, e) => n + e.spans, 0);
    try {
      this.quarantine.add(body, spans, result.status, problem, this.spool.streamName);
    } catch (err) {
      // Not even the quarantine can take it: it stays queued (and spooled) rather than vanish.
      this.work.push(work);
      this.scheduleBackoff(undefined);
      this.problem(`${problem}; the record could not be quarantined (${(err as Error).message}), so it is kept in ${this.spool.dir} and retried`);
      return;
    }
    this.completed(work, 'quarantined');
    this.backoffMs = 0;
    this.problem(`${spans} audit record(s) quarantined in ${this.quarantine.file}: ${problem}; they are kept there, not delivered (docs/export.md says how to replay them)`);
  }

  /** A spooled batch could not be read back: lost, unless the error is a passing one. */
  private unreadable(work: Work, err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined && RETRYABLE_READ.has(code)) {
      this.work.push(work);
      this.scheduleBackoff(undefined);
      this.problem(`a spooled request could not be read back (${(err as Error).message}); retrying`);
      return;
    }
    const entries = work.kind === 'slice' ? [work.entry] : work.entries;
    // Find the batch that cannot be read; the ones before it go as a request of their own.
    let bad = 0;
    for (; bad < entries.length; bad++) {
      try {
        this.bodyOf(entries[bad] as Entry);
      } catch {
        break;
      }
    }
    if (bad > 0) {
      this.work.push({ kind: 'entries', entries: entries.slice(0, bad) });
      return;
    }
    const entry = entries[0] as Entry;
    if (entry.ref !== undefined) entry.ref.segment.damaged = true;
    this.counters.damaged += entry.spans;
    this.problem(`${entry.spans} audit record(s) lost: a spooled request could not be read back (${(err as Error).message}); the segment is kept in ${this.spool.quarantineDir}`);
    if (entries.length > 1) this.work.push({ kind: 'entries', entries: entries.slice(1) });
    this.finishEntries([entry]);
  }

  private completed(work: Work, how: 'delivered' | 'quarantined'): void {
    if (work.kind === 'slice') {
      this.count(work.entry, work.to - work.from, how);
      this.headDone += work.to - work.from;
      if (work.to === work.list.length) this.finishEntries([work.entry]);
      return;
    }
    for (const e of work.entries) this.count(e, e.spans, how);
    this.finishEntries(work.entries);
  }

  private count(entry: Entry, spans: number, how: 'delivered' | 'quarantined'): void {
    if (how === 'quarantined') this.counters.quarantined += spans;
    else if (entry.replay) this.counters.replayed += spans;
    else this.counters.exported += spans;
  }

  /** Removes finished entries from the head of the queue and acknowledges them in the spool. */
  private finishEntries(entries: Entry[]): void {
    for (const entry of entries) {
      this.queueHead++;
      this.headDone = 0;
      this.finishedSeq = entry.seq;
      if (entry.ref !== undefined) {
        this.undeliveredSpoolBytes -= entry.ref.length;
        if (entry.body !== undefined) this.cachedBytes -= entry.bytes;
        this.ack(entry.ref);
      } else this.memoryOnlyBytes -= entry.bytes;
      entry.body = undefined;
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    if (this.queueLength() === 0 && this.spoolOpened) this.spool.cleanAdopted();
  }

  private ack(ref: SpoolEntryRef): void {
    let result;
    try {
      result = this.spool.ack(ref);
    } catch {
      return; // the segment is already gone
    }
    if (result !== 'grown') return;
    // An adopted segment grew: its owner was alive after all (its heartbeat had stalled).
    const tail = rescanTail(ref.segment);
    this.reportDamage(ref.segment, tail.damage, [], tail.entries.length);
    for (const r of tail.entries) this.enqueueReplay(r);
    if (tail.entries.length === 0) this.ack(ref);
    else this.kick();
  }

  private scheduleBackoff(result: PostResult | undefined): void {
    this.expBackoffMs = Math.min(this.o.maxBackoffMs, Math.max(this.o.initialBackoffMs, this.expBackoffMs * 2));
    const retryAfter = result?.retryAfterMs;
    this.retryAfterHonoured = retryAfter !== undefined;
    this.backoffMs =
      retryAfter !== undefined
        ? Math.min(this.o.maxBackoffMs, Math.max(this.o.initialBackoffMs, retryAfter))
        : Math.max(1, this.expBackoffMs * (0.5 + Math.random() * 0.5));
  }

  private reportFailure(result: PostResult, handling: Extract<Handling, { kind: 'retry' | 'hold' }>): void {
    const now = Date.now();
    this.failingSince ??= now;
    const key = result.timedOut ? 'deadline' : String(result.status);
    const fresh = this.lastProblem !== key && (handling.kind === 'hold' || result.timedOut);
    this.lastProblem = key;
    const s = this.stats();
    const message = `${handling.problem}; ${s.queueDepth} records waiting, ${s.spoolBytes} bytes in the spool at ${this.spool.dir}`;
    this.lastError = handling.problem;
    // Configuration problems and stalls are reported at once; outages after warnAfterMs.
    if (fresh || (now - this.failingSince >= this.o.warnAfterMs && now - this.lastWarn >= this.o.warnAfterMs)) {
      this.lastWarn = now;
      const outage = handling.kind === 'retry' && !result.timedOut && now - this.failingSince >= this.o.warnAfterMs;
      this.logger.warn(outage ? `${message} (failing for ${Math.round((now - this.failingSince) / 1000)} s)` : message);
    }
  }

  // ---- recovery, ownership ------------------------------------------------------------------

  private tick(): void {
    if (this.closed) return;
    if (this.spoolOpened && this.spoolBroken === undefined && !this.spool.owner.beat()) this.takenOver();
    if (this.spoolBroken !== undefined && this.memoryOnlyBytes > 0) {
      // Nothing new may come to retry the spool with: retry it with what memory holds.
      const e = this.queue.slice(this.queueHead).find((x) => x.ref === undefined && x.body !== undefined);
      if (e !== undefined && this.toSpool(e)) {
        this.memoryOnlyBytes -= e.bytes;
        if (this.cachedBytes + e.bytes > this.o.memoryCacheBytes) e.body = undefined;
        else this.cachedBytes += e.bytes;
        this.spoolRecovered();
      }
    }
    this.adopt(false);
  }

  /** Adopts the folders of gone processes of this service and queues what they left. */
  private adopt(atStart: boolean): void {
    if (!this.spoolOpened || this.spoolBroken !== undefined || this.closed) return;
    const found = adoptOrphans(this.spool, this.o.ownerStaleMs);
    if (found.folders.length === 0) return;
    let records = 0;
    for (const rec of found.segments) records += this.takeRecovered(rec);
    if (records > 0) {
      const why = [...new Set(found.folders.map((f) => f.why))].join('; ');
      this.logger.warn(
        `found ${records} undelivered audit records from ${found.folders.length} earlier process(es) (${why}); delivering them${atStart ? ' first' : ''}`,
      );
    }
    this.kick();
  }

  private takeRecovered(rec: RecoveredSegment): number {
    if (rec.unreadable !== undefined) {
      this.problem(`spool segment ${rec.segment.file} could not be read (${rec.unreadable}); it is left where it is and tried again at the next start`);
      return 0;
    }
    this.reportDamage(rec.segment, rec.damage, rec.notes, rec.entries.length);
    let records = 0;
    for (const ref of rec.entries) {
      this.enqueueReplay(ref);
      records += ref.spans;
    }
    // A damaged segment with nothing deliverable goes to the quarantine now. A clean one is left
    // for cleanAdopted(), which removes its folder only while nothing in it is undelivered (an
    // owner adopted after a stalled heartbeat may still be appending to it).
    if (rec.entries.length === 0 && rec.segment.damaged) this.spool.retire(rec.segment);
    return records;
  }

  private enqueueReplay(ref: SpoolEntryRef): void {
    this.queue.push({ body: undefined, ref, spans: ref.spans, bytes: ref.length, replay: true, seq: ++this.seq });
    this.undeliveredSpoolBytes += ref.length;
  }

  private reportDamage(segment: Segment, damage: RecoveredSegment['damage'], notes: string[], intact: number): void {
    if (damage.length === 0 && notes.length === 0) return;
    const lost = damage.reduce((n, d) => n + d.records, 0);
    this.counters.damaged += lost;
    const parts = [
      ...damage.map((d) => `${d.what} at byte ${d.offset} (${d.bytes} bytes, ${d.records} record(s) lost${d.records === 1 ? ' at least' : ''})`),
      ...notes,
    ];
    const message =
      `spool segment ${segment.file} is damaged: ${parts.join('; ')}. ` +
      (lost > 0 ? `${lost} record(s) lost; ` : 'nothing lost; ') +
      `${intact} intact request(s) in it are delivered` +
      (damage.length > 0 ? `; the segment is then kept in ${this.spool.quarantineDir}` : '');
    this.logger.warn(message);
    if (lost > 0) this.lastError = message;
  }

  /** Our folder was adopted by another process (or deleted) while we are alive. */
  private takenOver(): void {
    this.logger.warn(
      `the spool folder ${this.spool.dir} was taken away while this process is alive (another process judged its heartbeat stale after ownerStaleMs ${this.o.ownerStaleMs} ms: was the event loop blocked?, or it was deleted); starting it afresh; records may be delivered twice`,
    );
    const segments = new Set<Segment>();
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const ref = (this.queue[i] as Entry).ref;
      if (ref !== undefined) segments.add(ref.segment);
    }
    try {
      this.spool.rehome(segments);
    } catch (err) {
      this.spoolFailed(err);
    }
  }

  // ---- losses, lifecycle --------------------------------------------------------------------

  private problem(message: string): void {
    this.lastError = message;
    this.logger.warn(message);
  }

  private drop(n: number, why: string): void {
    this.counters.dropped += n;
    this.lastError = `${n} audit record(s) lost: ${why}`;
    const now = Date.now();
    if (now - this.lastDropWarn > 5_000) {
      this.lastDropWarn = now;
      this.logger.warn(`${n} audit record(s) lost: ${why}; ${this.counters.dropped} lost so far`);
    }
  }

  private lossFree(): boolean {
    return this.counters.dropped === 0 && this.counters.quarantined === 0 && this.counters.damaged === 0;
  }

  /**
   * Resolves once everything written before the call is delivered (true, when nothing was
   * ever dropped, quarantined or found damaged either), or at the deadline (false; the rest
   * stays spooled). It always settles by the deadline, and holds a ref'd timer until then so
   * the process cannot exit under a pending flush.
   */
  flush(timeoutMs: number): Promise<boolean> {
    this.seal();
    const target = this.seq;
    // A flush wants an attempt within its deadline, not after a back-off chosen before it was
    // asked for (but not more often than initialBackoffMs: a flush per call must not hammer).
    const now = Date.now();
    if (
      this.retryTimer !== undefined &&
      !this.retryAfterHonoured &&
      this.retryAt > now + timeoutMs &&
      now - this.lastAttemptAt >= this.o.initialBackoffMs
    ) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.kick();
    return this.settlements
      .wait(timeoutMs, (deadline) => {
        if (this.finishedSeq >= target) return true;
        // The next attempt comes after the deadline: no point waiting for it.
        if (this.inFlight === undefined && this.retryTimer !== undefined && this.retryAt > deadline) return false;
        return undefined;
      })
      .then((drained) => {
        this.left = this.stats().queueDepth;
        if (!drained && this.lastError === undefined) this.lastError = `${this.left} audit records not delivered within ${timeoutMs} ms`;
        return drained && this.lossFree();
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
    if (this.timer) clearTimeout(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    clearInterval(this.heartbeat);
    this.abort.abort(); // a request still in flight is abandoned: its records stay spooled
    this.spillMemory();
    const memoryOnly = this.queue.slice(this.queueHead).filter((e) => e.ref === undefined);
    if (memoryOnly.length > 0) {
      const n = memoryOnly.reduce((k, e) => k + e.spans, 0);
      this.drop(n, `shut down before delivery, and the spool could not take them (${this.spoolBroken ?? 'over its cap'})`);
    }
    this.left = this.stats().queueDepth - memoryOnly.reduce((k, e) => k + e.spans, 0);
    if (this.left > 0) this.logger.warn(`${this.left} audit records not yet delivered stay in ${this.spool.dir}; the next start delivers them`);
    this.spool.close();
    if (this.queueLength() === 0) this.spool.removeIfEmpty();
    return delivered && memoryOnly.length === 0;
  }

  /** Puts what memory alone holds into the spool, where it can. */
  private spillMemory(): void {
    if (this.memoryOnlyBytes === 0) return;
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const e = this.queue[i] as Entry;
      if (e.ref !== undefined || e.body === undefined) continue;
      if (!this.toSpool(e)) return;
      this.memoryOnlyBytes -= e.bytes;
    }
  }

  /** Synchronous last resort for process exit: spool what is still in memory. */
  spillForExit(): void {
    if (this.closed) return;
    this.seal();
    this.spillMemory();
  }

  stats(): SinkStats {
    let waiting = this.pending.length - this.headDone;
    for (let i = this.queueHead; i < this.queue.length; i++) waiting += (this.queue[i] as Entry).spans;
    return {
      ...this.counters,
      queueDepth: waiting,
      spoolBytes: this.undeliveredSpoolBytes,
      collectorUp: this.failingSince === undefined,
      left: this.left,
      lastError: this.lastError,
    };
  }

  get spoolDirectory(): string {
    return this.spool.dir;
  }
}
