import { tool } from 'ai';
import { currentRun, deny, type ToolCall } from '@tooltrail/core';
import { z } from 'zod';

export const orderSchema = z.object({
  sku: z.string().trim().toUpperCase(),
  qty: z.coerce.number().int().positive(),
  giftWrap: z.boolean().default(false),
});

/** What each tool body received, and as whom it ran. */
export interface BodyCall {
  tool: string;
  input: unknown;
  principal: string | undefined;
}

export const refundLimit = (call: ToolCall) => {
  const amount = (call.args as { amount?: number }).amount ?? 0;
  return call.tool === 'issue_refund' && amount > 100 ? deny(`refunds over 100 need a human (asked ${amount})`, { rule: 'refund.limit' }) : undefined;
};

export function shopTools(bodies: BodyCall[]) {
  const seen = (name: string, input: unknown) => bodies.push({ tool: name, input, principal: currentRun()?.principal.id });
  return {
    place_order: tool({
      description: 'Place an order',
      inputSchema: orderSchema,
      execute: async (input, { toolCallId }) => {
        seen('place_order', input);
        return { orderId: `o-${toolCallId}`, sku: input.sku, qty: input.qty };
      },
    }),
    issue_refund: tool({
      description: 'Refund an order',
      inputSchema: z.object({ orderId: z.string(), amount: z.number() }),
      execute: async (input) => {
        seen('issue_refund', input);
        return { refunded: input.amount };
      },
    }),
    track_order: tool({
      description: 'Track an order, reporting progress',
      inputSchema: z.object({ orderId: z.string() }),
      async *execute(input) {
        seen('track_order', input);
        yield { status: 'looking up' };
        yield { status: 'shipped', orderId: input.orderId };
      },
    }),
  };
}
