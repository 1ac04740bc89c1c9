import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, readRecords, startCollector, type Collector } from '../../core/test/collector-harness.js';
import { closeStdio, stdioGateway, tempDir, writeConfig } from './fixtures/harness.js';

/**
 * tooltrail's `_meta` keys (a run token is a credential of the agent's side) never reach a server,
 * whatever the method: tools/call takes them out (forge-meta.test.ts), and so does every other
 * request the gateway forwards (prompts/get, resources/read, ...).
 */

const requestsServer = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures/requests-server.mjs');
const TOKEN = 'tt1.eyJydW4iOiJyLTEifQ.c2lnbmF0dXJlLW9mLWEtcnVuLXRva2Vu';

let collector: Collector;
beforeAll(async () => {
  collector = await startCollector();
});
afterAll(() => killAll());

describe('tooltrail _meta keys on requests besides tools/call', () => {
  it('are not sent on, in any case; the other keys are, and the record holds what was sent', async () => {
    const dir = tempDir('gw-requests-meta');
    const log = path.join(dir, 'server.log');
    const config = writeConfig(dir, {
      serviceName: 'gw-requests-meta',
      audit: { endpoint: collector.url, spoolDir: path.join(dir, 'spool') },
      servers: [{ name: 'files', principal: { id: 'svc:meta', type: 'service' }, stdio: { command: process.execPath, args: [requestsServer], env: { FIXTURE_NAME: 'files', FIXTURE_LOG: log } } }],
    });
    const { client, transport } = await stdioGateway(config);
    const meta = { 'tooltrail/runToken': TOKEN, 'Tooltrail/RunToken': TOKEN, 'TOOLTRAIL/other': 1, keep: 'yes', __proto__: 'own' };
    await client.getPrompt({ name: 'brief', arguments: { customer: 'Dana', notes: 'n' }, _meta: JSON.parse(JSON.stringify(meta)) } as never);
    await client.readResource({ uri: 'file:///srv/files.txt', _meta: { 'tooltrail/runToken': TOKEN } } as never);
    await closeStdio(client, transport);
    expect(existsSync(log)).toBe(true);
    const got = readFileSync(log, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { method?: string; params?: Record<string, unknown> });
    const prompt = got.find((m) => m.method === 'prompts/get')!;
    expect(Object.keys(prompt.params!._meta as object).sort()).toEqual(['keep']);
    const read = got.find((m) => m.method === 'resources/read')!;
    expect(read.params!._meta).toEqual({});
    expect(readFileSync(log, 'utf8')).not.toContain(TOKEN);
    await collector.kill();
    const records = readRecords(collector.dir).filter((r) => r.name === 'tooltrail.mcp_request');
    expect(records.map((r) => r.attributes['mcp.method.name'])).toEqual(['prompts/get', 'resources/read']);
    expect(JSON.stringify(records)).not.toContain(TOKEN);
    expect(JSON.parse(String(records[0]!.attributes['tooltrail.mcp.params']))._meta).toEqual({ keep: 'yes' });
  }, 30_000);
});
