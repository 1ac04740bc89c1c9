import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { killAll, startCollector, type Collector } from '../../core/test/collector-harness.js';
import { closeStdio, executeTool, newClient, stdioGateway, tempDir, verifyDir, writeConfig, resultText as text } from './fixtures/harness.js';
import { hostileServer, startHostileHttp } from './fixtures/hostile-harness.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

/** A server that breaks JSON-RPC (stdio child and HTTP URL): every call answered fast, and recorded. */

let collector: Collector;
let client: Client;
let transport: StdioClientTransport;

beforeAll(async () => {
  collector = await startCollector();
  const dir = tempDir('gw-hostile-server');
  const web = await startHostileHttp();
  const config = writeConfig(dir, {
    audit: { endpoint: collector.url, spoolDir: path.join(dir, 'spool') },
    servers: [
      // A long deadline: a call that waits for it instead of failing at once shows up as a test timeout.
      hostileServer('bad', { principal: { id: 'svc:hostile' }, requestTimeoutMs: 60_000 }),
      { name: 'web', principal: { id: 'svc:hostile' }, http: { url: web.url }, requestTimeoutMs: 60_000 },
    ],
  });
  ({ client, transport } = await stdioGateway(config, newClient()));
});

afterAll(() => killAll());

async function failure(name: string): Promise<McpError> {
  const started = Date.now();
  const err = await client.callTool({ name, arguments: {}, _meta: { 'tooltrail/callId': name } }, undefined, { timeout: 50_000 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(err).toBeInstanceOf(McpError);
  return err as McpError;
}

describe('a server that breaks the protocol', () => {
  it('skips garbage lines, stray responses and id-less errors, and answers the call', async () => {
    expect(text(await client.callTool({ name: 'bad__garbage', arguments: {}, _meta: { 'tooltrail/callId': 'bad__garbage' } }))).toBe('after garbage');
    expect(text(await client.callTool({ name: 'bad__unknown_id', arguments: {}, _meta: { 'tooltrail/callId': 'bad__unknown_id' } }))).toBe('after stray');
    expect(text(await client.callTool({ name: 'bad__error_no_id', arguments: {}, _meta: { 'tooltrail/callId': 'bad__error_no_id' } }))).toBe('after error without id');
  });

  it('answers an invalid JSON-RPC response at once with an internal error', async () => {
    for (const [name, says] of [
      ['bad__not_object', /server "bad" sent an invalid response.*result/],
      ['bad__both', /server "bad" sent an invalid response.*both result and error/],
    ] as const) {
      const err = await failure(name);
      expect(err.code).toBe(-32603);
      expect(err.message).toMatch(says);
    }
  });

  it('refuses a tools/call result that is not a CallToolResult', async () => {
    for (const [name, says] of [
      ['bad__content_not_array', /content must be an array/],
      ['bad__is_error_yes', /isError must be a boolean/],
    ] as const) {
      const err = await failure(name);
      expect(err.code).toBe(-32603);
      expect(err.message).toMatch(says);
    }
  });

  it('answers HTTP failures of an upstream (status, content type, bad JSON, SSE cut short) with an error', async () => {
    for (const [name, says] of [
      ['web__status500', /500/],
      ['web__status404', /404/],
      ['web__html', /content type/i],
      ['web__bad_json', /JSON/],
      ['web__truncated', /closed the response before answering/],
      ['web__sse_bad', /server "web" sent an invalid response/],
    ] as const) {
      const err = await failure(name);
      expect(err.message).toMatch(says);
    }
    // The upstream connection is still usable.
    expect(text(await client.callTool({ name: 'web__ok', arguments: {}, _meta: { 'tooltrail/callId': 'web__ok' } }))).toBe('fine');
  });

  it('records every call, the broken ones as errors, and the trail verifies', async () => {
    expect(text(await client.callTool({ name: 'bad__ok', arguments: {}, _meta: { 'tooltrail/callId': 'bad__ok' } }))).toBe('fine');
    await closeStdio(client, transport);
    await collector.kill();
    const outcome = new Map(executeTool(collector.dir).map((c) => [String(c.attributes['gen_ai.tool.call.id']), c.attributes['tooltrail.outcome']]));
    expect(Object.fromEntries(outcome)).toEqual({
      bad__garbage: 'ok',
      bad__unknown_id: 'ok',
      bad__error_no_id: 'ok',
      bad__not_object: 'error',
      bad__both: 'error',
      bad__content_not_array: 'error',
      bad__is_error_yes: 'error',
      web__status500: 'error',
      web__status404: 'error',
      web__html: 'error',
      web__bad_json: 'error',
      web__truncated: 'error',
      web__sse_bad: 'error',
      web__ok: 'ok',
      bad__ok: 'ok',
    });
    const v = verifyDir(collector.dir);
    expect([0, 3], v.out).toContain(v.status);
  });
});
