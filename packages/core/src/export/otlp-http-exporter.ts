import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { encodeTraceRequest } from './otlp-json.js';
import { postBody } from './http-post.js';

export interface OtlpHttpExporterOptions {
  /** Full traces URL, e.g. http://127.0.0.1:4318/v1/traces. */
  url: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** Thrown into the export result so the caller can honour the collector's back-off request. */
export class OtlpExportError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
    this.name = 'OtlpExportError';
  }
}

/** A SpanExporter speaking OTLP/HTTP with JSON bodies, one request per batch. */
export class OtlpJsonHttpExporter implements SpanExporter {
  readonly url: URL;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(options: OtlpHttpExporterOptions) {
    this.url = new URL(options.url);
    this.headers = { 'content-type': 'application/json', ...(options.headers ?? {}) };
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let body: string;
    try {
      body = encodeTraceRequest(spans);
    } catch (err) {
      resultCallback({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
      return;
    }
    void postBody(this.url, body, this.headers, this.timeoutMs).then((r) => {
      if (r.status >= 200 && r.status < 300) {
        resultCallback({ code: ExportResultCode.SUCCESS });
        return;
      }
      const why = r.error ? r.error.message : `HTTP ${r.status} ${r.body.slice(0, 200)}`;
      resultCallback({
        code: ExportResultCode.FAILED,
        error: new OtlpExportError(`OTLP export to ${this.url.href} failed: ${why}`, r.status, r.retryAfterMs),
      });
    });
  }

  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}
}
