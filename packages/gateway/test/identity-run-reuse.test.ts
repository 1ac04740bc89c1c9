import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync as keyPair } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newToken } from '@tooltrail/cli';
import { mintRunToken } from '@tooltrail/core';
import { killAll, startCollector, type Collector } from '../../core/test/collector-harness.js';
import { httpClient, httpGateway, stdioServer, tempDir, waitForCalls, writeConfig, resultText as text } from './fixtures/harness.js';

/**
 * One run id is one identity on a connection: a second verified run token naming a run already
 * open for another principal (actForOthers) or another agent is refused and recorded, never
 * recorded under the first token's principal.
 */

let collector: Collector;
let url: string;
let bearer: string;
let privateKey: ReturnType<typeof keyPair>['privateKey'];

beforeAll(async () => {
  collector = await startCollector();
  const dir = tempDir('gw-run-reuse');
  const keys = keyPair('ed25519');
  privateKey = keys.privateKey;
  const publicKey = path.join(dir, 'agent-run.pub.pem');
  writeFileSync(publicKey, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  const { token, entry } = newToken('support-svc');
  bearer = token;
  const tokensFile = path.join(dir, 'gateway-tokens.json');
  writeFileSync(tokensFile, JSON.stringify({ version: 1, writers: [{ ...entry, principal: { id: 'svc:support', type: 'service' }, actForOthers: true }] }));
  chmodSync(tokensFile, 0o600);
  const gw = await httpGateway(
    writeConfig(dir, {
      serviceName: 'gw-run-reuse',
      listen: { http: { host: '127.0.0.1', port: 0, tokensFile } },
      audit: { endpoint: collector.url, spoolDir: path.join(dir, 'spool') },
      runTokens: { publicKey, require: true },
      servers: [stdioServer('files')],
    }),
  );
  url = gw.url;
});

afterAll(() => killAll());

const runToken = (principal: string, agent: string) => mintRunToken({ runId: 'run-1', principal: { id: principal, type: 'user' }, agent: { name: agent }, expiresInMs: 60_000 }, privateKey);

describe('a run id reused by another identity', () => {
  it('is refused for another principal and for another agent; the same identity again is let in', async () => {
    const client = await httpClient(url, bearer);
    const call = (callId: string, tok: string) => client.callTool({ name: 'echo', arguments: { text: callId }, _meta: { 'tooltrail/callId': callId, 'tooltrail/runToken': tok } });
    expect(text(await call('as-alice', runToken('user:alice', 'bot-a')))).toBe('files:as-alice');
    const bob = await call('as-bob', runToken('user:bob', 'bot-b'));
    expect(bob.isError).toBe(true);
    expect(text(bob)).toContain('run "run-1" is already open on this connection for another principal or agent');
    const otherAgent = await call('alice-other-agent', runToken('user:alice', 'bot-z'));
    expect(otherAgent.isError).toBe(true);
    expect(text(await call('as-alice-again', runToken('user:alice', 'bot-a')))).toBe('files:as-alice-again');
    await client.close();

    const calls = await waitForCalls(collector.dir, 4);
    const byId = new Map(calls.map((c) => [String(c.attributes['gen_ai.tool.call.id']), c.attributes]));
    for (const id of ['as-alice', 'as-alice-again']) {
      expect(byId.get(id)).toMatchObject({ 'tooltrail.outcome': 'ok', 'user.id': 'user:alice', 'gen_ai.agent.name': 'bot-a', 'tooltrail.run.id': 'run-1', 'tooltrail.run.claim': 'verified' });
    }
    for (const id of ['as-bob', 'alice-other-agent']) {
      const a = byId.get(id)!;
      // Refused under the connection's own run, never under alice's run-1.
      expect(a).toMatchObject({ 'tooltrail.outcome': 'denied', 'tooltrail.refused.by': 'tooltrail.gateway.run-token', 'user.id': 'svc:support' });
      expect(a['tooltrail.run.id']).not.toBe('run-1');
    }
  });
});
