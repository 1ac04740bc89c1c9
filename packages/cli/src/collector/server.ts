import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StoredBytesError, requestLines, type RequestLines } from '../trail/request-lines.js';
import { TrailWriter } from '../trail/writer.js';
import { RequestError, bodyFormat, busy, readBody, type BodyFormat } from './body.js';
import { Budget } from './budget.js';
import { decodeJsonBody } from './json-fast-lines.js';
import type { DecodeLinesOptions } from './json-lines.js';
import { decodeProtobufRequest } from './otlp-protobuf.js';
import { resolveOptions, type CollectorOptions } from './options.js';
import { sendStatus } from './rpc-status.js';
import { OtlpDecodeError, TooManySpansError } from './span-shape.js';

export {
  CollectorConfigError,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_DIR,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_INFLIGHT_BYTES,
  DEFAULT_MAX_SPANS,
  DEFAULT_MAX_STORED_BYTES,
  DEFAULT_PORT,
  DEFAULT_SHUTDOWN_GRACE_MS,
  isLoopback,
} from './options.js';
export type { CollectorOptions } from './options.js';

export interface CollectorStats {
  /** Export requests acknowledged. */
  requests: number;
  /** Spans written and fsynced. */
  spans: number;
  /** Requests refused (4xx) or failed (5xx). */
  rejected: number;
  /** Of those, refused for want of a valid token (401). */
  unauthenticated: number;
  /** Of those, refused because too many bytes were in flight (503). */
  busy: number;
  /** Of those, cut because the body did not arrive in time (408). */
  timedOut: number;
  /** Most bytes held by requests in progress at once. */
  peakInflightBytes: number;
  /** Lines written (spans, resources, opens, seals) and seals among them. */
  lines: number;
  seals: number;
  /** Trail files created so far. */
  files: readonly string[];
}

export interface Collector {
  /** Base URL, e.g. `http://127.0.0.1:4318`: what OTLP exporters take as their endpoint. */
  readonly url: string;
  /** `url` + `/v1/traces`. */
  readonly tracesUrl: string;
  readonly host: string;
  /** The bound port (the real one when 0 was asked). */
  readonly port: number;
  /** Absolute path of the trail folder. */
  readonly dir: string;
  /** Key id of the seal key, when the collector seals. */
  readonly sealKeyId: string | undefined;
  stats(): CollectorStats;
  /**
   * Stops accepting requests, finishes those in flight (their lines are written), cuts those
   * still sending their body after the grace period (they were never acknowledged), seals and
   * closes the file.
   */
  close(): Promise<void>;
}

/** A request in progress, as shutdown sees it. */
interface Active {
  phase: 'body' | 'write';
  abort: (err: RequestError) => void;
}

/** Starts the receiver. Rejects (e.g. with code EADDRINUSE) when it cannot listen or the folder is not writable. */
export async function startCollector(options: CollectorOptions = {}): Promise<Collector> {
  const o = resolveOptions(options);
  const writer = new TrailWriter({
    dir: o.dir,
    maxFileBytes: o.maxFileBytes,
    sealKey: o.sealKey,
    sealEvery: o.sealEvery,
    sealIntervalMs: o.sealIntervalMs,
    onError: o.onError,
  });
  const budget = new Budget(o.maxInflightBytes);
  const stats = { requests: 0, spans: 0, rejected: 0, unauthenticated: 0, busy: 0, timedOut: 0 };
  const inFlight = new Set<Promise<unknown>>();
  const active = new Set<Active>();
  let closing = false;
  let initialized: Promise<void> = Promise.resolve();

  const server = http.createServer(
    {
      // Set here rather than inherited from --max-http-header-size: larger headers get 431.
      maxHeaderSize: 16 * 1024,
      headersTimeout: o.headersTimeoutMs,
      // Node's own backstop; the body deadline below answers first, with an OTLP status.
      requestTimeout: o.headersTimeoutMs + o.bodyTimeoutMs + 5_000,
      connectionsCheckingInterval: Math.min(1_000, o.headersTimeoutMs),
    },
    (req, res) => {
      const handled = handle(req, res).catch((err: unknown) => {
        // handle() answers every error it expects; this is a bug or a broken socket.
        o.onError(`request failed: ${(err as Error).message}`);
        if (!res.headersSent) sendStatus(res, 500, 'json', 'internal error');
        else res.destroy();
      });
      // In flight until the answer has left (or the connection died), not merely until handle()
      // returned: close() must not cut a socket an acknowledgement is still being written to.
      const done = Promise.all([handled, new Promise((resolve) => res.once('close', resolve))]).then(() => {
        inFlight.delete(done);
      });
      inFlight.add(done);
    },
  );
  server.maxConnections = o.maxConnections;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Every request has a deadline, and shutdown can cut it while its body arrives.
    const ctl = new AbortController();
    const me: Active = { phase: 'body', abort: (err) => ctl.abort(err) };
    active.add(me);
    const deadline = setTimeout(
      () => ctl.abort(new RequestError(408, `the request did not arrive within ${o.bodyTimeoutMs} ms (--body-timeout-ms)`)),
      o.bodyTimeoutMs,
    );
    const held = { bytes: 0 };
    try {
      await serve(req, res, ctl.signal, me, held);
    } finally {
      clearTimeout(deadline);
      active.delete(me);
      budget.release(held.bytes);
    }
  }

  async function serve(req: IncomingMessage, res: ServerResponse, signal: AbortSignal, me: Active, held: { bytes: number }): Promise<void> {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (pathname === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(closing ? '{"status":"closing"}' : '{"status":"ok"}');
      return;
    }
    if (pathname !== '/v1/traces') {
      return refuse(req, res, 'json', new RequestError(404, `no such path: ${pathname} (OTLP traces go to POST /v1/traces)`), signal);
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return refuse(req, res, 'json', new RequestError(405, 'use POST'), signal);
    }
    const format = bodyFormat(req.headers['content-type']);
    if (!format) {
      const type = req.headers['content-type'] ?? '';
      return refuse(req, res, 'json', new RequestError(415, `unsupported content-type "${type}" (use application/json or application/x-protobuf)`), signal);
    }
    if (closing) return refuse(req, res, format, new RequestError(503, 'the collector is shutting down', 1), signal);

    let writerName: string | undefined;
    if (o.tokens) {
      writerName = o.tokens.authenticate(req.headers.authorization);
      if (writerName === undefined) {
        stats.unauthenticated++;
        res.setHeader('www-authenticate', 'Bearer realm="tooltrail"');
        const why = req.headers.authorization === undefined ? 'no authorization header' : 'the token is not one this collector accepts';
        const message = `${why}: send "authorization: Bearer <token>" with a token listed in the collector's --tokens file`;
        return refuse(req, res, format, new RequestError(401, message), signal);
      }
    }

    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared <= o.maxBodyBytes && budget.inUse + declared > budget.limit) {
      return refuse(req, res, format, busy(budget), signal);
    }
    let lines: RequestLines;
    try {
      const body = await readBody(req, { maxBytes: o.maxBodyBytes, budget, signal });
      held.bytes = body.length;
      // Every span is checked before any line is written. OTLP/JSON is decoded straight into the
      // stored lines (its bytes scanned once, else JSON.parse's objects read once); protobuf through
      // span objects, which measured as fast as a straight decoder (docs/collector.md, "Performance").
      const receivedAt = () => new Date().toISOString();
      const to: DecodeLinesOptions = { maxSpans: o.maxSpans, maxStoredBytes: o.maxStoredBytes, receivedAt, writer: writerName };
      lines =
        format === 'json'
          ? decodeJsonBody(body, to)
          : requestLines(decodeProtobufRequest(body, o.maxSpans), receivedAt(), writerName, o.maxStoredBytes);
    } catch (err) {
      if (err instanceof RequestError) return refuse(req, res, format, err, signal);
      if (err instanceof TooManySpansError || err instanceof StoredBytesError) return refuse(req, res, format, new RequestError(413, err.message), signal);
      if (err instanceof OtlpDecodeError) return refuse(req, res, format, new RequestError(400, err.message), signal);
      // JSON.parse on absurdly deep nesting, and the like: still the body's fault.
      if (err instanceof RangeError) return refuse(req, res, format, new RequestError(400, `malformed body: ${err.message}`), signal);
      throw err;
    }
    // The body is complete: from now on the request is finished, not cut, by a shutdown.
    me.phase = 'write';

    if (lines.spans > 0) {
      // What the request holds now is its lines (the decoded body is garbage).
      budget.release(held.bytes);
      budget.force(lines.bytes);
      held.bytes = lines.bytes;
      const spans = lines.spans;
      try {
        await initialized;
        const written = writer.append(lines);
        // The writer copies the lines into its write buffer; not held here meanwhile.
        lines = NO_LINES;
        await written;
      } catch (err) {
        // 503 is retryable for OTLP clients: a full disk may clear, and the spans are not lost.
        o.onError(`could not write to ${writer.dir}: ${(err as Error).message}`);
        return refuse(req, res, format, new RequestError(503, `could not write the trail: ${(err as Error).message}`, 1));
      }
      stats.spans += spans;
    }
    stats.requests++;
    // During shutdown, no further requests on this connection.
    if (closing) res.setHeader('connection', 'close');
    // The acknowledgement: only now are the spans on disk.
    if (format === 'json') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  }

  /**
   * Answers a refused request. A body that is still arriving is first read and thrown away (a
   * client still sending when the socket closes gets EPIPE instead of the answer), up to
   * DRAIN_LIMIT bytes (discarded, so they cost no memory) and within the deadline; a client too slow for that (408, or cut by the
   * shutdown) gets the answer and the connection is closed under it.
   */
  async function refuse(req: IncomingMessage, res: ServerResponse, format: BodyFormat, err: RequestError, signal?: AbortSignal): Promise<void> {
    stats.rejected++;
    if (err.status === 503 && err.retryAfter !== undefined && !closing) stats.busy++;
    if (err.status === 408) stats.timedOut++;
    const headers: Record<string, string> = {};
    if (err.retryAfter !== undefined) headers['retry-after'] = String(err.retryAfter);
    if (closing) headers.connection = 'close';
    const cut = err.status === 408 || (closing && err.status === 503);
    if (!req.complete && !cut) {
      headers.connection = 'close';
      if (!(await drain(req, DRAIN_LIMIT, signal))) {
        // Too much (the socket was cut), or too slow: the deadline or the shutdown came first.
        if (req.destroyed || res.destroyed || !(signal?.reason instanceof RequestError)) return;
        err = signal.reason;
        if (err.status === 408) stats.timedOut++;
        if (err.retryAfter !== undefined) headers['retry-after'] = String(err.retryAfter);
      }
    }
    if (res.headersSent || res.destroyed) return;
    if (!req.complete) {
      headers.connection = 'close';
      // The client is still sending: answer, end our side, and close the socket soon after.
      res.once('finish', () => {
        req.socket.end();
        setTimeout(() => req.socket.destroy(), 1_000).unref();
      });
    }
    sendStatus(res, err.status, format, err.message, headers);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      // The folder is made once listening succeeded, so a port in use leaves nothing behind;
      // requests wait for it (see handle()).
      initialized = writer.init();
      resolve();
    });
  });
  server.on('error', (err) => o.onError(`server error: ${err.message}`));
  try {
    await initialized;
  } catch (err) {
    await new Promise((resolve) => server.close(resolve));
    throw err;
  }

  if (!o.tokens) o.onWarn('no --tokens: any local process can write to this trail (so it listens on loopback only)');
  if (!o.sealKey) o.onWarn('no --seal-key: lines are chained but the files are not sealed; whoever can write the folder can rewrite them undetected');
  if (writer.predecessor && !writer.predecessor.closed) {
    o.onWarn(
      `the newest file in ${writer.dir}, ${writer.predecessor.file}, has no closing seal: the collector that wrote it was killed, or another collector writes this folder (use one collector per folder)`,
    );
  }

  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  const url = `http://${urlHost}:${address.port}`;
  let closed: Promise<void> | undefined;

  return {
    url,
    tracesUrl: `${url}/v1/traces`,
    host: address.address,
    port: address.port,
    dir: writer.dir,
    sealKeyId: writer.keyId,
    stats: () => {
      const w = writer.stats();
      return { ...stats, peakInflightBytes: budget.peak, lines: w.lines, seals: w.seals, files: w.files };
    },
    close() {
      closed ??= (async () => {
        closing = true;
        // One turn of the event loop first: requests whose bytes had already arrived when
        // close() was called get parsed and count as in flight, rather than being reset as idle.
        await new Promise((resolve) => setImmediate(resolve));
        // Stops accepting, and (Node >= 19) closes keep-alive connections with no request.
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // Clients still sending their body get the grace period, then are cut (never acknowledged,
        // so nothing is lost: they retry elsewhere or later). Requests being written finish.
        const grace = setTimeout(() => {
          for (const a of active) if (a.phase === 'body') a.abort(new RequestError(503, 'the collector is shutting down', 1));
        }, o.shutdownGraceMs);
        const settled = (async () => {
          while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
        })();
        // Bounded even if an answer cannot leave (a client that never reads): the grace, plus time for the last fsyncs.
        await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, o.shutdownGraceMs + 10_000).unref())]);
        clearTimeout(grace);
        server.closeAllConnections();
        await stopped;
        await writer.close();
      })();
      return closed;
    },
  };
}

const NO_LINES: RequestLines = { lines: [], bytes: 0, spans: 0 };

/** Bytes of a refused body read and thrown away before the connection is cut instead. */
const DRAIN_LIMIT = 256 * 1024 * 1024;

/** Discards the rest of a request body, at most `limit` bytes. False when cut, failed or aborted. */
function drain(req: IncomingMessage, limit: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    let discarded = 0;
    const onAbort = () => resolve(false);
    if (signal?.aborted) return resolve(false);
    signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (ok: boolean) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > limit) {
        req.destroy();
        finish(false);
      }
    });
    req.once('end', () => finish(true));
    req.once('close', () => finish(req.complete));
    req.once('error', () => finish(false));
    req.resume();
  });
}
