import { TokenTable, loadTokensFile } from '@tooltrail/cli';
import type { ApprovalHandler, RunIdentityInput } from '@tooltrail/core';
import type { GatewayConfig } from '../config/schema.js';

/**
 * The seams to parts B (identity, run tokens) and C (boundary policy, pins), with the
 * contract's signatures. Until their modules land these are the minimal behaviours: the
 * principal from the config (stdio) or the collector-format tokens file (HTTP), no run-token
 * claims, every tool visible, no pins, no approval handler.
 */

export interface ConnectionIdentity {
  principal: { id: string; type?: string };
  agent?: { name?: string; id?: string };
  actForOthers: boolean;
  transport: 'stdio' | 'http';
  sessionId?: string;
}

export interface TokenLookup {
  authenticate(header: string | undefined): ConnectionIdentity | undefined;
}

export function loadTokenLookup(file: string): TokenLookup {
  const table = new TokenTable(loadTokensFile(file));
  return {
    authenticate: (header) => {
      const writer = table.authenticate(header);
      return writer === undefined ? undefined : { principal: { id: writer, type: 'service' }, actForOthers: false, transport: 'http' };
    },
  };
}

export function identityFromToken(authorization: string | undefined, table: TokenLookup): ConnectionIdentity | undefined {
  return table.authenticate(authorization);
}

export type RunTokenKeys = unknown;

export function loadRunTokenKeys(_config: GatewayConfig['runTokens']): RunTokenKeys | undefined {
  return undefined;
}

export type RunIdentityResult =
  | { ok: true; run: RunIdentityInput; claim: 'verified' | 'none' | 'unsigned' | 'invalid'; attributes: Record<string, string> }
  | { ok: false; reason: string };

export function runIdentityFor(conn: ConnectionIdentity, _meta: Record<string, unknown> | undefined, _keys: RunTokenKeys | undefined, _requireToken: boolean): RunIdentityResult {
  return { ok: true, run: { principal: conn.principal, ...(conn.agent ? { agent: conn.agent } : {}) }, claim: 'none', attributes: {} };
}

export interface ToolDefinitionLike {
  name: string;
  description?: string;
  inputSchema?: unknown;
}

export interface PinChange {
  server: string;
  tool: string;
  old: string;
  new: string;
}

export class ToolPins {
  constructor(_opts: { file?: string; onChange: 'deny' | 'hide' }, _onChange: (change: PinChange) => void) {}
  check(_server: string, _tool: ToolDefinitionLike): 'ok' | 'changed' {
    return 'ok';
  }
}

export function visibleTools<T extends ToolDefinitionLike>(tools: T[], _server: string, _policy: unknown, _pins: ToolPins): T[] {
  return tools;
}

export function approvalHandlerFrom(_config: GatewayConfig['approval']): ApprovalHandler | undefined {
  return undefined;
}
