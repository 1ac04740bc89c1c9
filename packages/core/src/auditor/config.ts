import { z } from 'zod';
import type { KeyObject } from 'node:crypto';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { AuditConfigError } from '../contract/errors.js';
import { auditorMaskingOptionsSchema } from '../payload/masking/plan.js';
import { MAX_TIMER_MS, unknownKeys } from '../contract/option-keys.js';
import type { PolicyRule } from '../policy/decisions.js';
import type { PayloadEncoder } from '../payload/payload-encoder.js';
import type { MaskingOptions } from '../payload/masking/plan.js';
import type { AuditLogger } from '../contract/logger.js';
import type { BatchingSinkOptions } from '../export/batching-sink.js';
import type { DurableExportOptions, Durability, FailMode } from '../export/durable-sink.js';
import type { IntegrityOptions } from '../integrity/chain.js';
import type { OtlpCompression, OtlpProtocol } from './otel-env.js';
import type { FilePolicyOptions } from '../policy/file/file-policy.js';
import type { ApprovalOptions } from '../call/approval-handler.js';
import { MAX_RUN_TOKEN_TTL_MS } from '../identity/run-token.js';

export interface AuditorOptions {
  /**
   * `service.name` of the audit spans' resource. Default: OTEL_SERVICE_NAME, then `service.name`
   * in OTEL_RESOURCE_ATTRIBUTES; with none of them createAuditor() throws AuditConfigError.
   */
  serviceName?: string;
  /**
   * OTLP/HTTP base URL; `/v1/traces` is appended. Default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
   * (used as is), then OTEL_EXPORTER_OTLP_ENDPOINT, then http://localhost:4318.
   */
  endpoint?: string;
  /**
   * Extra HTTP headers for the collector (authentication, tenancy). Merged key by key over
   * OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_TRACES_HEADERS (these win over those).
   */
  headers?: Record<string, string>;
  /**
   * The OTLP/HTTP encoding: `http/json` or `http/protobuf`. Default: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
   * then OTEL_EXPORTER_OTLP_PROTOCOL, then `http/json`. `grpc` is not supported (a configuration error).
   */
  protocol?: OtlpProtocol;
  /**
   * Compression of request bodies: `gzip` or `none`. Default: OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
   * then OTEL_EXPORTER_OTLP_COMPRESSION, then `none`.
   */
  compression?: OtlpCompression;
  /** Rules checked before every call, in order. */
  policy?: PolicyRule[];
  /** Deny calls made outside `auditor.run()`. Default true. */
  requireIdentity?: boolean;
  /** Replaces the OTLP/HTTP exporter, e.g. with the SDK's InMemorySpanExporter in tests. */
  exporter?: SpanExporter;
  /**
   * Extra resource attributes (deployment.environment.name, service.version, ...). They beat
   * OTEL_RESOURCE_ATTRIBUTES, which beats the detected ones (telemetry.sdk.*, process.*, host.*).
   */
  resourceAttributes?: Record<string, string | number | boolean>;
  /** Record each `auditor.run()` as an `invoke_agent` span that parents its tool calls. Default true. */
  runSpans?: boolean;
  /** Where tooltrail reports lost records and export trouble. Default: console.warn. */
  logger?: AuditLogger;
  /**
   * Masking of everything a span records from a call (docs/masking.md). On by default;
   * `false` records values as they are and should only be used when the trail never leaves a
   * boundary allowed to hold the raw data.
   */
  masking?: MaskingOptions | false;
  /** Replaces the masking encoder entirely (then `masking` must not be given). */
  encoder?: PayloadEncoder;
  /** Batching and back-off of the queue in front of a custom `exporter`. */
  exportQueue?: BatchingSinkOptions;
  /**
   * `buffered` (default): records are spooled and shipped in the background. `strict`: a call's
   * record of intent is on disk (fsynced) before the tool body runs, and its final record before
   * the wrapped call returns; when that cannot be done the call is refused.
   */
  durability?: Durability;
  /**
   * `closed` (the default under `strict`): refuse calls with AuditUnavailableError when records
   * can be neither delivered nor spooled. `open` (the default under `buffered`): let calls run,
   * counting and warning about every record lost. `open` with `strict` is a configuration error.
   */
  failMode?: FailMode;
  /** Folder of the on-disk spool. Default `./.tooltrail-spool`. */
  spoolDir?: string;
  /** Tuning of the OTLP export pipeline: spool cap, batching, timeouts, back-off. */
  export?: DurableExportOptions;
  /**
   * The tamper-evident chain (docs/integrity.md): on by default (sequence numbers and hashes);
   * a MAC key and a checkpoint signing key make rewrites and forgeries detectable. `false` turns
   * the chain off.
   */
  integrity?: IntegrityOptions | false;
  /**
   * How long a call may wait for its (async) schema and policy rules, together, before it is
   * denied (rule `tooltrail.policy-timeout`) or recorded invalid (issue `schema_timeout`); the
   * body then never runs, even if a rule settles later. Per tool: `withAudit(fn, { policyTimeoutMs })`.
   * Default 5 000 ms.
   */
  policyTimeoutMs?: number;
  /**
   * A policy file the security team owns (docs/policy.md): a path, or its options (signature,
   * watching). Loaded at once (a bad file or signature is an AuditConfigError) and checked
   * before the auditor's `policy` rules; reloaded when it changes.
   */
  policyFile?: string | FilePolicyOptions;
  /**
   * Who answers `ask` decisions, and how long a call waits for the answer (default 5 minutes,
   * apart from `policyTimeoutMs`). Without it an `ask` is denied (rule `tooltrail.approval`),
   * unless the call carries an approval from its framework's own flow.
   */
  approval?: ApprovalOptions;
  /**
   * The Ed25519 private key (KeyObject, PKCS#8 PEM text or a file path) that signs this
   * auditor's run tokens (docs/gateway.md): inside `auditor.run()`, `currentRunToken()` returns a
   * short-lived token saying this process opened the run for its principal, and @tooltrail/mcp
   * sends it to the server in `params._meta`. Use a key of its own, not the checkpoint key.
   */
  runTokenKey?: KeyObject | string;
  /** Lifetime of each run token (renewed at half of it while the run goes on). Default 15 minutes, at most 24 hours. */
  runTokenExpiresInMs?: number;
}

export const DEFAULT_POLICY_TIMEOUT_MS = 5_000;
export const DEFAULT_APPROVAL_TIMEOUT_MS = 300_000;

const fn = (what: string) => z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', `${what} must be a function`);
const hasMethods = (what: string, ...names: string[]) =>
  z.custom<object>(
    (v) => typeof v === 'object' && v !== null && names.every((n) => typeof (v as Record<string, unknown>)[n] === 'function'),
    `${what} must be an object with ${names.map((n) => `${n}()`).join(' and ')}`,
  );
const timeoutMs = z.number().positive().max(MAX_TIMER_MS);

export const integritySchema = z.object({
  macKey: z.union([z.string(), z.instanceof(Uint8Array)]).optional(),
  signingKey: z.union([z.string(), z.custom<object>((v) => typeof v === 'object' && v !== null, 'signingKey must be a KeyObject or PEM text or a file path')]).optional(),
  checkpointEvery: z.number().int().positive().optional(),
  checkpointIntervalMs: z.number().nonnegative().max(MAX_TIMER_MS).optional(),
  lineageFile: z.string().min(1, 'lineageFile must be a non-empty path').optional(),
});

const optionsSchema = z.object({
  serviceName: z.string().trim().min(1, 'serviceName must be a non-empty string').optional(),
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
  protocol: z
    .string()
    .refine((p) => p !== 'grpc', {
      message:
        'protocol "grpc" is not supported: tooltrail exports over OTLP/HTTP; point endpoint at the collector\'s OTLP/HTTP receiver (usually port 4318) and use "http/protobuf" or "http/json"',
      abort: true,
    })
    .refine((p) => p === 'http/json' || p === 'http/protobuf', 'protocol must be "http/json" or "http/protobuf"')
    .optional(),
  compression: z.enum(['gzip', 'none']).optional(),
  policy: z.array(z.custom<PolicyRule>((r) => typeof r === 'function', 'every policy rule must be a function')).optional(),
  requireIdentity: z.boolean().optional(),
  runSpans: z.boolean().optional(),
  durability: z.enum(['buffered', 'strict']).optional(),
  failMode: z.enum(['open', 'closed']).optional(),
  spoolDir: z.string().min(1, 'spoolDir must be a non-empty path').optional(),
  exporter: hasMethods('exporter', 'export', 'shutdown').optional(),
  resourceAttributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  logger: hasMethods('logger', 'warn').optional(),
  // Masking values are checked where the masking options are compiled (masking/plan.ts).
  masking: z.unknown().refine((v) => v !== null, 'masking must be an options object or false (null is neither)').optional(),
  encoder: hasMethods('encoder', 'json', 'text').optional(),
  exportQueue: z
    .object({
      maxQueue: z.number().int().positive().optional(),
      maxBatch: z.number().int().positive().optional(),
      flushIntervalMs: z.number().nonnegative().max(MAX_TIMER_MS).optional(),
      initialBackoffMs: z.number().nonnegative().max(MAX_TIMER_MS).optional(),
      maxBackoffMs: z.number().nonnegative().max(MAX_TIMER_MS).optional(),
    })
    .optional(),
  integrity: z.union([z.literal(false), integritySchema]).optional(),
  policyTimeoutMs: timeoutMs.optional(),
  // The file's own options are checked where it is loaded; their names are checked here.
  policyFile: z
    .union([
      z.string().min(1, 'policyFile must be a non-empty path'),
      z.object({
        path: z.string().min(1, 'policyFile.path must be a non-empty path'),
        publicKey: z.string().min(1).optional(),
        signaturePath: z.string().min(1).optional(),
        watch: z.boolean().optional(),
        pollMs: z.number().positive().max(MAX_TIMER_MS).optional(),
        baseDir: z.string().min(1).optional(),
      }),
    ])
    .optional(),
  approval: z
    .object({
      handler: fn('approval.handler').optional(),
      timeoutMs: timeoutMs.optional(),
    })
    .optional(),
  runTokenKey: z
    .union([z.string().min(1, 'runTokenKey must be PEM text or a non-empty path'), z.custom<object>((v) => typeof v === 'object' && v !== null, 'runTokenKey must be a KeyObject, PEM text or a file path')])
    .optional(),
  runTokenExpiresInMs: z.number().int().positive().max(MAX_RUN_TOKEN_TTL_MS).optional(),
  export: z
    .object({
      maxSpoolBytes: z.number().int().positive().optional(),
      segmentBytes: z.number().int().positive().optional(),
      maxBatch: z.number().int().positive().optional(),
      flushIntervalMs: z.number().nonnegative().max(MAX_TIMER_MS).optional(),
      maxRequestBytes: z.number().int().positive().optional(),
      maxConcurrentRequests: z.number().int().positive().max(16).optional(),
      memoryCacheBytes: z.number().int().nonnegative().optional(),
      timeoutMs: timeoutMs.optional(),
      initialBackoffMs: z.number().nonnegative().max(MAX_TIMER_MS).optional(),
      maxBackoffMs: z.number().nonnegative().max(MAX_TIMER_MS).optional(),
      warnAfterMs: z.number().nonnegative().max(MAX_TIMER_MS).optional(),
      handleProcessExit: z.boolean().optional(),
      signalFlushMs: z.number().nonnegative().max(MAX_TIMER_MS).optional(),
      heartbeatMs: z.number().positive().max(MAX_TIMER_MS).optional(),
      ownerStaleMs: z.number().positive().max(MAX_TIMER_MS).optional(),
    })
    .optional(),
});

/** The same groups, with the masking group's structure: the list of valid names at every level. */
const keysSchema = optionsSchema.extend({ masking: z.union([z.literal(false), auditorMaskingOptionsSchema]).optional() });

export function validateOptions(options: AuditorOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new AuditConfigError('createAuditor() needs an options object (with serviceName, unless OTEL_SERVICE_NAME is set)');
  }
  // Unknown keys first: a misspelt key is the likeliest cause of any other complaint.
  const issues = unknownKeys(keysSchema, options);
  const r = optionsSchema.safeParse(options);
  if (!r.success) issues.push(...r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  if (issues.length > 0) throw new AuditConfigError('invalid auditor options', issues);
  if (options.durability === 'strict' && options.failMode === 'open') {
    // Strict promises that no tool body runs before its record of intent is on disk; failMode
    // 'open' would let the body run when that write fails: the promise silently kept only sometimes.
    throw new AuditConfigError(
      'durability "strict" with failMode "open" would run tool bodies whose record of intent could not be made durable: use failMode "closed" (the default under strict), or durability "buffered"',
    );
  }
  const exp = options.export;
  const heartbeatMs = exp?.heartbeatMs ?? 5_000;
  const ownerStaleMs = exp?.ownerStaleMs ?? 30_000;
  if (ownerStaleMs < 2 * heartbeatMs) {
    // A live owner touches its heartbeat every heartbeatMs: a stale period shorter than two
    // beats gets a live process's spool adopted by another one (records delivered twice, and
    // its folder taken away while it writes).
    throw new AuditConfigError(
      `export.ownerStaleMs (${ownerStaleMs}) must be at least twice export.heartbeatMs (${heartbeatMs}): otherwise a live process's spool is judged stale and adopted`,
    );
  }
  if (options.runTokenExpiresInMs !== undefined && options.runTokenKey === undefined) {
    throw new AuditConfigError('runTokenExpiresInMs is the lifetime of run tokens: it needs runTokenKey, the key that signs them');
  }
  if (options.exporter !== undefined && (options.protocol !== undefined || options.compression !== undefined)) {
    throw new AuditConfigError('protocol and compression configure the built-in OTLP/HTTP export: they do nothing with a custom exporter');
  }
  if (options.durability === 'strict' && options.exporter !== undefined) {
    throw new AuditConfigError(
      'durability "strict" needs the built-in OTLP pipeline and its spool: it cannot be promised through a custom exporter',
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
