import { parseArgs } from 'node:util';
import { DEFAULT_DIR, DEFAULT_HOST, DEFAULT_MAX_BODY_BYTES, DEFAULT_PORT, startCollector, type Collector } from '../collector/server.js';
import { DEFAULT_MAX_FILE_BYTES } from '../trail/writer.js';
import { UsageError, type Io } from './io.js';

export const COLLECT_USAGE = `Usage: tooltrail collect [options]

A local OTLP/HTTP receiver for development and demos: accepts spans on POST /v1/traces
(OTLP/JSON or protobuf, optionally gzip) and appends each one as a line of JSON to files in
a folder, acknowledging only once the lines are fsynced. In production, send spans to an
OpenTelemetry Collector, Jaeger or Grafana Tempo instead.

Options:
  --host <address>          interface to bind (default ${DEFAULT_HOST})
  --port <n>                port; 0 picks a free one (default ${DEFAULT_PORT})
  --dir <path>              folder for the trail files, created if missing (default ${DEFAULT_DIR})
  --max-file-bytes <n>      start a new file past this size (default ${DEFAULT_MAX_FILE_BYTES})
  --max-body-bytes <n>      largest request accepted, compressed or not (default ${DEFAULT_MAX_BODY_BYTES})
  -h, --help                show this help

When ready it prints one line to stdout:
  tooltrail collect: listening on http://127.0.0.1:4318/v1/traces, writing to /abs/path
SIGTERM or SIGINT stops it: in-flight requests are written and acknowledged, then it exits 0.
`;

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
      'max-file-bytes': { type: 'string' },
      'max-body-bytes': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(COLLECT_USAGE);
    return 0;
  }
  const port = values.port === undefined ? DEFAULT_PORT : integer('--port', values.port, 0, 65535);
  const maxFileBytes = values['max-file-bytes'] === undefined ? undefined : integer('--max-file-bytes', values['max-file-bytes'], 1);
  const maxBodyBytes = values['max-body-bytes'] === undefined ? undefined : integer('--max-body-bytes', values['max-body-bytes'], 1);
  const host = values.host ?? DEFAULT_HOST;
  const dir = values.dir ?? DEFAULT_DIR;
  if (host === '') throw new UsageError('--host must not be empty');
  if (dir === '') throw new UsageError('--dir must not be empty');

  let collector: Collector;
  try {
    collector = await startCollector({
      host,
      port,
      dir,
      maxFileBytes,
      maxBodyBytes,
      onError: (m) => io.err(`tooltrail collect: ${m}\n`),
    });
  } catch (err) {
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
    io.out(`tooltrail collect: listening on ${collector.tracesUrl}, writing to ${collector.dir}\n`);
  });

  await collector.close();
  const s = collector.stats();
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
