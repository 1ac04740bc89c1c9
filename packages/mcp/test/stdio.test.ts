import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { deny } from '@tooltrail/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditMcpClient, CALL_ID_META_KEY } from '../src/index.js';
import { alice, attemptsOf, coreRecordsCallAttributes, harness, traceparentOf, type Harness } from './helpers.js';

const server = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'stdio-server.mjs');

// One child process for the file: spawning node is the slow part.
describe('auditMcpClient with a real MCP server in a child process over stdio', () => {
  let h: Harness;
  let client: Client;
  let callAttributes = false;

  beforeAll(async () => {
    callAttributes = await coreRecordsCallAttributes();
    h = harness();
    client = auditMcpClient(new Client({ name: 'ops-agent', version: '1.0.0' }), {
      auditor: h.auditor,
      attributes: { 'network.transport': 'pipe' },
      policy: [(call) => (call.tool === 'echo' && JSON.stringify(call.args).includes('rm -rf') ? deny('destructive text', { rule: 'echo.safe' }) : undefined)],
    });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [server], stderr: 'ignore' }));
  });

  afterAll(async () => {
    await client.close();
    await h.auditor.shutdown();
  });

  /** Runs one call in a run with a known call id; returns the result and its records. */
  async function call(name: string, args: Record<string, unknown>, callId: string, timeout?: number) {
    const outcome = await h.auditor
      .run(alice, () => client.callTool({ name, arguments: args, _meta: { [CALL_ID_META_KEY]: callId } }, undefined, timeout ? { timeout } : undefined))
      .then((result) => ({ result, error: undefined }), (error: unknown) => ({ result: undefined, error }));
    const spans = await h.spans();
    const span = spans.find((s) => s.name.startsWith('execute_tool ') && s.attributes['gen_ai.tool.call.id'] === callId) as ReadableSpan;
    return { ...outcome, span, attempts: attemptsOf(spans, span) };
  }

  it('records a successful call; the server receives the attempt span as traceparent', async () => {
    const { result, span, attempts } = await call('echo', { text: 'hello', count: 2 }, 'stdio-ok');
    const echoed = JSON.parse((result!.content as Array<{ text: string }>)[0]!.text) as { args: unknown; meta: Record<string, unknown> };
    expect(echoed.args).toEqual({ text: 'hello', count: 2 });
    expect(attempts).toEqual([]); // one attempt: the call span is the server's parent
    expect(echoed.meta).toEqual({ traceparent: traceparentOf(span), 'tooltrail/callId': span.attributes['gen_ai.tool.call.id'] });
    expect(span.attributes).toMatchObject({ 'tooltrail.outcome': 'ok', 'gen_ai.tool.call.arguments': '{"text":"hello","count":2}' });
    if (callAttributes) {
      expect(span.attributes).toMatchObject({
        'mcp.method.name': 'tools/call',
        'mcp.protocol.version': '2025-11-25',
        'tooltrail.mcp.server.name': 'fixture-stdio',
        'network.transport': 'pipe',
      });
      // stdio has no session: the attribute is left out rather than invented.
      expect(span.attributes['mcp.session.id']).toBeUndefined();
    }
  });

  it('returns the isError result of a failing tool unchanged, recorded with error.type tool_error', async () => {
    const { result, span } = await call('fail', { why: 'disk full' }, 'stdio-fail');
    expect(result).toEqual({ content: [{ type: 'text', text: 'failed on purpose: disk full' }], isError: true });
    expect(span.attributes).toMatchObject({ 'tooltrail.outcome': 'error', 'error.type': 'tool_error' });
    expect(span.status.message).toBe('failed on purpose: disk full');
  });

  it('denies by policy without reaching the server, as an isError result', async () => {
    const { result, span } = await call('echo', { text: 'rm -rf /' }, 'stdio-denied');
    expect(result).toMatchObject({ isError: true, content: [{ type: 'text', text: expect.stringContaining('denied by policy rule echo.safe') }] });
    expect(span.attributes).toMatchObject({ 'tooltrail.outcome': 'denied', 'tooltrail.attempts': 0, 'error.type': 'tooltrail.denied' });
  });

  it('rethrows a request timeout (McpError) and records the call as an error', async () => {
    const { error, span } = await call('slow', { ms: 1_000 }, 'stdio-timeout', 100);
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(ErrorCode.RequestTimeout);
    expect(span.attributes).toMatchObject({ 'tooltrail.outcome': 'error', 'error.type': 'McpError' });
  });
});
