import { stepCountIs, streamText } from 'ai';
import { describe, expect, it } from 'vitest';
import { auditAiSdkTools } from '../src/index.js';
import { alice, harness, scriptedModel, toolResultsSeen } from './helpers.js';
import { refundLimit, shopTools, type BodyCall } from './shop-tools.js';

const script = [
  [
    { id: 's-1', tool: 'place_order', input: { sku: 'cd-2', qty: '2' } },
    { id: 's-2', tool: 'issue_refund', input: { orderId: 'o-s-1', amount: 900 } },
  ],
  [{ id: 's-3', tool: 'track_order', input: { orderId: 'o-s-1' } }],
  'Ordered and shipped.',
];

describe('auditAiSdkTools with streamText', () => {
  it('audits every step of a streamed multi-step run, with the identity of the run, and streams preliminary results', async () => {
    const h = harness({ policy: [refundLimit] });
    const bodies: BodyCall[] = [];
    const model = scriptedModel(script);
    const tools = auditAiSdkTools(shopTools(bodies), { auditor: h.auditor });

    const parts: { type: string; id?: string; preliminary?: boolean; output?: unknown; error?: unknown }[] = [];
    await h.auditor.run({ ...alice, runId: 'run-s1' }, async () => {
      const result = streamText({ model, tools, prompt: 'order, refund, track', stopWhen: stepCountIs(5) });
      for await (const part of result.fullStream) {
        if (part.type === 'tool-result') parts.push({ type: part.type, id: part.toolCallId, preliminary: part.preliminary === true, output: part.output });
        if (part.type === 'tool-error') parts.push({ type: part.type, id: part.toolCallId, error: part.error });
        if (part.type === 'text-delta') parts.push({ type: part.type, output: part.text });
      }
    });

    expect(bodies.map((b) => [b.tool, b.principal])).toEqual([
      ['place_order', 'user:42'],
      ['track_order', 'user:42'],
    ]);
    expect(bodies[0]!.input).toEqual({ sku: 'CD-2', qty: 2, giftWrap: false });
    // The denial reached the stream as a tool error; the streaming tool's preliminary results still stream.
    // Step 1's two calls run concurrently: the denial, which runs no body, may finish first.
    const shape = parts.map((p) => [p.type, p.id, p.preliminary]);
    expect(shape.slice(0, 2)).toEqual(expect.arrayContaining([['tool-result', 's-1', false], ['tool-error', 's-2', undefined]]));
    expect(shape.slice(2)).toEqual([
      ['tool-result', 's-3', true],
      ['tool-result', 's-3', true],
      ['tool-result', 's-3', false],
      ['text-delta', undefined, undefined],
    ]);
    expect(parts[4]!.output).toEqual({ status: 'shipped', orderId: 'o-s-1' });
    expect(JSON.stringify(toolResultsSeen(model, 1, 'stream').get('s-2'))).toContain('denied by rule refund.limit');
    expect(model.doStreamCalls).toHaveLength(3);

    const calls = await h.calls();
    expect(['s-1', 's-2', 's-3'].map((id) => [id, calls.get(id)?.attributes['tooltrail.outcome']])).toEqual([
      ['s-1', 'ok'],
      ['s-2', 'denied'],
      ['s-3', 'ok'],
    ]);
    for (const s of calls.values()) expect(s.attributes).toMatchObject({ 'tooltrail.run.id': 'run-s1', 'user.id': 'user:42', 'gen_ai.conversation.id': 'conv-9' });
    expect(calls.get('s-1')!.attributes['tooltrail.arguments.proposed']).toBe('{"sku":"cd-2","qty":"2"}');
    // A streaming tool's recorded result is its last value, the one the SDK hands the model.
    expect(calls.get('s-3')!.attributes['gen_ai.tool.call.result']).toBe('{"status":"shipped","orderId":"o-s-1"}');
  });

  it('keeps the identity when the stream is consumed after run() returned (a route handler returning the stream)', async () => {
    const h = harness();
    const bodies: BodyCall[] = [];
    const model = scriptedModel([[{ id: 'late-1', tool: 'place_order', input: { sku: 'a', qty: 1 } }], 'done']);
    const tools = auditAiSdkTools(shopTools(bodies), { auditor: h.auditor });
    const result = await h.auditor.run({ ...alice, runId: 'run-late' }, () => ({
      stream: streamText({ model, tools, prompt: 'x', stopWhen: stepCountIs(3) }),
    }));
    expect(await result.stream.text).toBe('done');
    expect(bodies.map((b) => b.principal)).toEqual(['user:42']);
    expect((await h.calls()).get('late-1')!.attributes).toMatchObject({ 'tooltrail.outcome': 'ok', 'tooltrail.run.id': 'run-late' });
  });
});
