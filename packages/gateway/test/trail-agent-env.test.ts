import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll, startCollector, type Collector } from '../../core/test/collector-harness.js';
import { stdioServer, tempDir, waitForCalls, writeConfig } from './fixtures/harness.js';
import { INIT, INITIALIZED, rawStdioGateway } from './fixtures/hostile-harness.js';

/**
 * In stdio mode the agent starts the gateway and sets its environment: OTEL_* and TOOLTRAIL_*
 * there do not shape the trail (forged resource attributes, an agent-chosen masking key); they
 * are dropped, and the names (never the values) are warned about.
 */

let collector: Collector;
beforeAll(async () => {
  collector = await startCollector();
});
afterAll(() => killAll());

describe('the agent environment in stdio mode', () => {
  it('drops OTEL_* and TOOLTRAIL_* before the auditor reads them', async () => {
    const dir = tempDir('gw-agent-env');
    const forged = { OTEL_RESOURCE_ATTRIBUTES: 'host.name=forged-host,service.instance.id=forged', TOOLTRAIL_MASK_KEY: 'agent-chosen-key-0123456789' };
    const saved = { ...process.env };
    Object.assign(process.env, forged);
    let gw: ReturnType<typeof rawStdioGateway>;
    try {
      gw = rawStdioGateway(writeConfig(dir, { serviceName: 'gw-agent-env', audit: { endpoint: collector.url, spoolDir: path.join(dir, 'spool') }, servers: [stdioServer('files', { principal: { id: 'svc:env' } })] }));
    } finally {
      for (const k of Object.keys(forged)) if (saved[k] === undefined) delete process.env[k];
    }
    gw.write(INIT);
    expect(await gw.next(10_000)).toMatchObject({ id: 0 });
    gw.write(INITIALIZED);
    gw.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' }, _meta: { 'tooltrail/callId': 'env-1' } } }));
    expect(await gw.next(10_000)).toMatchObject({ id: 1 });
    expect(await gw.end()).toBe(0);
    expect(gw.stderr()).toContain('tooltrail gateway: stdio mode: ignored OTEL_RESOURCE_ATTRIBUTES, TOOLTRAIL_MASK_KEY from the environment');
    expect(gw.stderr()).not.toContain('agent-chosen-key');
    const [call] = (await waitForCalls(collector.dir, 1)).filter((c) => c.attributes['gen_ai.tool.call.id'] === 'env-1');
    expect(call).toBeDefined();
    // Line format v2 keeps resources on their own lines (docs/collector.md).
    const resources = readdirSync(collector.dir)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => readFileSync(path.join(collector.dir, f), 'utf8').split('\n'))
      .filter((l) => l.includes('"t":"resource"'))
      .map((l) => (JSON.parse(l) as { resource: Record<string, unknown> }).resource)
      .filter((r) => r['service.name'] === 'gw-agent-env');
    expect(resources.length).toBeGreaterThan(0);
    for (const r of resources) {
      expect(r['host.name']).not.toBe('forged-host');
      expect(r['service.instance.id']).not.toBe('forged');
    }
  }, 30_000);
});
