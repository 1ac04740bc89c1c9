/**
 * The OpenTelemetry environment variables tooltrail honours (docs/export.md, "The OpenTelemetry
 * environment"). Options beat variables; a signal-specific variable (OTEL_EXPORTER_OTLP_TRACES_*)
 * beats the generic one (OTEL_EXPORTER_OTLP_*), as in the OTel SDK. A variable that would make
 * the trail go somewhere else than meant (a protocol tooltrail does not speak, a compression it
 * does not know, a timeout that is not a number, headers it cannot read) is a configuration
 * error, never silently replaced by a default.
 */
import { AuditConfigError } from '../contract/errors.js';
import { MAX_TIMER_MS } from '../contract/option-keys.js';
import type { AuditLogger } from '../contract/logger.js';

export type OtlpProtocol = 'http/json' | 'http/protobuf';
export type OtlpCompression = 'gzip' | 'none';

export const PROTOCOLS: readonly OtlpProtocol[] = ['http/json', 'http/protobuf'];
export const COMPRESSIONS: readonly OtlpCompression[] = ['gzip', 'none'];

type Env = Record<string, string | undefined>;

/** A variable's value, trimmed; undefined when unset or empty (the spec treats empty as unset). */
function read(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/** The TRACES_ variant first, then the generic one, with the name of the variable that was used. */
function signalVar(env: Env, suffix: string): { name: string; value: string } | undefined {
  for (const name of [`OTEL_EXPORTER_OTLP_TRACES_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`]) {
    const value = read(env, name);
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a stray '%' is kept as written rather than lose the entry
  }
}

/**
 * A W3C-baggage-like list `k=v,k2=v2` (the format of OTEL_RESOURCE_ATTRIBUTES and
 * OTEL_EXPORTER_OTLP_HEADERS): keys and values trimmed and percent-decoded. Entries without
 * `=` or with an empty key are returned in `bad`.
 */
export function parseKeyValueList(text: string): { entries: [string, string][]; bad: string[] } {
  const entries: [string, string][] = [];
  const bad: string[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const key = eq < 0 ? '' : percentDecode(item.slice(0, eq).trim());
    if (eq < 0 || key === '') {
      bad.push(item);
      continue;
    }
    // Baggage properties (`;prop`) are not part of the resource attribute format; a ';' in a
    // value is kept, as the OTel JS SDK does.
    entries.push([key, percentDecode(item.slice(eq + 1).trim())]);
  }
  return { entries, bad };
}

/** OTEL_SERVICE_NAME, then `service.name` in OTEL_RESOURCE_ATTRIBUTES (as the SDK does). */
export function serviceNameFromEnv(env: Env, resource: Record<string, string>): string | undefined {
  return read(env, 'OTEL_SERVICE_NAME') ?? (resource['service.name']?.trim() || undefined);
}

/** OTEL_RESOURCE_ATTRIBUTES. Malformed entries are skipped with one warning naming them (the SDK's stance). */
export function resourceAttributesFromEnv(env: Env, logger: AuditLogger | undefined): Record<string, string> {
  const text = read(env, 'OTEL_RESOURCE_ATTRIBUTES');
  if (text === undefined) return {};
  const { entries, bad } = parseKeyValueList(text);
  if (bad.length > 0) {
    logger?.warn(
      `OTEL_RESOURCE_ATTRIBUTES: ignored ${bad.length} malformed entr${bad.length === 1 ? 'y' : 'ies'} (${bad.map((b) => JSON.stringify(b)).join(', ')}); each must be key=value, separated by commas`,
    );
  }
  const out: Record<string, string> = {};
  for (const [k, v] of entries) out[k] = v;
  return out;
}

/**
 * OTEL_EXPORTER_OTLP_(TRACES_)HEADERS merged (TRACES_ over generic, key by key), then
 * `options` over them key by key. Header names compare case-insensitively, so they are
 * lower-cased. A malformed entry is a configuration error: a lost authorization header would
 * have every request refused.
 */
export function resolveHeaders(options: Record<string, string> | undefined, env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS']) {
    const text = read(env, name);
    if (text === undefined) continue;
    const { entries, bad } = parseKeyValueList(text);
    if (bad.length > 0) {
      throw new AuditConfigError(
        `${name} holds malformed entries (${bad.map((b) => JSON.stringify(b)).join(', ')}): each must be name=value, separated by commas, with the value percent-encoded where needed`,
      );
    }
    for (const [k, v] of entries) out[k.toLowerCase()] = v;
  }
  for (const [k, v] of Object.entries(options ?? {})) out[k.toLowerCase()] = v;
  return out;
}

export function resolveProtocol(option: OtlpProtocol | undefined, env: Env): OtlpProtocol {
  if (option !== undefined) return option;
  const v = signalVar(env, 'PROTOCOL');
  if (v === undefined) return 'http/json';
  const value = v.value.toLowerCase();
  if (value === 'http/json' || value === 'http/protobuf') return value;
  if (value === 'grpc') {
    throw new AuditConfigError(
      `${v.name}=grpc: tooltrail exports over OTLP/HTTP only; point the endpoint at the collector's OTLP/HTTP receiver (usually port 4318, not gRPC's 4317) and set ${v.name} to http/protobuf or http/json`,
    );
  }
  throw new AuditConfigError(`${v.name}=${JSON.stringify(v.value)} is not a protocol tooltrail speaks: use http/protobuf or http/json`);
}

export function resolveCompression(option: OtlpCompression | undefined, env: Env): OtlpCompression {
  if (option !== undefined) return option;
  const v = signalVar(env, 'COMPRESSION');
  if (v === undefined) return 'none';
  const value = v.value.toLowerCase();
  if (value === 'gzip' || value === 'none') return value;
  throw new AuditConfigError(`${v.name}=${JSON.stringify(v.value)} is not a compression tooltrail knows: use gzip or none`);
}

/** The request deadline from OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT (milliseconds), when `export.timeoutMs` is not given. */
export function resolveTimeoutMs(option: number | undefined, env: Env): number | undefined {
  if (option !== undefined) return option;
  const v = signalVar(env, 'TIMEOUT');
  if (v === undefined) return undefined;
  const n = Number(v.value);
  if (!/^\d+(\.\d+)?$/.test(v.value) || !(n > 0) || n > MAX_TIMER_MS) {
    throw new AuditConfigError(`${v.name}=${JSON.stringify(v.value)} must be a positive number of milliseconds, at most ${MAX_TIMER_MS}`);
  }
  return n;
}

let toggleWarned = false;

/**
 * OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none switch tracing off; they do not switch an
 * audit trail off. Said once per process, in a warning naming the variable.
 */
export function warnAboutTracingToggles(env: Env, logger: AuditLogger): void {
  if (toggleWarned) return;
  const set: string[] = [];
  if (read(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') set.push('OTEL_SDK_DISABLED=true');
  const exporters = read(env, 'OTEL_TRACES_EXPORTER')
    ?.split(',')
    .map((s) => s.trim().toLowerCase());
  if (exporters?.includes('none')) set.push(`OTEL_TRACES_EXPORTER=${read(env, 'OTEL_TRACES_EXPORTER')}`);
  if (set.length === 0) return;
  toggleWarned = true;
  logger.warn(
    `${set.join(' and ')} ${set.length === 1 ? 'is' : 'are'} set: that switches OpenTelemetry tracing off, not the audit trail; tooltrail keeps recording and exporting every tool call (to stop it, do not create the auditor)`,
  );
}

/** For tests: lets the one-per-process warning be said again. */
export function resetToggleWarning(): void {
  toggleWarned = false;
}
