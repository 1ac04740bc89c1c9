import { chmodSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { mintRunToken } from '@tooltrail/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, readRecords, startCollector, type Collector, type TrailRecord } from '../../core/test/collector-harness.js';
import { closeStdio, executeTool, resultText, stdioGateway, stdioServer, tempDir, writeConfig } from './fixtures/harness.js';
import { INIT, rawStdioGateway } from './fixtures/hostile-harness.js';

/**
 * What else an agent can put in `params._meta`: a `_meta` that is no object, a huge one, keys of
 * tooltrail's namespace, a broken or foreign trace context, a run token of the wrong type or
 * twice. Every call is answered and recorded; identity comes from the connection and a verified
 * run token only; the server sees no `tooltrail/` key.
 */

const PRINCIPAL = { id: 'svc:files-agent', type: 'service' };
const keys = generateKeyPairSync('ed25519');
let collector: Collector;
let dir: string;
let config: string;

beforeAll(async () => {
  collector = await startCollector();
  dir = tempDir('gw-forge-meta');
  const publicKey = path.join(dir, 'run.pub.pem');
  writeFileSync(publicKey, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  chmodSync(publicKey, 0o644);
  config = writeConfig(dir, {
    serviceName: 'gw-forge-meta',
    audit: { endpoint: collector.url, spoolDir: path.join(dir, 'spool') },
    runTokens: { publicKey },
    servers: [stdioServer('files', { principal: PRINCIPAL, agent: { name: 'files-agent' } })],
  });
});

afterAll(() => killAll());

const seen = (r: unknown): string[] => (r as { _meta: { seenMeta: string[] } })._meta.seenMeta;
const byText = (records: TrailRecord[], text: string): TrailRecord => {
  const found = records.filter((r) => r.attributes['gen_ai.tool.call.arguments'] === JSON.stringify({ text }));
  expect(found, text).toHaveLength(1);
  return found[0]!;
};
const FOREIGN_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const token = (runId: string) => mintRunToken({ runId, principal: PRINCIPAL, agent: { name: 'files-agent' }, expiresInMs: 60_000 }, keys.privateKey);

describe('a forged _meta', () => {
  it('is answered and recorded whatever it holds; only verified identity decides the run', async () => {
    const { client, transport } = await stdioGateway(config);
    const call = (text: string, meta: unknown) =>
      client.request({ method: 'tools/call', params: { name: 'echo', arguments: { text }, _meta: meta } } as never, CallToolResultSchema);
    const cases: [string, unknown, string[]][] = [
      ['array', ['tooltrail/runToken', 'x'], ['traceparent']],
      ['string', 'x'.repeat(1024 * 1024), ['traceparent']],
      ['null', null, ['traceparent']],
      ['number', 7, ['traceparent']],
      ['ours', { 'tooltrail/other': 1, 'Tooltrail/RunToken': token('cased'), 'tooltrail/callId': 'ours-1', keep: 'yes' }, ['keep', 'traceparent']],
      ['badparent', { traceparent: 'garbage', tracestate: 'vendor=1' }, ['traceparent', 'tracestate']],
      ['hugeparent', { traceparent: `00-${'a'.repeat(1024 * 1024)}`, tracestate: 'x'.repeat(513) }, ['traceparent']],
      ['zeroparent', { traceparent: `00-${'0'.repeat(32)}-b7ad6b7169203331-01` }, ['traceparent']],
      ['foreign', { traceparent: `00-${FOREIGN_TRACE}-b7ad6b7169203331-01` }, ['traceparent']],
      // the SDK would drop these messages unanswered: the gateway takes the key out and answers
      ['badprogress', { progressToken: { x: 1 }, 'io.modelcontextprotocol/related-task': 'task', keep: 1 }, ['keep', 'traceparent']],
      ['floatprogress', { progressToken: 1.5 }, ['traceparent']],
      ['tokennumber', { 'tooltrail/runToken': 7 }, ['traceparent']],
      ['tokenargs', { 'tooltrail/runToken': `${token('unsigned-run').split('.').slice(0, 2).join('.')}.` }, ['traceparent']],
    ];
    for (const [text, meta, keysSeen] of cases) expect(seen(await call(text, meta)), text).toEqual(keysSeen);
    // a huge _meta object: 5,000 keys and a 1 MiB value: over 16 KiB, so only the keys the
    // gateway understands go on (an unrecorded megabyte to the server would be a channel past the trail)
    const big: Record<string, unknown> = { blob: 'y'.repeat(1024 * 1024), progressToken: 'p-big', tracestate: 'v=1' };
    for (let i = 0; i < 5000; i++) big[`k${i}`] = i;
    expect(seen(await call('big', big))).toEqual(['progressToken', 'traceparent', 'tracestate']);
    // just under the bound: passed on whole, and recorded
    const under: Record<string, unknown> = { blob: 'z'.repeat(16 * 1024 - 40) };
    const underJson = JSON.stringify(under);
    expect(Buffer.byteLength(underJson)).toBeLessThanOrEqual(16 * 1024);
    expect(seen(await call('under', under))).toEqual(['blob', 'traceparent']);
    // what the server receives besides the arguments is data of the call: recorded, masked
    const secret = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc9x2Y';
    expect(seen(await call('secretmeta', { note: `mail dana.whitfield@example.org`, apiKey: secret, progressToken: 3 }))).toEqual(['apiKey', 'note', 'progressToken', 'traceparent']);
    expect(seen(await call('progressonly', { progressToken: 'p1' }))).toEqual(['progressToken', 'traceparent']);
    // a valid run token in the arguments is the tool's data, not identity; the one in _meta decides
    const inArgs = await client.request(
      { method: 'tools/call', params: { name: 'echo', arguments: { text: 'inargs', runToken: token('args-run') }, _meta: { 'tooltrail/runToken': token('meta-run') } } } as never,
      CallToolResultSchema,
    );
    expect(resultText(inArgs)).toBe('files:inargs');
    await closeStdio(client, transport);

    // a run token twice in one _meta (raw JSON): the last one is what the gateway and the server's JSON parser both read
    const raw = rawStdioGateway(config);
    raw.write(INIT);
    await raw.next();
    raw.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    const twice = `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","arguments":{"text":"twice"},"_meta":{"tooltrail/runToken":${JSON.stringify(token('first-run'))},"tooltrail/runToken":"tt1.x.y"}}}`;
    raw.write(twice);
    expect((await raw.next())?.result).toMatchObject({ content: [{ type: 'text', text: 'files:twice' }] });
    await raw.end();
    await collector.kill();

    const calls = executeTool(collector.dir);
    expect(calls).toHaveLength(cases.length + 6);
    for (const type of ['array', 'string', 'null', 'number']) {
      expect(byText(calls, type).attributes).toMatchObject({ 'tooltrail.mcp.meta.type': type, 'tooltrail.run.claim': 'none', 'tooltrail.outcome': 'ok', 'user.id': PRINCIPAL.id });
    }
    const ours = byText(calls, 'ours').attributes;
    expect(ours).toMatchObject({ 'gen_ai.tool.call.id': 'ours-1', 'tooltrail.run.claim': 'none', 'tooltrail.mcp.meta.dropped': '["tooltrail/other","Tooltrail/RunToken"]' });
    expect(byText(calls, 'badprogress').attributes['tooltrail.mcp.meta.dropped']).toBe('["progressToken","io.modelcontextprotocol/related-task"]');
    expect(byText(calls, 'floatprogress').attributes['tooltrail.mcp.meta.dropped']).toBe('["progressToken"]');
    expect(byText(calls, 'badparent').attributes['tooltrail.mcp.meta.dropped']).toBe('["traceparent"]');
    expect(byText(calls, 'hugeparent').attributes['tooltrail.mcp.meta.dropped']).toBe('["traceparent","tracestate"]');
    expect(byText(calls, 'zeroparent').attributes['tooltrail.mcp.meta.dropped']).toBe('["traceparent"]');
    // a broken parent: the call stays in the gateway's own trace, under its connection's run
    const runs = readRecords(collector.dir).filter((r) => r.name.startsWith('invoke_agent'));
    const connectionRun = runs.find((r) => r.attributes['tooltrail.run.id'] === byText(calls, 'array').attributes['tooltrail.run.id'])!;
    for (const text of ['array', 'badparent', 'hugeparent', 'zeroparent']) {
      expect(byText(calls, text).traceId, text).toBe(connectionRun.traceId);
      expect(byText(calls, text).parentSpanId, text).toBe(connectionRun.spanId);
    }
    // a parent in another run's trace: the span hangs there, but the run it is recorded under is the connection's
    const foreign = byText(calls, 'foreign');
    expect(foreign.traceId).toBe(FOREIGN_TRACE);
    expect(foreign.parentSpanId).toBe('b7ad6b7169203331');
    expect(foreign.attributes).toMatchObject({ 'tooltrail.run.id': connectionRun.attributes['tooltrail.run.id'], 'user.id': PRINCIPAL.id, 'tooltrail.run.claim': 'none' });
    expect(foreign.attributes['tooltrail.mcp.meta.dropped']).toBeUndefined();
    expect(byText(calls, 'tokennumber').attributes).toMatchObject({ 'tooltrail.run.claim': 'invalid', 'tooltrail.run.claim.reason': 'malformed', 'tooltrail.run.id': connectionRun.attributes['tooltrail.run.id'] });
    expect(byText(calls, 'tokenargs').attributes).toMatchObject({ 'tooltrail.run.claim': 'unsigned', 'tooltrail.run.claim.reason': 'unsigned' });
    const bigCall = byText(calls, 'big').attributes;
    expect(bigCall).toMatchObject({ 'tooltrail.outcome': 'ok', 'tooltrail.run.claim': 'none', 'tooltrail.mcp.meta': '{"progressToken":"[REDACTED:token]","tracestate":"v=1"}' });
    expect(JSON.parse(String(bigCall['tooltrail.mcp.meta.dropped']))).toEqual(['blob', ...Array.from({ length: 15 }, (_, i) => `k${i}`), '… 4985 more']);
    expect(byText(calls, 'under').attributes['tooltrail.mcp.meta']).toBe(underJson);
    expect(byText(calls, 'under').attributes['tooltrail.mcp.meta.dropped']).toBeUndefined();
    const secretMeta = String(byText(calls, 'secretmeta').attributes['tooltrail.mcp.meta']);
    expect(Object.keys(JSON.parse(secretMeta)).sort()).toEqual(['apiKey', 'note', 'progressToken']);
    expect(secretMeta).not.toContain(secret);
    expect(secretMeta).not.toContain('dana.whitfield');
    expect(JSON.stringify(readRecords(collector.dir))).not.toContain(secret);
    expect(byText(calls, 'progressonly').attributes['tooltrail.mcp.meta']).toBeUndefined();
    expect(byText(calls, 'array').attributes['tooltrail.mcp.meta']).toBeUndefined();
    expect(byText(calls, 'ours').attributes['tooltrail.mcp.meta']).toBe('{"keep":"yes"}');
    // the token in the arguments is recorded masked, and the run is the _meta token's
    const argsCall = calls.find((c) => c.attributes['tooltrail.run.id'] === 'meta-run')!;
    expect(argsCall.attributes['tooltrail.run.claim']).toBe('verified');
    expect(String(argsCall.attributes['gen_ai.tool.call.arguments'])).not.toContain('tt1.');
    const dup = calls.find((c) => String(c.attributes['gen_ai.tool.call.arguments']).includes('twice'))!;
    expect(dup.attributes).toMatchObject({ 'tooltrail.run.claim': 'invalid', 'tooltrail.run.claim.reason': 'base64' });
    expect(dup.attributes['tooltrail.run.id']).not.toBe('first-run');
  }, 30_000);
});
