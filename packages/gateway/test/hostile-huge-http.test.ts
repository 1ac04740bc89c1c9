import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, startCollector, type Collector } from '../../core/test/collector-harness.js';
import { httpClient, httpGateway, startHttpFixture, tempDir, waitForCalls, writeConfig, writeTokens, resultText } from './fixtures/harness.js';

/** A 16 MB result from a Streamable HTTP server, through an HTTP gateway: whole, and recorded. */

let collector: Collector;
beforeAll(async () => {
  collector = await startCollector();
});
afterAll(() => killAll());

describe('a huge result over HTTP on both legs', () => {
  it('arrives whole (its SSE event split across many chunks) and is recorded ok', async () => {
    const up = await startHttpFixture('remote');
    const dir = tempDir('gw-huge-http');
    const tokens = writeTokens(dir, 'agent');
    const gw = await httpGateway(
      writeConfig(dir, {
        serviceName: 'gw-huge-http',
        listen: { http: { host: '127.0.0.1', port: 0, tokensFile: tokens.file } },
        audit: { endpoint: collector.url, spoolDir: path.join(dir, 'spool') },
        servers: [{ name: 'remote', http: { url: up.url } }],
      }),
    );
    const client = await httpClient(gw.url, tokens.token);
    const bytes = 16_000_000;
    const r = await client.callTool({ name: 'huge', arguments: { bytes }, _meta: { 'tooltrail/callId': 'huge-http' } }, undefined, { timeout: 60_000 });
    const text = resultText(r);
    expect(text.length).toBe(bytes);
    expect(/^x+$/.test(text)).toBe(true);
    await client.close();
    expect(await gw.stop()).toBe(0);
    const calls = await waitForCalls(collector.dir, 1);
    expect(calls.map((c) => [c.attributes['gen_ai.tool.call.id'], c.attributes['tooltrail.outcome']])).toEqual([['huge-http', 'ok']]);
  }, 60_000);
});
