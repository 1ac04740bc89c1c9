import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, startCollector, type Collector } from '../../core/test/collector-harness.js';
import { executeTool, httpClient, httpGateway, startHttpFixture, stdioServer, tempDir, verifyDir, writeConfig, writeTokens, resultText as text } from './fixtures/harness.js';

/** HTTP mode: agents on Streamable HTTP with bearer tokens, one HTTP and one stdio server behind. */

let collector: Collector;
let gateway: Awaited<ReturnType<typeof httpGateway>>;
let token: string;

beforeAll(async () => {
  collector = await startCollector();
  const dir = tempDir('gw-http');
  const upstream = await startHttpFixture('remote');
  const tokens = writeTokens(dir, 'svc-agent');
  token = tokens.token;
  // 20 sessions of one token below: over the default per-token cap (a quarter of maxSessions, 16), as a service serving many users sets it.
  const config = writeConfig(dir, {
    serviceName: 'gw-http-test',
    listen: { http: { host: '127.0.0.1', port: 0, tokensFile: tokens.file, maxSessionsPerToken: 32 } },
    audit: { endpoint: collector.url, spoolDir: `${dir}/spool` },
    servers: [{ name: 'remote', http: { url: upstream.url } }, stdioServer('files')],
  });
  gateway = await httpGateway(config);
});

afterAll(() => killAll());


describe('gateway over Streamable HTTP', () => {
  it('refuses a request without a known bearer token', async () => {
    const res = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    expect(res.status).toBe(401);
    const bad = await fetch(gateway.url, { method: 'POST', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, body: '{}' });
    expect(bad.status).toBe(401);
  });

  it('merges two servers with prefixed names and routes calls, prompts and resources', async () => {
    const client = await httpClient(gateway.url, token);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['remote__echo', 'files__echo', 'files__crash']));
    expect(text(await client.callTool({ name: 'remote__echo', arguments: { text: 'a' }, _meta: { 'tooltrail/callId': 'http-remote' } }))).toBe('remote:a');
    expect(text(await client.callTool({ name: 'files__echo', arguments: { text: 'b' }, _meta: { 'tooltrail/callId': 'http-files' } }))).toBe('files:b');
    const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
    expect(prompts).toEqual(expect.arrayContaining(['remote__greet', 'files__greet']));
    const p = await client.getPrompt({ name: 'files__greet', arguments: { name: 'Ada' } });
    expect(JSON.stringify(p.messages)).toContain('from files');
    await expect(client.callTool({ name: 'nobody__echo', arguments: {}, _meta: { 'tooltrail/callId': 'http-unknown' } })).rejects.toThrow(/Unknown tool/);
    await client.close();
  });

  it('answers a server that crashes mid-call with an error, recorded', async () => {
    const client = await httpClient(gateway.url, token);
    await expect(client.callTool({ name: 'files__crash', arguments: {}, _meta: { 'tooltrail/callId': 'http-crash' } })).rejects.toThrow();
    await client.close();
  });

  it('serves 20 concurrent sessions', async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => httpClient(gateway.url, token)));
    const answers = await Promise.all(clients.map((c, i) => c.callTool({ name: 'remote__echo', arguments: { text: `s${i}` }, _meta: { 'tooltrail/callId': `conc-${i}` } })));
    expect(answers.map(text)).toEqual(clients.map((_, i) => `remote:s${i}`));
    await Promise.all(clients.map((c) => c.close()));
  });

  it('records every call with the HTTP attributes, and the trail verifies', async () => {
    expect(await gateway.stop()).toBe(0);
    await collector.kill();
    const byId = new Map(executeTool(collector.dir).map((c) => [String(c.attributes['gen_ai.tool.call.id']), c]));
    expect(byId.get('http-remote')!.attributes).toMatchObject({
      'tooltrail.outcome': 'ok',
      'network.transport': 'tcp',
      'tooltrail.mcp.server.name': 'remote',
      'gen_ai.tool.name': 'remote__echo',
      'user.id': 'svc-agent',
    });
    expect(typeof byId.get('http-remote')!.attributes['mcp.session.id']).toBe('string');
    expect(byId.get('http-files')!.attributes['tooltrail.mcp.server.name']).toBe('files');
    expect(byId.get('http-unknown')!.attributes['tooltrail.outcome']).toBe('error');
    expect(byId.get('http-crash')!.attributes['tooltrail.outcome']).toBe('error');
    const sessions = new Set(Array.from({ length: 20 }, (_, i) => byId.get(`conc-${i}`)!.attributes['mcp.session.id']));
    expect(sessions.size).toBe(20);
    const v = verifyDir(collector.dir);
    expect([0, 3], v.out).toContain(v.status);
  });
});
