import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { classify, type Handling } from './answers.js';
import { spansOf, type DeliveryQueue, type Entry, type Work } from './delivery-queue.js';
import { postBody, type PostResult } from './http-post.js';
import type { Quarantine } from './quarantine.js';
import { mergeBodies } from './request-bytes.js';
import type { SinkReport } from './sink-report.js';
import { SpoolReadError, type Spool } from './spool.js';
import { partialRejection, SpanList } from './wire/otlp-split.js';
import { protobufFromJson, protobufPartialRejection } from './wire/otlp-protobuf.js';

/** How requests go on the wire. The spool always holds OTLP/JSON; protobuf and gzip are made from it when a request is sent. */
export interface WireFormat {
  protocol: 'http/json' | 'http/protobuf';
  compression: 'gzip' | 'none';
}

/** What one attempt asks of the dispatcher next. */
export type Attempt =
  | { kind: 'delivered' }
  /** Split or quarantined: the next attempt may go at once. */
  | { kind: 'again' }
  /** Back off; `handling` says what to warn about (none for a spool read that may pass). */
  | { kind: 'failed'; result: PostResult | undefined; handling: Extract<Handling, { kind: 'retry' | 'hold' }> | undefined }
  /** Shutdown abandoned it: its records stay spooled. */
  | { kind: 'abandoned' };

// On libuv's thread pool: a 4 MiB request compressed on the event loop would hold up calls.
const gzip = promisify(zlib.gzip);
const RETRYABLE_READ = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EINTR']);

/**
 * Sends one request and acts on the answer (docs/export.md, "What each answer does"): settles
 * what was delivered, splits what was refused down to single records, quarantines a single
 * record still refused, and hands everything else back to the queue to be sent again.
 */
export class RequestSender {
  private readonly headers: Record<string, string>;

  constructor(
    readonly url: URL,
    headers: Record<string, string>,
    private readonly wire: WireFormat,
    private readonly timeoutMs: number,
    private readonly queue: DeliveryQueue,
    private readonly spool: Spool,
    private readonly quarantine: Quarantine,
    private readonly report: SinkReport,
  ) {
    this.headers = {
      'content-type': wire.protocol === 'http/protobuf' ? 'application/x-protobuf' : 'application/json',
      ...(wire.compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
      ...headers,
    };
  }

  async send(work: Work, signal: AbortSignal): Promise<Attempt> {
    let body: Buffer;
    try {
      body = work.kind === 'slice' ? Buffer.from(work.list.encode(work.from, work.to), 'utf8') : mergeBodies(work.entries.map((e) => this.bodyOf(e)));
    } catch (err) {
      return this.unreadable(work, err);
    }
    const wire = await this.onTheWire(body);
    if (signal.aborted) return this.abandon(work);
    const result = await postBody(this.url, wire.payload, wire.headers, this.timeoutMs, signal);
    if (signal.aborted) return this.abandon(work);
    const ok = result.status >= 200 && result.status < 300;
    const handling = classify(result, ok ? this.rejectedIn(result) : undefined, this.url, this.spool.dir, this.wire.protocol);
    if (handling.kind === 'delivered') {
      this.completed(work, 'delivered');
      return { kind: 'delivered' };
    }
    this.report.counters.failedExports++;
    if (handling.kind === 'split') {
      if (this.split(work, body)) return { kind: 'again' };
      return this.toQuarantine(work, body, result, handling.problem);
    }
    this.queue.giveBack(work);
    return { kind: 'failed', result, handling };
  }

  private abandon(work: Work): Attempt {
    this.queue.giveBack(work);
    return { kind: 'abandoned' };
  }

  private bodyOf(entry: Entry): Buffer {
    if (entry.body !== undefined) return entry.body;
    if (entry.ref === undefined) throw new SpoolReadError('a batch held in memory lost its body');
    return this.spool.read(entry.ref);
  }

  /** The request's bytes in the configured protocol and compression (from the spooled OTLP/JSON). */
  private async onTheWire(json: Buffer): Promise<{ payload: Buffer; headers: Record<string, string> }> {
    let body = json;
    let headers = this.headers;
    if (this.wire.protocol === 'http/protobuf') {
      try {
        body = protobufFromJson(json.toString('utf8'));
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
  private split(work: Work, body: Buffer): boolean {
    if (work.kind === 'entries' && work.entries.length > 1) {
      const half = Math.ceil(work.entries.length / 2);
      this.queue.giveBack({ kind: 'entries', entries: work.entries.slice(half) }, { kind: 'entries', entries: work.entries.slice(0, half) });
      return true;
    }
    let slice: Extract<Work, { kind: 'slice' }>;
    if (work.kind === 'slice') slice = work;
    else {
      const entry = work.entries[0] as Entry;
      const list = entry.spans > 1 ? SpanList.parse(body.toString('utf8')) : undefined;
      if (list === undefined || list.length < 2) return false;
      slice = { kind: 'slice', entry, list, from: 0, to: list.length };
    }
    if (slice.to - slice.from < 2) return false;
    const mid = slice.from + Math.ceil((slice.to - slice.from) / 2);
    this.queue.giveBack({ ...slice, from: mid }, { ...slice, to: mid });
    return true;
  }

  private toQuarantine(work: Work, body: Buffer, result: PostResult, problem: string): Attempt {
    const spans = spansOf(work);
    try {
      this.quarantine.add(body, spans, result.status, problem, this.spool.streamName);
    } catch (err) {
      // Not even the quarantine can take it: it stays queued (and spooled) rather than vanish.
      this.queue.giveBack(work);
      this.report.problem(`${problem}; the record could not be quarantined (${(err as Error).message}), so it is kept in ${this.spool.dir} and retried`);
      return { kind: 'failed', result: undefined, handling: undefined };
    }
    this.completed(work, 'quarantined');
    this.report.problem(`${spans} audit record(s) quarantined in ${this.quarantine.file}: ${problem}; they are kept there, not delivered (docs/export.md says how to replay them)`);
    return { kind: 'again' };
  }

  /** A spooled batch could not be read back: lost, unless the error is a passing one. */
  private unreadable(work: Work, err: unknown): Attempt {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined && RETRYABLE_READ.has(code)) {
      this.queue.giveBack(work);
      this.report.problem(`a spooled request could not be read back (${(err as Error).message}); retrying`);
      return { kind: 'failed', result: undefined, handling: undefined };
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
      this.queue.giveBack({ kind: 'entries', entries: entries.slice(0, bad) });
      return { kind: 'again' };
    }
    const entry = entries[0] as Entry;
    if (entry.ref !== undefined) entry.ref.segment.damaged = true;
    const lost = entry.spans - entry.settled;
    this.report.settled(lost, 'damaged');
    this.report.problem(`${lost} audit record(s) lost: a spooled request could not be read back (${(err as Error).message}); the segment is kept in ${this.spool.quarantineDir}`);
    if (entries.length > 1) this.queue.giveBack({ kind: 'entries', entries: entries.slice(1) });
    this.queue.settle(entry, lost);
    return { kind: 'again' };
  }

  private completed(work: Work, how: 'delivered' | 'quarantined'): void {
    if (work.kind === 'slice') return this.settle(work.entry, work.to - work.from, how);
    for (const e of work.entries) this.settle(e, e.spans - e.settled, how);
  }

  private settle(entry: Entry, spans: number, how: 'delivered' | 'quarantined'): void {
    this.report.settled(spans, how === 'quarantined' ? 'quarantined' : entry.replay ? 'replayed' : 'delivered');
    this.queue.settle(entry, spans);
  }
}
