import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { newToken } from '@tooltrail/cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, readRecords, startCollector, type Collector, type TrailRecord } from '../../core/test/collector-harness.js';
import { executeTool, httpClient, httpGateway, resultText, stdioServer, tempDir, verifyDir, writeConfig } from './fixtures/harness.js';

/**
 * A forged `_meta["tooltrail/callId"]`: the gateway records a call under the agent's id only when
 * it is a short string of a safe alphabet that no other run used in this gateway process; else
 * under a fresh id, the claim kept as evidence. Two principals on one HTTP gateway, a real
 * collector, `tooltrail verify` clean.
 */

const FRESH = /^call_[0-9a-f]{24}$/;
let collector: Collector;
let dir: string;
let gw: Awaited<ReturnType<typeof httpGateway>>;
let alice: Client;
let bob: Client;

beforeAll(async () => {
  collector = await startCollector();
  dir = tempDir('gw-forge-id');
  const a = newToken('alice-agent');
  const b = newToken('bob-agent');
  const tokensFile = path.join(dir, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify({
    version: 1,
    writers: [
      { ...a.entry, principal: { id: 'svc:alice', type: 'service' } },
      { ...b.entry, principal: { id: 'svc:bob', type: 'service' } },
    ],
  }));
  chmodSync(tokensFile, 0o600);
  writeConfig(dir, {
    serviceName: 'gw-forge-id',
    audit: { endpoint: collector.url, spoolDir: path.join(dir, 'spool') },
    listen: { http: { host: '127.0.0.1', port: 0, tokensFile } },
    servers: [stdioServer('files', { principal: { id: 'unused', type: 'service' } })],
  });
  gw = await httpGateway(path.join(dir, 'gateway.json'));
  alice = await httpClient(gw.url, a.token);
  bob = await httpClient(gw.url, b.token);
}, 30_000);

afterAll(() => killAll());

function call(client: Client, text: string, meta: unknown): Promise<unknown> {
  return client.request({ method: 'tools/call', params: { name: 'echo', arguments: { text }, _meta: meta } } as never, CallToolResultSchema);
}

const byText = (records: TrailRecord[], text: string): TrailRecord[] =>
  records.filter((r) => r.attributes['gen_ai.tool.call.arguments'] === JSON.stringify({ text }));

describe('a call id the agent claims', () => {
  it('is refused for another run, kept for the same run, and refused when malformed; every call answered and recorded', async () => {
    // alice first, bob replays her id, alice sends it again (a retry of her call)
    expect(resultText(await call(alice, 'a1', { 'tooltrail/callId': 'shared-1' }))).toBe('files:a1');
    expect(resultText(await call(bob, 'b1', { 'tooltrail/callId': 'shared-1' }))).toBe('files:b1');
    expect(resultText(await call(alice, 'a2', { 'tooltrail/callId': 'shared-1' }))).toBe('files:a2');
    const malformed: [string, unknown, string, string][] = [
      ['m-number', 42, '42', 'not_string'],
      ['m-object', { id: 'x' }, '{"id":"x"}', 'not_string'],
      ['m-array', ['x'], '["x"]', 'not_string'],
      ['m-null', null, 'null', 'not_string'],
      ['m-empty', '', '""', 'empty'],
      ['m-newline', 'call-1\ncall-2\u0000', '"call-1\\ncall-2\\u0000"', 'charset'],
      ['m-space', 'call 1', '"call 1"', 'charset'],
      ['m-huge', 'a'.repeat(1024 * 1024), `"${'a'.repeat(126)}…`, 'too_long'],
      ['m-129', 'b'.repeat(129), `"${'b'.repeat(126)}…`, 'too_long'],
    ];
    for (const [text, id] of malformed) expect(resultText(await call(bob, text, { 'tooltrail/callId': id }))).toBe(`files:${text}`);
    // the longest id accepted, of every allowed character
    const longest = `${'A-z0.9_:+=/@'.repeat(10)}12345678`;
    expect(longest).toHaveLength(128);
    expect(resultText(await call(bob, 'b-longest', { 'tooltrail/callId': longest }))).toBe('files:b-longest');

    await bob.close();
    await alice.close();
    expect(await gw.stop()).toBe(0);
    await collector.kill();

    const calls = executeTool(collector.dir);
    expect(calls).toHaveLength(4 + malformed.length);
    const [a1] = byText(calls, 'a1');
    const [b1] = byText(calls, 'b1');
    const [a2] = byText(calls, 'a2');
    expect(a1!.attributes).toMatchObject({ 'gen_ai.tool.call.id': 'shared-1', 'user.id': 'svc:alice', 'tooltrail.outcome': 'ok' });
    expect(a1!.attributes['tooltrail.call_id.rejected']).toBeUndefined();
    // bob's call is his own, under a fresh id, with what he claimed
    expect(b1!.attributes).toMatchObject({ 'user.id': 'svc:bob', 'tooltrail.outcome': 'ok', 'tooltrail.call_id.claimed': '"shared-1"', 'tooltrail.call_id.rejected': 'reused' });
    expect(b1!.attributes['gen_ai.tool.call.id']).toMatch(FRESH);
    // alice's own run sending her id again is a retry of her call (attempt 2), as in the wrapper
    expect(a2!.attributes).toMatchObject({ 'gen_ai.tool.call.id': 'shared-1', 'user.id': 'svc:alice', 'tooltrail.outcome': 'ok' });
    const attempts = readRecords(collector.dir).filter((r) => r.parentSpanId === a2!.spanId && r.name.startsWith('tool_attempt'));
    expect(attempts.map((r) => r.attributes['tooltrail.attempt'])).toEqual([2]);
    expect(a2!.attributes['tooltrail.call_id.rejected']).toBeUndefined();
    expect(a2!.attributes['tooltrail.run.id']).toBe(a1!.attributes['tooltrail.run.id']);

    for (const [text, , claimed, why] of malformed) {
      const [r] = byText(calls, text);
      expect(r!.attributes).toMatchObject({ 'user.id': 'svc:bob', 'tooltrail.call_id.claimed': claimed, 'tooltrail.call_id.rejected': why });
      expect(r!.attributes['gen_ai.tool.call.id']).toMatch(FRESH);
      expect((r!.attributes['tooltrail.call_id.claimed'] as string).length).toBeLessThanOrEqual(128);
    }
    const [longestCall] = byText(calls, 'b-longest');
    expect(longestCall!.attributes['gen_ai.tool.call.id']).toBe(longest);
    // every id in the trail names one call, but for alice's retry
    const ids = calls.map((c) => c.attributes['gen_ai.tool.call.id']);
    expect(new Set(ids).size).toBe(ids.length - 1);
    // 3: clean, but no --public-key to authenticate the checkpoints
    const verified = verifyDir(collector.dir);
    expect(verified.status, verified.out).toBe(3);
    expect(verified.out).toContain('(gw-forge-id): 17 records');
    expect(verified.out).toContain('no findings in what was checked');
  }, 30_000);
});
