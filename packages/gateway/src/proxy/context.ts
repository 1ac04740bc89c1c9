import type { GatewayConfig } from '../config/schema.js';
import type { ToolCallAudit } from '../audit/tool-calls.js';
import type { RequestRecords } from '../audit/mcp-requests.js';
import type { FilePolicy } from '@tooltrail/core/policy';
import type { RunTokenKeys, ToolPins } from './parts.js';

/** What every connection of one gateway shares. */
export interface GatewayContext {
  readonly config: GatewayConfig;
  readonly audit: ToolCallAudit;
  /** The records of the other requests forwarded either way (mcp-requests.ts). */
  readonly requests: RequestRecords;
  readonly pins: ToolPins;
  /** The policy file, for tools/list filtering (the auditor decides every call with its own copy); undefined without one. */
  readonly policy: FilePolicy | undefined;
  readonly runKeys: RunTokenKeys | undefined;
  readonly version: string;
  readonly warn: (message: string) => void;
}
