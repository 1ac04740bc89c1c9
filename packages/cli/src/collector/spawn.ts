import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface SpawnCollectorOptions {
  /** Folder for the trail files. Default ./audit-trail. */
  dir?: string;
  /** Default 4318. */
  port?: number;
  /** When the port is taken, take a free one instead of failing. Default true. */
  fallbackToFreePort?: boolean;
  /** More `tooltrail collect` options, e.g. `['--seal-key', file, '--tokens', file]`. */
  args?: string[];
}

export interface CollectorProcess {
  /** OTLP/HTTP base URL, for `createAuditor({ endpoint })`. */
  url: string;
  port: number;
  dir: string;
  pid: number;
  /** SIGTERM, then wait for it to finish writing and exit. */
  stop(): Promise<void>;
}

// The built bin, found from this module in dist/ (the package) or in src/collector/ (tests run
// from source); __dirname exists in the CJS build only.
const here = typeof __dirname === 'string' ? __dirname : path.dirname(fileURLToPath(import.meta.url));
const packageRoot = path.basename(here) === 'collector' ? path.resolve(here, '../..') : path.resolve(here, '..');
export const collectorBin = path.join(packageRoot, 'dist', 'bin.js');

async function attempt(port: number, dir: string, args: string[] = []): Promise<CollectorProcess | undefined> {
  const proc = spawn(process.execPath, [collectorBin, 'collect', '--port', String(port), '--dir', dir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const line = await new Promise<string | undefined>((resolve) => {
    createInterface({ input: proc.stdout }).once('line', resolve);
    proc.once('exit', () => resolve(undefined));
  });
  if (line === undefined) {
    if (/already in use/.test(stderr)) return undefined;
    throw new Error(`tooltrail collect did not start: ${stderr.trim()}`);
  }
  const m = /listening on (http:\/\/[^/]+:(\d+))\/v1\/traces, writing to (.+)$/.exec(line);
  if (!m) {
    proc.kill();
    throw new Error(`unexpected output from tooltrail collect: ${line}`);
  }
  return {
    url: m[1] as string,
    port: Number(m[2]),
    dir: m[3] as string,
    pid: proc.pid as number,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      await once(proc, 'exit');
    },
  };
}

/**
 * Starts `tooltrail collect` as a process of its own (the record lives outside the agent
 * process) and resolves once it accepts spans.
 */
export async function spawnCollector(options: SpawnCollectorOptions = {}): Promise<CollectorProcess> {
  const dir = path.resolve(options.dir ?? 'audit-trail');
  const port = options.port ?? 4318;
  const started = await attempt(port, dir, options.args);
  if (started) return started;
  if (options.fallbackToFreePort === false || port === 0) throw new Error(`port ${port} is already in use`);
  const fallback = await attempt(0, dir, options.args);
  if (!fallback) throw new Error('tooltrail collect could not find a free port');
  return fallback;
}
