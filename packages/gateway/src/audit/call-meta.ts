/**
 * A `tools/call`'s `params._meta` as the agent sent it, sorted into what the gateway reads
 * (tooltrail's own keys, the agent's trace context) and what it passes on to the server. The
 * agent controls every byte of it: nothing here is identity, and nothing odd in it (not an
 * object, huge, a key of tooltrail's namespace the gateway does not know) stops the call. What
 * is passed on is data the server receives besides the arguments, so it is recorded too
 * (ATTR_META, masked by the auditor like any attribute) and bounded: an unbounded, unrecorded
 * `_meta` would be a channel past the trail.
 */
import { sdkRejects } from './meta-guard.js';
import { parseTraceparent } from './trace-context.js';

/** `_meta` was present but not an object (`array`, `string`, `null`, ...): nothing of it was passed on. */
export const ATTR_META_TYPE = 'tooltrail.mcp.meta.type';
/** JSON array of the `_meta` keys not passed on besides the ones the gateway always takes out (see below). */
export const ATTR_META_DROPPED = 'tooltrail.mcp.meta.dropped';
/** JSON of the `_meta` passed on to the server (besides the gateway's traceparent), when it holds more than a `progressToken`. */
export const ATTR_META = 'tooltrail.mcp.meta';
/** The most of `_meta` passed on, in bytes of JSON: the default cap of a recorded payload (so what goes on is recorded whole, like arguments of that size); past it only the keys the gateway understands go on. */
export const MAX_META_BYTES = 16 * 1024;
/** Passed on whatever the size: they are small once checked (a string or integer token, tracestate ≤ 512). */
const ALWAYS_PASSED = new Set(['progressToken', 'tracestate']);

/** tooltrail's namespace: never sent on (the run token is a credential; the call id is the gateway's to record). */
const TOOLTRAIL_PREFIX = 'tooltrail/';
/** Taken out of every call without a note: tooltrail's two keys, and the traceparent the gateway replaces with its own. */
const ALWAYS_TAKEN = new Set(['tooltrail/callId', 'tooltrail/runToken', 'traceparent']);
/** W3C Trace Context: at most 32 list members, 512 characters is what a vendor must propagate. */
const MAX_TRACESTATE = 512;
const TRACESTATE = /^[\x20-\x7e]*$/;
const MAX_NOTED = 16;
const MAX_NOTED_CHARS = 64;

export interface CallMeta {
  /** `_meta` when it is a plain object (what the run token, call id and traceparent are read from). */
  readonly object: Record<string, unknown> | undefined;
  /** What the server receives (the gateway adds its span's traceparent). */
  readonly passOn: Record<string, unknown>;
  /** Notes for the call's record (ATTR_META_*): empty for an ordinary call. */
  readonly attributes: Record<string, string>;
}

export function readCallMeta(meta: unknown): CallMeta {
  if (meta === undefined) return { object: undefined, passOn: {}, attributes: {} };
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    const type = meta === null ? 'null' : Array.isArray(meta) ? 'array' : typeof meta;
    return { object: undefined, passOn: {}, attributes: { [ATTR_META_TYPE]: type } };
  }
  const object = meta as Record<string, unknown>;
  // A spread, not assignments: an own `__proto__` key is passed on as the key it is.
  const passOn: Record<string, unknown> = { ...object };
  const dropped: string[] = [];
  let droppedCount = 0;
  const noteDrop = (key: string) => {
    droppedCount++;
    if (dropped.length < MAX_NOTED) dropped.push(key.length > MAX_NOTED_CHARS ? `${key.slice(0, MAX_NOTED_CHARS - 1)}…` : key);
  };
  for (const key of Object.keys(object)) {
    const value = object[key];
    let drop: boolean;
    // A traceparent that does not parse is noted: the call then has no parent on the agent's side.
    if (ALWAYS_TAKEN.has(key)) drop = key === 'traceparent' && parseTraceparent(value) === undefined;
    else if (key.toLowerCase().startsWith(TOOLTRAIL_PREFIX) || (key === 'tracestate' && !validTracestate(value)) || sdkRejects(key, value)) drop = true;
    else continue;
    delete passOn[key];
    if (drop) noteDrop(key);
  }
  let passedKeys = Object.keys(passOn);
  let json = passedKeys.length === 0 ? '{}' : JSON.stringify(passOn);
  if (Buffer.byteLength(json) > MAX_META_BYTES) {
    for (const key of passedKeys) {
      if (ALWAYS_PASSED.has(key)) continue;
      delete passOn[key];
      noteDrop(key);
    }
    passedKeys = Object.keys(passOn);
    json = JSON.stringify(passOn);
  }
  const attributes: Record<string, string> = {};
  if (passedKeys.some((k) => k !== 'progressToken')) attributes[ATTR_META] = json;
  if (droppedCount === 0) return { object, passOn, attributes };
  if (droppedCount > dropped.length) dropped.push(`… ${droppedCount - dropped.length} more`);
  attributes[ATTR_META_DROPPED] = JSON.stringify(dropped);
  return { object, passOn, attributes };
}

/** A `tracestate` worth passing on: a short string of printable ASCII (its members are the vendors' business). */
function validTracestate(value: unknown): boolean {
  return typeof value === 'string' && value.length <= MAX_TRACESTATE && TRACESTATE.test(value);
}

/**
 * `params` of a request other than `tools/call` without tooltrail's `_meta` keys (any case): a
 * run token is a credential of the agent's side and never goes to a server, whatever the method.
 */
export function withoutTooltrailMeta(params: Record<string, unknown>): Record<string, unknown> {
  const meta = params._meta;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return params;
  const keys = Object.keys(meta);
  if (!keys.some((k) => k.toLowerCase().startsWith(TOOLTRAIL_PREFIX))) return params;
  const kept: Record<string, unknown> = {};
  for (const k of keys) if (!k.toLowerCase().startsWith(TOOLTRAIL_PREFIX)) Object.defineProperty(kept, k, { value: (meta as Record<string, unknown>)[k], enumerable: true, writable: true, configurable: true });
  return { ...params, _meta: kept };
}
