import { z } from 'zod';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { AuditConfigError } from './errors.js';
import type { PolicyRule } from './policy/decisions.js';
import type { PayloadEncoder } from './record/payload-encoder.js';
import type { AuditLogger } from './export/sink.js';
import type { BatchingSinkOptions } from './export/batching-sink.js';

export interface AuditorOptions {
  /** `service.name` of the audit spans' resource. */
  serviceName: string;
  /**
   * OTLP/HTTP base URL; `/v1/traces` is appended. Default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
   * (used as is), then OTEL_EXPORTER_OTLP_ENDPOINT, then http://localhost:4318.
   */
  endpoint?: string;
  /** Extra HTTP headers for the collector (authentication, tenancy). */
  headers?: Record<string, string>;
  /** Rules checked before every call, in order. */
  policy?: PolicyRule[];
  /** Deny calls made outside `auditor.run()`. Default true. */
  requireIdentity?: boolean;
  /** Replaces the OTLP/HTTP exporter, e.g. with the SDK's InMemorySpanExporter in tests. */
  exporter?: SpanExporter;
  /** Extra resource attributes (deployment.environment.name, service.version, ...). */
  resourceAttributes?: Record<string, string | number | boolean>;
  /** Record each `auditor.run()` as an `invoke_agent` span that parents its tool calls. Default true. */
  runSpans?: boolean;
  /** Where tooltrail reports lost records and export trouble. Default: console.warn. */
  logger?: AuditLogger;
  /** Turns call values into recorded strings; the masking layer plugs in here. */
  encoder?: PayloadEncoder;
  /** Batching and back-off of the export queue. */
  exportQueue?: BatchingSinkOptions;
  /** Per-request timeout talking to the collector. Default 10 000 ms. */
  exportTimeoutMs?: number;
}

const optionsSchema = z.object({
  serviceName: z.string().trim().min(1, 'serviceName must be a non-empty string'),
  endpoint: z
    .string()
    .refine((s) => {
      try {
        const u = new URL(s);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    }, 'endpoint must be an http(s) URL')
    .optional(),
  headers: z.record(z.string(), z.string()).optional(),
  policy: z.array(z.custom<PolicyRule>((r) => typeof r === 'function', 'every policy rule must be a function')).optional(),
  requireIdentity: z.boolean().optional(),
  runSpans: z.boolean().optional(),
  exportTimeoutMs: z.number().positive().optional(),
});

export function validateOptions(options: AuditorOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new AuditConfigError('createAuditor() needs an options object with at least { serviceName }');
  }
  const r = optionsSchema.safeParse(options);
  if (!r.success) {
    throw new AuditConfigError(
      'invalid auditor options',
      r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
}

/** The traces URL, following the OTel exporter environment variables' precedence. */
export function resolveTracesUrl(endpoint: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const join = (base: string) => `${base.replace(/\/+$/, '')}/v1/traces`;
  if (endpoint) return join(endpoint);
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (tracesEndpoint) return tracesEndpoint;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (base) return join(base);
  return 'http://localhost:4318/v1/traces';
}
