import { generateText, jsonSchema, stepCountIs, tool } from 'ai';
import { AuditConfigError, AuditValidationError } from '@tooltrail/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditAiSdkTools } from '../src/index.js';
import { alice, childrenOf, harness, scriptedModel } from './helpers.js';
import { orderSchema, shopTools, type BodyCall } from './shop-tools.js';

/** What the SDK passes `execute`, for calling a tool directly. */
const opts = (toolCallId: string) => ({ toolCallId, messages: [], context: {} });

describe('auditAiSdkTools on a tools record', () => {
  it('passes tools without execute through unchanged, and auditing twice records each call once', async () => {
    const h = harness();
    const clientSide = tool({ description: 'Ask the user (run in the browser)', inputSchema: z.object({ question: z.string() }) });
    const hosted = { type: 'provider' as const, id: 'acme.web_search' as const, isProviderExecuted: true as const, args: {}, inputSchema: z.object({}) };
    const tools = auditAiSdkTools({ ...shopTools([]), ask_user: clientSide, web_search: hosted }, { auditor: h.auditor });
    expect(tools.ask_user).toBe(clientSide);
    expect(tools.web_search).toBe(hosted);

    const twice = auditAiSdkTools(tools, { auditor: h.auditor });
    expect(twice.place_order.execute).toBe(tools.place_order.execute);
    await h.auditor.run(alice, () => twice.issue_refund.execute!({ orderId: 'o-1', amount: 5 }, opts('twice-1')));
    expect([...(await h.calls()).keys()]).toEqual(['twice-1']);
  });

  it("validation: 'sdk' leaves the schema to the SDK: parsed input only, rejected input is not recorded", async () => {
    const h = harness();
    const bodies: BodyCall[] = [];
    const original = shopTools(bodies);
    const tools = auditAiSdkTools(original, { auditor: h.auditor, validation: 'sdk' });
    expect(tools.place_order.inputSchema).toBe(orderSchema);
    const model = scriptedModel([
      [
        { id: 'v-1', tool: 'place_order', input: { sku: ' z ', qty: '2' } },
        { id: 'v-2', tool: 'place_order', input: { sku: 'z', qty: 'many' } },
      ],
      'ok',
    ]);
    const result = await h.auditor.run(alice, () => generateText({ model, tools, prompt: 'x', stopWhen: stepCountIs(3) }));
    expect(result.text).toBe('ok');
    const calls = await h.calls();
    expect([...calls.keys()]).toEqual(['v-1']);
    expect(calls.get('v-1')!.attributes).toMatchObject({ 'gen_ai.tool.call.arguments': '{"sku":"Z","qty":2,"giftWrap":false}', 'tooltrail.arguments.mutated': false });
  });

  it('validates with any schema the SDK accepts: jsonSchema() with an async validate, a Standard Schema', async () => {
    const h = harness();
    const ran: unknown[] = [];
    const tools = auditAiSdkTools(
      {
        // jsonSchema() with a validate that coerces, answering asynchronously.
        set_limit: tool({
          inputSchema: jsonSchema<{ limit: number }>(
            { type: 'object', properties: { limit: { type: 'number' } }, required: ['limit'] },
            {
              validate: async (v) => {
                const limit = Number((v as { limit?: unknown }).limit);
                return Number.isFinite(limit) ? { success: true, value: { limit } } : { success: false, error: new Error('limit must be a number') };
              },
            },
          ),
          execute: async (input) => {
            ran.push(input);
            return 'set';
          },
        }),
        // A hand-written Standard Schema v1 (what valibot, arktype, zod mini implement).
        tag: tool({
          inputSchema: {
            '~standard': {
              version: 1,
              vendor: 'handmade',
              validate: (v: unknown) => {
                const name = (v as { name?: unknown }).name;
                return typeof name === 'string' ? { value: { name: name.toLowerCase() } } : { issues: [{ message: 'name is required', path: [{ key: 'name' }] }] };
              },
            },
          },
          execute: async (input: { name: string }) => {
            ran.push(input);
            return 'tagged';
          },
        }),
      },
      { auditor: h.auditor },
    );
    await h.auditor.run(alice, async () => {
      await tools.set_limit.execute!({ limit: '7' } as unknown as { limit: number }, opts('j-1'));
      await expect(tools.set_limit.execute!({ limit: 'x' } as unknown as { limit: number }, opts('j-2'))).rejects.toBeInstanceOf(AuditValidationError);
      await tools.tag.execute!({ name: 'URGENT' }, opts('s-1'));
      await expect(tools.tag.execute!({} as { name: string }, opts('s-2'))).rejects.toThrow(/invalid arguments at name: name is required/);
    });
    expect(ran).toEqual([{ limit: 7 }, { name: 'urgent' }]);
    const calls = await h.calls();
    expect(calls.get('j-1')!.attributes).toMatchObject({ 'tooltrail.arguments.proposed': '{"limit":"7"}', 'gen_ai.tool.call.arguments': '{"limit":7}' });
    expect(calls.get('j-2')!.attributes['tooltrail.validation.issues']).toBe('[{"path":[],"code":"invalid","message":"limit must be a number"}]');
    expect(calls.get('s-1')!.attributes).toMatchObject({ 'tooltrail.arguments.mutated': true, 'gen_ai.tool.call.arguments': '{"name":"urgent"}' });
    expect(calls.get('s-2')!.attributes['tooltrail.validation.issues']).toBe('[{"path":["name"],"code":"invalid","message":"name is required"}]');
  });

  it('hands needsApproval, onInputAvailable and toModelOutput the parsed input', async () => {
    const seen: unknown[] = [];
    const tools = auditAiSdkTools({
      place_order: tool({
        inputSchema: orderSchema,
        needsApproval: (input) => {
          seen.push(['needsApproval', input]);
          return input.qty > 10;
        },
        onInputAvailable: ({ input }) => {
          seen.push(['onInputAvailable', input]);
        },
        toModelOutput: ({ input }) => {
          seen.push(['toModelOutput', input]);
          return { type: 'text', value: 'ok' };
        },
        execute: async () => 'ok',
      }),
    });
    const t = tools.place_order;
    const approvalOptions = { toolCallId: 'a-1', messages: [], context: {} };
    // The SDK hands these the model's raw input now: typed loosely here for that reason.
    const needsApproval = t.needsApproval as unknown as (input: unknown, o: typeof approvalOptions) => Promise<boolean>;
    expect(await needsApproval({ sku: 'a', qty: '50' }, approvalOptions)).toBe(true);
    // Input that fails the schema never executes, so it needs no approval.
    expect(await needsApproval({ sku: 'a', qty: 'x' }, approvalOptions)).toBe(false);
    await t.onInputAvailable!({ input: { sku: ' b ', qty: '2' } as never, ...approvalOptions });
    await t.toModelOutput!({ toolCallId: 'a-1', input: { sku: 'c', qty: '1' } as never, output: 'ok' });
    expect(seen).toEqual([
      ['needsApproval', { sku: 'A', qty: 50, giftWrap: false }],
      ['onInputAvailable', { sku: 'B', qty: 2, giftWrap: false }],
      ['toModelOutput', { sku: 'C', qty: 1, giftWrap: false }],
    ]);
  });

  it('applies per-tool options: retries as attempt spans, a policy for one tool, a description', async () => {
    const h = harness();
    let failures = 1;
    const tools = auditAiSdkTools(
      {
        flaky: tool({
          inputSchema: z.object({}),
          execute: async () => {
            if (failures-- > 0) throw new Error('upstream timed out');
            return 'fine';
          },
        }),
        ...shopTools([]),
      },
      {
        auditor: h.auditor,
        tools: { flaky: { retry: { attempts: 2, backoffMs: 1 }, description: 'Sometimes fails' } },
      },
    );
    await h.auditor.run(alice, () => tools.flaky.execute!({}, opts('r-1')));
    const spans = await h.spans();
    const call = (await h.calls()).get('r-1')!;
    expect(call.attributes).toMatchObject({ 'tooltrail.attempts': 2, 'tooltrail.outcome': 'ok', 'gen_ai.tool.description': 'Sometimes fails' });
    expect(childrenOf(spans, call).map((s) => s.status.code)).toEqual([2, 1]);
    expect(() => auditAiSdkTools(shopTools([]), { tools: { nope: {} } as never })).toThrow(AuditConfigError);
  });

  it('without an auditor option, records on the default auditor looked up at call time', async () => {
    const tools = auditAiSdkTools(shopTools([]));
    const h = harness();
    const { setDefaultAuditor } = await import('@tooltrail/core');
    setDefaultAuditor(h.auditor);
    try {
      await h.auditor.run(alice, () => tools.issue_refund.execute!({ orderId: 'o-1', amount: 1 }, opts('d-1')));
    } finally {
      setDefaultAuditor(undefined);
    }
    expect((await h.calls()).get('d-1')!.attributes['tooltrail.outcome']).toBe('ok');
  });
});
