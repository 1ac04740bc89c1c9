// The "orders" MCP server: its own process, spoken to over stdio, knowing nothing of tooltrail.
// Each result carries the traceparent the server received, so the demo can show that the
// server's work hangs under the client's audit record.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

interface Order {
  id: string;
  customer: string;
  status: 'shipped' | 'late' | 'delivered';
  total: number;
}

const orders: Order[] = [
  { id: 'A-1001', customer: 'C-17', status: 'late', total: 129 },
  { id: 'A-1002', customer: 'C-23', status: 'shipped', total: 48 },
  { id: 'A-1003', customer: 'C-17', status: 'delivered', total: 310 },
];
const refunds: Array<{ id: string; amount: number }> = [];

/** What the server saw of the caller's trace: the W3C traceparent from `params._meta`. */
const seen = (meta: Record<string, unknown> | undefined) => ({ 'example/traceparent': meta?.traceparent ?? null });

const server = new McpServer({ name: 'orders', version: '1.4.0' });

server.registerTool(
  'search_orders',
  { description: 'Find orders by status', inputSchema: { status: z.enum(['shipped', 'late', 'delivered']), limit: z.number().int() } },
  async ({ status, limit }, extra) => {
    const found = orders.filter((o) => o.status === status).slice(0, limit);
    return { content: [{ type: 'text', text: JSON.stringify(found) }], _meta: seen(extra._meta) };
  },
);

server.registerTool('get_order', { description: 'One order by id', inputSchema: { id: z.string() } }, async ({ id }, extra) => {
  const order = orders.find((o) => o.id === id);
  // A tool failure, as MCP reports it: a result with isError, not a protocol error.
  if (!order) return { content: [{ type: 'text', text: `order ${id} not found` }], isError: true, _meta: seen(extra._meta) };
  return { content: [{ type: 'text', text: JSON.stringify(order) }], _meta: seen(extra._meta) };
});

server.registerTool(
  'refund_order',
  { description: 'Refund part or all of an order', inputSchema: { id: z.string(), amount: z.number().positive() } },
  async ({ id, amount }, extra) => {
    refunds.push({ id, amount });
    return { content: [{ type: 'text', text: `refunded ${amount} on ${id}` }], _meta: { ...seen(extra._meta), 'example/refunds': refunds.length } };
  },
);

await server.connect(new StdioServerTransport());
