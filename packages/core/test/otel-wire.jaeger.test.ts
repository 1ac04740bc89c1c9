/**
 * http/protobuf and gzip export through a real Jaeger v2 (the suite's global setup starts it):
 * the spans arrive whole (resource attributes included, attempt spans without
 * gen_ai.operation.name) and `tooltrail verify --jaeger` finds the integrity chain intact.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuditor, generateSigningKeyPair, setDefaultAuditor, type AuditorOptions } from '@tooltrail/core';
import { cleanup, runCli, tempDir } from '../../cli/test/helpers.js';
import { JAEGER_OTLP_ENDPOINT, JAEGER_QUERY_URL, JaegerQuery } from './jaeger/jaeger-query.js';

const jaeger = new JaegerQuery();
afterAll(cleanup);

interface VerifyJson {
  ok: boolean;
  verdict: string;
  report: { streams: { records: number; checkpoints: number; ended: boolean; findings: { kind: string }[] }[] };
}

async function verifyClean(service: string, pub: string, mac: string): Promise<VerifyJson> {
  let last: { code: number | null; out: string } | undefined;
  for (let i = 0; i < 40; i++) {
    const run = runCli(['verify', '--jaeger', JAEGER_QUERY_URL, '--service', service, '--since', '1h', '--json', '--public-key', pub, '--mac-key-file', mac]);
    const { code } = await run.exited;
    last = { code, out: run.stdout() };
    if (code === 0) return JSON.parse(last.out) as VerifyJson;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`verify --jaeger did not come out clean: exit ${last?.code}: ${last?.out.slice(0, 2000)}`);
}

describe.each([
  { protocol: 'http/protobuf', compression: 'gzip' },
  { protocol: 'http/protobuf', compression: 'none' },
  { protocol: 'http/json', compression: 'gzip' },
] as const)('export to Jaeger over $protocol, compression $compression', ({ protocol, compression }) => {
  it('every span arrives with its resource, and verify --jaeger is clean', async () => {
    const dir = await tempDir();
    const keys = generateSigningKeyPair();
    const pub = path.join(dir, 'signing.pub');
    const mac = path.join(dir, 'mac.key');
    const macKey = `wire-key-${randomUUID()}`;
    writeFileSync(pub, keys.publicKeyPem);
    writeFileSync(mac, macKey);
    const service = `tooltrail-jaeger-wire-${protocol.replace('/', '-')}-${compression}-${randomUUID().slice(0, 8)}`;
    const options: AuditorOptions = {
      serviceName: service,
      endpoint: JAEGER_OTLP_ENDPOINT,
      protocol,
      compression,
      spoolDir: path.join(dir, 'spool'),
      logger: { warn() {} },
      resourceAttributes: { 'deployment.environment.name': 'jaeger-test' },
      integrity: { macKey, signingKey: keys.privateKeyPem, checkpointEvery: 5 },
    };
    const auditor = createAuditor(options);
    setDefaultAuditor(undefined);
    // Retries configured: every call keeps its attempt record, whose shape this test checks too.
    const tool = auditor.withAudit(async (s: string) => ({ echoed: s, n: s.length }), { name: 'echo', retry: { attempts: 2 } });
    const failing = auditor.withAudit(
      async () => {
        throw new RangeError('out of range – ünïcode');
      },
      { name: 'fails' },
    );
    await auditor.run({ principal: { id: 'user:7' }, agent: { name: 'wire-bot' } }, async () => {
      for (let i = 0; i < 8; i++) await tool(`call ${i} – 日本語 😀 ${'x'.repeat(i * 1000)}`);
      await failing().catch(() => undefined);
    });
    expect(await auditor.shutdown(10_000)).toBe(true);

    const report = await verifyClean(service, pub, mac);
    expect(report.verdict).toBe('verified');
    const [stream] = report.report.streams;
    // The stream start, 8 echo calls x 2 spans (call + attempt), the failing call (one attempt, one
    // record), the run span.
    expect(stream).toMatchObject({ records: 19, ended: true, findings: [] });

    const traces = await jaeger.findTraces({ service, limit: 50 });
    const spans = traces.flatMap((t) => t.spans);
    expect(spans.filter((s) => s.name === 'execute_tool echo')).toHaveLength(8);
    for (const s of spans) expect(s.warnings).toEqual([]);
    const attempt = spans.find((s) => s.name === 'tool_attempt echo')!;
    expect(attempt.attributes['gen_ai.operation.name']).toBeUndefined();
    const call = spans.find((s) => s.name === 'execute_tool echo' && String(s.attributes['gen_ai.tool.call.arguments']).includes('call 7'))!;
    expect(call.attributes['gen_ai.operation.name']).toBe('execute_tool');
    expect(String(call.attributes['gen_ai.tool.call.arguments'])).toContain('日本語 😀 ' + 'x'.repeat(7000));
    expect(call.service).toBe(service);
    expect(call.resource).toMatchObject({
      'deployment.environment.name': 'jaeger-test',
      'telemetry.sdk.name': 'opentelemetry',
      'telemetry.sdk.language': 'nodejs',
      'telemetry.distro.name': 'tooltrail',
      'process.pid': process.pid,
    });
  });
});
