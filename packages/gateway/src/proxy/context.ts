import type { GatewayConfig } from '../config/schema.js';
import type { ToolCallAudit } from '../audit/tool-calls.js';
import type { RunTokenKeys, ToolPins } from './parts.js';

/** What every connection of one gateway shares. */
export interface GatewayContext {
  readonly config: GatewayConfig;
  readonly audit: ToolCallAudit;
  readonly pins: ToolPins;
  /** The boundary policy for tools/list filtering (part C); undefined without a policy file. */
  readonly policy: unknown;
  readonly runKeys: RunTokenKeys | undefined;
  readonly version: string;
  readonly warn: (message: string) => void;
}
