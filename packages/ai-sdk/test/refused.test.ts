import { generateText, stepCountIs, tool } from 'ai';
import { deny } from '@tooltrail/core';
import { resetDeprecationWarnings } from '@tooltrail/core/adapter';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditAiSdkTools, isAuditDenial, isAuditRefusal, recordRefusedToolCalls } from '../src/index.js';
import { alice, harness, scriptedModel } from './helpers.js';
import { shopTools, type BodyCall } from './shop-tools.js';

describe('calls the SDK refused before execute', () => {
  it('input its schema rejected (validation: sdk) is recorded as invalid through recordRefusedToolCalls', async () => {
    const h = harness();
    const bodies: BodyCall[] = [];
    const tools = auditAiSdkTools(shopTools(bodies), { auditor: h.auditor, validation: 'sdk' });
    const model = scriptedModel([[{ id: 'v-1', tool: 'place_order', input: { sku: 'z', qty: '2' } }, { id: 'v-2', tool: 'place_order', input: { sku: 'z', qty: 'many' } }], 'ok']);
    const refused: string[] = [];
    await h.auditor.run(alice, () =>
      generateText({ model, tools, prompt: 'x', stopWhen: stepCountIs(3), onStepFinish: (step) => void refused.push(...recordRefusedToolCalls(tools, step).map((r) => r.code)) }),
    );
    expect(refused).toEqual(['TOOLTRAIL_INVALID_ARGUMENTS']);
    const calls = await h.calls();
    expect([...calls.keys()].sort()).toEqual(['v-1', 'v-2']);
    expect(calls.get('v-2')!.attributes).toMatchObject({
      'tooltrail.outcome': 'invalid',
      'tooltrail.attempts': 0,
      'tooltrail.refused.by': 'ai-sdk.parseToolCall',
      'gen_ai.tool.call.arguments': '{"sku":"z","qty":"many"}',
      'user.id': 'user:42',
    });
    expect(bodies.map((b) => b.input)).toHaveLength(1);
  });

  it('a call whose approval was denied is recorded as denied with the approval', async () => {
    const h = harness();
    const ran: unknown[] = [];
    const tools = auditAiSdkTools(
      { wipe: tool({ inputSchema: z.object({ what: z.string() }), needsApproval: true, execute: async (i) => (ran.push(i), 'wiped') }) },
      { auditor: h.auditor },
    );
    const step = {
      content: [
        { type: 'tool-approval-response', approved: false, reason: 'not today', toolCall: { toolCallId: 'w-1', toolName: 'wipe', input: { what: 'db' } } },
        { type: 'tool-approval-response', approved: false, toolCall: { toolCallId: 'x-1', toolName: 'not_audited', input: {} } },
      ],
    };
    const refusals = await h.auditor.run(alice, async () => recordRefusedToolCalls(tools, step));
    expect(refusals.map((r) => r.code)).toEqual(['TOOLTRAIL_DENIED']);
    expect(ran).toEqual([]);
    const call = (await h.calls()).get('w-1')!;
    expect(call.attributes).toMatchObject({
      'tooltrail.outcome': 'denied',
      'tooltrail.policy.rule': 'tooltrail.approval',
      'tooltrail.approval.decision': 'rejected',
      'tooltrail.approval.reason': 'not today',
    });
  });
});

describe('refusal options and deprecated names', () => {
  it("formatRefusal writes what the model reads; onRefusal 'throw' is refused with the way to stop instead", async () => {
    const h = harness();
    const tools = auditAiSdkTools(shopTools([]), { auditor: h.auditor, policy: [() => deny('closed')], formatRefusal: (r) => `no: ${r.tool}` });
    const model = scriptedModel([[{ id: 'f-1', tool: 'place_order', input: { sku: 'z', qty: 1 } }], 'ok']);
    const result = await h.auditor.run(alice, () => generateText({ model, tools, prompt: 'x', stopWhen: stepCountIs(3) }));
    const error = result.steps[0]!.content.find((p) => p.type === 'tool-error');
    expect((error as { error: Error }).error.message).toBe('no: place_order');
    expect(() => auditAiSdkTools(shopTools([]), { auditor: h.auditor, onRefusal: 'throw' })).toThrow(/stopOnAuditDenial/);
  });

  it('isAuditRefusal and isAuditDenial still work, warning once each', async () => {
    resetDeprecationWarnings();
    const h = harness();
    const tools = auditAiSdkTools(shopTools([]), { auditor: h.auditor, policy: [() => deny('closed')] });
    const model = scriptedModel([[{ id: 'd-1', tool: 'place_order', input: { sku: 'z', qty: 1 } }], 'ok']);
    const result = await h.auditor.run(alice, () => generateText({ model, tools, prompt: 'x', stopWhen: stepCountIs(3) }));
    const error = (result.steps[0]!.content.find((p) => p.type === 'tool-error') as { error: unknown }).error;
    expect(isAuditRefusal(error) && isAuditDenial(error)).toBe(true);
    expect(isAuditRefusal(new Error('x'))).toBe(false);
  });
});
