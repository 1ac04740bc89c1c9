import { tool } from 'ai';
import { deny, type ToolCall } from '@tooltrail/core';
import { z } from 'zod';

const orders: Record<string, { orderId: string; total: number; status: string }> = {
  'ORD-7': { orderId: 'ORD-7', total: 250, status: 'delivered' },
};
export const refundsPaid: { orderId: string; amount: number }[] = [];

/** Policy: an agent may refund up to 100 on its own; more needs a human. */
export function refundLimit(call: ToolCall): ReturnType<typeof deny> | undefined {
  if (call.tool !== 'issue_refund') return undefined;
  const { amount } = call.args as { amount: number };
  return amount > 100 ? deny(`refunds over 100 need a human (asked ${amount})`, { rule: 'refund.limit' }) : undefined;
}

// Plain AI SDK tools: nothing here knows about tooltrail.
export const shopTools = {
  lookup_order: tool({
    description: 'Look an order up by its id',
    // Models write ids sloppily; the schema normalises them, and the trail shows both.
    inputSchema: z.object({ orderId: z.string().trim().toUpperCase() }),
    execute: async ({ orderId }) => orders[orderId] ?? { error: `no order ${orderId}` },
  }),
  issue_refund: tool({
    description: 'Refund part or all of an order',
    inputSchema: z.object({ orderId: z.string(), amount: z.coerce.number().positive() }),
    execute: async ({ orderId, amount }) => {
      refundsPaid.push({ orderId, amount });
      return { refunded: amount, orderId };
    },
  }),
};
