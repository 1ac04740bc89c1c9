import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createAuditor } from '@tooltrail/core';
import { auditMcpClient } from '@tooltrail/mcp';
import { newToken } from '@tooltrail/cli';
import { afterAll, describe, expect, it } from 'vitest';
import { buildReport } from '../../cli/src/review/report/build.js';
import { killAll, startCollector } from '../../core/test/collector-harness.js';
import { executeTool, httpClient, httpGateway, resultText, stdioServer, tempDir, writeConfig } from './fixtures/harness.js';

/**
 * `tooltrail report` must not pair an agent's record with another principal's gateway record
 * that claims the same call id: bob's agent sends alice's next call id before she does.
 */

afterAll(() => killAll());

describe('the boundary join and a replayed call id', () => {
  it('pairs by call id and principal; the replay and the victim\'s call stay unpaired and flagged', async () => {
    const collector = await startCollector();
    const dir = tempDir('gw-forge-join');
    const a = newToken('alice-agent');
    const b = newToken('bob-agent');
    const tokensFile = path.join(dir, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify({ version: 1, writers: [{ ...a.entry, principal: { id: 'svc:alice' } }, { ...b.entry, principal: { id: 'svc:bob' } }] }));
    chmodSync(tokensFile, 0o600);
    writeConfig(dir, {
      serviceName: 'gw-forge-join',
      audit: { endpoint: collector.url, spoolDir: path.join(dir, 'gw-spool') },
      listen: { http: { host: '127.0.0.1', port: 0, tokensFile } },
      servers: [stdioServer('files', { principal: { id: 'unused' } })],
    });
    const gw = await httpGateway(path.join(dir, 'gateway.json'));
    const agent = createAuditor({ serviceName: 'alice-side', endpoint: collector.url, spoolDir: path.join(dir, 'agent-spool'), logger: { warn: () => undefined } });
    const alice = auditMcpClient(await httpClient(gw.url, a.token), { auditor: agent });
    const bob = await httpClient(gw.url, b.token);

    expect(resultText(await bob.callTool({ name: 'echo', arguments: { text: 'replay' }, _meta: { 'tooltrail/callId': 'model-call-7' } }))).toBe('files:replay');
    await agent.run({ principal: { id: 'svc:alice' }, runId: 'alice-run' }, async () => {
      expect(resultText(await alice.callTool({ name: 'echo', arguments: { text: 'victim' }, _meta: { 'tooltrail/callId': 'model-call-7' } }))).toBe('files:victim');
      expect(resultText(await alice.callTool({ name: 'echo', arguments: { text: 'normal' }, _meta: { 'tooltrail/callId': 'model-call-8' } }))).toBe('files:normal');
    });
    await alice.close();
    await bob.close();
    await agent.shutdown();
    expect(await gw.stop()).toBe(0);
    await collector.kill();

    const gatewayRecords = executeTool(collector.dir).filter((r) => r.attributes['tooltrail.run.claim'] !== undefined);
    const victim = gatewayRecords.find((r) => r.attributes['gen_ai.tool.call.arguments'] === '{"text":"victim"}')!;
    expect(victim.attributes).toMatchObject({ 'user.id': 'svc:alice', 'tooltrail.call_id.claimed': '"model-call-7"', 'tooltrail.call_id.rejected': 'reused' });

    const report = await buildReport({ kind: 'dir', dir: collector.dir }, { since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000) });
    const boundary = report.boundary!;
    expect(boundary).toMatchObject({ gatewayCalls: 3, agentCalls: 2, joined: 1, agentOnlyCount: 1, gatewayOnlyCount: 2, disagreeing: [] });
    // alice's own record of model-call-7 is not bob's call
    expect(boundary.agentOnly.map((c) => [c.callId, c.principal])).toEqual([['model-call-7', 'svc:alice']]);
    expect(boundary.gatewayOnly.map((c) => c.principal)).toEqual(['svc:bob', 'svc:alice']);
    expect(boundary.gatewayOnly[0]!.callId).toBe('model-call-7');
    expect(boundary.gatewayOnly[1]!.callId).toBe(victim.attributes['gen_ai.tool.call.id']);
    // Filed under a fresh id: listed with its claim, never paired by it; and without
    // --gateway-writer the report says the gateway side is not authenticated.
    expect(boundary.freshIds.map((c) => [c.callId, c.callIdClaimed, c.callIdRejected, c.principal])).toEqual([[victim.attributes['gen_ai.tool.call.id'], '"model-call-7"', 'reused', 'svc:alice']]);
    expect(boundary.gatewaySide).toMatchObject({ authenticated: false, by: 'attribute' });
  }, 30_000);
});
