/**
 * The seams the proxy calls into parts B (identity, run tokens) and C (boundary policy,
 * approvals, pins): one place where the proxy's code meets theirs.
 */
export { identityFromToken, loadTokenLookup, loadRunTokenKeys, RunTokenKeys, runIdentityFor, stdioIdentity } from '../identity/index.js';
export type { ConnectionIdentity, RunIdentityResult, TokenLookup } from '../identity/index.js';
export { approvalHandlerFrom, visibleTools } from '../boundary/index.js';
export { ToolPins, pinChangeReason, pinChangeRecord, type PinChange } from '../pins/index.js';

/** A tool definition as a server lists it (what pins hash). */
export interface ToolDefinitionLike {
  name: string;
  description?: string;
  inputSchema?: unknown;
}
