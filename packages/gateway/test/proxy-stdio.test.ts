import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { killAll, startCollector, type Collector } from '../../core/test/collector-harness.js';
import { closeStdio, executeTool, newClient, stdioGateway, stdioServer, tempDir, verifyDir, writeConfig, resultText as text } from './fixtures/harness.js';

/** stdio mode end to end: the SDK's Client starts `tooltrail gateway` as its server command. */

let collector: Collector;
let client: Client;
let transport: StdioClientTransport;
let dir: string;

beforeAll(async () => {
  collector = await startCollector();
  dir = tempDir('gw-stdio');
  const config = writeConfig(dir, {
    serviceName: 'gw-stdio-test',
    audit: { endpoint: collector.url, spoolDir: `${dir}/spool` },
    servers: [stdioServer('files', { principal: { id: 'svc:files-agent', type: 'service' }, agent: { name: 'files-agent' }, requestTimeoutMs: 20_000 })],
  });
  client = newClient();
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: 'assistant', model: 'test', content: { type: 'text', text: 'pong' } }));
  ({ transport } = await stdioGateway(config, client));
});

afterAll(async () => {
  killAll();
});


describe('gateway over stdio', () => {
  it('passes initialize, tools, resources and prompts through', async () => {
    expect(client.getServerVersion()).toEqual({ name: 'files', version: '1.2.3' });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('echo');
    const r = await client.readResource({ uri: 'fixture://hello' });
    expect(r.contents[0]).toMatchObject({ text: 'hello from files' });
    const p = await client.getPrompt({ name: 'greet', arguments: { name: 'Ada' } });
    expect(JSON.stringify(p.messages)).toContain('Greet Ada from files');
    await expect(client.readResource({ uri: 'fixture://missing' })).rejects.toThrow(/not found/i);
    await client.ping();
  });

  it('forwards success, throw, isError and sampling', async () => {
    const ok = await client.callTool({ name: 'echo', arguments: { text: 'hi' }, _meta: { 'tooltrail/callId': 'call-ok' } });
    expect(text(ok)).toBe('files:hi');
    const thrown = await client.callTool({ name: 'fail', arguments: {}, _meta: { 'tooltrail/callId': 'call-throw' } });
    expect(thrown.isError).toBe(true);
    const isErr = await client.callTool({ name: 'is_error', arguments: {}, _meta: { 'tooltrail/callId': 'call-iserror' } });
    expect(isErr).toMatchObject({ isError: true, content: [{ text: 'no such file' }] });
    const sampled = await client.callTool({ name: 'sample', arguments: {}, _meta: { 'tooltrail/callId': 'call-sample' } });
    expect(text(sampled)).toBe('model said pong');
  });

  it('cancels a hanging call upstream when the agent gives up', async () => {
    await expect(client.callTool({ name: 'hang', arguments: {}, _meta: { 'tooltrail/callId': 'call-hang' } }, undefined, { timeout: 300 })).rejects.toThrow(/timed out/i);
    let stats = { started: 0, aborted: 0 };
    for (let i = 0; i < 40 && stats.aborted < 1; i++) {
      stats = JSON.parse(text(await client.callTool({ name: 'hang_stats', arguments: {} }))) as typeof stats;
      if (stats.aborted < 1) await new Promise((r) => setTimeout(r, 25));
    }
    expect(stats).toEqual({ started: 1, aborted: 1 });
  });

  it('passes a huge result through whole', async () => {
    const r = await client.callTool({ name: 'huge', arguments: { bytes: 3_000_000 }, _meta: { 'tooltrail/callId': 'call-huge' } });
    expect(text(r).length).toBe(3_000_000);
  });

  it('records every call at the collector, and the trail verifies', async () => {
    await closeStdio(client, transport);
    await collector.kill();
    const calls = executeTool(collector.dir);
    const byId = new Map(calls.map((c) => [String(c.attributes['gen_ai.tool.call.id']), c]));
    const ok = byId.get('call-ok')!;
    expect(ok.name).toBe('execute_tool echo');
    expect(ok.attributes).toMatchObject({
      'tooltrail.outcome': 'ok',
      'gen_ai.tool.type': 'extension',
      'mcp.method.name': 'tools/call',
      'network.transport': 'pipe',
      'tooltrail.mcp.server.name': 'files',
      'user.id': 'svc:files-agent',
    });
    expect(typeof ok.attributes['jsonrpc.request.id']).toBe('string');
    expect(String(ok.attributes['gen_ai.tool.call.arguments'])).toContain('hi');
    // The server saw the call span's trace context, and not tooltrail's own keys.
    expect(String(ok.attributes['gen_ai.tool.call.result'])).toContain('traceparent');
    expect(String(ok.attributes['gen_ai.tool.call.result'])).not.toContain('tooltrail/callId');
    for (const id of ['call-throw', 'call-iserror']) {
      expect(byId.get(id)!.attributes).toMatchObject({ 'tooltrail.outcome': 'error', 'error.type': 'tool_error' });
    }
    expect(byId.get('call-hang')!.attributes['tooltrail.outcome']).toBe('error');
    expect(byId.get('call-huge')!.attributes['tooltrail.outcome']).toBe('ok');
    expect(byId.get('call-sample')!.attributes['tooltrail.outcome']).toBe('ok');
    const runs = new Set(calls.map((c) => c.attributes['tooltrail.run.id']));
    expect(runs.size).toBe(1);
    const v = verifyDir(collector.dir);
    expect([0, 3], v.out).toContain(v.status);
  });
});
