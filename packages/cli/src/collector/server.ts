import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatRecord, type TrailSpan } from '../trail/record.js';
import { DEFAULT_MAX_FILE_BYTES, TrailWriter } from '../trail/writer.js';
import { RequestError, bodyFormat, readBody, type BodyFormat } from './body.js';
import { decodeJsonRequest } from './otlp-json.js';
import { decodeProtobufRequest } from './otlp-protobuf.js';
import { OtlpDecodeError } from './span-shape.js';

export interface CollectorOptions {
  /** Interface to bind. Default 127.0.0.1: the trail is local unless you say otherwise. */
  host?: string;
  /** Default 4318, the OTLP/HTTP port; 0 picks a free one. */
  port?: number;
  /** Folder of the trail files. Default `./audit-trail`. */
  dir?: string;
  /** Rotate to a new file past this size. Default 64 MiB. */
  maxFileBytes?: number;
  /** Largest request body accepted, compressed and decompressed. Default 64 MiB. */
  maxBodyBytes?: number;
  /** Where failures to write are reported. Default: stderr. */
  onError?: (message: string) => void;
}

export interface CollectorStats {
  /** Export requests acknowledged. */
  requests: number;
  /** Spans written and fsynced. */
  spans: number;
  /** Requests refused (4xx) or failed (5xx). */
  rejected: number;
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
  stats(): CollectorStats;
  /** Stops accepting requests, finishes those in flight (their lines are written), closes the file. */
  close(): Promise<void>;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 4318;
export const DEFAULT_DIR = './audit-trail';
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** `google.rpc.Status.code` INVALID_ARGUMENT, as OTLP error bodies carry it. */
const RPC_INVALID_ARGUMENT = 3;
const RPC_UNAVAILABLE = 14;

/** Starts the receiver. Rejects (e.g. with code EADDRINUSE) when it cannot listen or the folder is not writable. */
export async function startCollector(options: CollectorOptions = {}): Promise<Collector> {
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? DEFAULT_PORT;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be 0-65535, got ${port}`);
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) throw new RangeError('maxBodyBytes must be a positive integer');
  const onError = options.onError ?? ((m: string) => process.stderr.write(`tooltrail collect: ${m}\n`));

  const writer = new TrailWriter({ dir: options.dir ?? DEFAULT_DIR, maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES });

  const stats = { requests: 0, spans: 0, rejected: 0 };
  const inFlight = new Set<Promise<unknown>>();
  let closing = false;
  let initialized: Promise<void> = Promise.resolve();

  const server = http.createServer((req, res) => {
    const handled = handle(req, res).catch((err: unknown) => {
      // handle() answers every error it expects; this is a bug or a broken socket.
      onError(`request failed: ${(err as Error).message}`);
      if (!res.headersSent) send(res, 500, 'json', RPC_UNAVAILABLE, 'internal error');
      else res.destroy();
    });
    // In flight until the answer has left (or the connection died), not merely until handle()
    // returned: close() must not cut a socket an acknowledgement is still being written to.
    const done = Promise.all([handled, new Promise((resolve) => res.once('close', resolve))]).then(() => {
      inFlight.delete(done);
    });
    inFlight.add(done);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (pathname === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(closing ? '{"status":"closing"}' : '{"status":"ok"}');
      return;
    }
    if (pathname !== '/v1/traces') {
      return refuse(req, res, 404, 'json', `no such path: ${pathname} (OTLP traces go to POST /v1/traces)`);
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return refuse(req, res, 405, 'json', 'use POST');
    }
    const format = bodyFormat(req.headers['content-type']);
    if (!format) {
      return refuse(req, res, 415, 'json', `unsupported content-type "${req.headers['content-type'] ?? ''}" (use application/json or application/x-protobuf)`);
    }
    if (closing) {
      return refuse(req, res, 503, format, 'the collector is shutting down');
    }

    let spans: TrailSpan[];
    try {
      const body = await readBody(req, maxBodyBytes);
      spans = format === 'json' ? decodeJsonRequest(body.toString('utf8')) : decodeProtobufRequest(body);
    } catch (err) {
      if (err instanceof RequestError) return refuse(req, res, err.status, format, err.message);
      if (err instanceof OtlpDecodeError) return refuse(req, res, 400, format, err.message);
      // JSON.parse on absurdly deep nesting, and the like: still the body's fault.
      if (err instanceof RangeError) return refuse(req, res, 400, format, `malformed body: ${err.message}`);
      throw err;
    }

    if (spans.length > 0) {
      const receivedAt = new Date().toISOString();
      let lines = '';
      for (const span of spans) lines += formatRecord(receivedAt, span);
      try {
        await initialized;
        await writer.append(lines);
      } catch (err) {
        // 503 is retryable for OTLP clients: a full disk may clear, and the spans are not lost.
        onError(`could not write to ${writer.dir}: ${(err as Error).message}`);
        return refuse(req, res, 503, format, `could not write the trail: ${(err as Error).message}`);
      }
      stats.spans += spans.length;
    }
    stats.requests++;
    // During shutdown, no further requests on this connection.
    if (closing) res.setHeader('connection', 'close');
    // The acknowledgement: only now are the spans on disk.
    if (format === 'json') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  }

  async function refuse(req: IncomingMessage, res: ServerResponse, status: number, format: BodyFormat, message: string): Promise<void> {
    stats.rejected++;
    if (closing) res.setHeader('connection', 'close');
    if (!req.complete) {
      // Read the rest of the body before answering: a client still sending when the socket
      // closes gets EPIPE instead of our answer. Past DRAIN_LIMIT the connection is cut.
      res.setHeader('connection', 'close');
      if (!(await drain(req))) return;
    }
    send(res, status, format, status === 503 ? RPC_UNAVAILABLE : RPC_INVALID_ARGUMENT, message);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      // The folder is made once listening succeeded, so a port in use leaves nothing behind;
      // requests wait for it (see handle()).
      initialized = writer.init();
      resolve();
    });
  });
  server.on('error', (err) => onError(`server error: ${err.message}`));
  try {
    await initialized;
  } catch (err) {
    await new Promise((resolve) => server.close(resolve));
    throw err;
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
    stats: () => ({ ...stats, files: [...writer.files] }),
    close() {
      closed ??= (async () => {
        closing = true;
        // One turn of the event loop first: requests whose bytes had already arrived when
        // close() was called get parsed and count as in flight, rather than being reset as idle.
        await new Promise((resolve) => setImmediate(resolve));
        // Stops accepting, and (Node >= 19) closes keep-alive connections with no request.
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // Requests already being read or written finish and are acknowledged.
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
        server.closeAllConnections();
        await stopped;
        await writer.close();
      })();
      return closed;
    },
  };
}

/** Bytes of a refused body read and thrown away before the connection is cut instead. */
const DRAIN_LIMIT = 256 * 1024 * 1024;

/** Discards the rest of a request body. False when the connection was cut or failed. */
function drain(req: IncomingMessage): Promise<boolean> {
  return new Promise((resolve) => {
    let discarded = 0;
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > DRAIN_LIMIT) {
        req.destroy();
        resolve(false);
      }
    });
    req.once('end', () => resolve(true));
    req.once('close', () => resolve(req.complete));
    req.once('error', () => resolve(false));
    req.resume();
  });
}

/** OTLP error bodies are a google.rpc.Status, in the request's own encoding. */
function send(res: ServerResponse, status: number, format: BodyFormat, rpcCode: number, message: string): void {
  if (format === 'protobuf') {
    res.writeHead(status, { 'content-type': 'application/x-protobuf' }).end(encodeRpcStatus(rpcCode, message));
  } else {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ code: rpcCode, message }));
  }
}

/** google.rpc.Status { int32 code = 1; string message = 2; } */
function encodeRpcStatus(code: number, message: string): Buffer {
  const text = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from([0x08, code, 0x12]), varint(text.length), text]);
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}
