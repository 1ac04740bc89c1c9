import type { ToolInputParameters, ToolOptions as SdkToolOptions, ToolOutputSchema, UnknownContext, tool as sdkTool } from '@openai/agents';
import { warnDeprecatedOption } from '@tooltrail/core/adapter';
import { auditOpenAIAgentsTool } from './audited-tool.js';
import type { AuditOpenAIAgentsToolOptions } from './options.js';

/**
 * @deprecated Use `auditOpenAIAgentsTool`: the same function under the adapters' one naming
 * scheme (`import { auditOpenAIAgentsTool as tool } from '@tooltrail/openai-agents'`).
 */
export function auditedTool<
  TParameters extends ToolInputParameters = undefined,
  Context = UnknownContext,
  Result = string,
  TOutputSchema extends ToolOutputSchema | undefined = undefined,
>(
  options: SdkToolOptions<TParameters, Context, TOutputSchema>,
  audit: AuditOpenAIAgentsToolOptions = {},
): ReturnType<typeof sdkTool<TParameters, Context, Result, TOutputSchema>> {
  warnDeprecatedOption(audit, '@tooltrail/openai-agents auditedTool()', 'auditOpenAIAgentsTool()');
  return auditOpenAIAgentsTool<TParameters, Context, Result, TOutputSchema>(options, audit);
}
