import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, killAll, startCollector } from '../../core/test/collector-harness.js';
import { stdioServer, tempDir, waitForCalls, writeConfig } from './fixtures/harness.js';
import { INIT, INITIALIZED, rawStdioGateway } from './fixtures/hostile-harness.js';

/**
 * A stopping gateway never says "stopped cleanly" with records undelivered: with its audit
 * endpoint down it exits 1 and says so; the next start on the same spool delivers the record.
 */

afterAll(() => killAll());

const call = (id: number, callId: string) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: 'kept' }, _meta: { 'tooltrail/callId': callId } } });

describe('the gateway exit code', () => {
  it('is 1 with the collector down (the record stays spooled), and the next start delivers it and exits 0', async () => {
    const dir = tempDir('gw-exit');
    const spoolDir = path.join(dir, 'spool');
    const server = stdioServer('files', { principal: { id: 'svc:exit', type: 'service' } });
    const down = `http://127.0.0.1:${await freePort()}`;
    const first = rawStdioGateway(writeConfig(dir, { serviceName: 'gw-exit', audit: { endpoint: down, spoolDir, shutdownTimeoutMs: 500 }, servers: [server] }));
    first.write(INIT);
    const init = await first.next(10_000);
    expect(init).toMatchObject({ id: 0, result: { protocolVersion: '2025-06-18' } });
    first.write(INITIALIZED);
    first.write(call(1, 'exit-spooled'));
    expect(await first.next(10_000)).toMatchObject({ id: 1, result: { content: [{ type: 'text', text: 'files:kept' }] } });
    expect(await first.end()).toBe(1);
    expect(first.stderr()).toContain('tooltrail gateway: stopped with records not delivered to the audit endpoint');

    const collector = await startCollector();
    const second = rawStdioGateway(writeConfig(tempDir('gw-exit-2'), { serviceName: 'gw-exit', audit: { endpoint: collector.url, spoolDir }, servers: [server] }));
    second.write(INIT);
    expect(await second.next(10_000)).toMatchObject({ id: 0 });
    const calls = await waitForCalls(collector.dir, 1);
    expect(calls.map((c) => c.attributes['gen_ai.tool.call.id'])).toEqual(['exit-spooled']);
    expect(calls[0]!.attributes['tooltrail.outcome']).toBe('ok');
    expect(await second.end()).toBe(0);
  }, 30_000);
});
