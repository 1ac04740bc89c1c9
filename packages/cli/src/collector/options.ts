import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { DEFAULT_MAX_FILE_BYTES, DEFAULT_SEAL_EVERY, DEFAULT_SEAL_INTERVAL_MS } from '../trail/writer.js';
import { didYouMean } from './nearest.js';
import type { TokenTable } from './tokens.js';

/** The collector's options, their defaults, and the checks that refuse a weak or wrong setup. */

/** A RangeError, as the collector's option errors always were: callers that catch those keep working. */
export class CollectorConfigError extends RangeError {
  override readonly name = 'CollectorConfigError';
}

export interface CollectorOptions {
  /** Interface to bind. Default 127.0.0.1; anything but loopback needs `tokens`. */
  host?: string;
  /** Default 4318, the OTLP/HTTP port; 0 picks a free one. */
  port?: number;
  /** Folder of the trail files. Default `./audit-trail`. */
  dir?: string;
  /** Rotate to a new file past this size. Default 64 MiB. */
  maxFileBytes?: number;
  /** Largest request body accepted, on the wire and once decompressed. Default 16 MiB. */
  maxBodyBytes?: number;
  /** Largest number of bytes one request may store (its lines). Default 64 MiB. */
  maxStoredBytes?: number;
  /** Most spans in one request (counted before they are decoded). Default 50 000. */
  maxSpans?: number;
  /** Bytes held by all requests in progress together; past it, 503 with Retry-After. Default 64 MiB. */
  maxInflightBytes?: number;
  /** A request's headers and body must arrive within this (else 408). Default 30 s. */
  bodyTimeoutMs?: number;
  /** A connection's request headers must arrive within this (slowloris). Default 10 s. */
  headersTimeoutMs?: number;
  /** Open connections at most; more are closed at once. Default 256. */
  maxConnections?: number;
  /** On close, requests still sending their body get this long, then are cut. Default 5 s. */
  shutdownGraceMs?: number;
  /** Writers allowed to write; without it, any process that reaches the port can. */
  tokens?: TokenTable;
  /** The collector's Ed25519 private key that seals its chain; without it lines are chained but unsealed. */
  sealKey?: KeyObject;
  /** Seal after this many lines. Default 1000. */
  sealEvery?: number;
  /** Seal this long after the first unsealed line. Default 5 s. */
  sealIntervalMs?: number;
  /** Where failures to write are reported. Default: stderr. */
  onError?: (message: string) => void;
  /** Where start-up warnings go (no tokens, no seal key). Default: stderr. */
  onWarn?: (message: string) => void;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 4318;
export const DEFAULT_DIR = './audit-trail';
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_STORED_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_SPANS = 50_000;
export const DEFAULT_MAX_INFLIGHT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_CONNECTIONS = 256;
export const DEFAULT_SHUTDOWN_GRACE_MS = 5_000;
export { DEFAULT_MAX_FILE_BYTES, DEFAULT_SEAL_EVERY, DEFAULT_SEAL_INTERVAL_MS };

export type ResolvedOptions = Required<Omit<CollectorOptions, 'tokens' | 'sealKey'>> & Pick<CollectorOptions, 'tokens' | 'sealKey'>;

const KEYS: readonly (keyof CollectorOptions)[] = [
  'host',
  'port',
  'dir',
  'maxFileBytes',
  'maxBodyBytes',
  'maxStoredBytes',
  'maxSpans',
  'maxInflightBytes',
  'bodyTimeoutMs',
  'headersTimeoutMs',
  'maxConnections',
  'shutdownGraceMs',
  'tokens',
  'sealKey',
  'sealEvery',
  'sealIntervalMs',
  'onError',
  'onWarn',
];

const stderr = (m: string) => process.stderr.write(`tooltrail collect: ${m}\n`);

export function resolveOptions(options: CollectorOptions): ResolvedOptions {
  for (const key of Object.keys(options)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new CollectorConfigError(`unknown collector option "${key}"${didYouMean(key, KEYS)}`);
    }
  }
  const o: ResolvedOptions = {
    host: options.host ?? DEFAULT_HOST,
    port: options.port ?? DEFAULT_PORT,
    dir: options.dir ?? DEFAULT_DIR,
    maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    maxStoredBytes: options.maxStoredBytes ?? DEFAULT_MAX_STORED_BYTES,
    maxSpans: options.maxSpans ?? DEFAULT_MAX_SPANS,
    maxInflightBytes: options.maxInflightBytes ?? Math.max(DEFAULT_MAX_INFLIGHT_BYTES, options.maxBodyBytes ?? 0),
    bodyTimeoutMs: options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
    headersTimeoutMs: options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    shutdownGraceMs: options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
    tokens: options.tokens,
    sealKey: options.sealKey,
    sealEvery: options.sealEvery ?? DEFAULT_SEAL_EVERY,
    sealIntervalMs: options.sealIntervalMs ?? DEFAULT_SEAL_INTERVAL_MS,
    onError: options.onError ?? stderr,
    onWarn: options.onWarn ?? stderr,
  };
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new CollectorConfigError(`port must be 0-65535, got ${o.port}`);
  for (const key of ['maxFileBytes', 'maxBodyBytes', 'maxStoredBytes', 'maxSpans', 'maxInflightBytes', 'bodyTimeoutMs', 'headersTimeoutMs', 'maxConnections', 'shutdownGraceMs', 'sealEvery', 'sealIntervalMs'] as const) {
    if (!Number.isSafeInteger(o[key]) || o[key] <= 0) throw new CollectorConfigError(`${key} must be a positive integer, got ${String(o[key])}`);
  }
  if (o.maxInflightBytes < o.maxBodyBytes) {
    throw new CollectorConfigError(`maxInflightBytes (${o.maxInflightBytes}) must be at least maxBodyBytes (${o.maxBodyBytes}), or no request of the largest size could ever be read`);
  }
  if (o.sealKey && (o.sealKey.type !== 'private' || o.sealKey.asymmetricKeyType !== 'ed25519')) {
    throw new CollectorConfigError('sealKey must be an Ed25519 private key');
  }
  if (!o.tokens && !isLoopback(o.host)) {
    throw new CollectorConfigError(
      `refusing to listen on ${o.host} without writer tokens: any host that reaches it could write to the trail. Give --tokens <file> (tooltrail keygen --token makes one), or bind 127.0.0.1`,
    );
  }
  return o;
}

/** Loopback only: 127.0.0.0/8, ::1 (and its IPv4-mapped form), and `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}
