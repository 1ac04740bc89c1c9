import type { KeyObject } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
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
  startCollector,
  type Collector,
} from '../collector/server.js';
import { TokenTable, TokensFileError, loadTokensFile } from '../collector/tokens.js';
import { SealKeyError, loadSealKey } from '../trail/seal-key.js';
import { DEFAULT_MAX_FILE_BYTES, DEFAULT_SEAL_EVERY, DEFAULT_SEAL_INTERVAL_MS } from '../trail/writer.js';
import { UsageError, type Io } from './io.js';

export const COLLECT_USAGE = `Usage: tooltrail collect [options]

A local OTLP/HTTP receiver: accepts spans on POST /v1/traces (OTLP/JSON or protobuf,
optionally gzip or deflate) and appends them as lines of JSON to files in a folder,
acknowledging only once the lines are fsynced. It keeps its own hash chain over every line
it stores, sealed with its own key, so edits at rest are detectable (docs/collector.md).
It is the embedded default for development and the demo; in production, send spans to an
OpenTelemetry Collector, Jaeger or Grafana Tempo as well (docs/export.md).

Writers and seals:
  --tokens <file>             accept only writers with a bearer token listed in this JSON file
                              (SHA-256 of each token and its writer name; tooltrail keygen --token).
                              Without it any local process can write, and only loopback is allowed
  --seal-key <pem>            Ed25519 private key that seals the collector's chain (tooltrail keygen
                              --seal). Keep it on the collector's host; never give it to an agent.
                              Without it the lines are chained but not sealed
  --seal-every <lines>        seal after this many lines (default ${DEFAULT_SEAL_EVERY})
  --seal-interval-ms <ms>     seal this long after the first unsealed line (default ${DEFAULT_SEAL_INTERVAL_MS})

Where and how much:
  --host <address>            interface to bind (default ${DEFAULT_HOST}); other than loopback needs --tokens
  --port <n>                  port; 0 picks a free one (default ${DEFAULT_PORT})
  --dir <path>                folder for the trail files, created if missing (default ${DEFAULT_DIR});
                              one collector per folder
  --max-file-bytes <n>        start a new file past this size (default ${DEFAULT_MAX_FILE_BYTES})
  --max-body-bytes <n>        largest request body, on the wire and once decompressed; larger: 413
                              (default ${DEFAULT_MAX_BODY_BYTES})
  --max-stored-bytes <n>      most bytes one request may add to the trail; more: 413
                              (default ${DEFAULT_MAX_STORED_BYTES})
  --max-spans <n>             most spans in one request, counted before they are decoded; more: 413
                              (default ${DEFAULT_MAX_SPANS})
  --max-inflight-bytes <n>    bytes held by all requests in progress together; more: 503 with
                              Retry-After (default ${DEFAULT_MAX_INFLIGHT_BYTES}, at least --max-body-bytes)
  --body-timeout-ms <ms>      a request's body must arrive within this; slower: 408
                              (default ${DEFAULT_BODY_TIMEOUT_MS})
  --headers-timeout-ms <ms>   a request's headers must arrive within this (default ${DEFAULT_HEADERS_TIMEOUT_MS})
  --max-connections <n>       open connections at most; more are closed at once (default ${DEFAULT_MAX_CONNECTIONS})
  --shutdown-grace-ms <ms>    on SIGTERM, clients still sending a body get this long, then are cut
                              (default ${DEFAULT_SHUTDOWN_GRACE_MS})
  -h, --help                  show this help

Headers larger than 16 KiB are refused with 431. Errors are google.rpc.Status bodies.

When ready it prints one line to stdout:
  tooltrail collect: listening on http://127.0.0.1:4318/v1/traces, writing to /abs/path
Warnings (no --tokens, no --seal-key) go to stderr. SIGTERM or SIGINT stops it: requests whose
body has arrived are written and acknowledged, slower ones are cut after the grace period, the
file gets its closing seal, then it exits 0 (1 if the disk did not let it finish in time).
`;

/** How long past the grace period a shutdown may take before the process exits anyway. */
const SHUTDOWN_HARD_LIMIT_MS = 15_000;

/** Runs the collector until SIGTERM/SIGINT. Resolves with the exit code. */
export async function collect(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      dir: { type: 'string' },
      tokens: { type: 'string' },
      'seal-key': { type: 'string' },
      'seal-every': { type: 'string' },
      'seal-interval-ms': { type: 'string' },
      'max-file-bytes': { type: 'string' },
      'max-body-bytes': { type: 'string' },
      'max-stored-bytes': { type: 'string' },
      'max-spans': { type: 'string' },
      'max-inflight-bytes': { type: 'string' },
      'body-timeout-ms': { type: 'string' },
      'headers-timeout-ms': { type: 'string' },
      'max-connections': { type: 'string' },
      'shutdown-grace-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(COLLECT_USAGE);
    return 0;
  }
  const num = (flag: keyof typeof values, min = 1, max?: number): number | undefined => {
    const v = values[flag];
    return typeof v === 'string' ? integer(`--${flag}`, v, min, max) : undefined;
  };
  const port = num('port', 0, 65535) ?? DEFAULT_PORT;
  const host = values.host ?? DEFAULT_HOST;
  const dir = values.dir ?? DEFAULT_DIR;
  if (host === '') throw new UsageError('--host must not be empty');
  if (dir === '') throw new UsageError('--dir must not be empty');
  const shutdownGraceMs = num('shutdown-grace-ms') ?? DEFAULT_SHUTDOWN_GRACE_MS;

  let tokens: TokenTable | undefined;
  let sealKey: KeyObject | undefined;
  try {
    if (values.tokens !== undefined) tokens = new TokenTable(loadTokensFile(values.tokens));
    if (values['seal-key'] !== undefined) sealKey = loadSealKey(values['seal-key']);
  } catch (err) {
    if (err instanceof TokensFileError || err instanceof SealKeyError) {
      io.err(`tooltrail collect: ${err.message}\n`);
      return 1;
    }
    throw err;
  }

  // Every number is parsed before anything starts: a bad one is a usage error (exit 2), not a
  // start failure.
  const limits = {
    sealEvery: num('seal-every'),
    sealIntervalMs: num('seal-interval-ms'),
    maxFileBytes: num('max-file-bytes'),
    maxBodyBytes: num('max-body-bytes'),
    maxStoredBytes: num('max-stored-bytes'),
    maxSpans: num('max-spans'),
    maxInflightBytes: num('max-inflight-bytes'),
    bodyTimeoutMs: num('body-timeout-ms'),
    headersTimeoutMs: num('headers-timeout-ms'),
    maxConnections: num('max-connections'),
  };
  let collector: Collector;
  try {
    collector = await startCollector({
      host,
      port,
      dir,
      tokens,
      sealKey,
      ...limits,
      shutdownGraceMs,
      onError: (m) => io.err(`tooltrail collect: ${m}\n`),
      onWarn: (m) => io.err(`tooltrail collect: warning: ${m}\n`),
    });
  } catch (err) {
    if (err instanceof CollectorConfigError) throw new UsageError(err.message);
    io.err(`tooltrail collect: ${startFailure(err as NodeJS.ErrnoException, host, port, dir)}\n`);
    return 1;
  }

  // Registered before the ready line, so a signal sent as soon as it is seen is handled.
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (s: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      // A second signal while shutting down means "now".
      process.once('SIGTERM', () => process.exit(1));
      process.once('SIGINT', () => process.exit(130));
      resolve(s);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // The ready line's form is a contract (spawnCollector and tests parse it): extras go to stderr.
    if (collector.sealKeyId) io.err(`tooltrail collect: sealing with key ${collector.sealKeyId}\n`);
    io.out(`tooltrail collect: listening on ${collector.tracesUrl}, writing to ${collector.dir}\n`);
  });

  // Bounded: a disk that stops answering must not keep the process from exiting. Whatever was
  // not acknowledged is still with its clients, who retry.
  const finished = await Promise.race([
    collector.close().then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), shutdownGraceMs + SHUTDOWN_HARD_LIMIT_MS).unref()),
  ]);
  const s = collector.stats();
  if (!finished) {
    io.err(`tooltrail collect: stopped on ${signal} before the trail was closed (the disk did not answer in time); the last file has no closing seal\n`);
    return 1;
  }
  io.err(`tooltrail collect: stopped on ${signal}; ${s.spans} spans from ${s.requests} requests written to ${s.files.length} files\n`);
  return 0;
}

function integer(flag: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

function startFailure(err: NodeJS.ErrnoException, host: string, port: number, dir: string): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return `cannot listen on ${host}:${port}: the address is already in use (is another collector running? choose another --port)`;
    case 'EACCES':
      return err.syscall === 'listen' ? `cannot listen on ${host}:${port}: permission denied` : `cannot write to ${dir}: permission denied`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `cannot listen on ${host}:${port}: no such local address`;
    default:
      return err.syscall === 'listen' || err.code?.startsWith('EADDR') ? `cannot listen on ${host}:${port}: ${err.message}` : `cannot start: ${err.message}`;
  }
}
