import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll } from '../../core/test/collector-harness.js';
import { closeStdio, newClient, stdioGateway, tempDir, writeConfig, resultText as text } from './fixtures/harness.js';
import { hostileServer } from './fixtures/hostile-harness.js';

/** A server that lists too much or loops its cursor: the list is refused with the limit named, never cut short. */

afterAll(() => killAll());

async function gatewayWith(env: Record<string, string>) {
  const dir = tempDir('gw-hostile-lists');
  // No audit endpoint: these tests are about the gateway's bounds, not the trail.
  const config = writeConfig(dir, { audit: { spoolDir: path.join(dir, 'spool') }, servers: [hostileServer('bad', { principal: { id: 'svc:lists' } }, env)] });
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
    expect(text(r)).toMatch(/the definition of tool ok could not be read from server bad to check it against its pin: server "bad": tools\/list refused: more than 10000 items/);
    await closeStdio(client, transport);
  });

  it('refuses a list of more than 100 pages', async () => {
    const { client, transport } = await gatewayWith({ HOSTILE_TOOLS: '2000', HOSTILE_PAGE: '10' });
    await expect(client.listTools()).rejects.toThrow(/tools\/list refused: more than 100 pages \(the gateway's limit\)/);
    await closeStdio(client, transport);
  });

  it('detects a nextCursor that repeats', async () => {
    const { client, transport } = await gatewayWith({ HOSTILE_CURSOR: 'repeat' });
    await expect(client.listTools()).rejects.toThrow('server "bad": tools/list refused: nextCursor "same" repeats an earlier page\'s; a list cut short would hide what the server offers');
    await closeStdio(client, transport);
  });
});
