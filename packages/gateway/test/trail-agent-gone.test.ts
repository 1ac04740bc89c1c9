import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, startCollector, type Collector } from '../../core/test/collector-harness.js';
import { httpGateway, stdioServer, tempDir, waitForCalls, writeConfig, writeTokens } from './fixtures/harness.js';
import { INIT, INITIALIZED, rawStdioGateway } from './fixtures/hostile-harness.js';

/**
 * Calls in flight when the agent goes away (stdio: stdin ends; HTTP: the session is DELETEd) were
 * forwarded, and the server runs them to their end: they are recorded as they ended (ok), not as
 * errors they never had, and the gateway waits for them before it closes the servers.
 */

let collector: Collector;
beforeAll(async () => {
  collector = await startCollector();
});
afterAll(() => killAll());

const slow = (id: number, tag: string) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow', arguments: { ms: 600, tag }, _meta: { 'tooltrail/callId': tag } } });

/** The fixture server, noting in `log` each slow call as it starts. */
const loggingServer = (log: string, extra: Record<string, unknown> = {}) => {
  const server = stdioServer('files', extra) as { stdio: { env: Record<string, string> } };
  server.stdio.env.FIXTURE_STARTED_LOG = log;
  return server;
};

/** Until the server has started every tagged call: only then are they in flight (a fixed sleep lost this race under load). */
const started = async (log: string, tags: string[]) => {
  const until = Date.now() + 10_000;
  const seen = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n') : []);
  while (!tags.every((t) => seen().includes(t))) {
    if (Date.now() > until) throw new Error(`the server did not start ${tags.join(', ')} within 10 s (started: ${seen().join(' ')})`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const outcomes = async (tags: string[]) => {
  const until = Date.now() + 10_000;
  let byId = new Map<string, unknown>();
  while (Date.now() < until) {
    byId = new Map((await waitForCalls(collector.dir, 0)).map((c) => [String(c.attributes['gen_ai.tool.call.id']), c.attributes['tooltrail.outcome']]));
    if (tags.every((t) => byId.has(t))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return tags.map((t) => [t, byId.get(t)]);
};

/** An HTTP gateway in front of `server`, with one initialized session: the headers that name it. */
const httpSession = async (dir: string, serviceName: string, server: unknown) => {
  const tokens = writeTokens(dir, 'agent');
  const gw = await httpGateway(
    writeConfig(dir, { serviceName, listen: { http: { host: '127.0.0.1', port: 0, tokensFile: tokens.file } }, audit: { endpoint: collector.url, spoolDir: path.join(dir, 'spool') }, servers: [server] }),
  );
  const headers = { authorization: `Bearer ${tokens.token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const init = await fetch(gw.url, { method: 'POST', headers, body: INIT });
  const sid = init.headers.get('mcp-session-id')!;
  await init.text();
  const h = { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' };
  await (await fetch(gw.url, { method: 'POST', headers: h, body: INITIALIZED })).text();
  return { gw, h };
};

describe('the agent goes away with calls in flight', () => {
  it('stdio: stdin ends while three 600 ms calls run on the server; all three are recorded ok and the gateway exits 0', async () => {
    const dir = tempDir('gw-gone-stdio');
    const log = path.join(dir, 'started.log');
    const gw = rawStdioGateway(writeConfig(dir, { serviceName: 'gw-gone', audit: { endpoint: collector.url, spoolDir: path.join(dir, 'spool') }, servers: [loggingServer(log, { principal: { id: 'svc:gone' } })] }));
    gw.write(INIT);
    expect(await gw.next(10_000)).toMatchObject({ id: 0 });
    gw.write(INITIALIZED);
    for (const [i, tag] of ['gone-s1', 'gone-s2', 'gone-s3'].entries()) gw.write(slow(i + 1, tag));
    await started(log, ['gone-s1', 'gone-s2', 'gone-s3']);
    expect(await gw.end()).toBe(0);
    expect(await outcomes(['gone-s1', 'gone-s2', 'gone-s3'])).toEqual([['gone-s1', 'ok'], ['gone-s2', 'ok'], ['gone-s3', 'ok']]);
  }, 30_000);

  it('SIGTERM with a call in flight: it ends and is recorded ok; a call sent after the stop began is recorded, not forwarded', async () => {
    const dir = tempDir('gw-gone-term');
    const log = path.join(dir, 'started.log');
    const gw = rawStdioGateway(writeConfig(dir, { serviceName: 'gw-gone-term', audit: { endpoint: collector.url, spoolDir: path.join(dir, 'spool') }, servers: [loggingServer(log, { principal: { id: 'svc:gone' } })] }));
    gw.write(INIT);
    expect(await gw.next(10_000)).toMatchObject({ id: 0 });
    gw.write(INITIALIZED);
    gw.write(slow(1, 'term-a'));
    await started(log, ['term-a']);
    gw.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    gw.write(slow(2, 'term-b'));
    expect(await gw.end()).toBe(0);
    expect(await outcomes(['term-a', 'term-b'])).toEqual([['term-a', 'ok'], ['term-b', 'error']]);
    const b = (await waitForCalls(collector.dir, 0)).find((c) => c.attributes['gen_ai.tool.call.id'] === 'term-b')!;
    expect(b.status.message).toContain('the connection closed before the call was forwarded: it was not sent to the server');
  }, 30_000);

  it('a call that outlives the close grace (progress keeps resetting its timeout) is aborted then, recorded so, and the gateway still exits', async () => {
    const dir = tempDir('gw-gone-grace');
    const server = stdioServer('files', { principal: { id: 'svc:gone' }, requestTimeoutMs: 800 });
    const gw = rawStdioGateway(writeConfig(dir, { serviceName: 'gw-gone-grace', audit: { endpoint: collector.url, spoolDir: path.join(dir, 'spool') }, servers: [server] }));
    gw.write(INIT);
    expect(await gw.next(10_000)).toMatchObject({ id: 0 });
    gw.write(INITIALIZED);
    gw.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'progress_forever', arguments: {}, _meta: { progressToken: 'p1', 'tooltrail/callId': 'gone-forever' } } }));
    // Past the 800 ms request timeout: progress keeps the call alive.
    await new Promise((r) => setTimeout(r, 1_200));
    expect(await gw.end()).toBe(0);
    expect(gw.stderr()).toContain('tooltrail gateway: 1 call(s) still running 800 ms after the connection closed: their upstream requests are aborted');
    const calls = await waitForCalls(collector.dir, 0);
    const rec = calls.find((c) => c.attributes['gen_ai.tool.call.id'] === 'gone-forever');
    expect(rec?.attributes['tooltrail.outcome']).toBe('error');
    expect(String(rec?.attributes['error.message'] ?? rec?.status.message)).toContain('the gateway closed the connection with the call still running');
  }, 30_000);

  it('HTTP: the session is DELETEd while two 600 ms calls run on the server; both are recorded ok', async () => {
    const dir = tempDir('gw-gone-http');
    const log = path.join(dir, 'started.log');
    const { gw, h } = await httpSession(dir, 'gw-gone-http', loggingServer(log));
    const pending = ['gone-h1', 'gone-h2'].map((tag, i) => fetch(gw.url, { method: 'POST', headers: h, body: slow(i + 1, tag) }).then((r) => r.text()).catch(() => ''));
    await started(log, ['gone-h1', 'gone-h2']);
    const del = await fetch(gw.url, { method: 'DELETE', headers: h });
    expect(del.status).toBe(200);
    await Promise.all(pending);
    expect(await outcomes(['gone-h1', 'gone-h2'])).toEqual([['gone-h1', 'ok'], ['gone-h2', 'ok']]);
    expect(await gw.stop()).toBe(0);
  }, 30_000);

  it('HTTP: the session is DELETEd while the gateway reads the tool definition to check its pin: recorded as not forwarded, not as a pin denial', async () => {
    const dir = tempDir('gw-gone-pin');
    const log = path.join(dir, 'started.log');
    const server = loggingServer(log);
    server.stdio.env.FIXTURE_LIST_DELAY_MS = '3000';
    const { gw, h } = await httpSession(dir, 'gw-gone-pin', server);
    // No tools/list first: the call's definition is read now, and the server takes 3 s to list.
    const pending = fetch(gw.url, { method: 'POST', headers: h, body: slow(1, 'gone-pin') }).then((r) => r.text()).catch(() => '');
    await started(log, ['tools/list']);
    expect((await fetch(gw.url, { method: 'DELETE', headers: h })).status).toBe(200);
    await pending;
    const until = Date.now() + 10_000;
    let record: Awaited<ReturnType<typeof waitForCalls>>[number] | undefined;
    while (record === undefined && Date.now() < until) {
      record = (await waitForCalls(collector.dir, 0)).find((c) => c.attributes['gen_ai.tool.call.id'] === 'gone-pin');
      if (record === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    const call = record!.attributes;
    expect(call).toMatchObject({ 'tooltrail.outcome': 'error', 'tooltrail.decision': 'allow', 'error.type': 'RelayedError' });
    expect(record!.status.message).toContain('the connection closed before the call was forwarded: it was not sent to the server');
    expect(call['tooltrail.refused.by']).toBeUndefined();
    // The server never ran it.
    expect(readFileSync(log, 'utf8').split('\n')).not.toContain('gone-pin');
    expect(await gw.stop()).toBe(0);
  }, 30_000);
});
