import { Agent, run, RunState } from '@openai/agents';
import { ScriptedModel, assistantMessage, functionCall } from '@openai/agents/testing';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ask, deny, type ApprovalHandler, type ToolCall } from '@tooltrail/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { approveToolCall, auditOpenAIAgentsTool, rejectToolCall, type AuditOpenAIAgentsToolOptions } from '../src/index.js';
import { alice, harness, toolResults, type Harness } from './helpers.js';

// The policy asks a person about refunds over 100 and refuses those over 1000 outright.
const refundPolicy = (call: ToolCall) => {
  const amount = (call.args as { amount?: number }).amount ?? 0;
  if (amount > 1000) return deny(`refund of ${amount} is over the 1000 limit`, { rule: 'refund.limit' });
  if (amount > 100) return ask(`refund of ${amount} needs a manager`, { rule: 'refund.manager' });
  return undefined;
};

function setup(h: Harness, options: AuditOpenAIAgentsToolOptions = {}) {
  const refunded: Array<{ orderId: string; amount: number }> = [];
  const refund = auditOpenAIAgentsTool(
    {
      name: 'refund_order',
      description: 'Refund an order',
      parameters: z.object({ orderId: z.string(), amount: z.coerce.number().positive() }),
      execute: async ({ orderId, amount }) => {
        refunded.push({ orderId, amount });
        return `refunded ${amount} on ${orderId}`;
      },
    },
    { auditor: h.auditor, policy: [refundPolicy], ...options },
  );
  return { refund, refunded };
}

/** Every execute_tool record of one call id, in the order they ended. */
async function recordsOf(h: Harness, callId: string): Promise<ReadableSpan[]> {
  return (await h.spans()).filter((s) => s.name.startsWith('execute_tool ') && s.attributes['gen_ai.tool.call.id'] === callId);
}
const eventOf = (span: ReadableSpan | undefined) => span?.events.find((e) => e.name === 'tooltrail.approval')?.attributes;
const callIdOf = (item: { rawItem: unknown }) => (item.rawItem as { callId: string }).callId;

describe("a policy `ask` through the SDK's approval flow (no approval handler)", () => {
  it('stops the run only for the call the policy asks about, records it pending, and an approval resumed from a saved RunState runs it', async () => {
    const h = harness();
    const { refund, refunded } = setup(h);
    const model = new ScriptedModel([
      [
        functionCall('refund_order', { orderId: 'A-1', amount: 500 }, { callId: 'call_ask' }),
        functionCall('refund_order', { orderId: 'B-2', amount: 20 }, { callId: 'call_small' }),
      ],
      [assistantMessage('Both refunds done.')],
    ]);
    const agent = new Agent({ name: 'support-bot', instructions: 'Refund orders.', model, tools: [refund] });

    const first = await h.auditor.run({ ...alice, runId: 'run-ask' }, () => run(agent, 'Refund A-1 and B-2'));
    expect(first.interruptions.map(callIdOf)).toEqual(['call_ask']);
    // The SDK runs the calls nobody has to approve and stops for the one the policy asks about.
    expect(refunded).toEqual([{ orderId: 'B-2', amount: 20 }]);
    const [pending] = await recordsOf(h, 'call_ask');
    expect(pending!.attributes).toMatchObject({
      'tooltrail.outcome': 'pending_approval',
      'tooltrail.policy.rule': 'refund.manager',
      'tooltrail.policy.reason': 'refund of 500 needs a manager',
      'gen_ai.tool.call.arguments': '{"orderId":"A-1","amount":500}',
      'tooltrail.run.id': 'run-ask',
      'user.id': 'user:42',
    });

    // The app saves the state, a manager approves later, the run resumes from the saved state.
    const saved = first.state.toString();
    const result = await h.auditor.run({ ...alice, runId: 'run-ask' }, async () => {
      const state = await RunState.fromString(agent, saved);
      const [item] = state.getInterruptions();
      approveToolCall(state, item!, { approver: 'manager:7', reason: 'customer is a regular' });
      return run(agent, state);
    });
    expect(result.finalOutput).toBe('Both refunds done.');
    expect(refunded).toEqual([
      { orderId: 'B-2', amount: 20 },
      { orderId: 'A-1', amount: 500 },
    ]);
    expect(toolResults(model.calls[1]?.request.input)).toEqual({ call_ask: 'refunded 500 on A-1', call_small: 'refunded 20 on B-2' });

    const records = await recordsOf(h, 'call_ask');
    expect(records.map((s) => s.attributes['tooltrail.outcome'])).toEqual(['pending_approval', 'ok']);
    const ran = records[1]!;
    expect(ran.attributes).toMatchObject({
      'tooltrail.approval.decision': 'approved',
      'tooltrail.approval.by': 'manager:7',
      'tooltrail.approval.reason': 'customer is a regular',
      'tooltrail.approval.resumed': true,
      'tooltrail.attempts': 1,
      'gen_ai.tool.call.result': '"refunded 500 on A-1"',
    });
    expect(eventOf(ran)).toMatchObject({ 'tooltrail.approval.source': 'openai-agents.needsApproval', 'tooltrail.approval.by': 'manager:7' });
    expect(typeof eventOf(ran)?.['tooltrail.approval.at']).toBe('string');
    // The call nobody was asked about: one record, no approval, not pending.
    const small = await recordsOf(h, 'call_small');
    expect(small.map((s) => s.attributes['tooltrail.outcome'])).toEqual(['ok']);
    expect(small[0]!.attributes['tooltrail.approval.decision']).toBeUndefined();
  });

  it('a rejection is recorded as denied by approval, and the call never runs and is never a success', async () => {
    const h = harness();
    const { refund, refunded } = setup(h);
    const model = new ScriptedModel([[functionCall('refund_order', { orderId: 'A-1', amount: 500 }, { callId: 'call_no' })], [assistantMessage('Refused.')]]);
    const agent = new Agent({ name: 'support-bot', instructions: 'Refund orders.', model, tools: [refund] });
    await h.auditor.run(alice, async () => {
      const r = await run(agent, 'Refund A-1');
      expect(r.interruptions.map(callIdOf)).toEqual(['call_no']);
      await rejectToolCall(r.state, r.interruptions[0]!, { approver: 'manager:7', reason: 'no refunds this month', message: 'A manager said no.' });
      expect((await run(agent, r.state)).finalOutput).toBe('Refused.');
    });
    expect(refunded).toEqual([]);
    expect(toolResults(model.calls[1]?.request.input)).toEqual({ call_no: 'A manager said no.' });
    const records = await recordsOf(h, 'call_no');
    expect(records.map((s) => s.attributes['tooltrail.outcome'])).toEqual(['pending_approval', 'denied']);
    expect(records[1]!.attributes).toMatchObject({
      'tooltrail.policy.rule': 'tooltrail.approval',
      'tooltrail.policy.reason': 'no refunds this month',
      'tooltrail.approval.decision': 'rejected',
      'tooltrail.approval.by': 'manager:7',
      'tooltrail.attempts': 0,
    });
  });

  it('a call the policy denies outright is refused as before: no interruption, no pending record', async () => {
    const h = harness();
    const { refund, refunded } = setup(h);
    const model = new ScriptedModel([[functionCall('refund_order', { orderId: 'A-1', amount: 5000 }, { callId: 'call_big' })], [assistantMessage('Refused.')]]);
    const agent = new Agent({ name: 'support-bot', instructions: 'Refund orders.', model, tools: [refund] });
    const r = await h.auditor.run(alice, () => run(agent, 'Refund A-1'));
    expect(r.interruptions).toEqual([]);
    expect(refunded).toEqual([]);
    const records = await recordsOf(h, 'call_big');
    expect(records.map((s) => s.attributes['tooltrail.outcome'])).toEqual(['denied']);
    expect(records[0]!.attributes['tooltrail.policy.rule']).toBe('refund.limit');
  });

  it('no answer: the pending record stays pending; an approval after approval.timeoutMs is denied and the call never runs', async () => {
    // `approvals: 'framework'` keeps the SDK's flow although the auditor has a handler (which
    // carries the deadline); the handler is never asked.
    const asked: unknown[] = [];
    const h = harness({ approval: { handler: (req) => (asked.push(req), { decision: 'approved', by: 'bot' }), timeoutMs: 50 } });
    const { refund, refunded } = setup(h, { approvals: 'framework' });
    const model = new ScriptedModel([[functionCall('refund_order', { orderId: 'A-1', amount: 500 }, { callId: 'call_late' })], [assistantMessage('Too late.')]]);
    const agent = new Agent({ name: 'support-bot', instructions: 'Refund orders.', model, tools: [refund] });
    const r = await h.auditor.run(alice, () => run(agent, 'Refund A-1'));
    expect(r.interruptions.map(callIdOf)).toEqual(['call_late']);
    // Nobody answers: the SDK's flow has no deadline of its own, the trail says pending.
    let records = await recordsOf(h, 'call_late');
    expect(records.map((s) => s.attributes['tooltrail.outcome'])).toEqual(['pending_approval']);

    await new Promise((resolve) => setTimeout(resolve, 120));
    const late = await h.auditor.run(alice, async () => {
      approveToolCall(r.state, r.interruptions[0]!, { approver: 'manager:7' });
      return run(agent, r.state);
    });
    expect(late.finalOutput).toBe('Too late.');
    expect(refunded).toEqual([]);
    expect(asked).toEqual([]);
    records = await recordsOf(h, 'call_late');
    expect(records.map((s) => s.attributes['tooltrail.outcome'])).toEqual(['pending_approval', 'denied']);
    expect(records[1]!.attributes).toMatchObject({ 'tooltrail.policy.rule': 'tooltrail.approval', 'tooltrail.approval.decision': 'rejected', 'tooltrail.approval.by': 'tooltrail', 'tooltrail.attempts': 0 });
    expect(String(records[1]!.attributes['tooltrail.policy.reason'])).toMatch(/deadline/);
  });
});

describe('a policy `ask` answered in-process by the auditor’s approval handler', () => {
  const script = () => new ScriptedModel([[functionCall('refund_order', { orderId: 'A-1', amount: 500 }, { callId: 'call_h' })], [assistantMessage('done')]]);

  async function runWith(handler: ApprovalHandler, timeoutMs?: number) {
    const h = harness({ approval: { handler, ...(timeoutMs !== undefined ? { timeoutMs } : {}) } });
    const { refund, refunded } = setup(h);
    const model = script();
    const agent = new Agent({ name: 'support-bot', instructions: 'Refund orders.', model, tools: [refund] });
    const r = await h.auditor.run(alice, () => run(agent, 'Refund A-1'));
    // The handler answers: the SDK is never interrupted.
    expect(r.interruptions).toEqual([]);
    expect(r.finalOutput).toBe('done');
    return { h, refunded, records: await recordsOf(h, 'call_h'), model };
  }

  it('approved: runs without an interruption, the handler’s answer on the record', async () => {
    const requests: Array<Parameters<ApprovalHandler>[0]> = [];
    const { refunded, records } = await runWith((req) => (requests.push(req), { decision: 'approved', by: 'manager:9', reason: 'fine' }));
    expect(refunded).toEqual([{ orderId: 'A-1', amount: 500 }]);
    expect(requests.map((r) => ({ tool: r.tool, callId: r.callId, args: r.args, rule: r.rule }))).toEqual([
      { tool: 'refund_order', callId: 'call_h', args: { orderId: 'A-1', amount: 500 }, rule: 'refund.manager' },
    ]);
    expect(records.map((s) => s.attributes['tooltrail.outcome'])).toEqual(['ok']);
    expect(records[0]!.attributes).toMatchObject({ 'tooltrail.approval.decision': 'approved', 'tooltrail.approval.by': 'manager:9' });
    expect(eventOf(records[0])).toMatchObject({ 'tooltrail.approval.source': 'tooltrail.approval-handler' });
  });

  it('rejected: denied by approval, never runs, the model reads the refusal', async () => {
    const { refunded, records, model } = await runWith(() => ({ decision: 'rejected', by: 'manager:9', reason: 'not this one' }));
    expect(refunded).toEqual([]);
    expect(records.map((s) => s.attributes['tooltrail.outcome'])).toEqual(['denied']);
    expect(records[0]!.attributes).toMatchObject({ 'tooltrail.policy.rule': 'tooltrail.approval', 'tooltrail.approval.decision': 'rejected', 'tooltrail.approval.by': 'manager:9' });
    expect(toolResults(model.calls[1]?.request.input).call_h).toMatch(/not this one/);
  });

  it('the handler throws: denied, rejected by tooltrail, never runs', async () => {
    const { refunded, records } = await runWith(() => {
      throw new Error('approval service down');
    });
    expect(refunded).toEqual([]);
    expect(records.map((s) => s.attributes['tooltrail.outcome'])).toEqual(['denied']);
    expect(records[0]!.attributes).toMatchObject({ 'tooltrail.policy.rule': 'tooltrail.approval', 'tooltrail.approval.decision': 'rejected', 'tooltrail.approval.by': 'tooltrail' });
    expect(String(records[0]!.attributes['tooltrail.policy.reason'])).toMatch(/approval service down/);
  });

  it('no answer within approval.timeoutMs: denied, never runs', async () => {
    const { refunded, records } = await runWith(() => new Promise(() => undefined), 50);
    expect(refunded).toEqual([]);
    expect(records.map((s) => s.attributes['tooltrail.outcome'])).toEqual(['denied']);
    expect(records[0]!.attributes).toMatchObject({ 'tooltrail.approval.decision': 'rejected', 'tooltrail.approval.by': 'tooltrail' });
    expect(String(records[0]!.attributes['tooltrail.policy.reason'])).toMatch(/no approval within 50 ms/);
  });

  it("`approvals: 'handler'` without a handler: the ask is denied (fail closed), the SDK is not interrupted", async () => {
    const h = harness();
    const { refund, refunded } = setup(h, { approvals: 'handler' });
    const agent = new Agent({ name: 'support-bot', instructions: 'Refund orders.', model: script(), tools: [refund] });
    const r = await h.auditor.run(alice, () => run(agent, 'Refund A-1'));
    expect(r.interruptions).toEqual([]);
    expect(refunded).toEqual([]);
    const records = await recordsOf(h, 'call_h');
    expect(records.map((s) => s.attributes['tooltrail.outcome'])).toEqual(['denied']);
    expect(String(records[0]!.attributes['tooltrail.policy.reason'])).toMatch(/no approver is configured/);
  });
});
