export { startGateway, runGateway, auditorOptions, GATEWAY_VERSION } from './gateway.js';
export type { Gateway, GatewayOptions } from './gateway.js';
export { loadGatewayConfig, parseGatewayConfig } from './config/load.js';
export { gatewayConfigSchema } from './config/schema.js';
export type { GatewayConfig, ServerConfig } from './config/schema.js';
export {
  CALL_ID_META_KEY,
  RUN_TOKEN_META_KEY,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCP_SESSION_ID,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_JSONRPC_REQUEST_ID,
  ATTR_NETWORK_TRANSPORT,
  ATTR_MCP_SERVER_NAME,
} from './audit/tool-calls.js';
export { TOOL_ERROR, REFUSAL_META_KEY, ToolErrorResult } from './audit/results.js';
export { NAME_SEPARATOR } from './proxy/relay.js';
export { ATTR_CALL_ID_CLAIMED, ATTR_CALL_ID_REJECTED } from './audit/call-ids.js';
export { ATTR_META, ATTR_META_TYPE, ATTR_META_DROPPED, MAX_META_BYTES } from './audit/call-meta.js';
export { RECORD_MCP_REQUEST, RECORD_MCP_SERVER_REQUEST, ATTR_MCP_PARAMS, ATTR_MCP_PARAMS_BYTES, ATTR_GEN_AI_PROMPT_NAME, ATTR_MCP_RESOURCE_URI } from './audit/mcp-requests.js';
export { ATTR_PIN_OLD, ATTR_PIN_NEW, ATTR_PIN_ACTION, PINS_REFUSED_BY } from './pins/index.js';
export { RUN_TOKEN_REFUSED_BY } from './proxy/session.js';
export { deliverInOrder } from './transport/deliver-in-order.js';
