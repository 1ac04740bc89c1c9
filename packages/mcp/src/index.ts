export {
  auditMcpClient,
  CALL_ID_META_KEY,
  RUN_TOKEN_META_KEY,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCP_SESSION_ID,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_MCP_SERVER_NAME,
  ATTR_MCP_SERVER_VERSION,
} from './client.js';
export type { AuditMcpClientOptions, McpToolOptions, McpCallToolParams, McpSpanAttributes } from './options.js';
export { ToolErrorResult, TOOL_ERROR, REFUSAL_META_KEY } from './results.js';
export type { McpCallToolResult } from './results.js';
export { isRefusal, isDenial, defaultRefusalMessage } from '@tooltrail/core/adapter';
export type { RefusedCall, RefusalMode } from '@tooltrail/core/adapter';
