import { generateKeyPairSync } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { verifyRunToken } from '@tooltrail/core';
import { afterEach, describe, expect, it } from 'vitest';
import { auditMcpClient, RUN_TOKEN_META_KEY } from '../src/index.js';
import { alice, harness, type Harness } from './helpers.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');

/** A real SDK server that keeps the `_meta` of every tools/call it receives. */
function metaServer(received: Array<Record<string, unknown> | undefined>): Server {
  const server = new Server({ name: 'meta', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [{ name: 'whoami', inputSchema: { type: 'object' as const } }] }));
  server.setRequestHandler(CallToolRequestSchema, (request) => {
    received.push(request.params._meta);
    return { content: [{ type: 'text', text: 'ok' }] };
  });
  return server;
}

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});

async function connected(h: Harness, received: Array<Record<string, unknown> | undefined>): Promise<Client> {
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const server = metaServer(received);
  await server.connect(serverTransport);
  const client = auditMcpClient(new Client({ name: 'agent', version: '1.0.0' }), { auditor: h.auditor });
  await client.connect(clientTransport);
  closers.push(() => client.close(), () => server.close(), () => h.auditor.shutdown().then(() => undefined));
  return client;
}

describe('the run token in params._meta', () => {
  it('is sent with every call of a run whose auditor has a runTokenKey, and names that run', async () => {
    const h = harness({ runTokenKey: privateKey });
    const received: Array<Record<string, unknown> | undefined> = [];
    const client = await connected(h, received);
    await h.auditor.run({ ...alice, runId: 'run-A' }, async () => {
      await client.callTool({ name: 'whoami', arguments: {} });
      await client.callTool({ name: 'whoami', arguments: {}, _meta: { progressToken: 3 } });
    });
    await h.auditor.run({ principal: { id: 'user:7' }, runId: 'run-B' }, () => client.callTool({ name: 'whoami', arguments: {} }));
    expect(received).toHaveLength(3);
    const claims = received.map((meta) => {
      const r = verifyRunToken(meta?.[RUN_TOKEN_META_KEY], publicKey);
      if (!r.ok) throw new Error(`${r.reason}: ${r.message}`);
      return { runId: r.claims.runId, principal: r.claims.principal.id, agent: r.claims.agent?.name };
    });
    expect(claims).toEqual([
      { runId: 'run-A', principal: 'user:42', agent: 'ops-bot' },
      { runId: 'run-A', principal: 'user:42', agent: 'ops-bot' },
      { runId: 'run-B', principal: 'user:7', agent: undefined },
    ]);
    // the rest of _meta is untouched: the caller's progress token and the trace context
    expect(received[1]).toMatchObject({ progressToken: 3, traceparent: expect.stringMatching(/^00-/) });
    expect(RUN_TOKEN_META_KEY).toBe('tooltrail/runToken');
  });

  it('replaces a token the caller put in _meta with the run\'s own', async () => {
    const h = harness({ runTokenKey: privateKey });
    const received: Array<Record<string, unknown> | undefined> = [];
    const client = await connected(h, received);
    await h.auditor.run(alice, () => client.callTool({ name: 'whoami', arguments: {}, _meta: { [RUN_TOKEN_META_KEY]: 'tt1.forged.x' } }));
    const r = verifyRunToken(received[0]?.[RUN_TOKEN_META_KEY], publicKey);
    expect(r.ok && r.claims.principal.id).toBe('user:42');
  });

  it('is absent without a runTokenKey (a caller\'s own value passes as it is: the gateway judges it)', async () => {
    const h = harness();
    const received: Array<Record<string, unknown> | undefined> = [];
    const client = await connected(h, received);
    await h.auditor.run(alice, async () => {
      await client.callTool({ name: 'whoami', arguments: {} });
      await client.callTool({ name: 'whoami', arguments: {}, _meta: { [RUN_TOKEN_META_KEY]: 'tt1.claimed.' } });
    });
    expect(received[0]).not.toHaveProperty(RUN_TOKEN_META_KEY);
    expect(received[1]?.[RUN_TOKEN_META_KEY]).toBe('tt1.claimed.');
  });
});
