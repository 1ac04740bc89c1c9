import type { Attributes } from '@opentelemetry/api';
import * as sc from '../contract/semconv.js';

/** Names core writes itself: an adapter's attributes may add to a record, never stand in for core's. */
const CORE_KEYS = new Set<string>(Object.values(sc as Record<string, unknown>).filter((v): v is string => typeof v === 'string'));
const CORE_PREFIXES = [sc.ATTR_RUN_ATTRIBUTE_PREFIX, sc.ATTR_PAYLOAD_PREFIX, sc.ATTR_MASK_PREFIX, sc.ATTR_GEN_AI_TOOL_PREFIX, sc.ATTR_EXCEPTION_PREFIX];

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
