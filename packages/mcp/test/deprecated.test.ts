import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { AuditDeniedError, deny } from '@tooltrail/core';
import { resetDeprecationWarnings } from '@tooltrail/core/adapter';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditMcpClient } from '../src/index.js';
import { alice, harness, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.auditor.shutdown();
  h = undefined;
});

async function connected(wrap: (raw: Client) => Client): Promise<Client> {
  const server = new McpServer({ name: 'orders', version: '1.0.0' });
  server.registerTool('cancel_order', { inputSchema: { id: z.string() } }, ({ id }) => ({ content: [{ type: 'text', text: `cancelled ${id}` }] }));
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  const client = wrap(new Client({ name: 'agent', version: '1.0.0' }));
  await client.connect(clientTransport);
  return client;
}

describe('deprecated forms keep working, with one warning each through the auditor\'s logger', () => {
  it('auditMcpClient(client, auditor, options) and onDenied', async () => {
    resetDeprecationWarnings();
    const warnings: string[] = [];
    h = harness({ logger: { warn: (m) => warnings.push(m) } });
    const auditor = h.auditor;
    const policy = [() => deny('read-only', { rule: 'orders.read-only' })];
    const first = await connected((raw) => auditMcpClient(raw, auditor, { onDenied: 'throw', policy }));
    const second = await connected((raw) => auditMcpClient(raw, auditor, { onDenied: 'throw', policy }));
    for (const client of [first, second]) {
      const err = await auditor.run(alice, () => client.callTool({ name: 'cancel_order', arguments: { id: 'A-1' } })).catch((e: unknown) => e);
      expect(AuditDeniedError.isInstance(err)).toBe(true);
    }
    expect(warnings.filter((w) => w.includes('deprecated'))).toEqual([
      '@tooltrail/mcp auditMcpClient(client, auditor, options) is deprecated and will be removed in a later version; use auditMcpClient(client, { auditor, ...options }) instead',
      '@tooltrail/mcp option `onDenied` is deprecated and will be removed in a later version; use `onRefusal` instead',
    ]);
    const calls = (await h.calls()).map((s) => s.attributes['tooltrail.outcome']);
    expect(calls).toEqual(['denied', 'denied']);
    await first.close();
    await second.close();
  });

  it('formatRefusal sets the text the model reads; the refusal stays in _meta', async () => {
    h = harness();
    const auditor = h.auditor;
    const client = await connected((raw) =>
      auditMcpClient(raw, { auditor, policy: [() => deny('read-only')], formatRefusal: (r) => `refused: ${r.tool}` }),
    );
    const result = await auditor.run(alice, () => client.callTool({ name: 'cancel_order', arguments: { id: 'A-1' } }));
    expect(result.isError).toBe(true);
    expect(result.content).toEqual([{ type: 'text', text: 'refused: cancel_order' }]);
    expect(result._meta?.['tooltrail/refusal']).toMatchObject({ outcome: 'denied' });
    await client.close();
  });
});
