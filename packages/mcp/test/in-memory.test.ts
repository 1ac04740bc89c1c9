import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { AuditDeniedError, deny, rewrite } from '@tooltrail/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditMcpClient, CALL_ID_META_KEY, REFUSAL_META_KEY, type AuditMcpClientOptions } from '../src/index.js';
import { alice, attemptsOf, coreRecordsCallAttributes, harness, traceparentOf, type Harness } from './helpers.js';

interface Received {
  name: string;
  args: unknown;
  meta: Record<string, unknown> | undefined;
}

/** A low-level SDK server: unlike McpServer it lets a tool answer with a JSON-RPC error. */
function orderServer(received: Received[]): Server {
  const server = new Server({ name: 'orders', version: '2.0.1' }, { capabilities: { tools: {} } });
  let flakyCalls = 0;
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: ['get_order', 'cancel_order', 'explode', 'flaky'].map((name) => ({ name, inputSchema: { type: 'object' as const } })),
  }));
  server.setRequestHandler(CallToolRequestSchema, (request) => {
    const { name, arguments: args, _meta } = request.params;
    received.push({ name, args, meta: _meta });
    if (name === 'explode') throw new McpError(ErrorCode.InternalError, 'order database unreachable');
    if (name === 'flaky' && ++flakyCalls === 1) throw new McpError(ErrorCode.InternalError, 'try again');
    if (name === 'get_order' && args?.id === 'Z-9') {
      return { content: [{ type: 'text', text: 'order Z-9 not found' }], isError: true };
    }
    return { content: [{ type: 'text', text: JSON.stringify({ ok: name, args }) }], structuredContent: { tool: name } };
  });
  return server;
}

let h: Harness;
let received: Received[];
let closers: Array<() => Promise<void>>;

/** A connected client and server over the SDK's in-memory transport; the client wrapped before connect. */
async function connect(options?: AuditMcpClientOptions): Promise<{ client: Client; raw: Client; transport: InMemoryTransport }> {
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const server = orderServer(received);
  await server.connect(serverTransport);
  const raw = new Client({ name: 'ops-agent', version: '1.0.0' });
  const client = auditMcpClient(raw, { auditor: h.auditor, ...options });
  await client.connect(clientTransport);
  closers.push(() => client.close(), () => server.close());
  return { client, raw, transport: clientTransport };
}

afterEach(async () => {
  for (const close of closers) await close();
  await h.auditor.shutdown();
});

describe('auditMcpClient over the in-memory transport', () => {
  let callAttributes = false;
  beforeAll(async () => {
    callAttributes = await coreRecordsCallAttributes();
  });

  const setup = () => {
    h = harness();
    received = [];
    closers = [];
  };

  it('records a successful call and sends the attempt span as traceparent in params._meta', async () => {
    setup();
    const { client } = await connect();
    expect(client).toBeInstanceOf(Client);
    const result = await h.auditor.run(alice, () =>
      client.callTool({ name: 'get_order', arguments: { id: 'A-1' }, _meta: { progressToken: 7 } }),
    );
    expect(result).toEqual({ content: [{ type: 'text', text: '{"ok":"get_order","args":{"id":"A-1"}}' }], structuredContent: { tool: 'get_order' } });

    const spans = await h.spans();
    const [call] = await h.calls();
    expect(call!.name).toBe('execute_tool get_order');
    expect(call!.attributes).toMatchObject({
      'gen_ai.tool.name': 'get_order',
      'gen_ai.tool.type': 'extension',
      'gen_ai.tool.call.arguments': '{"id":"A-1"}',
      'tooltrail.arguments.mutated': false,
      'tooltrail.outcome': 'ok',
      'tooltrail.attempts': 1,
      'user.id': 'user:42',
    });
    expect(String(call!.attributes['gen_ai.tool.call.id'])).toMatch(/^call_[0-9a-f]{24}$/);
    expect(JSON.parse(String(call!.attributes['gen_ai.tool.call.result']))).toMatchObject({ structuredContent: { tool: 'get_order' } });
    expect(attemptsOf(spans, call!)).toEqual([]);
    // The caller's own _meta goes through; the call span (one attempt: no attempt span) becomes the server's remote parent,
    // and the call id as recorded goes along, so a gateway on the path records the call under it.
    expect(received[0]!.meta).toEqual({ progressToken: 7, traceparent: traceparentOf(call!), 'tooltrail/callId': call!.attributes['gen_ai.tool.call.id'] });
  });

  it('records the MCP attributes on the execute_tool span, denied calls included', async (ctx) => {
    if (!callAttributes) ctx.skip('needs core CallMeta.attributes (proposed with this adapter)');
    setup();
    const { client, transport } = await connect({
      attributes: { 'network.transport': 'inproc' },
      policy: [(call) => (call.tool === 'cancel_order' ? deny('cancelling is not allowed', { rule: 'orders.read-only' }) : undefined)],
    });
    // An in-memory transport has no session; a Streamable HTTP one does, set after initialize.
    transport.sessionId = 'session-7';
    await h.auditor.run(alice, async () => {
      await client.callTool({ name: 'get_order', arguments: { id: 'A-1' } });
      await client.callTool({ name: 'cancel_order', arguments: { id: 'A-1' } });
    });
    const calls = await h.calls();
    for (const call of calls) {
      expect(call.attributes).toMatchObject({
        'mcp.method.name': 'tools/call',
        'mcp.session.id': 'session-7',
        'mcp.protocol.version': '2025-11-25',
        'tooltrail.mcp.server.name': 'orders',
        'tooltrail.mcp.server.version': '2.0.1',
        'network.transport': 'inproc',
        'gen_ai.operation.name': 'execute_tool',
      });
    }
    expect(calls.map((c) => c.attributes['tooltrail.outcome'])).toEqual(['ok', 'denied']);
  });

  it('returns an isError result unchanged and records it as outcome error, error.type tool_error', async () => {
    setup();
    const { client } = await connect();
    const result = await h.auditor.run(alice, () => client.callTool({ name: 'get_order', arguments: { id: 'Z-9' } }));
    expect(result).toEqual({ content: [{ type: 'text', text: 'order Z-9 not found' }], isError: true });

    const spans = await h.spans();
    const [call] = await h.calls();
    expect(call!.attributes).toMatchObject({ 'tooltrail.outcome': 'error', 'error.type': 'tool_error', 'tooltrail.attempts': 1 });
    expect(call!.status).toEqual({ code: 2, message: 'order Z-9 not found' });
    expect(call!.events[0]!.attributes).toMatchObject({ 'exception.type': 'tool_error', 'exception.message': 'order Z-9 not found' });
    expect(attemptsOf(spans, call!)).toEqual([]); // one attempt: the failure is on the call span
  });

  it('rethrows a protocol error (JSON-RPC error response) as the SDK does, recorded as outcome error', async () => {
    setup();
    const { client } = await connect();
    const err = await h.auditor.run(alice, () => client.callTool({ name: 'explode', arguments: {} })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(ErrorCode.InternalError);

    const [call] = await h.calls();
    expect(call!.attributes).toMatchObject({ 'tooltrail.outcome': 'error', 'error.type': 'McpError' });
    // The SDK's own message, as the caller sees it.
    expect(call!.status.message).toBe((err as McpError).message);
    expect(call!.status.message).toContain('order database unreachable');
  });

  it('turns a denial into an isError result the model can read; the server never sees the call', async () => {
    setup();
    const { client } = await connect({
      policy: [(call) => (call.tool === 'cancel_order' ? deny('cancelling orders needs a human', { rule: 'orders.read-only' }) : undefined)],
    });
    const result = await h.auditor.run(alice, () => client.callTool({ name: 'cancel_order', arguments: { id: 'A-1' } }));
    expect(result.isError).toBe(true);
    expect(result.content).toEqual([
      { type: 'text', text: 'Tool call "cancel_order" was denied by policy rule orders.read-only and was not executed: cancelling orders needs a human' },
    ]);
    expect(result._meta?.[REFUSAL_META_KEY]).toMatchObject({ outcome: 'denied', rule: 'orders.read-only', tool: 'cancel_order' });
    // Outside a run there is no principal: denied too (requireIdentity).
    const anonymous = await client.callTool({ name: 'get_order', arguments: { id: 'A-1' } });
    expect(anonymous.isError).toBe(true);
    expect(received).toEqual([]);

    const calls = await h.calls();
    expect(calls.map((c) => [c.attributes['tooltrail.outcome'], c.attributes['tooltrail.policy.rule'], c.attributes['tooltrail.attempts']])).toEqual([
      ['denied', 'orders.read-only', 0],
      ['denied', 'tooltrail.require-identity', 0],
    ]);
  });

  it("throws AuditDeniedError instead with onRefusal: 'throw'", async () => {
    setup();
    const { client } = await connect({ onRefusal: 'throw', policy: [() => deny('maintenance window')] });
    const err = await h.auditor.run(alice, () => client.callTool({ name: 'get_order', arguments: { id: 'A-1' } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditDeniedError);
    expect(received).toEqual([]);
  });

  it('sends what policy rewrote and validation coerced, and records it beside what was proposed', async () => {
    setup();
    const { client } = await connect({
      tools: {
        get_order: {
          schema: z.object({ id: z.string().trim().toUpperCase(), fields: z.array(z.string()).default(['status']) }),
          policy: [(call) => rewrite({ ...(call.args as object), fields: ['status'] }, 'only the status is shared', { rule: 'orders.minimal' })],
        },
      },
    });
    await h.auditor.run(alice, () => client.callTool({ name: 'get_order', arguments: { id: ' a-1 ', fields: ['status', 'address'] } }));
    expect(received[0]!.args).toEqual({ id: 'A-1', fields: ['status'] });

    const [call] = await h.calls();
    expect(call!.attributes).toMatchObject({
      'gen_ai.tool.call.arguments': '{"id":"A-1","fields":["status"]}',
      'tooltrail.arguments.proposed': '{"id":" a-1 ","fields":["status","address"]}',
      'tooltrail.arguments.mutated': true,
      'tooltrail.decision': 'rewrite',
      'tooltrail.policy.rule': 'orders.minimal',
    });
  });

  it('turns a validation failure into an isError result listing the issues; nothing is sent', async () => {
    setup();
    const { client } = await connect({ tools: { get_order: { schema: z.object({ id: z.string().regex(/^[A-Z]-\d+$/) }) } } });
    const result = await h.auditor.run(alice, () => client.callTool({ name: 'get_order', arguments: { id: 42 } }));
    expect(result.isError).toBe(true);
    expect((result.content as unknown[])[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/^Tool call "get_order" was not executed: its arguments are invalid\.\n- id: /) });
    expect(received).toEqual([]);
    const [call] = await h.calls();
    expect(call!.attributes).toMatchObject({ 'tooltrail.outcome': 'invalid', 'error.type': 'tooltrail.invalid_arguments', 'tooltrail.attempts': 0 });
  });

  it("takes the caller's call id from params._meta, sends it on as recorded, and counts a reused id as the next attempt", async () => {
    setup();
    const { client } = await connect();
    const call = { name: 'get_order', arguments: { id: 'A-1' }, _meta: { [CALL_ID_META_KEY]: 'toolu_01' } };
    await h.auditor.run(alice, async () => {
      await client.callTool(call);
      await client.callTool(call);
    });
    expect(received.map((r) => r.meta?.['tooltrail/callId'])).toEqual(['toolu_01', 'toolu_01']);
    expect(received.map((r) => Object.keys(r.meta ?? {}).sort())).toEqual([['tooltrail/callId', 'traceparent'], ['tooltrail/callId', 'traceparent']]);
    const spans = await h.spans();
    const calls = await h.calls();
    expect(calls.map((c) => c.attributes['gen_ai.tool.call.id'])).toEqual(['toolu_01', 'toolu_01']);
    expect(calls.map((c) => attemptsOf(spans, c).map((a) => a.attributes['tooltrail.attempt']))).toEqual([[], [2]]);
  });

  it('retries with core retry options; each attempt is its own request with its own traceparent', async () => {
    setup();
    const { client } = await connect({ tools: { flaky: { retry: { attempts: 2, backoffMs: 0 } } } });
    const result = await h.auditor.run(alice, () => client.callTool({ name: 'flaky', arguments: {} }));
    expect(result.isError).toBeUndefined();
    const spans = await h.spans();
    const [call] = await h.calls();
    expect(call!.attributes).toMatchObject({ 'tooltrail.outcome': 'ok', 'tooltrail.attempts': 2 });
    const attempts = attemptsOf(spans, call!);
    expect(attempts.map((a) => a.attributes['error.type'])).toEqual(['McpError', undefined]);
    expect(received.map((r) => r.meta?.traceparent)).toEqual(attempts.map(traceparentOf));
  });

  it('leaves the wrapped client unaudited and refuses to wrap twice', async () => {
    setup();
    const { client, raw } = await connect();
    await h.auditor.run(alice, () => raw.callTool({ name: 'get_order', arguments: { id: 'A-1' } }));
    expect(received[0]!.meta).toBeUndefined();
    expect(await h.calls()).toEqual([]);
    expect(() => auditMcpClient(client, h.auditor)).toThrow(/already audited/);
  });
});
