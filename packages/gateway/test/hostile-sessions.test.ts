import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { newToken } from '@tooltrail/cli';
import { AuditConfigError } from '@tooltrail/core';
import { loadGatewayConfig } from '../src/config/load.js';
import { killAll, startCollector, type Collector } from '../../core/test/collector-harness.js';
import { executeTool, httpGateway, newClient, tempDir, writeConfig, resultText as text } from './fixtures/harness.js';
import { hostileServer, INIT, waitGone } from './fixtures/hostile-harness.js';

/** HTTP sessions under pressure: bad bodies, another token's session, maxSessions, idle sessions, and children really gone. */

let collector: Collector;
let gateway: Awaited<ReturnType<typeof httpGateway>>;
let tokenA: string;
let tokenB: string;

beforeAll(async () => {
  collector = await startCollector();
  const dir = tempDir('gw-hostile-sessions');
  const a = newToken('agent-a');
  const b = newToken('agent-b');
  const tokensFile = path.join(dir, 'tokens.json');
  // Two tokens of one principal: a session id is still only good with the token that opened it.
  const principal = { id: 'svc:shared', type: 'service' };
  writeFileSync(tokensFile, JSON.stringify({ version: 1, writers: [{ ...a.entry, principal }, { ...b.entry, principal }] }));
  chmodSync(tokensFile, 0o600);
  [tokenA, tokenB] = [a.token, b.token];
  const config = writeConfig(dir, {
    listen: { http: { host: '127.0.0.1', port: 0, tokensFile, maxSessions: 3, maxSessionsPerToken: 2, sessionIdleMs: 1_500 } },
    audit: { endpoint: collector.url, spoolDir: path.join(dir, 'spool') },
    servers: [hostileServer('bad')],
  });
  gateway = await httpGateway(config);
});

afterAll(() => killAll());

const headers = (token: string, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  ...extra,
});

async function post(body: string, token = tokenA, extra: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(gateway.url, { method: 'POST', headers: headers(token, extra), body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** A session through the SDK's client, and the PID of its stdio child. */
async function session(callId: string, token = tokenA) {
  const client = newClient();
  const transport = new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  const pid = Number(text(await client.callTool({ name: 'pid', arguments: {}, _meta: { 'tooltrail/callId': callId } })));
  expect(pid).toBeGreaterThan(0);
  return { client, transport, pid, sid: transport.sessionId! };
}

describe('HTTP sessions and bodies under pressure', () => {
  it('validates maxSessions and sessionIdleMs', () => {
    const dir = tempDir('gw-hostile-config');
    for (const [key, value] of [['maxSessions', 0], ['maxSessions', 1.5], ['maxSessionsPerToken', 0], ['maxSessionsPerToken', 2.5], ['maxSessionsPerToken', 65], ['sessionIdleMs', -1], ['sessionIdleMs', 'soon']] as const) {
      const file = writeConfig(dir, { listen: { http: { port: 0, tokensFile: 'x', [key]: value } }, servers: [hostileServer('bad')] });
      expect(() => loadGatewayConfig(file), `${key}: ${value}`).toThrow(AuditConfigError);
      expect(() => loadGatewayConfig(file)).toThrow(new RegExp(`listen\\.http\\.${key}`));
    }
  });

  it('answers broken bodies with the JSON-RPC error the spec names', async () => {
    expect(await post('{not json')).toEqual({ status: 400, json: { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the body is not JSON' } } });
    expect(await post('[]')).toMatchObject({ status: 400, json: { id: null, error: { code: -32600 } } });
    expect(await post('{"jsonrpc":"1.0","id":9,"method":"ping"}')).toMatchObject({ status: 400, json: { id: 9, error: { code: -32600, message: '"jsonrpc" must be "2.0"' } } });
    expect(await post('{"jsonrpc":"2.0","id":true,"method":"ping"}')).toMatchObject({ status: 400, json: { id: null, error: { code: -32600 } } });
    expect(await post('{"jsonrpc":"2.0","id":3}')).toMatchObject({ status: 400, json: { id: 3, error: { code: -32600 } } });
    // A good initialize with the wrong content type or Accept: refused by the transport, no session left behind.
    expect((await post(INIT, tokenA, { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post(INIT, tokenA, { accept: 'text/html' })).status).toBe(406);
    const get = await fetch(gateway.url, { headers: headers(tokenA) });
    expect(get.status).toBe(400);
    const del = await fetch(gateway.url, { method: 'DELETE', headers: headers(tokenA) });
    expect(del.status).toBe(400);
  });

  it('does not let another token use a session, and stops its child on DELETE', async () => {
    const s = await session('del-1');
    const other = await fetch(gateway.url, { method: 'POST', headers: headers(tokenB, { 'mcp-session-id': s.sid, 'mcp-protocol-version': '2025-06-18' }), body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(other.status).toBe(404);
    const otherDelete = await fetch(gateway.url, { method: 'DELETE', headers: headers(tokenB, { 'mcp-session-id': s.sid }) });
    expect(otherDelete.status).toBe(404);
    await s.transport.terminateSession();
    expect(await waitGone([s.pid])).toEqual([]);
    const after = await fetch(gateway.url, { method: 'POST', headers: headers(tokenA, { 'mcp-session-id': s.sid }), body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(after.status).toBe(404);
    await s.client.close();
  });

  it('refuses a session over maxSessions with 503 and a JSON-RPC error, and takes one again when a slot frees', async () => {
    const open = [await session('max-1'), await session('max-2'), await session('max-3', tokenB)];
    const refused = await post(INIT);
    expect(refused).toEqual({
      status: 503,
      json: { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'the gateway has 3 sessions open (listen.http.maxSessions): try again later' } },
    });
    // The slot is free once the session is closed, its child stopped: not before.
    await open[0]!.transport.terminateSession();
    expect(await waitGone([open[0]!.pid])).toEqual([]);
    let again: Awaited<ReturnType<typeof session>> | undefined;
    for (let i = 0; i < 40 && again === undefined; i++) {
      again = await session('max-4').catch(async (err: unknown) => {
        expect(String(err)).toMatch(/maxSessions/);
        await new Promise((r) => setTimeout(r, 50));
        return undefined;
      });
    }
    if (again === undefined) throw new Error('no slot freed after the DELETE');
    for (const s of [...open.slice(1), again]) await s.transport.terminateSession();
    expect(await waitGone([...open, again].map((s) => s.pid))).toEqual([]);
  });

  it('refuses a token over maxSessionsPerToken with 503 and a JSON-RPC error, while another token still opens sessions', async () => {
    const mine = [await session('tok-a1'), await session('tok-a2')];
    expect(await post(INIT)).toEqual({
      status: 503,
      json: { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'this token has 2 sessions open (listen.http.maxSessionsPerToken): close one (DELETE) or try again later' } },
    });
    // The limit is the token's, not the gateway's: the other token of the same principal opens one.
    const other = await session('tok-b1', tokenB);
    expect(other.pid).not.toBe(mine[0]!.pid);
    for (const s of [...mine, other]) await s.transport.terminateSession();
    expect(await waitGone([...mine, other].map((s) => s.pid))).toEqual([]);
  });

  it('closes a session idle for sessionIdleMs, with its child', async () => {
    const s = await session('idle-1');
    expect(await waitGone([s.pid], 6_000)).toEqual([]);
    const after = await fetch(gateway.url, { method: 'POST', headers: headers(tokenA, { 'mcp-session-id': s.sid }), body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    expect(after.status).toBe(404);
  });

  it('stops every child when the gateway closes, and recorded every call', async () => {
    const s = [await session('close-1'), await session('close-2')];
    expect(await gateway.stop()).toBe(0);
    expect(await waitGone(s.map((x) => x.pid))).toEqual([]);
    await collector.kill();
    const ids = executeTool(collector.dir).map((c) => [c.attributes['gen_ai.tool.call.id'], c.attributes['tooltrail.outcome']]);
    expect(ids.sort()).toEqual(['close-1', 'close-2', 'del-1', 'idle-1', 'max-1', 'max-2', 'max-3', 'max-4', 'tok-a1', 'tok-a2', 'tok-b1'].map((id) => [id, 'ok']));
  });
});
