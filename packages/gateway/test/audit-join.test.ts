import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditor, type Auditor } from '@tooltrail/core';
import { auditMcpClient } from '@tooltrail/mcp';
import { buildReport } from '../../cli/src/review/report/build.js';
import { killAll, startCollector, type Collector } from '../../core/test/collector-harness.js';
import { closeStdio, executeTool, newClient, stdioGateway, stdioServer, tempDir, verifyDir, writeConfig } from './fixtures/harness.js';

/**
 * Both sides joined: the agent records its call with @tooltrail/mcp (proposed, in its process)
 * and the gateway records the same call at the boundary; both records reach one collector and
 * share the trace, the gateway's span under the agent's, and the run the agent's token names.
 * (The shared call id needs @tooltrail/mcp to send its call id in `_meta["tooltrail/callId"]`;
 * the gateway's side of it is covered in audit-boundary.test.ts.)
 */

let collector: Collector;
let agent: Auditor;
let dir: string;

beforeAll(async () => {
  collector = await startCollector();
  dir = tempDir('gw-join');
  const keys = generateKeyPairSync('ed25519');
  const publicKey = path.join(dir, 'agent-run.pub.pem');
  writeFileSync(publicKey, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  chmodSync(publicKey, 0o644);
  agent = createAuditor({ serviceName: 'agent-side', endpoint: collector.url, spoolDir: path.join(dir, 'agent-spool'), runTokenKey: keys.privateKey, logger: { warn: () => undefined } });
  writeConfig(dir, {
    serviceName: 'gw-join-test',
    audit: { endpoint: collector.url, spoolDir: path.join(dir, 'gw-spool') },
    runTokens: { publicKey },
    servers: [stdioServer('files', { principal: { id: 'svc:files-agent', type: 'service' }, agent: { name: 'files-agent' } })],
  });
});

afterAll(async () => {
  await agent.shutdown().catch(() => undefined);
  killAll();
});

describe('the agent (@tooltrail/mcp) and the gateway, one call', () => {
  it('records the call on both sides in one trace, under the run the agent opened', async () => {
    const { client: raw, transport } = await stdioGateway(path.join(dir, 'gateway.json'), newClient());
    const client = auditMcpClient(raw, { auditor: agent });
    const r = await agent.run({ principal: { id: 'svc:files-agent', type: 'service' }, agent: { name: 'files-agent' }, runId: 'agent-run-1' }, () =>
      client.callTool({ name: 'echo', arguments: { text: 'joined' } }),
    );
    expect((r.content as { text: string }[])[0]!.text).toBe('files:joined');
    await closeStdio(raw, transport);
    await agent.shutdown();
    await collector.kill();

    const calls = executeTool(collector.dir).filter((c) => c.name === 'execute_tool echo');
    // Only the gateway records what it made of the run claim.
    expect(calls).toHaveLength(2);
    const theirs = calls.find((c) => c.attributes['tooltrail.run.claim'] !== undefined)!;
    const mine = calls.find((c) => c !== theirs)!;
    expect(mine).toBeDefined();
    expect(theirs).toBeDefined();
    expect(theirs.traceId).toBe(mine.traceId);
    expect(theirs.parentSpanId).toBe(mine.spanId);
    // One call, both views: the agent's record (proposed) and the gateway's (executed at the boundary).
    expect(theirs.attributes['gen_ai.tool.call.id']).toBe(mine.attributes['gen_ai.tool.call.id']);
    expect(theirs.attributes).toMatchObject({ 'tooltrail.run.claim': 'verified', 'tooltrail.run.id': 'agent-run-1', 'tooltrail.outcome': 'ok' });
    expect(mine.attributes['tooltrail.run.id']).toBe('agent-run-1');
    const v = verifyDir(collector.dir);
    expect([0, 3], v.out).toContain(v.status);
    // tooltrail report shows them as one call with both views: joined, nothing flagged.
    const report = await buildReport({ kind: 'dir', dir: collector.dir }, { since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000) });
    expect(report.boundary).toMatchObject({ gatewayCalls: 1, agentCalls: 1, joined: 1, gatewayOnlyCount: 0, agentOnlyCount: 0, disagreeing: [], changedTools: [] });
  });
});
