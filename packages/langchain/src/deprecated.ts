import { warnDeprecatedOption } from '@tooltrail/core/adapter';
import { auditLangChainTool, auditLangChainTools } from './audit-tool.js';

// The names before the adapters shared one naming scheme. They keep working; each warns once.

/** @deprecated Use `auditLangChainTool`: the same function under the adapters' one naming scheme. */
export const auditTool: typeof auditLangChainTool = (tool, options = {}) => {
  warnDeprecatedOption(options, '@tooltrail/langchain auditTool()', 'auditLangChainTool()');
  return auditLangChainTool(tool, options);
};

/** @deprecated Use `auditLangChainTools`: the same function under the adapters' one naming scheme. */
export const auditTools: typeof auditLangChainTools = (tools, options = {}) => {
  warnDeprecatedOption(options, '@tooltrail/langchain auditTools()', 'auditLangChainTools()');
  return auditLangChainTools(tools, options);
};
