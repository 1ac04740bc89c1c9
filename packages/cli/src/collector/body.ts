import type { IncomingMessage } from 'node:http';
import zlib from 'node:zlib';
import type { Budget } from './budget.js';

/** Reading a request body: size caps, the bytes-in-flight budget, content encoding, media type. */

/** A request the collector refuses with an HTTP status other than 400 (401, 408, 413, 415, 503). */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  constructor(
    readonly status: number,
    message: string,
    /** Seconds for a Retry-After header (503). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export type BodyFormat = 'json' | 'protobuf';

/** The OTLP format named by a Content-Type header, or undefined for anything else. */
export function bodyFormat(contentType: string | undefined): BodyFormat | undefined {
  const media = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  if (media === 'application/json') return 'json';
  if (media === 'application/x-protobuf' || media === 'application/protobuf') return 'protobuf';
  return undefined;
}

type Encoding = 'identity' | 'gzip' | 'deflate';

function encodingOf(header: string | undefined): Encoding | undefined {
  const e = (header ?? '').trim().toLowerCase();
  if (e === '' || e === 'identity') return 'identity';
  if (e === 'gzip' || e === 'x-gzip') return 'gzip';
  if (e === 'deflate') return 'deflate';
  return undefined;
}

export interface ReadBodyOptions {
  /** Largest body accepted, on the wire and once decompressed. */
  maxBytes: number;
  /** Every byte held (received, then decompressed) is taken from this budget first. */
  budget: Budget;
  /** Aborted (with a RequestError as its reason) when the body deadline passes or the collector stops. */
  signal: AbortSignal;
}

/**
 * The request's body, decompressed. The bytes on the wire and the decompressed bytes are both
 * capped at `maxBytes` (a small gzip or deflate bomb is refused like a large body, as soon as
 * it inflates past the cap), and every byte held is charged to the budget (over it: 503).
 * Resolves with the body; the bytes charged stay charged until the caller releases them.
 */
export async function readBody(req: IncomingMessage, o: ReadBodyOptions): Promise<Buffer> {
  const encoding = encodingOf(req.headers['content-encoding']);
  if (encoding === undefined) {
    throw new RequestError(415, `unsupported content-encoding "${req.headers['content-encoding']}" (use gzip, deflate or none)`);
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > o.maxBytes) throw tooLarge(o.maxBytes);
  const raw = await collect(req, o);
  if (encoding === 'identity') return raw;
  try {
    return await inflate(raw, encoding, o);
  } finally {
    // The compressed bytes are garbage once inflated (or refused).
    o.budget.release(raw.length);
  }
}

/**
 * Events rather than `for await`: leaving an async iteration early destroys the request, and
 * with it the socket the answer has to go out on. Past a cap the rest is discarded.
 */
function collect(req: IncomingMessage, o: ReadBodyOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      chunks.length = 0;
      o.budget.release(size);
      o.signal.removeEventListener('abort', onAbort);
      reject(err);
    };
    const onAbort = () => fail(o.signal.reason as Error);
    if (o.signal.aborted) return fail(o.signal.reason as Error);
    o.signal.addEventListener('abort', onAbort, { once: true });
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      if (size + chunk.length > o.maxBytes) return fail(tooLarge(o.maxBytes));
      if (!o.budget.take(chunk.length)) return fail(busy(o.budget));
      size += chunk.length;
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      o.signal.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(chunks, size));
    });
    req.on('error', (err) => fail(err));
  });
}

/** Streams the inflater so the caps act on each chunk it produces, before the next is made. */
function inflate(raw: Buffer, encoding: 'gzip' | 'deflate', o: ReadBodyOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const z = encoding === 'gzip' ? zlib.createGunzip() : zlib.createInflate();
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (err: Error) => {
      if (done) return;
      done = true;
      o.budget.release(size);
      chunks.length = 0;
      o.signal.removeEventListener('abort', onAbort);
      z.destroy();
      reject(err);
    };
    const onAbort = () => fail(o.signal.reason as Error);
    o.signal.addEventListener('abort', onAbort, { once: true });
    z.on('data', (chunk: Buffer) => {
      if (done) return;
      if (size + chunk.length > o.maxBytes) return fail(tooLarge(o.maxBytes, 'once decompressed'));
      if (!o.budget.take(chunk.length)) return fail(busy(o.budget));
      size += chunk.length;
      chunks.push(chunk);
    });
    z.on('end', () => {
      if (done) return;
      done = true;
      o.signal.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(chunks, size));
    });
    z.on('error', (err) => fail(new RequestError(400, `body is not valid ${encoding} data: ${err.message}`)));
    z.end(raw);
  });
}

function tooLarge(maxBytes: number, how = ''): RequestError {
  return new RequestError(413, `body exceeds the limit of ${maxBytes} bytes${how ? ` ${how}` : ''} (--max-body-bytes); send fewer spans per request`);
}

export function busy(budget: Budget): RequestError {
  return new RequestError(503, `the collector holds ${budget.limit} bytes of requests in flight (--max-inflight-bytes); retry later`, 1);
}
