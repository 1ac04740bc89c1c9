import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/**
 * The SDK's Protocol drops, without an answer, a message whose `params._meta` is not an object or
 * holds a `progressToken` that is not a string or an integer (or a related-task entry that is not
 * `{ taskId: string }`): a forged `_meta` made a `tools/call` hang unanswered and unrecorded. Such
 * a `_meta` is set aside on the params (under a symbol, never sent on) and replaced by what the
 * SDK accepts; the call is then handled, and readCallMeta records what was set aside.
 */
export const ORIGINAL_META: unique symbol = Symbol('tooltrail.gateway.original-meta');

const RELATED_TASK = 'io.modelcontextprotocol/related-task';

/** Why a `_meta` key would make the SDK drop the message, or undefined. */
export function sdkRejects(key: string, value: unknown): boolean {
  if (key === 'progressToken') return value !== undefined && typeof value !== 'string' && !Number.isInteger(value);
  if (key === RELATED_TASK) return value !== undefined && !(typeof value === 'object' && value !== null && typeof (value as { taskId?: unknown }).taskId === 'string');
  return false;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `params` with a `_meta` the SDK accepts; the original kept under ORIGINAL_META when it had to change. */
function guard(params: Record<string, unknown>): void {
  if (!('_meta' in params)) return;
  const meta = params._meta;
  if (meta === undefined) return;
  if (!isPlainObject(meta)) {
    (params as Record<symbol, unknown>)[ORIGINAL_META] = meta;
    delete params._meta;
    return;
  }
  if (!sdkRejects('progressToken', meta.progressToken) && !sdkRejects(RELATED_TASK, meta[RELATED_TASK])) return;
  (params as Record<symbol, unknown>)[ORIGINAL_META] = meta;
  const kept = { ...meta };
  delete kept.progressToken;
  delete kept[RELATED_TASK];
  params._meta = kept;
}

/** Guards every request and notification `transport` delivers (call after the Server connected to it). */
export function guardMeta(transport: Transport): void {
  const deliver = transport.onmessage;
  if (deliver === undefined) return;
  transport.onmessage = (message, extra) => {
    const params = (message as { params?: unknown }).params;
    if ('method' in message && isPlainObject(params)) guard(params);
    deliver.call(transport, message, extra);
  };
}

/** The `_meta` the agent sent, as sent (before guardMeta changed it). */
export function sentMeta(params: object): unknown {
  return ORIGINAL_META in params ? (params as Record<symbol, unknown>)[ORIGINAL_META] : (params as { _meta?: unknown })._meta;
}
