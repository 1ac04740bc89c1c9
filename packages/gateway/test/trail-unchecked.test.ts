import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, startCollector, type Collector } from '../../core/test/collector-harness.js';
import { closeStdio, stdioGateway, stdioServer, tempDir, verifyDir, waitForCalls, writeConfig, resultText as text } from './fixtures/harness.js';
import { hostileServer } from './fixtures/hostile-harness.js';

/**
 * A call whose tool definition cannot be checked against its pin is never sent unchecked: a tool
 * the server does not list, and a call to a server whose tools/list the gateway refused, are
 * denied by tooltrail.gateway.pins and recorded, at a real collector.
 */

let collector: Collector;

beforeAll(async () => {
  collector = await startCollector();
});

afterAll(() => killAll());

function config(name: string, server: Record<string, unknown>): string {
  const dir = tempDir(`gw-unchecked-${name}`);
  return writeConfig(dir, { serviceName: `gw-unchecked-${name}`, audit: { endpoint: collector.url, spoolDir: path.join(dir, 'spool') }, servers: [server] });
}

describe('calls the gateway cannot check against a pin', () => {
  it('a tool the server does not list, and a call past a refused list, are denied and recorded', async () => {
    const principal = { principal: { id: 'svc:unchecked', type: 'service' } };
    const listed = await stdioGateway(config('unlisted', stdioServer('files', principal)));
    const r = await listed.client.callTool({ name: 'not_listed', arguments: { path: '/etc/passwd' }, _meta: { 'tooltrail/callId': 'unchecked-unlisted' } });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('server files does not list a tool not_listed');
    // A listed tool still runs.
    expect(text(await listed.client.callTool({ name: 'echo', arguments: { text: 'hi' }, _meta: { 'tooltrail/callId': 'unchecked-echo' } }))).toBe('files:hi');
    await closeStdio(listed.client, listed.transport);

    const refused = await stdioGateway(config('refused', hostileServer('bad', principal, { HOSTILE_TOOLS: '20000', HOSTILE_PAGE: '1000' })));
    const r2 = await refused.client.callTool({ name: 'ok', arguments: {}, _meta: { 'tooltrail/callId': 'unchecked-refused' } });
    expect(r2.isError).toBe(true);
    await closeStdio(refused.client, refused.transport);

    const calls = await waitForCalls(collector.dir, 3);
    const byId = new Map(calls.map((c) => [String(c.attributes['gen_ai.tool.call.id']), c.attributes]));
    expect(byId.get('unchecked-unlisted')).toMatchObject({
      'tooltrail.outcome': 'denied',
      'tooltrail.refused.by': 'tooltrail.gateway.pins',
      'tooltrail.refused.reason': 'server files does not list a tool not_listed: a tool without a listed definition cannot be pinned, so it is not called',
      'user.id': 'svc:unchecked',
    });
    expect(byId.get('unchecked-refused')).toMatchObject({ 'tooltrail.outcome': 'denied', 'tooltrail.refused.by': 'tooltrail.gateway.pins' });
    expect(String(byId.get('unchecked-refused')!['tooltrail.refused.reason'])).toMatch(/^the definition of tool ok could not be read from server bad to check it against its pin \(.*more than 10000 items/);
    expect(byId.get('unchecked-echo')).toMatchObject({ 'tooltrail.outcome': 'ok' });
    // Stopped, the collector seals its file: verify judges a closed trail.
    await collector.kill();
    const v = verifyDir(collector.dir);
    expect([0, 3], v.out).toContain(v.status);
    expect(v.out).toContain('(gw-unchecked-unlisted): 4 records');
  });
});
