import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { AuditLogger } from '../contract/logger.js';
import type { RecordSink, RecordStage } from '../contract/record-sink.js';
import * as sc from '../contract/semconv.js';
import type { AuditTracer } from '../tracing/audit-tracer.js';
import { AuditTracerProvider } from '../tracing/audit-tracer.js';
import type { SpanSink } from '../tracing/audit-span.js';
import { detectedResourceAttributes } from '../tracing/resource.js';
import { createIntegrityChain } from '../integrity/options.js';
import type { IntegrityChain } from '../integrity/chain.js';
import { advanceLineage } from '../integrity/lineage.js';
import { RecordPipeline } from '../export/record-pipeline.js';
import { BatchingSink } from '../export/batching-sink.js';
import { DurableSink, type Durability, type FailMode } from '../export/durable-sink.js';
import { spoolLocation } from '../export/spool-location.js';
import { resolveTracesUrl, type AuditorOptions } from './config.js';
import { resolveCompression, resolveHeaders, resolveProtocol, resolveTimeoutMs } from './otel-env.js';

/** The sink methods the exit path uses (Contract A); optional so any RecordSink fits. */
export type ExitCapableSink = RecordSink & { seal?(): void; spillForExit?(): void };

/** Where an auditor's records go: tracer -> (chain) -> pipeline -> sink. */
export interface RecordPath {
  readonly destination: string;
  readonly sink: ExitCapableSink;
  readonly tracer: AuditTracer;
  readonly chain: IntegrityChain | undefined;
}

export interface RecordPathSettings {
  readonly serviceName: string;
  readonly durability: Durability;
  readonly failMode: FailMode;
  readonly logger: AuditLogger;
  /** OTEL_RESOURCE_ATTRIBUTES, already parsed. */
  readonly envResource: Record<string, string>;
  readonly env: Record<string, string | undefined>;
  /** Counted losses: a record the path could not write, one that came after the stream ended. */
  readonly recordFailed: (err: unknown) => void;
  readonly late: (span: ReadableSpan) => void;
}

declare const __TOOLTRAIL_VERSION__: string | undefined;
const VERSION: string = typeof __TOOLTRAIL_VERSION__ === 'string' ? __TOOLTRAIL_VERSION__ : '0.0.0-dev';

function buildSink(options: AuditorOptions, s: RecordPathSettings, spoolDir: string | undefined): { sink: ExitCapableSink; destination: string } {
  if (options.exporter) return { sink: new BatchingSink(options.exporter, s.logger, options.exportQueue), destination: 'custom exporter' };
  const url = resolveTracesUrl(options.endpoint, s.env);
  const timeoutMs = resolveTimeoutMs(options.export?.timeoutMs, s.env);
  // The auditor owns the exit path (process-hooks.ts): the sink must not flush on a signal
  // by itself, before the stream's final checkpoint exists.
  const sink = new DurableSink({
    serviceName: s.serviceName,
    url,
    headers: resolveHeaders(options.headers, s.env),
    logger: s.logger,
    options: { ...options.export, ...(timeoutMs !== undefined ? { timeoutMs } : {}), spoolDir, handleProcessExit: false },
    wire: { protocol: resolveProtocol(options.protocol, s.env), compression: resolveCompression(options.compression, s.env) },
  });
  return { sink, destination: url };
}

/** Builds the record path. The chain first: it checks its keys, and nothing else should exist when that throws. */
export function buildRecordPath(options: AuditorOptions, s: RecordPathSettings): RecordPath {
  const chain = createIntegrityChain(options.integrity);
  const spoolDir = options.spoolDir ?? (options.export as { spoolDir?: string } | undefined)?.spoolDir;
  const { sink, destination } = buildSink(options, s, spoolDir);
  const stages: RecordStage[] = chain ? [chain] : [];
  const pipeline = new RecordPipeline(sink, stages);
  const onEnd: SpanSink = chain
    ? {
        onEnd: (span: ReadableSpan) => {
          if (chain.isEnded) return s.late(span);
          pipeline.onEnd(span);
          // A checkpoint made due by a record is written once that record is in the sink; if writing
          // it fails, that is the checkpoint's loss, not the record's (which is already stored).
          try {
            chain.afterRecord();
          } catch (err) {
            s.recordFailed(err);
          }
        },
      }
    : pipeline;
  // Detected, then OTEL_RESOURCE_ATTRIBUTES, then the options' resourceAttributes; service.name last.
  const provider = new AuditTracerProvider(s.serviceName, onEnd, {
    ...detectedResourceAttributes(VERSION),
    ...s.envResource,
    ...options.resourceAttributes,
  });
  const tracer = provider.getTracer(sc.TRACER_NAME, VERSION);
  if (chain) {
    chain.attach(tracer);
    const integrity = options.integrity === false ? undefined : options.integrity;
    const lineageFile = integrity?.lineageFile ?? (options.exporter ? undefined : spoolLocation(s.serviceName, spoolDir).lineageFile);
    const startedAt = new Date().toISOString();
    chain.start(advanceLineage(lineageFile, chain.streamId, startedAt, s.logger), startedAt);
  }
  return { destination, sink, tracer, chain };
}

/** Whether an export option asks for the process exit hooks (`export.handleProcessExit`, default true). */
export function exitHookSettings(options: AuditorOptions): { enabled: boolean; signalFlushMs: number } {
  const o = options.export as { handleProcessExit?: boolean; signalFlushMs?: number } | undefined;
  return { enabled: options.exporter === undefined && o?.handleProcessExit !== false, signalFlushMs: o?.signalFlushMs ?? 2_000 };
}
