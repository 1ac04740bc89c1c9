import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { killAll, startCollector, track, type Collector } from '../../core/test/collector-harness.js';
import { deliverInOrder } from '../src/transport/deliver-in-order.js';
import { cliBin, closeStdio, httpClient, httpGateway, startHttpFixture, stdioGateway, stdioServer, tempDir, waitForCalls, writeConfig, writeTokens } from './fixtures/harness.js';

/**
 * Progress through the gateway: the fixture's `progress` tool sends two notifications right
 * before its result. The SDK's Protocol handles a response before the notifications read in
 * the same chunk and drops those (their handler is gone), so the gateway's upstream client lost
 * the second one; it now handles responses after them (deliverInOrder). The agent's own SDK
 * Client has the same flaw on any connection, direct too: the tests give it the same fix, and
 * check the wire itself without any SDK.
 */

const BOTH = [
  { progress: 1, total: 2 },
  { progress: 2, total: 2 },
];

let collector: Collector;
beforeAll(async () => {
  collector = await startCollector();
});
afterAll(() => killAll());

function stdioConfig(name: string): string {
  const dir = tempDir(`gw-progress-${name}`);
  return writeConfig(dir, {
    serviceName: `gw-progress-${name}`,
    audit: { endpoint: collector.url, spoolDir: `${dir}/spool` },
    servers: [stdioServer('files', { principal: { id: 'svc:progress', type: 'service' } })],
  });
}

async function callWithProgress(client: Client): Promise<{ seen: unknown[]; text: unknown }> {
  deliverInOrder(client.transport);
  const seen: unknown[] = [];
  const r = await client.callTool({ name: 'progress', arguments: {} }, undefined, { onprogress: (p) => seen.push(p) });
  return { seen, text: r.content };
}

describe('progress relayed to the agent', () => {
  it('stdio: on the wire, both notifications with the agent token, in order, before the result', async () => {
    const proc = track(spawn(process.execPath, [cliBin, 'gateway', '--config', stdioConfig('wire')], { stdio: ['pipe', 'pipe', 'inherit'] }));
    const lines = createInterface({ input: proc.stdout! });
    const got: Record<string, unknown>[] = [];
    const send = (m: unknown) => proc.stdin!.write(`${JSON.stringify(m)}\n`);
    const done = new Promise<void>((resolve) =>
      lines.on('line', (l) => {
        const m = JSON.parse(l) as Record<string, unknown>;
        got.push(m);
        if (m.id === 0) {
          send({ jsonrpc: '2.0', method: 'notifications/initialized' });
          send({ jsonrpc: '2.0', id: 'call-1', method: 'tools/call', params: { name: 'progress', arguments: {}, _meta: { progressToken: 'tok-7' } } });
        }
        if (m.id === 'call-1') resolve();
      }),
    );
    send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'wire', version: '1' } } });
    await done;
    expect(got.slice(1)).toEqual([
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'tok-7', ...BOTH[0] } },
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'tok-7', ...BOTH[1] } },
      { jsonrpc: '2.0', id: 'call-1', result: { content: [{ type: 'text', text: 'done' }] } },
    ]);
    proc.stdin!.end();
    await new Promise((r) => proc.once('exit', r));
  });

  it('stdio: the agent onprogress gets both, in order, five calls in a row', async () => {
    const gw = await stdioGateway(stdioConfig('sdk'));
    for (let i = 0; i < 5; i++) expect(await callWithProgress(gw.client)).toEqual({ seen: BOTH, text: [{ type: 'text', text: 'done' }] });
    await closeStdio(gw.client, gw.transport);
  });

  it('HTTP to an HTTP server: the agent onprogress gets both, in order, and the calls are recorded', async () => {
    const dir = tempDir('gw-progress-http');
    const upstream = await startHttpFixture('remote');
    const tokens = writeTokens(dir, 'svc-progress');
    const gw = await httpGateway(
      writeConfig(dir, {
        serviceName: 'gw-progress-http',
        listen: { http: { host: '127.0.0.1', port: 0, tokensFile: tokens.file } },
        audit: { endpoint: collector.url, spoolDir: `${dir}/spool` },
        servers: [{ name: 'remote', http: { url: upstream.url } }],
      }),
    );
    const client = await httpClient(gw.url, tokens.token);
    for (let i = 0; i < 5; i++) expect(await callWithProgress(client)).toEqual({ seen: BOTH, text: [{ type: 'text', text: 'done' }] });
    await client.close();
    expect(await gw.stop()).toBe(0);
    const calls = (await waitForCalls(collector.dir, 11)).filter((c) => c.attributes['gen_ai.tool.name'] === 'progress');
    expect(calls.filter((c) => c.attributes['tooltrail.outcome'] === 'ok')).toHaveLength(11);
  });
});
