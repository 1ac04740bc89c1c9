import { SpanStatusCode } from '@opentelemetry/api';
import { asSchema, generateText, stepCountIs, ToolLoopAgent } from 'ai';
import { describe, expect, it } from 'vitest';
import { auditAiSdkTools, auditRefusals, isAuditDenial, stopOnAuditDenial } from '../src/index.js';
import { alice, childrenOf, harness, scriptedModel, toolResultsSeen } from './helpers.js';
import { orderSchema, refundLimit, shopTools, type BodyCall } from './shop-tools.js';

const script = [
  [
    // The schema trims, upper-cases, coerces "3" and adds the default.
    { id: 'call-1', tool: 'place_order', input: { sku: ' ab-1 ', qty: '3' } },
    { id: 'call-2', tool: 'issue_refund', input: { orderId: 'o-call-1', amount: 500 } },
  ],
  [
    { id: 'call-3', tool: 'place_order', input: { sku: 'x', qty: 'lots' } },
    { id: 'call-4', tool: 'issue_refund', input: { orderId: 'o-call-1', amount: 20 } },
  ],
  'Ordered 3 of AB-1 and refunded 20.',
];

describe('auditAiSdkTools with generateText', () => {
  it('records proposed and executed arguments, denials and validation failures as spans, and the run goes on', async () => {
    const h = harness({ policy: [refundLimit] });
    const bodies: BodyCall[] = [];
    const tools = auditAiSdkTools(shopTools(bodies), { auditor: h.auditor });
    const model = scriptedModel(script);

    const result = await h.auditor.run({ ...alice, runId: 'run-g1' }, () =>
      generateText({ model, tools, prompt: 'order 3 of ab-1, refund 500, then refund 20', stopWhen: stepCountIs(5) }),
    );

    // The run continued past the denial and the invalid call to the model's final answer.
    expect(result.text).toBe('Ordered 3 of AB-1 and refunded 20.');
    expect(result.steps).toHaveLength(3);
    // Only the allowed, valid calls ran, with parsed input, inside the run.
    expect(bodies).toEqual([
      { tool: 'place_order', input: { sku: 'AB-1', qty: 3, giftWrap: false }, principal: 'user:42' },
      { tool: 'issue_refund', input: { orderId: 'o-call-1', amount: 20 }, principal: 'user:42' },
    ]);

    const calls = await h.calls();
    expect([...calls.keys()].sort()).toEqual(['call-1', 'call-2', 'call-3', 'call-4']);
    const [c1, c2, c3, c4] = ['call-1', 'call-2', 'call-3', 'call-4'].map((id) => calls.get(id)!);

    expect(c1!.name).toBe('execute_tool place_order');
    expect(c1!.attributes).toMatchObject({
      'gen_ai.tool.call.id': 'call-1',
      'gen_ai.tool.description': 'Place an order',
      'gen_ai.tool.call.arguments': '{"sku":"AB-1","qty":3,"giftWrap":false}',
      'tooltrail.arguments.proposed': '{"sku":" ab-1 ","qty":"3"}',
      'tooltrail.arguments.mutated': true,
      'gen_ai.tool.call.result': '{"orderId":"o-call-1","sku":"AB-1","qty":3}',
      'tooltrail.outcome': 'ok',
      'tooltrail.attempts': 1,
    });

    expect(c2!.attributes).toMatchObject({
      'gen_ai.tool.name': 'issue_refund',
      'tooltrail.outcome': 'denied',
      'tooltrail.decision': 'deny',
      'tooltrail.policy.rule': 'refund.limit',
      'tooltrail.policy.reason': 'refunds over 100 need a human (asked 500)',
      'error.type': 'tooltrail.denied',
      'tooltrail.attempts': 0,
      'tooltrail.arguments.mutated': false,
      'gen_ai.tool.call.arguments': '{"orderId":"o-call-1","amount":500}',
    });
    expect(c2!.status.code).toBe(SpanStatusCode.ERROR);

    expect(c3!.attributes).toMatchObject({ 'tooltrail.outcome': 'invalid', 'error.type': 'tooltrail.invalid_arguments', 'tooltrail.attempts': 0 });
    expect(c3!.attributes['gen_ai.tool.call.arguments']).toBe('{"sku":"x","qty":"lots"}');
    const issues = JSON.parse(String(c3!.attributes['tooltrail.validation.issues'])) as { path: unknown[] }[];
    expect(issues.map((i) => i.path)).toEqual([['qty']]);

    expect(c4!.attributes).toMatchObject({ 'tooltrail.outcome': 'ok', 'tooltrail.arguments.mutated': false });
    expect(c4!.attributes).not.toHaveProperty('tooltrail.arguments.proposed');

    // Every call span carries the run's identity; refused calls have no attempt span.
    const spans = await h.spans();
    for (const s of spans.filter((x) => !x.name.startsWith('tool_attempt') && x.name !== 'tooltrail.stream_start')) expect(s.attributes).toMatchObject({ 'tooltrail.run.id': 'run-g1', 'user.id': 'user:42', 'gen_ai.agent.name': 'shop-bot' });
    expect(childrenOf(spans, c2!)).toHaveLength(0);
    expect(childrenOf(spans, c3!)).toHaveLength(0);
    expect(childrenOf(spans, c1!).map((s) => s.name)).toEqual([]); // one attempt: no attempt record
    const runSpan = spans.find((s) => s.name === 'invoke_agent shop-bot')!;
    for (const c of [c1, c2, c3, c4]) expect(c!.parentSpanContext?.spanId).toBe(runSpan.spanContext().spanId);

    // The model got both refusals back as tool error results it can read.
    const afterStep1 = toolResultsSeen(model, 1);
    expect(afterStep1.get('call-1')).toEqual({ type: 'json', value: { orderId: 'o-call-1', sku: 'AB-1', qty: 3 } });
    expect(afterStep1.get('call-2')).toMatchObject({ type: 'error-text' });
    expect(JSON.stringify(afterStep1.get('call-2'))).toContain('denied by rule refund.limit: refunds over 100 need a human');
    expect(JSON.stringify(toolResultsSeen(model, 2).get('call-3'))).toMatch(/error-text.*invalid arguments at qty/);

    // The app can find the refusals in the result: the SDK keeps the thrown errors.
    expect(auditRefusals(result.steps).map((e) => [e.code, e.callId])).toEqual([
      ['TOOLTRAIL_DENIED', 'call-2'],
      ['TOOLTRAIL_INVALID_ARGUMENTS', 'call-3'],
    ]);
  });

  it('shows the model the same tool definition', async () => {
    const h = harness();
    const model = scriptedModel(['nothing to do']);
    const tools = auditAiSdkTools(shopTools([]), { auditor: h.auditor });
    await h.auditor.run(alice, () => generateText({ model, tools, prompt: 'hi' }));
    const sent = model.doGenerateCalls[0]!.tools!.find((t) => t.name === 'place_order');
    expect(sent).toMatchObject({ type: 'function', description: 'Place an order', inputSchema: await asSchema(orderSchema).jsonSchema });
  });

  it('stops the tool loop on a denial when asked to, and the app can throw it', async () => {
    const h = harness({ policy: [refundLimit] });
    const model = scriptedModel(script);
    const tools = auditAiSdkTools(shopTools([]), { auditor: h.auditor });
    const result = await h.auditor.run(alice, () =>
      generateText({ model, tools, prompt: 'refund 500', stopWhen: [stepCountIs(5), stopOnAuditDenial()] }),
    );
    expect(result.steps).toHaveLength(1);
    expect(model.doGenerateCalls).toHaveLength(1);
    const [refusal] = auditRefusals(result.steps);
    expect(isAuditDenial(refusal)).toBe(true);
    expect(refusal).toMatchObject({ rule: 'refund.limit', callId: 'call-2', tool: 'issue_refund' });
  });

  it('denies calls outside auditor.run() (no identity) and the model is told', async () => {
    const h = harness();
    const model = scriptedModel([[{ id: 'call-x', tool: 'issue_refund', input: { orderId: 'o-1', amount: 1 } }], 'ok']);
    const bodies: BodyCall[] = [];
    const result = await generateText({ model, tools: auditAiSdkTools(shopTools(bodies), { auditor: h.auditor }), prompt: 'x', stopWhen: stepCountIs(3) });
    expect(result.text).toBe('ok');
    expect(bodies).toEqual([]);
    expect((await h.calls()).get('call-x')!.attributes).toMatchObject({ 'tooltrail.outcome': 'denied', 'tooltrail.policy.rule': 'tooltrail.require-identity' });
  });

  it('works the same under a ToolLoopAgent', async () => {
    const h = harness();
    const agent = new ToolLoopAgent({
      model: scriptedModel([[{ id: 'a-1', tool: 'place_order', input: { sku: 'q', qty: '4' } }], 'placed']),
      tools: auditAiSdkTools(shopTools([]), { auditor: h.auditor }),
      stopWhen: stepCountIs(3),
    });
    const result = await h.auditor.run(alice, () => agent.generate({ prompt: 'order 4 of q' }));
    expect(result.text).toBe('placed');
    expect((await h.calls()).get('a-1')!.attributes).toMatchObject({
      'gen_ai.tool.call.arguments': '{"sku":"Q","qty":4,"giftWrap":false}',
      'tooltrail.arguments.proposed': '{"sku":"q","qty":"4"}',
      'user.id': 'user:42',
    });
  });
});
