/**
 * What a call record holds besides the call's payloads: an adapter's attributes and the tool
 * definition's names, masked as docs/span-schema.md says (correlation attributes by the value
 * detectors only).
 */
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import * as sc from '../contract/semconv.js';
import { correlationText, freeName } from '../identity/identity-attributes.js';
import type { EncodeReport } from '../payload/encode-report.js';
import type { PayloadEncoder } from '../payload/payload-encoder.js';
import type { ToolDefinition } from './tool-definition.js';
import type { ToolMaskingSpec } from '../payload/masking/plan.js';

/** Names core writes itself: an adapter's attributes may add to a record, never stand in for core's. */
const CORE_KEYS = new Set<string>(Object.values(sc as Record<string, unknown>).filter((v): v is string => typeof v === 'string'));
const CORE_PREFIXES = [sc.ATTR_RUN_ATTRIBUTE_PREFIX, sc.ATTR_PAYLOAD_PREFIX, sc.ATTR_MASK_PREFIX, sc.ATTR_GEN_AI_TOOL_PREFIX, sc.ATTR_EXCEPTION_PREFIX];
const CORRELATION = new Set(sc.CORRELATION_ATTRIBUTES);

/** An OpenTelemetry attribute value: a primitive, or an array of primitives. */
function isAttributeValue(v: unknown): boolean {
  const t = typeof v;
  if (t === 'string' || t === 'boolean' || (t === 'number' && Number.isFinite(v))) return true;
  return Array.isArray(v) && v.every((x) => x === null || x === undefined || typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x)));
}

/** An adapter's attributes (CallMeta.attributes) that a span can hold and that are not core's. */
export function adapterAttributes(attrs: Attributes): Attributes | undefined {
  let out: Attributes | undefined;
  for (const key of Object.keys(attrs)) {
    const value = attrs[key];
    // A value a span cannot hold (a bigint, an object from plain JS) would break the record itself.
    if (!isAttributeValue(value) || CORE_KEYS.has(key) || CORE_PREFIXES.some((p) => key.startsWith(p))) continue;
    (out ??= {})[key] = value;
  }
  return out;
}

/** Where the adapter attributes of one call are masked: the auditor's encoder, the tool's options, the call's tally. */
export interface AdapterMaskContext {
  readonly encoder: PayloadEncoder;
  readonly tool: string;
  readonly masking: ToolMaskingSpec | undefined;
  readonly report: EncodeReport;
}

/**
 * An adapter's attributes, masked: values through the encoder (value detectors always; the
 * key-name rules by the attribute's name, except on a correlation attribute such as
 * `mcp.session.id`, which only the value detectors scan), and the names scanned as values are.
 * Short values that repeat (a session's method, version, server) are answered from the
 * scanner's memo; correlation values skip it (a request id is new on every call).
 */
export function maskAdapterAttributes(attrs: Attributes, m: AdapterMaskContext): Attributes {
  const out: Attributes = {};
  const ctx = { tool: m.tool, masking: m.masking, report: m.report };
  for (const key of Object.keys(attrs)) {
    const correlation = CORRELATION.has(key);
    const one = (s: string): string => (correlation ? correlationText(m.encoder, s, ctx) : text(m, s, key));
    const value = attrs[key] as AttributeValue;
    let masked: AttributeValue;
    if (typeof value === 'string') masked = one(value);
    else if (typeof value === 'number') masked = number(value, one);
    else if (Array.isArray(value)) {
      masked = (value as unknown[]).map((x) => (typeof x === 'string' ? one(x) : typeof x === 'number' ? number(x, one) : x)) as AttributeValue;
    } else masked = value;
    // Correlation names are fixed, known names; any other name is the adapter's (or its user's) data.
    const name = correlation ? key : text(m, key, undefined);
    out[freeName(out, name)] = masked;
  }
  return out;
}

/** A number stays a number unless masking its digits changes them (`pin: 4321`, a card as a number). */
function number(n: number, one: (s: string) => string): AttributeValue {
  const s = String(n);
  const masked = one(s);
  return masked === s ? n : masked;
}

function text(m: AdapterMaskContext, value: string, key: string | undefined): string {
  try {
    return m.encoder.text(value, { tool: m.tool, field: 'identity', key, masking: m.masking, report: m.report });
  } catch {
    return sc.MASKING_FAILED_MARKER;
  }
}

/** A tool definition's names as recorded: scanned once per definition (and encoder), never per call. */
export interface RecordedNames {
  readonly encoder: PayloadEncoder;
  readonly name: string;
  readonly description: string | undefined;
  readonly spanName: string;
  readonly attemptSpanName: string;
  readonly intentSpanName: string;
}

const namesCache = new WeakMap<ToolDefinition, RecordedNames>();

/**
 * The tool's name (a correlation key: value detectors only) and description (value detectors),
 * and the span names built from the name. A name with nothing to mask keeps the definition's own
 * strings, so the default path allocates nothing.
 */
export function recordedNames(def: ToolDefinition, encoder: PayloadEncoder): RecordedNames {
  const hit = namesCache.get(def);
  if (hit !== undefined && hit.encoder === encoder) return hit;
  const name = correlationText(encoder, def.name, { tool: def.name, masking: def.masking });
  let description = def.description;
  if (description !== undefined) {
    try {
      description = encoder.text(description, { tool: def.name, field: 'identity', masking: def.masking });
    } catch {
      description = sc.MASKING_FAILED_MARKER;
    }
  }
  const same = name === def.name;
  const names: RecordedNames = Object.freeze({
    encoder,
    name,
    description,
    spanName: same ? def.spanName : sc.toolSpanName(sc.SPAN_NAME_EXECUTE_TOOL, name),
    attemptSpanName: same ? def.attemptSpanName : sc.toolSpanName(sc.SPAN_NAME_ATTEMPT, name),
    intentSpanName: same ? def.intentSpanName : sc.toolSpanName(sc.SPAN_NAME_INTENT, name),
  });
  namesCache.set(def, names);
  return names;
}
