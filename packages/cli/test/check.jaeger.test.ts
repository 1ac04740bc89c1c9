import { afterAll, describe, expect, it } from 'vitest';
import { configModule, finished, runCheck, verdictOf } from './check-helpers.js';
import { cleanup, tempDir } from './helpers.js';

// `tooltrail check --jaeger` against the real Jaeger the suite's global setup started
// (scripts/jaeger.sh: OTLP/HTTP on 127.0.0.1:4318, query API on 127.0.0.1:16686).

const QUERY = 'http://127.0.0.1:16686';
afterAll(cleanup);

async function jaegerModule(service: string, more = ''): Promise<string> {
  const spool = `${await tempDir()}/spool`;
  return configModule(`{
    serviceName: ${JSON.stringify(service)},
    endpoint: 'http://127.0.0.1:4318',
    spoolDir: ${JSON.stringify(spool)},
    logger: { warn() {} },
    policy: [function agentScope(call) { if (call.tool !== 'lookup_order') return deny('outside the agent scope', { rule: 'agent-scope' }); }],
    ${more}
  }`);
}

describe('tooltrail check --jaeger', () => {
  it('a correct set-up passes, read back from Jaeger (the service defaults to the auditor\'s)', async () => {
    const service = `check-jaeger-${Date.now()}`;
    const { code, json } = await runCheck(['--config', await jaegerModule(service), '--jaeger', QUERY, '--timeout', '20s']);
    expect(json.failing).toEqual([]);
    expect(code).toBe(0);
    expect(json.canary.map((r) => r.record?.outcome)).toEqual(['denied', 'denied']);
    expect(json.read.bytes).toBeGreaterThan(0);
  });

  it('masking off fails question 3 on the bytes Jaeger serves', async () => {
    const service = `check-jaeger-unmasked-${Date.now()}`;
    const { code, json } = await runCheck(['--config', await jaegerModule(service, 'masking: false,'), '--jaeger', QUERY, '--timeout', '20s']);
    expect(code).toBe(1);
    expect(json.failing).toEqual(['masked']);
    expect(verdictOf(json, 'masked').details[0]).toMatch(/Jaeger's answer for service check-jaeger-unmasked-/);
  });

  it('a service Jaeger never heard of: the records are missing, question 1 fails', async () => {
    const service = `check-jaeger-a-${Date.now()}`;
    const r = await finished(['check', '--json', '--config', await jaegerModule(service), '--jaeger', QUERY, '--service', `${service}-elsewhere`, '--timeout', '1s']);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { failing: string[] }).failing).toContain('denied');
  });
});
