import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync as keyPair } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { newToken } from '@tooltrail/cli';
import { mintRunToken } from '@tooltrail/core';
import { killAll, startCollector, type Collector } from '../../core/test/collector-harness.js';
import { executeTool, httpClient, httpGateway, stdioServer, tempDir, verifyDir, writeConfig, resultText as text } from './fixtures/harness.js';

/**
 * Identity over HTTP: the bearer token names the connection's principal (a gateway tokens file
 * with principal and agent), and with `runTokens.require` a call needs a run token signed by
 * the agent's key, for that principal. Forged `_meta` claims are denied and recorded.
 */

let collector: Collector;
let gateway: Awaited<ReturnType<typeof httpGateway>>;
let client: Client;
let privateKey: ReturnType<typeof keyPair>['privateKey'];
let otherKey: ReturnType<typeof keyPair>['privateKey'];

beforeAll(async () => {
  collector = await startCollector();
  const dir = tempDir('gw-identity');
  const keys = keyPair('ed25519');
  privateKey = keys.privateKey;
  otherKey = keyPair('ed25519').privateKey;
  const publicKey = path.join(dir, 'agent-run.pub.pem');
  writeFileSync(publicKey, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  chmodSync(publicKey, 0o644);
  const { token, entry } = newToken('alice-agent');
  const tokensFile = path.join(dir, 'gateway-tokens.json');
  writeFileSync(tokensFile, JSON.stringify({ version: 1, writers: [{ ...entry, principal: { id: 'user:alice', type: 'user' }, agent: { name: 'alice-bot' } }] }));
  chmodSync(tokensFile, 0o600);
  const config = writeConfig(dir, {
    serviceName: 'gw-identity-test',
    listen: { http: { host: '127.0.0.1', port: 0, tokensFile } },
    audit: { endpoint: collector.url, spoolDir: `${dir}/spool` },
    runTokens: { publicKey, require: true },
    servers: [stdioServer('files')],
  });
  gateway = await httpGateway(config);
  client = await httpClient(gateway.url, token);
});

afterAll(() => killAll());

const token = (principal: { id: string; type?: string }, runId: string, key = privateKey): string =>
  mintRunToken({ runId, principal, agent: { name: 'alice-bot' }, expiresInMs: 60_000 }, key);

describe('run tokens at the gateway (HTTP, runTokens.require)', () => {
  it('runs a call whose run token is signed for the connection principal, under that run', async () => {
    const r = await client.callTool({ name: 'echo', arguments: { text: 'hi' }, _meta: { 'tooltrail/callId': 'verified', 'tooltrail/runToken': token({ id: 'user:alice', type: 'user' }, 'run-alice-1') } });
    expect(text(r)).toBe('files:hi');
  });

  it('denies a call without a run token, with a forged one, one signed by another key, and a valid one for another principal', async () => {
    const cases: [string, Record<string, unknown>][] = [
      ['no-token', {}],
      ['forged', { 'tooltrail/runToken': 'tt1.eyJydW5JZCI6InJ1bi14In0.AAAA' }],
      ['other-key', { 'tooltrail/runToken': token({ id: 'user:alice', type: 'user' }, 'run-x', otherKey) }],
      ['other-principal', { 'tooltrail/runToken': token({ id: 'user:mallory', type: 'user' }, 'run-mallory') }],
    ];
    for (const [id, meta] of cases) {
      const r = await client.callTool({ name: 'echo', arguments: { text: 'hi' }, _meta: { 'tooltrail/callId': id, ...meta } });
      expect(r.isError, id).toBe(true);
      expect(text(r), id).toMatch(/denied by tooltrail\.gateway\.run-token/);
    }
  });

  it('records each at the collector under the connection principal, and the trail verifies', async () => {
    await client.close();
    await gateway.stop();
    await collector.kill();
    const byId = new Map(executeTool(collector.dir).map((c) => [String(c.attributes['gen_ai.tool.call.id']), c.attributes]));
    expect(byId.get('verified')).toMatchObject({
      'tooltrail.outcome': 'ok',
      'tooltrail.run.claim': 'verified',
      'tooltrail.run.id': 'run-alice-1',
      'user.id': 'user:alice',
      'network.transport': 'tcp',
    });
    for (const id of ['no-token', 'forged', 'other-key', 'other-principal']) {
      expect(byId.get(id), id).toMatchObject({ 'tooltrail.outcome': 'denied', 'user.id': 'user:alice' });
      expect(byId.get(id)!['tooltrail.run.id'], id).not.toBe('run-mallory');
      expect(byId.get(id)!['gen_ai.tool.call.result'], id).toBeUndefined();
    }
    expect(JSON.stringify(byId.get('other-principal'))).toContain('may not act for other principals');
    const v = verifyDir(collector.dir);
    expect([0, 3], v.out).toContain(v.status);
  });
});
