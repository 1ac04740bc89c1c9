import type { RunToolApprovalItem } from '@openai/agents';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
// The built package: what an app installs.
import { auditOpenAIAgentsTool, rejectToolCall } from '@tooltrail/openai-agents';
import { alice, harness } from './helpers.js';

const SECRETS = ['alice@example.com', '4111 1111 1111 1111', 'AKIAIOSFODNN7EXAMPLE', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijklmno'];

function setup() {
  const h = harness({ masking: undefined });
  const ran: unknown[] = [];
  const refund = auditOpenAIAgentsTool(
    { name: 'refund', description: 'Refund', parameters: z.object({ to: z.string(), card: z.string(), note: z.string() }), needsApproval: true, execute: async (i) => (ran.push(i), 'ok') },
    { auditor: h.auditor },
  );
  const args = JSON.stringify({ to: SECRETS[0], card: SECRETS[1], note: `${SECRETS[2]} Bearer ${SECRETS[3]}` });
  const item = { rawItem: { type: 'function_call', callId: 'call_r1', name: 'refund', arguments: args }, agent: { tools: [refund] } } as unknown as RunToolApprovalItem;
  const rejected: unknown[] = [];
  const state = { approve: () => undefined, reject: (i: unknown) => void rejected.push(i) };
  return { h, ran, item, state, rejected };
}

describe('hostile: rejectToolCall (built @tooltrail/openai-agents)', () => {
  it('rejecting the same item twice records one refused call', async () => {
    const { h, item, state, ran } = setup();
    await h.auditor.run(alice, async () => {
      expect(await rejectToolCall(state, item, { approver: 'manager:7' })).toBe(true);
      await rejectToolCall(state, item, { approver: 'manager:7' });
    });
    expect(ran).toEqual([]);
    expect((await h.spans()).filter((s) => s.name === 'execute_tool refund')).toHaveLength(1);
  });

  it('masks secrets in the arguments, the reason and the approver, attributed to the run', async () => {
    const { h, item, state } = setup();
    await h.auditor.run(alice, () => rejectToolCall(state, item, { approver: SECRETS[0], reason: `card ${SECRETS[1]}, token Bearer ${SECRETS[3]}` }));
    const [span, ...rest] = (await h.spans()).filter((s) => s.name === 'execute_tool refund');
    expect(rest).toEqual([]);
    const text = JSON.stringify({ a: span!.attributes, e: span!.events.map((e) => e.attributes) });
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(span!.attributes['user.id']).toBe('user:42');
    expect(span!.attributes['tooltrail.outcome']).toBe('denied');
  });
});
