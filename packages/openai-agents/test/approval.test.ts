import { Agent, run } from '@openai/agents';
import { ScriptedModel, assistantMessage, functionCall } from '@openai/agents/testing';
import { currentRun } from '@tooltrail/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { approveToolCall, auditOpenAIAgentsTool, rejectToolCall } from '../src/index.js';
import { alice, attemptsOf, harness, toolResults } from './helpers.js';

const refundParams = z.object({ orderId: z.string(), amount: z.coerce.number().positive(), note: z.string().optional() });

describe('the SDK approval flow', () => {
  it('records an approved call as executed with its approver, and a rejected one as denied with the decision', async () => {
    const h = harness();
    const refunded: Array<{ orderId: string; amount: number; runId: string | undefined }> = [];
    const refund = auditOpenAIAgentsTool(
      {
        name: 'refund_order',
        description: 'Refund an order',
        parameters: refundParams,
        needsApproval: true,
        execute: async ({ orderId, amount }) => {
          refunded.push({ orderId, amount, runId: currentRun()?.runId });
          return `refunded ${amount} on ${orderId}`;
        },
      },
      { auditor: h.auditor },
    );
    const model = new ScriptedModel([
      [
        // Strict-mode models send null for an optional field and may send a number as a string.
        functionCall('refund_order', { orderId: 'A-1', amount: '20', note: null }, { callId: 'call_ok' }),
        functionCall('refund_order', { orderId: 'B-2', amount: 900 }, { callId: 'call_no' }),
      ],
      [assistantMessage('One refund done, one refused.')],
    ]);
    const agent = new Agent({ name: 'support-bot', instructions: 'Refund orders.', model, tools: [refund] });

    const result = await h.auditor.run({ ...alice, runId: 'run-approval' }, async () => {
      let r = await run(agent, 'Refund A-1 and B-2');
      expect(r.interruptions.map((i) => (i.rawItem as { callId: string }).callId)).toEqual(['call_ok', 'call_no']);
      expect(refunded).toEqual([]);
      for (const item of r.interruptions) {
        if ((item.rawItem as { callId: string }).callId === 'call_ok') {
          approveToolCall(r.state, item, { approver: 'manager:7' });
        } else {
          const recorded = await rejectToolCall(r.state, item, {
            approver: 'manager:7',
            reason: 'over the 500 limit',
            message: 'A manager rejected this refund.',
          });
          expect(recorded).toBe(true);
        }
      }
      r = await run(agent, r.state);
      return r;
    });

    expect(result.finalOutput).toBe('One refund done, one refused.');
    // Only the approved call ran, with the parsed arguments, inside the run (AsyncLocalStorage survived the resume).
    expect(refunded).toEqual([{ orderId: 'A-1', amount: 20, runId: 'run-approval' }]);
    expect(toolResults(model.calls[1]?.request.input)).toEqual({
      call_ok: 'refunded 20 on A-1',
      call_no: 'A manager rejected this refund.',
    });

    const calls = await h.calls();
    expect(calls.size).toBe(2);
    const ok = calls.get('call_ok')!;
    expect(ok.attributes).toMatchObject({
      'gen_ai.tool.name': 'refund_order',
      'gen_ai.tool.description': 'Refund an order',
      'tooltrail.outcome': 'ok',
      'tooltrail.decision': 'allow',
      // The approval is call metadata, not a policy rule.
      'tooltrail.approval.decision': 'approved',
      'tooltrail.approval.by': 'manager:7',
      // What the model proposed (raw JSON) beside what executed (the SDK's parse: coerced, null dropped).
      'gen_ai.tool.call.arguments': '{"orderId":"A-1","amount":20}',
      'tooltrail.arguments.proposed': '{"orderId":"A-1","amount":"20","note":null}',
      'tooltrail.arguments.mutated': true,
      'gen_ai.tool.call.result': '"refunded 20 on A-1"',
      'tooltrail.attempts': 1,
      'tooltrail.run.id': 'run-approval',
      'user.id': 'user:42',
      'gen_ai.agent.name': 'support-bot',
    });
    const no = calls.get('call_no')!;
    expect(no.attributes).toMatchObject({
      'gen_ai.tool.name': 'refund_order',
      'tooltrail.outcome': 'denied',
      'error.type': 'tooltrail.denied',
      'tooltrail.decision': 'deny',
      'tooltrail.policy.rule': 'tooltrail.approval',
      'tooltrail.policy.reason': 'over the 500 limit',
      'tooltrail.approval.decision': 'rejected',
      'tooltrail.approval.by': 'manager:7',
      'tooltrail.approval.reason': 'over the 500 limit',
      'gen_ai.tool.call.arguments': '{"orderId":"B-2","amount":900}',
      'tooltrail.arguments.mutated': false,
      'tooltrail.attempts': 0,
      'tooltrail.run.id': 'run-approval',
      'user.id': 'user:42',
    });
    expect(ok.attributes['tooltrail.policy.rule']).toBeUndefined();
    // The whole decision, with its time and source, is the span's tooltrail.approval event.
    const event = (span: typeof ok) => span.events.find((e) => e.name === 'tooltrail.approval')?.attributes;
    expect(event(ok)).toMatchObject({ 'tooltrail.approval.decision': 'approved', 'tooltrail.approval.by': 'manager:7', 'tooltrail.approval.source': 'openai-agents.needsApproval' });
    expect(event(no)).toMatchObject({ 'tooltrail.approval.decision': 'rejected', 'tooltrail.approval.source': 'openai-agents.needsApproval' });
    expect(typeof event(no)?.['tooltrail.approval.at']).toBe('string');
    const spans = await h.spans();
    expect(attemptsOf(spans, ok)).toHaveLength(0); // one attempt: no attempt record
    expect(attemptsOf(spans, no)).toHaveLength(0);
  });

  it('gives a dynamic approval policy the parsed input, and marks calls approved with state.approve() as approved', async () => {
    const h = harness();
    const seen: unknown[] = [];
    const refund = auditOpenAIAgentsTool(
      {
        name: 'refund_order',
        description: 'Refund an order',
        parameters: refundParams,
        needsApproval: async (_ctx, input) => {
          seen.push(input);
          return input.amount > 100;
        },
        execute: async ({ orderId, amount }) => `refunded ${amount} on ${orderId}`,
      },
      { auditor: h.auditor },
    );
    const model = new ScriptedModel([
      [
        functionCall('refund_order', { orderId: 'A-1', amount: '20', note: null }, { callId: 'call_small' }),
        functionCall('refund_order', { orderId: 'B-2', amount: '900', note: null }, { callId: 'call_big' }),
      ],
      [assistantMessage('done')],
    ]);
    const agent = new Agent({ name: 'support-bot', instructions: 'Refund orders.', model, tools: [refund] });
    await h.auditor.run(alice, async () => {
      let r = await run(agent, 'Refund A-1 and B-2');
      expect(r.interruptions.map((i) => (i.rawItem as { callId: string }).callId)).toEqual(['call_big']);
      r.state.approve(r.interruptions[0]!);
      r = await run(agent, r.state);
      expect(r.finalOutput).toBe('done');
    });
    // Coerced numbers and the optional null dropped, as the SDK parses for tools it makes itself.
    expect(seen.slice(0, 2)).toEqual([
      { orderId: 'A-1', amount: 20 },
      { orderId: 'B-2', amount: 900 },
    ]);
    const calls = await h.calls();
    expect(calls.get('call_small')!.attributes['tooltrail.approval.decision']).toBeUndefined();
    // state.approve() names nobody: the trail says so rather than guess.
    expect(calls.get('call_big')!.attributes).toMatchObject({
      'tooltrail.outcome': 'ok',
      'tooltrail.approval.decision': 'approved',
      'tooltrail.approval.by': 'unattributed',
    });
    expect(calls.get('call_big')!.attributes['tooltrail.policy.rule']).toBeUndefined();
  });
});
