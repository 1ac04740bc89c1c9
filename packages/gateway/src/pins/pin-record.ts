/**
 * The evidence of a rug pull in the trail. Core's public API has no record that is not a call
 * (a dedicated `tooltrail.mcp.tool_changed` span would need one), so a changed definition is
 * recorded where it matters: on the call it stopped. A `tools/call` to a changed tool is
 * recorded through that tool's audited forwarder as a refused call (outcome `denied`, rule
 * `tooltrail.framework`, `tooltrail.refused.by = tooltrail.gateway.pins`), carrying the pinned
 * and the new hash as `tooltrail.mcp.tool.hash.old` / `tooltrail.mcp.tool.hash.new`.
 */
import type { RefusedCall, RefusedCallInput } from '@tooltrail/core';
import type { PinChange } from './tool-pins.js';

export const PINS_REFUSED_BY = 'tooltrail.gateway.pins';
// Not `tooltrail.mcp.tool.pin.old`: core's key-name masking reads the word `pin` as a PIN code
// and would record `[REDACTED:pin]` instead of the hash.
export const ATTR_PIN_OLD = 'tooltrail.mcp.tool.hash.old';
export const ATTR_PIN_NEW = 'tooltrail.mcp.tool.hash.new';

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
    attributes: { ...(call.attributes ?? {}), [ATTR_PIN_OLD]: change.oldHash, [ATTR_PIN_NEW]: change.newHash },
  };
  if (call.callId !== undefined) input.callId = call.callId;
  if (call.args !== undefined) input.args = call.args;
  return audited.recordRefused(input);
}
