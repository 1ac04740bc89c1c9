import { generateText, stepCountIs, tool, type ModelMessage } from 'ai';
import { deny } from '@tooltrail/core';
import { resetDeprecationWarnings } from '@tooltrail/core/adapter';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditAiSdkTools, isAuditDenial, isAuditRefusal, recordDeniedApprovals, recordRefusedToolCalls } from '../src/index.js';
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

  it("a call the toolApproval option denied is recorded as denied with the approval", async () => {
    const h = harness();
    const ran: unknown[] = [];
    const tools = auditAiSdkTools({ wipe: tool({ inputSchema: z.object({ what: z.string() }), execute: async (i) => (ran.push(i), 'wiped') }) }, { auditor: h.auditor });
    const model = scriptedModel([[{ id: 'w-1', tool: 'wipe', input: { what: 'db' } }], 'ok']);
    await h.auditor.run(alice, () =>
      generateText({
        model,
        tools,
        prompt: 'x',
        stopWhen: stepCountIs(3),
        toolApproval: { wipe: { type: 'denied', reason: 'never on prod' } },
        onStepFinish: (step) => void recordRefusedToolCalls(tools, step),
      }),
    );
    expect(ran).toEqual([]);
    expect((await h.calls()).get('w-1')!.attributes).toMatchObject({
      'tooltrail.outcome': 'denied',
      'tooltrail.attempts': 0,
      'tooltrail.policy.rule': 'tooltrail.approval',
      'tooltrail.policy.reason': 'never on prod',
      'tooltrail.approval.decision': 'rejected',
      'tooltrail.approval.by': 'ai-sdk.toolApproval',
      'gen_ai.tool.call.arguments': '{"what":"db"}',
    });
  });

  it('an approval a person denied (a tool-approval-response message) is recorded once, as denied with the approval', async () => {
    const h = harness();
    const ran: unknown[] = [];
    const tools = auditAiSdkTools(
      { wipe: tool({ inputSchema: z.object({ what: z.string() }), needsApproval: true, execute: async (i) => (ran.push(i), 'wiped') }) },
      { auditor: h.auditor },
    );
    const model = scriptedModel([[{ id: 'w-2', tool: 'wipe', input: { what: 'db' } }], 'ok', 'ok']);
    await h.auditor.run(alice, async () => {
      const first = await generateText({ model, tools, prompt: 'x', stopWhen: stepCountIs(3) });
      const request = first.content.find((p) => p.type === 'tool-approval-request');
      expect(request).toBeDefined();
      const messages: ModelMessage[] = [
        { role: 'user', content: 'x' },
        ...first.response.messages,
        { role: 'tool', content: [{ type: 'tool-approval-response', approvalId: request!.approvalId, approved: false, reason: 'not today' }] },
      ];
      expect(recordDeniedApprovals(tools, messages, { by: 'user:42' }).map((r) => r.code)).toEqual(['TOOLTRAIL_DENIED']);
      // The same history on the next turn records nothing again.
      expect(recordDeniedApprovals(tools, messages, { by: 'user:42' })).toEqual([]);
      await generateText({ model, tools, messages, stopWhen: stepCountIs(3) });
    });
    expect(ran).toEqual([]);
    const calls = await h.calls();
    expect(calls.size).toBe(1);
    expect(calls.get('w-2')!.attributes).toMatchObject({
      'tooltrail.outcome': 'denied',
      'tooltrail.policy.rule': 'tooltrail.approval',
      'tooltrail.approval.decision': 'rejected',
      'tooltrail.approval.by': 'user:42',
      'tooltrail.approval.reason': 'not today',
    });
  });
});

describe('approvals a person gave', () => {
  it('an approved call runs and carries the approval on its record', async () => {
    const h = harness();
    const ran: unknown[] = [];
    const tools = auditAiSdkTools(
      { wipe: tool({ inputSchema: z.object({ what: z.string() }), needsApproval: true, execute: async (i) => (ran.push(i), 'wiped') }) },
      { auditor: h.auditor },
    );
    const model = scriptedModel([[{ id: 'w-3', tool: 'wipe', input: { what: 'cache' } }], 'ok', 'ok']);
    await h.auditor.run(alice, async () => {
      const first = await generateText({ model, tools, prompt: 'x', stopWhen: stepCountIs(3) });
      const request = first.content.find((p) => p.type === 'tool-approval-request')!;
      const messages: ModelMessage[] = [
        { role: 'user', content: 'x' },
        ...first.response.messages,
        { role: 'tool', content: [{ type: 'tool-approval-response', approvalId: request.approvalId, approved: true, reason: 'cache only' }] },
      ];
      expect(recordDeniedApprovals(tools, messages)).toEqual([]);
      await generateText({ model, tools, messages, stopWhen: stepCountIs(3) });
    });
    expect(ran).toEqual([{ what: 'cache' }]);
    const call = (await h.calls()).get('w-3')!;
    expect(call.attributes).toMatchObject({
      'tooltrail.outcome': 'ok',
      'tooltrail.approval.decision': 'approved',
      'tooltrail.approval.by': 'unattributed',
      'tooltrail.approval.reason': 'cache only',
    });
    expect(call.attributes['tooltrail.policy.rule']).toBeUndefined();
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
