import { warnDeprecatedOption } from '@tooltrail/core/adapter';
import { auditOpenAIAgentsTool } from './audited-tool.js';

/**
 * @deprecated Use `auditOpenAIAgentsTool`: the same function under the adapters' one naming
 * scheme (`import { auditOpenAIAgentsTool as tool } from '@tooltrail/openai-agents'`).
 */
export const auditedTool: typeof auditOpenAIAgentsTool = (options, audit = {}) => {
  warnDeprecatedOption(audit, '@tooltrail/openai-agents auditedTool()', 'auditOpenAIAgentsTool()');
  return auditOpenAIAgentsTool(options, audit);
};
