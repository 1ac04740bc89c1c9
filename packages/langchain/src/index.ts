export { auditLangChainTool, auditLangChainTools, isAuditedTool } from './audit-tool.js';
export type { Mutable } from './audit-tool.js';
export type {
  AuditLangChainToolOptions,
  AuditLangChainToolsOptions,
  AuditToolOptions,
  LangChainToolOptions,
  LangChainTool,
  ToolArgs,
} from './options.js';
export { recordInvalidToolCalls } from './invalid-calls.js';
export type { InvalidToolCallLike } from './invalid-calls.js';
export { auditTool, auditTools } from './deprecated.js';
export { isRefusal, isDenial, defaultRefusalMessage } from '@tooltrail/core/adapter';
export type { RefusedCall, RefusalMode } from '@tooltrail/core/adapter';
