import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { createAuditor } from '@tooltrail/core';
import { auditMcpClient } from '@tooltrail/mcp';
import { newToken } from '@tooltrail/cli';
import { afterAll, describe, expect, it } from 'vitest';
import { buildReport } from '../../cli/src/review/report/build.js';
import type { ReportData } from '../../cli/src/review/report/model.js';
import { killAll, track } from '../../core/test/collector-harness.js';
import { cliBin, closeStdio, executeTool, newClient, resultText, stdioGateway, stdioServer, tempDir, writeConfig } from './fixtures/harness.js';

/**
 * `tooltrail report`'s join at a collector that authenticates its writers (--tokens): the gateway
 * and the agent each with a token of their own. A real retry through @tooltrail/mcp (the same call
 * id on every attempt), a call sent around the wrapper with a malformed call id (the gateway files
 * it under a fresh one), and a record the agent forges with the gateway's attributes.
 */

afterAll(() => killAll());

async function tokensCollector(dir: string, tokensFile: string): Promise<{ url: string; dir: string; stop(): Promise<void> }> {
  const trail = path.join(dir, 'trail');
  const proc = track(spawn(process.execPath, [cliBin, 'collect', '--port', '0', '--dir', trail, '--tokens', tokensFile], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const rl = createInterface({ input: proc.stdout! });
  let line = '';
  for await (const l of rl) {
    line = l;
    break;
  }
  rl.close();
  const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(line);
  if (!m) throw new Error(`unexpected ready line from tooltrail collect: ${line}`);
  return {
    url: m[1]!,
    dir: trail,
    stop: () => new Promise((resolve) => (proc.exitCode !== null ? resolve() : (proc.once('exit', () => resolve()), proc.kill('SIGTERM')))),
  };
}

const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

describe('the boundary join at a collector with writer tokens', () => {
  it('tells the gateway by its writer, pairs a retry as its attempts, lists the forgery and the fresh id', async () => {
    const dir = tempDir('gw-report-join');
    const gw = newToken('gateway');
    const ag = newToken('files-agent');
    const tokensFile = path.join(dir, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify({ version: 1, writers: [gw.entry, ag.entry] }));
    chmodSync(tokensFile, 0o600);
    const collector = await tokensCollector(dir, tokensFile);
    writeConfig(dir, {
      serviceName: 'report-join-gw',
      audit: { endpoint: collector.url, token: gw.token, spoolDir: path.join(dir, 'gw-spool') },
      servers: [stdioServer('files', { principal: { id: 'svc:files-agent', type: 'service' }, agent: { name: 'files-agent' } })],
    });
    const agent = createAuditor({ serviceName: 'files-agent', endpoint: collector.url, headers: { authorization: `Bearer ${ag.token}` }, spoolDir: path.join(dir, 'agent-spool'), logger: { warn: () => undefined } });
    const { client: raw, transport } = await stdioGateway(path.join(dir, 'gateway.json'), newClient());
    const client = auditMcpClient(raw, { auditor: agent, tools: { is_error: { retry: { attempts: 3, backoffMs: 0 } } } });
    let retried: unknown;
    await agent.run({ principal: { id: 'svc:files-agent', type: 'service' }, agent: { name: 'files-agent' }, runId: 'agent-run' }, async () => {
      expect(resultText(await client.callTool({ name: 'echo', arguments: { text: 'once' } }))).toBe('files:once');
      retried = await client.callTool({ name: 'is_error', arguments: {} }).catch((err: unknown) => err);
    });
    // Around the wrapper, with a call id the gateway does not accept.
    const around = await raw.request({ method: 'tools/call', params: { name: 'echo', arguments: { text: 'around' }, _meta: { 'tooltrail/callId': 'bad id!' } } }, CallToolResultSchema);
    expect(resultText(around)).toBe('files:around');
    await closeStdio(raw, transport);
    await agent.shutdown();
    // The agent forges a gateway record with its own token: the gateway's attributes and service.name.
    const now = BigInt(Date.now()) * 1_000_000n;
    const forged = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ag.token}` },
      body: JSON.stringify({ resourceSpans: [{ resource: { attributes: [str('service.name', 'report-join-gw')] }, scopeSpans: [{ scope: { name: '@tooltrail/gateway' }, spans: [{
        traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), name: 'execute_tool echo', kind: 1,
        startTimeUnixNano: String(now), endTimeUnixNano: String(now + 1_000_000n), status: { code: 1 },
        attributes: [str('gen_ai.operation.name', 'execute_tool'), str('gen_ai.tool.name', 'echo'), str('gen_ai.tool.call.id', 'forged-1'), str('tooltrail.outcome', 'ok'), str('user.id', 'svc:files-agent'), str('mcp.method.name', 'tools/call'), str('tooltrail.run.claim', 'verified'), str('tooltrail.mcp.server.name', 'files')],
      }] }] }] }),
    });
    expect(forged.status).toBe(200);
    await collector.stop();

    // The records as written: three gateway records of the retried call under one call id, one agent record of three attempts.
    const calls = executeTool(collector.dir);
    const gatewayRetry = calls.filter((c) => c.name === 'execute_tool is_error' && c.attributes['tooltrail.run.claim'] === 'none');
    const agentRetry = calls.filter((c) => c.name === 'execute_tool is_error' && c.attributes['tooltrail.run.claim'] === undefined);
    expect(gatewayRetry).toHaveLength(3);
    expect(agentRetry).toHaveLength(1);
    expect(agentRetry[0]!.attributes).toMatchObject({ 'tooltrail.attempts': 3, 'tooltrail.outcome': 'error', 'mcp.method.name': 'tools/call' });
    expect(new Set(gatewayRetry.map((c) => c.attributes['gen_ai.tool.call.id']))).toEqual(new Set([agentRetry[0]!.attributes['gen_ai.tool.call.id']]));
    // Three isError results: the wrapper hands the last one back, unchanged.
    expect(retried).toMatchObject({ isError: true, content: [{ type: 'text', text: 'no such file' }] });
    const fresh = calls.find((c) => c.attributes['tooltrail.call_id.rejected'] !== undefined)!;
    expect(fresh.attributes).toMatchObject({ 'tooltrail.call_id.claimed': '"bad id!"', 'tooltrail.call_id.rejected': 'charset' });
    const freshId = fresh.attributes['gen_ai.tool.call.id'] as string;
    expect(freshId).toMatch(/^call_[0-9a-f]{24}$/);

    const range = { since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000) };
    const signed = (await buildReport({ kind: 'dir', dir: collector.dir }, { ...range, gateway: { gatewayWriters: ['gateway'] } })).boundary!;
    expect(signed.gatewaySide).toEqual({ authenticated: true, by: 'writer', names: ['gateway'] });
    expect(signed).toMatchObject({ gatewayCalls: 5, agentCalls: 2, joined: 2, joinedRetried: 1, joinedRetryRecords: 2, gatewayOnlyCount: 1, agentOnlyCount: 0, disagreeing: [], notGatewayCount: 1, freshIdCount: 1 });
    expect(signed.gatewayOnly.map((c) => [c.callId, c.callIdClaimed, c.callIdRejected])).toEqual([[freshId, '"bad id!"', 'charset']]);
    expect(signed.notGateway.map((r) => [r.record, r.callId, r.writer, r.service])).toEqual([['call', 'forged-1', 'files-agent', 'report-join-gw']]);

    // Without --gateway-writer the forgery passes for the gateway's: said so, never verified.
    const unsigned = (await buildReport({ kind: 'dir', dir: collector.dir }, range)).boundary!;
    expect(unsigned.gatewaySide).toMatchObject({ authenticated: false, by: 'attribute' });
    expect(unsigned).toMatchObject({ gatewayCalls: 6, joined: 2, gatewayOnlyCount: 2, notGatewayCount: 0 });
    expect(unsigned.gatewayOnly.map((c) => c.callId).sort()).toEqual([freshId, 'forged-1'].sort());

    // Through the bin: the option, the JSON, the text and the HTML.
    const html = path.join(dir, 'r.html');
    const cli = (args: string[]) => spawnSync(process.execPath, [cliBin, 'report', '--trail', collector.dir, '--since', '1h', ...args], { encoding: 'utf8', timeout: 20_000 });
    const json = cli(['--json', '--gateway-writer', 'gateway', '--html', html]);
    expect(json.status, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as ReportData).boundary).toMatchObject({ gatewaySide: { authenticated: true }, notGatewayCount: 1, freshIdCount: 1, joinedRetried: 1 });
    expect(readFileSync(html, 'utf8')).toContain(`: recorded under a fresh id; claimed <span class="id">&quot;bad id!&quot;</span> (charset)`);
    const text = cli([]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('  gateway side not authenticated: no --gateway-writer given');
    expect(text.stdout).toContain(`${freshId}: recorded under a fresh id; claimed "bad id!" (charset)`);
    for (const bad of [['--gateway-writer', 'bad name'], ['--gateway-writer', ''], ['--gateway-service', ' ']]) expect(cli(bad).status, bad.join(' ')).toBe(2);
    const jaeger = spawnSync(process.execPath, [cliBin, 'report', '--jaeger', 'http://127.0.0.1:1', '--service', 's', '--gateway-writer', 'gateway'], { encoding: 'utf8', timeout: 20_000 });
    expect(jaeger.status).toBe(2);
    expect(jaeger.stderr).toContain('--gateway-writer needs --trail');
  }, 30_000);
});
