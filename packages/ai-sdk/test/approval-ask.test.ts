import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { generateText, stepCountIs, tool, type ModelMessage } from 'ai';
import { ask, deny, type ApprovalHandler, type ToolCall } from '@tooltrail/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditAiSdkTools, recordApprovalResponses, recordDeniedApprovals, type AuditAiSdkToolsOptions } from '../src/index.js';
import { alice, harness, scriptedModel, toolResultsSeen, type Harness } from './helpers.js';

// The policy asks a person about refunds over 100 and refuses those over 1000 outright.
const refundPolicy = (call: ToolCall) => {
  const amount = (call.args as { amount?: number }).amount ?? 0;
  if (amount > 1000) return deny(`refund of ${amount} is over the 1000 limit`, { rule: 'refund.limit' });
  if (amount > 100) return ask(`refund of ${amount} needs a manager`, { rule: 'refund.manager' });
  return undefined;
};

function setup(h: Harness, options: AuditAiSdkToolsOptions = {}) {
  const refunded: unknown[] = [];
  const tools = auditAiSdkTools(
    {
      issue_refund: tool({
        description: 'Refund an order',
        inputSchema: z.object({ orderId: z.string(), amount: z.coerce.number().positive() }),
        execute: async (input) => (refunded.push(input), { refunded: input.amount }),
      }),
    },
    { auditor: h.auditor, policy: [refundPolicy], ...options },
  );
  return { tools, refunded };
}

async function recordsOf(h: Harness, callId: string): Promise<ReadableSpan[]> {
  return (await h.spans()).filter((s) => s.name.startsWith('execute_tool ') && s.attributes['gen_ai.tool.call.id'] === callId);
}
const outcomes = (spans: ReadableSpan[]) => spans.map((s) => s.attributes['tooltrail.outcome']);
const eventOf = (span: ReadableSpan | undefined) => span?.events.find((e) => e.name === 'tooltrail.approval')?.attributes;

/** The first turn, then the app's answer to its approval request as the next turn's messages. */
/** Only what the answer reads of a step's result: any tool set's result fits. */
interface StepResult {
  content: ReadonlyArray<{ type: string; approvalId?: string }>;
  response: { messages: ModelMessage[] };
}

async function answer(first: StepResult, approved: boolean, reason: string): Promise<ModelMessage[]> {
  const request = first.content.find((p) => p.type === 'tool-approval-request');
  expect(request?.approvalId).toBeDefined();
  const approvalId = request?.approvalId as string;
  return [
    { role: 'user', content: 'refund' },
    ...first.response.messages,
    { role: 'tool', content: [{ type: 'tool-approval-response', approvalId, approved, reason }] },
  ];
}

describe("a policy `ask` through the AI SDK's tool approval (no approval handler)", () => {
  it('asks only about the call the policy asks about, records it pending; approved, the resumed call runs with the approval', async () => {
    const h = harness();
    const { tools, refunded } = setup(h);
    const model = scriptedModel([
      [
        { id: 'r-ask', tool: 'issue_refund', input: { orderId: 'A-1', amount: 500 } },
        { id: 'r-small', tool: 'issue_refund', input: { orderId: 'B-2', amount: '20' } },
      ],
      'Both refunds done.',
    ]);
    const result = await h.auditor.run({ ...alice, runId: 'run-ask' }, async () => {
      const first = await generateText({ model, tools, prompt: 'refund', stopWhen: stepCountIs(3) });
      expect(first.content.filter((p) => p.type === 'tool-approval-request').map((p) => p.toolCall.toolCallId)).toEqual(['r-ask']);
      expect(refunded).toEqual([{ orderId: 'B-2', amount: 20 }]);
      const messages = await answer(first, true, 'customer is a regular');
      // The SDK's answer names nobody: the app says who answered.
      expect(recordApprovalResponses(tools, messages, { by: 'manager:7' })).toEqual([]);
      return generateText({ model, tools, messages, stopWhen: stepCountIs(3) });
    });
    expect(result.text).toBe('Both refunds done.');
    expect(refunded).toEqual([
      { orderId: 'B-2', amount: 20 },
      { orderId: 'A-1', amount: 500 },
    ]);
    const records = await recordsOf(h, 'r-ask');
    expect(outcomes(records)).toEqual(['pending_approval', 'ok']);
    expect(records[0]!.attributes).toMatchObject({
      'tooltrail.policy.rule': 'refund.manager',
      'tooltrail.policy.reason': 'refund of 500 needs a manager',
      'gen_ai.tool.call.arguments': '{"orderId":"A-1","amount":500}',
      'tooltrail.run.id': 'run-ask',
    });
    expect(records[1]!.attributes).toMatchObject({
      'tooltrail.approval.decision': 'approved',
      'tooltrail.approval.by': 'manager:7',
      'tooltrail.approval.reason': 'customer is a regular',
      'tooltrail.approval.resumed': true,
      'tooltrail.attempts': 1,
    });
    expect(eventOf(records[1])).toMatchObject({ 'tooltrail.approval.source': 'ai-sdk.tool-approval-response', 'tooltrail.approval.by': 'manager:7' });
    expect(typeof eventOf(records[1])?.['tooltrail.approval.at']).toBe('string');
    expect(outcomes(await recordsOf(h, 'r-small'))).toEqual(['ok']);
  });

  it('denied by the person: recorded as denied by approval, never runs, never a success', async () => {
    const h = harness();
    const { tools, refunded } = setup(h);
    const model = scriptedModel([[{ id: 'r-no', tool: 'issue_refund', input: { orderId: 'A-1', amount: 500 } }], 'Refused.']);
    await h.auditor.run(alice, async () => {
      const first = await generateText({ model, tools, prompt: 'refund', stopWhen: stepCountIs(3) });
      const messages = await answer(first, false, 'no refunds this month');
      expect(recordDeniedApprovals(tools, messages, { by: 'manager:7' })).toHaveLength(1);
      const second = await generateText({ model, tools, messages, stopWhen: stepCountIs(3) });
      expect(second.text).toBe('Refused.');
    });
    expect(refunded).toEqual([]);
    const records = await recordsOf(h, 'r-no');
    expect(outcomes(records)).toEqual(['pending_approval', 'denied']);
    expect(records[1]!.attributes).toMatchObject({
      'tooltrail.policy.rule': 'tooltrail.approval',
      'tooltrail.policy.reason': 'no refunds this month',
      'tooltrail.approval.decision': 'rejected',
      'tooltrail.approval.by': 'manager:7',
      'tooltrail.approval.resumed': true,
      'tooltrail.attempts': 0,
    });
  });

  it('a call the policy denies outright is refused as before: no approval request, no pending record', async () => {
    const h = harness();
    const { tools, refunded } = setup(h);
    const model = scriptedModel([[{ id: 'r-big', tool: 'issue_refund', input: { orderId: 'A-1', amount: 5000 } }], 'Refused.']);
    const result = await h.auditor.run(alice, () => generateText({ model, tools, prompt: 'refund', stopWhen: stepCountIs(3) }));
    expect(result.content.some((p) => p.type === 'tool-approval-request')).toBe(false);
    expect(result.text).toBe('Refused.');
    expect(refunded).toEqual([]);
    const records = await recordsOf(h, 'r-big');
    expect(outcomes(records)).toEqual(['denied']);
    expect(records[0]!.attributes['tooltrail.policy.rule']).toBe('refund.limit');
  });

  it('no answer: the pending record stays pending; an approval after approval.timeoutMs is denied and the call never runs', async () => {
    // `approvals: 'framework'` keeps the SDK's flow although the auditor has a handler (which
    // carries the deadline); the handler is never asked.
    const asked: unknown[] = [];
    const h = harness({ approval: { handler: (req) => (asked.push(req), { decision: 'approved', by: 'bot' }), timeoutMs: 50 } });
    const { tools, refunded } = setup(h, { approvals: 'framework' });
    const model = scriptedModel([[{ id: 'r-late', tool: 'issue_refund', input: { orderId: 'A-1', amount: 500 } }], 'Too late.']);
    const first = await h.auditor.run(alice, () => generateText({ model, tools, prompt: 'refund', stopWhen: stepCountIs(3) }));
    expect(outcomes(await recordsOf(h, 'r-late'))).toEqual(['pending_approval']);

    await new Promise((resolve) => setTimeout(resolve, 120));
    const messages = await answer(first, true, 'sorry, was away');
    const late = await h.auditor.run(alice, () => generateText({ model, tools, messages, stopWhen: stepCountIs(3) }));
    expect(late.text).toBe('Too late.');
    expect(refunded).toEqual([]);
    expect(asked).toEqual([]);
    const records = await recordsOf(h, 'r-late');
    expect(outcomes(records)).toEqual(['pending_approval', 'denied']);
    expect(records[1]!.attributes).toMatchObject({ 'tooltrail.policy.rule': 'tooltrail.approval', 'tooltrail.approval.by': 'tooltrail', 'tooltrail.attempts': 0 });
    expect(String(records[1]!.attributes['tooltrail.policy.reason'])).toMatch(/deadline/);
    // The model reads a refusal, not a result.
    expect(JSON.stringify(toolResultsSeen(model, 1).get('r-late'))).toMatch(/deadline/);
  });
});

describe('a policy `ask` answered in-process by the auditor’s approval handler', () => {
  async function runWith(handler: ApprovalHandler, timeoutMs?: number) {
    const h = harness({ approval: { handler, ...(timeoutMs !== undefined ? { timeoutMs } : {}) } });
    const { tools, refunded } = setup(h);
    const model = scriptedModel([[{ id: 'r-h', tool: 'issue_refund', input: { orderId: 'A-1', amount: 500 } }], 'done']);
    const result = await h.auditor.run(alice, () => generateText({ model, tools, prompt: 'refund', stopWhen: stepCountIs(3) }));
    // The handler answers: the SDK never asks for approval.
    expect(result.content.some((p) => p.type === 'tool-approval-request')).toBe(false);
    expect(result.text).toBe('done');
    return { refunded, records: await recordsOf(h, 'r-h') };
  }

  it('approved: runs at once, the handler’s answer on the record', async () => {
    const { refunded, records } = await runWith((req) => ({ decision: 'approved', by: 'manager:9', reason: `ok ${req.rule}` }));
    expect(refunded).toEqual([{ orderId: 'A-1', amount: 500 }]);
    expect(outcomes(records)).toEqual(['ok']);
    expect(records[0]!.attributes).toMatchObject({ 'tooltrail.approval.decision': 'approved', 'tooltrail.approval.by': 'manager:9', 'tooltrail.approval.reason': 'ok refund.manager' });
    expect(eventOf(records[0])).toMatchObject({ 'tooltrail.approval.source': 'tooltrail.approval-handler' });
  });

  it('rejected: denied by approval, never runs', async () => {
    const { refunded, records } = await runWith(() => ({ decision: 'rejected', by: 'manager:9' }));
    expect(refunded).toEqual([]);
    expect(outcomes(records)).toEqual(['denied']);
    expect(records[0]!.attributes).toMatchObject({ 'tooltrail.policy.rule': 'tooltrail.approval', 'tooltrail.approval.by': 'manager:9' });
  });

  it('the handler throws: denied, rejected by tooltrail, never runs', async () => {
    const { refunded, records } = await runWith(async () => {
      throw new Error('approval service down');
    });
    expect(refunded).toEqual([]);
    expect(outcomes(records)).toEqual(['denied']);
    expect(records[0]!.attributes).toMatchObject({ 'tooltrail.approval.decision': 'rejected', 'tooltrail.approval.by': 'tooltrail' });
    expect(String(records[0]!.attributes['tooltrail.policy.reason'])).toMatch(/approval service down/);
  });

  it('no answer within approval.timeoutMs: denied, never runs', async () => {
    const { refunded, records } = await runWith(() => new Promise(() => undefined), 50);
    expect(refunded).toEqual([]);
    expect(outcomes(records)).toEqual(['denied']);
    expect(String(records[0]!.attributes['tooltrail.policy.reason'])).toMatch(/no approval within 50 ms/);
  });
});
