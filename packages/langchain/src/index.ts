export { auditTool, auditTools, isAuditedTool } from './audit-tool.js';
export type { AuditToolOptions, AuditLangChainToolsOptions, LangChainToolOptions, LangChainTool, ToolArgs, Mutable } from './audit-tool.js';
export { defaultRefusalMessage } from './refusal.js';
export type { RefusedCall } from './refusal.js';
