import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, startCollector, type Collector } from '../../core/test/collector-harness.js';
import { executeTool, tempDir, verifyDir, writeConfig } from './fixtures/harness.js';
import { hostileServer, INIT, INITIALIZED, rawStdioGateway, type RawGateway } from './fixtures/hostile-harness.js';

/** A stdio agent that writes broken JSON-RPC: each line gets the error the spec names, and the gateway stays up. */

let collector: Collector;
let gw: RawGateway;

beforeAll(async () => {
  collector = await startCollector();
  const dir = tempDir('gw-hostile-agent');
  const config = writeConfig(dir, {
    audit: { endpoint: collector.url, spoolDir: path.join(dir, 'spool') },
    servers: [hostileServer('bad', { principal: { id: 'svc:raw-agent' } })],
  });
  gw = rawStdioGateway(config);
  gw.write(INIT);
  expect(await gw.next(15_000)).toMatchObject({ id: 0, result: { serverInfo: { name: 'hostile' } } });
  gw.write(INITIALIZED);
});

afterAll(() => killAll());

const call = (id: unknown, callId: string) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'ok', arguments: {}, _meta: { 'tooltrail/callId': callId } } });

describe('a stdio agent that breaks the protocol', () => {
  it('answers each broken line with the JSON-RPC error the spec names', async () => {
    const cases: [string, number, unknown, RegExp][] = [
      ['this is not json', -32700, null, /not JSON/],
      ['{"jsonrpc":"2.0","id":1,"method":', -32700, null, /not JSON/],
      ['42', -32600, null, /JSON object/],
      ['"a string"', -32600, null, /JSON object/],
      ['[{"jsonrpc":"2.0","id":2,"method":"ping"}]', -32600, null, /batch/],
      ['{"jsonrpc":"1.0","id":3,"method":"ping"}', -32600, 3, /"jsonrpc" must be "2.0"/],
      ['{"id":4,"method":"ping"}', -32600, 4, /"jsonrpc" must be "2.0"/],
      ['{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}', -32600, null, /"id" must be a string or an integer/],
      ['{"jsonrpc":"2.0","id":1.5,"method":"ping"}', -32600, null, /"id" must be a string or an integer/],
      ['{"jsonrpc":"2.0","id":5}', -32600, 5, /needs a "method"/],
      ['{"jsonrpc":"2.0","id":6,"method":7}', -32600, 6, /"method" must be a non-empty string/],
      ['{"jsonrpc":"2.0","id":7,"method":"tools/call","params":[1]}', -32600, 7, /"params" must be an object/],
    ];
    for (const [line, code, id, says] of cases) {
      gw.write(line);
      const answer = await gw.next();
      expect(answer, line).toMatchObject({ jsonrpc: '2.0', id, error: { code } });
      expect((answer!.error as { message: string }).message, line).toMatch(says);
    }
  });

  it('ignores a response to nothing and an error without an id, and answers the next call', async () => {
    gw.write('{"jsonrpc":"2.0","id":999,"result":{}}');
    gw.write('{"jsonrpc":"2.0","error":{"code":-1,"message":"x"}}');
    gw.write(call(10, 'after-stray'));
    expect(await gw.next()).toMatchObject({ id: 10, result: { content: [{ text: 'fine' }] } });
  });

  it('skips a line over 32 MiB without dropping the connection', async () => {
    const huge = JSON.stringify({ jsonrpc: '2.0', id: 11, method: 'ping', params: { pad: 'x'.repeat(33 * 1024 * 1024) } });
    gw.write(huge);
    const answer = await gw.next(20_000);
    expect(answer).toMatchObject({ id: null, error: { code: -32700 } });
    expect((answer!.error as { message: string }).message).toBe('a message over 33554432 bytes is not read');
    gw.write(call('after-huge', 'after-huge'));
    expect(await gw.next()).toMatchObject({ id: 'after-huge', result: { content: [{ text: 'fine' }] } });
  });

  it('answers a call with a string id, and records every call that reached it', async () => {
    gw.write(call('str-id', 'string-id'));
    expect(await gw.next()).toMatchObject({ id: 'str-id', result: { content: [{ text: 'fine' }] } });
    expect(await gw.end()).toBe(0);
    await collector.kill();
    const calls = executeTool(collector.dir).map((c) => [c.attributes['gen_ai.tool.call.id'], c.attributes['tooltrail.outcome'], c.attributes['jsonrpc.request.id']]);
    expect(calls).toEqual([
      ['after-stray', 'ok', '10'],
      ['after-huge', 'ok', 'after-huge'],
      ['string-id', 'ok', 'str-id'],
    ]);
    const v = verifyDir(collector.dir);
    expect([0, 3], v.out).toContain(v.status);
  });
});
