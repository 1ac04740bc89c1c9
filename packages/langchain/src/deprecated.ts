import { warnDeprecatedOption } from '@tooltrail/core/adapter';
import { auditLangChainTool, auditLangChainTools, type Mutable } from './audit-tool.js';
import type { AuditLangChainToolOptions, AuditLangChainToolsOptions, LangChainTool, ToolArgs } from './options.js';

// The names before the adapters shared one naming scheme. They keep working; each warns once.

const warn = (oldName: string, replacement: string, options: { auditor?: unknown }): void =>
  warnDeprecatedOption(options, `@tooltrail/langchain ${oldName}`, replacement);

/** @deprecated Use `auditLangChainTool`: the same function under the adapters' one naming scheme. */
export function auditTool<T extends LangChainTool>(tool: T, options: AuditLangChainToolOptions<ToolArgs<T>> = {}): T {
  warn('auditTool()', 'auditLangChainTool()', options);
  return auditLangChainTool(tool, options);
}

/** @deprecated Use `auditLangChainTools`: the same function under the adapters' one naming scheme. */
export function auditTools<const T extends readonly LangChainTool[]>(tools: T, options: AuditLangChainToolsOptions = {}): Mutable<T> {
  warn('auditTools()', 'auditLangChainTools()', options);
  return auditLangChainTools(tools, options);
}
