import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll } from '../../core/test/collector-harness.js';
import { closeStdio, newClient, stdioGateway, tempDir, writeConfig, resultText as text } from './fixtures/harness.js';
import { hostileServer, INIT, INITIALIZED, rawStdioGateway } from './fixtures/hostile-harness.js';

/** A server that lists too much or loops its cursor: the list is refused with the limit named, never cut short. */

afterAll(() => killAll());

// These tests are about the gateway's bounds, not the trail: an endpoint nobody listens on (port 9, discard).
const NO_COLLECTOR = 'http://127.0.0.1:9';

async function gatewayWith(env: Record<string, string>) {
  const dir = tempDir('gw-hostile-lists');
  const config = writeConfig(dir, { audit: { endpoint: NO_COLLECTOR, shutdownTimeoutMs: 500, spoolDir: path.join(dir, 'spool') }, servers: [hostileServer('bad', { principal: { id: 'svc:lists' } }, env)] });
  return stdioGateway(config, newClient());
}

describe('a server that lists too much', () => {
  it('refuses a list of 20,000 tools with an error naming the limit, instead of cutting it short', async () => {
    const { client, transport } = await gatewayWith({ HOSTILE_TOOLS: '20000', HOSTILE_PAGE: '1000' });
    await expect(client.listTools()).rejects.toThrow('server "bad": tools/list refused: more than 10000 items (the gateway\'s limit); a list cut short would hide what the server offers');
    // The connection stays usable, and a call cannot go around the refused list: its definition
    // cannot be checked against its pin, so it is denied (recorded), not sent unchecked.
    const r = await client.callTool({ name: 'ok', arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/the definition of tool ok could not be read from server bad to check it against its pin \(server "bad": tools\/list refused: more than 10000 items/);
    await closeStdio(client, transport);
  });

  it('refuses a list of more than 100 pages', async () => {
    const { client, transport } = await gatewayWith({ HOSTILE_TOOLS: '2000', HOSTILE_PAGE: '10' });
    await expect(client.listTools()).rejects.toThrow(/tools\/list refused: more than 100 pages \(the gateway's limit\)/);
    await closeStdio(client, transport);
  });

  it('refuses a list with two tools of one name, and a call to that name is denied, not sent', async () => {
    const { client, transport } = await gatewayWith({ HOSTILE_DUPLICATE: '1' });
    await expect(client.listTools()).rejects.toThrow('server "bad": tools/list refused: two items of "tools" are named "ok"; a list cut short would hide what the server offers');
    const r = await client.callTool({ name: 'ok', arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('the definition of tool ok could not be read from server bad to check it against its pin');
    await closeStdio(client, transport);
  });

  it('detects a nextCursor that repeats', async () => {
    const { client, transport } = await gatewayWith({ HOSTILE_CURSOR: 'repeat' });
    await expect(client.listTools()).rejects.toThrow('server "bad": tools/list refused: nextCursor "same" repeats an earlier page\'s; a list cut short would hide what the server offers');
    await closeStdio(client, transport);
  });
});

describe('a list of many pages', () => {
  it('pages without piling listeners on the agent request\'s signal, and a cancelled list stops paging', async () => {
    const dir = tempDir('gw-hostile-pages');
    const log = path.join(dir, 'pages.log');
    // 960 tools, 10 a page: 96 pages, each answered 20 ms late.
    const env = { HOSTILE_TOOLS: '950', HOSTILE_PAGE: '10', HOSTILE_PAGE_DELAY_MS: '20', HOSTILE_PAGE_LOG: log };
    const config = writeConfig(dir, { audit: { endpoint: NO_COLLECTOR, shutdownTimeoutMs: 500, spoolDir: path.join(dir, 'spool') }, servers: [hostileServer('bad', { principal: { id: 'svc:pages' } }, env)] });
    const gw = rawStdioGateway(config);
    gw.write(INIT);
    expect(await gw.next(15_000)).toMatchObject({ id: 0 });
    gw.write(INITIALIZED);
    gw.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    const list = await gw.next(20_000);
    expect((list?.result as { tools: unknown[] }).tools).toHaveLength(960);
    const pages = () => readFileSync(log, 'utf8').split('\n').filter((l) => l !== '').length;
    expect(pages()).toBe(96);
    // A second list, cancelled by the agent after a few pages: the gateway asks for no more.
    gw.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
    await new Promise((r) => setTimeout(r, 200));
    gw.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2, reason: 'test' } }));
    await new Promise((r) => setTimeout(r, 300));
    const afterCancel = pages();
    await new Promise((r) => setTimeout(r, 500));
    expect(pages()).toBe(afterCancel);
    expect(afterCancel - 96).toBeGreaterThan(0);
    expect(afterCancel - 96).toBeLessThan(30);
    // The connection stays usable.
    gw.write(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' }));
    expect(await gw.next(5_000)).toEqual({ jsonrpc: '2.0', id: 3, result: {} });
    // Node prints the warning when the 11th listener is added: long before this point.
    expect(gw.stderr()).not.toMatch(/MaxListenersExceededWarning/);
    // Nobody receives the trail here: the gateway's exit would wait for the export (killed in afterAll).
  }, 30_000);
});
