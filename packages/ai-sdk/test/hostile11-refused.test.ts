import { generateText, stepCountIs, tool } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
// The built packages: what an app installs.
import { auditAiSdkTools, recordDeniedApprovals, recordRefusedToolCalls } from '@tooltrail/ai-sdk';
import { alice, harness, scriptedModel } from './helpers.js';

const SECRETS = ['alice@example.com', '4111 1111 1111 1111', 'AKIAIOSFODNN7EXAMPLE', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijklmno'];
const secretArgs = { to: SECRETS[0], card: SECRETS[1], note: `key ${SECRETS[2]} auth Bearer ${SECRETS[3]}` };

function shop(bodies: unknown[]) {
  return {
    mail: tool({ inputSchema: z.object({ to: z.string(), card: z.string(), note: z.string() }), execute: async (i) => (bodies.push(i), 'sent') }),
  };
}

const invalidStep = (id: string) => ({
  content: [
    { type: 'tool-call', toolCallId: id, toolName: 'mail', input: secretArgs, invalid: true },
    { type: 'tool-error', toolCallId: id, toolName: 'mail', input: secretArgs, error: new Error(`bad input from ${SECRETS[0]}`) },
  ],
});

describe('hostile: recordRefusedToolCalls / recordDeniedApprovals (built @tooltrail/ai-sdk)', () => {
  it('the same step passed twice records its invalid call once', async () => {
    const h = harness();
    const tools = auditAiSdkTools(shop([]), { auditor: h.auditor });
    const step = invalidStep('inv-1');
    await h.auditor.run(alice, async () => {
      expect(recordRefusedToolCalls(tools, step)).toHaveLength(1);
      // The app's callback runs again on the same step (a retry of the loop, onStepFinish + onFinish).
      recordRefusedToolCalls(tools, step);
    });
    const spans = (await h.spans()).filter((s) => s.name === 'execute_tool mail');
    expect(spans).toHaveLength(1);
  });

  it('onStepFinish and then result.steps (the same steps) record each refused call once', async () => {
    const h = harness();
    const tools = auditAiSdkTools(shop([]), { auditor: h.auditor, validation: 'sdk' });
    const model = scriptedModel([[{ id: 'v-9', tool: 'mail', input: { to: 1 } }], 'ok']);
    await h.auditor.run(alice, async () => {
      const result = await generateText({ model, tools, prompt: 'x', stopWhen: stepCountIs(3), onStepFinish: (step) => void recordRefusedToolCalls(tools, step) });
      for (const step of result.steps) expect(recordRefusedToolCalls(tools, step)).toEqual([]);
    });
    expect((await h.spans()).filter((s) => s.name === 'execute_tool mail')).toHaveLength(1);
  });

  it('a denied toolApproval part without an approval id, passed twice, records once', async () => {
    const h = harness();
    const tools = auditAiSdkTools(shop([]), { auditor: h.auditor });
    const step = { content: [{ type: 'tool-approval-response', approved: false, reason: 'no', toolCall: { toolCallId: 'ap-1', toolName: 'mail', input: secretArgs } }] };
    await h.auditor.run(alice, async () => {
      recordRefusedToolCalls(tools, step);
      recordRefusedToolCalls(tools, step);
    });
    expect((await h.spans()).filter((s) => s.name === 'execute_tool mail')).toHaveLength(1);
  });

  it('refused calls are masked (args, reason, approver) and attributed to the run', async () => {
    const h = harness({ masking: undefined });
    const tools = auditAiSdkTools(shop([]), { auditor: h.auditor });
    const messages = [
      { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'ap-2', toolName: 'mail', input: secretArgs }, { type: 'tool-approval-request', approvalId: 'a-2', toolCallId: 'ap-2' }] },
      { role: 'tool', content: [{ type: 'tool-approval-response', approvalId: 'a-2', approved: false, reason: `ask ${SECRETS[0]}, card ${SECRETS[1]}` }] },
    ];
    await h.auditor.run(alice, async () => {
      recordRefusedToolCalls(tools, invalidStep('inv-2'));
      expect(recordDeniedApprovals(tools, messages, { by: SECRETS[0] })).toHaveLength(1);
    });
    const spans = (await h.spans()).filter((s) => s.name === 'execute_tool mail');
    expect(spans).toHaveLength(2);
    for (const s of spans) {
      const text = JSON.stringify({ a: s.attributes, e: s.events.map((e) => e.attributes) });
      for (const secret of SECRETS) expect(text).not.toContain(secret);
      expect(text).not.toContain('AKIA');
      expect(s.attributes['user.id']).toBe('user:42');
    }
  });

  it('a tools record from another call of auditAiSdkTools, or a plain object, records nothing and does not throw', () => {
    expect(recordRefusedToolCalls({ mail: {} }, invalidStep('x'))).toEqual([]);
    expect(recordDeniedApprovals({}, [])).toEqual([]);
  });
});
