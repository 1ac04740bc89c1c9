import type { Auditor } from '@tooltrail/core';
import { scriptedModel } from './scripted-model.js';
import type { SupportTools } from './tools.js';

/**
 * The agent loop: the model proposes, the audited tool executes. A denied or failed call goes
 * back to the model as an error result, so the run carries on, as agent frameworks do.
 */
export async function runSupportAgent(auditor: Auditor, tools: SupportTools, runId: string): Promise<void> {
  await auditor.run(
    {
      principal: { id: 'user:4711', type: 'user' },
      agent: { name: 'support-bot', id: 'support-bot-v3' },
      conversationId: 'queue-2026-11-21',
      runId,
      attributes: { 'deployment.environment': 'demo' },
    },
    async () => {
      const model = scriptedModel();
      let step = model.next();
      while (!step.done) {
        const { tool, args } = step.value;
        let result: unknown;
        try {
          result = await (tools[tool] as (a: unknown) => Promise<unknown>)(args);
        } catch (err) {
          result = err instanceof Error ? err : new Error(String(err));
        }
        step = model.next(result);
      }
    },
  );
}
