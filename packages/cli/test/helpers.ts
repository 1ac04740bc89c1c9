import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

export const binPath = path.resolve(import.meta.dirname, '../dist/bin.js');

const tmpDirs: string[] = [];
const children: ChildProcess[] = [];

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tooltrail-cli-'));
  tmpDirs.push(dir);
  return dir;
}

/** For afterEach: kills leftover children and removes temp folders. */
export async function cleanup(): Promise<void> {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(tmpDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

export interface CliRun {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the built bin. */
export function runCli(args: string[], cwd?: string): CliRun {
  const proc = spawn(process.execPath, [binPath, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { proc, stdout: () => out, stderr: () => err, exited };
}

export const READY = /^tooltrail collect: listening on (http:\/\/\S+\/v1\/traces), writing to (.+)$/;

export interface CliCollector extends CliRun {
  tracesUrl: string;
  /** Base URL (without /v1/traces). */
  url: string;
  dir: string;
  readyLine: string;
}

/** Starts `tooltrail collect` as a child process and waits for its ready line. */
export async function startCliCollector(dir: string, extra: string[] = []): Promise<CliCollector> {
  const run = runCli(['collect', '--port', '0', '--dir', dir, ...extra]);
  const line = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const nl = run.stdout().indexOf('\n');
      if (nl >= 0) {
        run.proc.stdout!.off('data', onData);
        resolve(run.stdout().slice(0, nl));
      }
    };
    run.proc.stdout!.on('data', onData);
    void run.exited.then(({ code }) => reject(new Error(`collector exited (${code}) before ready: ${run.stderr()}`)));
  });
  const m = READY.exec(line);
  if (!m) throw new Error(`unexpected ready line: ${line}`);
  return { ...run, readyLine: line, tracesUrl: m[1]!, url: m[1]!.replace(/\/v1\/traces$/, ''), dir: m[2]! };
}

export async function stopCli(c: CliRun): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  c.proc.kill('SIGTERM');
  return c.exited;
}

export interface JsonSpanInput {
  traceId?: string;
  spanId?: string;
  name?: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

/** A hand-written OTLP/JSON request with `n` spans named `${prefix}-${i}`. */
export function jsonRequest(n: number, prefix = 'span', pad = ''): string {
  const spans = Array.from({ length: n }, (_, i) => ({
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId: (i + 1).toString(16).padStart(16, '0'),
    name: `${prefix}-${i}`,
    kind: 1,
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000000500000000',
    attributes: [
      { key: 'i', value: { intValue: String(i) } },
      { key: 'pad', value: { stringValue: pad } },
    ],
    status: { code: 1 },
  }));
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'hand-written' } }] },
        scopeSpans: [{ scope: { name: 'test', version: '1.0.0' }, spans }],
      },
    ],
  });
}

export async function post(url: string, body: string | Uint8Array, headers: Record<string, string>): Promise<{ status: number; body: string; contentType: string | null }> {
  const res = await fetch(url, { method: 'POST', body, headers });
  return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') };
}

/** A provider as an app would set one up, minus global registration. */
export function sdkProvider(processor: SpanProcessor): BasicTracerProvider {
  return new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'sample-service', 'deployment.environment.name': 'test' }),
    spanProcessors: [processor],
  });
}

/** SDK spans covering every attribute type, an event, a link, a parent and an error status. */
export function sdkSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  recordSampleSpans(sdkProvider(new SimpleSpanProcessor(exporter)));
  return exporter.getFinishedSpans();
}

export const sampleAttributes = {
  str: 'héllo "wörld"\n\u2028😀',
  empty: '',
  'bool.t': true,
  'bool.f': false,
  int: 42,
  'int.neg': -7,
  'int.max': Number.MAX_SAFE_INTEGER,
  double: 3.25,
  'double.neg': -0.5,
  'arr.str': ['a', 'b', ''],
  'arr.int': [1, 2, 3],
  'arr.double': [1.5, 2.5],
  'arr.bool': [true, false],
};

/** Two spans: `parent` (SERVER) and `child` (CLIENT, every attribute type, event, link, error). */
export function recordSampleSpans(provider: BasicTracerProvider): void {
  const tracer = provider.getTracer('sample-scope', '2.0.0');
  const parent = tracer.startSpan('parent', { kind: SpanKind.SERVER });
  const child = tracer.startSpan(
    'child',
    { kind: SpanKind.CLIENT, attributes: sampleAttributes, links: [{ context: parent.spanContext(), attributes: { 'link.attr': 'x' } }] },
    trace.setSpan(context.active(), parent),
  );
  child.addEvent('something', { 'event.n': 1 });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'it failed' });
  child.end();
  parent.setStatus({ code: SpanStatusCode.OK });
  parent.end();
}
