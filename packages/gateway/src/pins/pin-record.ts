/**
 * The evidence of a rug pull in the trail, twice over. When a changed definition is SEEN (a
 * tools/list, or the lookup before a call), one `tooltrail.tool_changed` record
 * (`auditor.recordEvent`, `tooltrail.record = tool_changed`) under the connection's run: the
 * server, the tool, the pinned and the new hash, the action (deny or hide). And every
 * `tools/call` to a changed tool is recorded through that tool's audited forwarder as a refused
 * call (outcome `denied`, rule `tooltrail.framework`, `tooltrail.refused.by =
 * tooltrail.gateway.pins`), carrying the same two hashes.
 */
import { semconv, type AuditEventInput, type RefusedCall, type RefusedCallInput } from '@tooltrail/core';
import type { PinChange } from './tool-pins.js';

export const PINS_REFUSED_BY = 'tooltrail.gateway.pins';
// Not `tooltrail.mcp.tool.pin.old`: core's key-name masking reads the word `pin` as a PIN code
// and would record `[REDACTED:pin]` instead of the hash.
export const ATTR_PIN_OLD = 'tooltrail.mcp.tool.hash.old';
export const ATTR_PIN_NEW = 'tooltrail.mcp.tool.hash.new';
/** On a `tool_changed` record: what the gateway does with the tool until the pin is updated (`deny` | `hide`). */
export const ATTR_PIN_ACTION = 'tooltrail.mcp.tool.action';
/** The server a record is about (as on the gateway's call records). */
const ATTR_SERVER = 'tooltrail.mcp.server.name';

/**
 * The `tool_changed` record of a change (for `auditor.recordEvent`): `tool` is the name the agent
 * sees (prefixed with the server's when the gateway fronts several), as on the calls' records.
 */
export function toolChangedEvent(change: PinChange, exposed: string, action: 'deny' | 'hide', extra: Record<string, string> = {}): AuditEventInput {
  return {
    kind: semconv.RECORD_TOOL_CHANGED,
    tool: exposed,
    attributes: { ...extra, [ATTR_SERVER]: change.server, [ATTR_PIN_OLD]: change.oldHash, [ATTR_PIN_NEW]: change.newHash, [ATTR_PIN_ACTION]: action },
  };
}

/** What `pinChangeRecord` needs of an audited tool: `auditor.withAudit(forward, { name })` has it. */
export interface RefusalRecorder {
  recordRefused(input: RefusedCallInput): RefusedCall;
}

/** The call being refused: as part A's forwarder would have passed it to `invokeWith`. */
export interface PinnedCall {
  callId?: string | undefined;
  /** The proposed arguments (masked like any payload). */
  args?: unknown;
  /** The MCP attributes of the call (`mcp.method.name`, `mcp.session.id`, ...). */
  attributes?: Record<string, string | number | boolean> | undefined;
}

/** The reason the agent and the trail read. */
export function pinChangeReason(change: PinChange): string {
  if (change.unkept !== undefined) {
    return `tool ${change.tool} of server ${change.server} is seen for the first time and its pin cannot be kept: ${change.unkept}; calls are denied until the pins file can be written`;
  }
  return (
    `the definition of tool ${change.tool} of server ${change.server} changed since it was pinned ` +
    `(${change.oldHash} -> ${change.newHash}); calls are denied until the pin is updated`
  );
}

/**
 * Records a call to a changed tool as denied (inside the connection's `auditor.run()`, so the
 * principal is on it) and returns the refusal (never throws it): answer the agent with
 * `defaultRefusalMessage(refusal)` as an `isError` result.
 */
export function pinChangeRecord(audited: RefusalRecorder, change: PinChange, call: PinnedCall = {}): RefusedCall {
  const input: RefusedCallInput = {
    kind: 'denied',
    reason: pinChangeReason(change),
    by: PINS_REFUSED_BY,
    // Nothing is pinned for an unkept pin: no old hash to record.
    attributes: { ...(call.attributes ?? {}), ...(change.unkept === undefined ? { [ATTR_PIN_OLD]: change.oldHash } : {}), [ATTR_PIN_NEW]: change.newHash },
  };
  if (call.callId !== undefined) input.callId = call.callId;
  if (call.args !== undefined) input.args = call.args;
  return audited.recordRefused(input);
}
