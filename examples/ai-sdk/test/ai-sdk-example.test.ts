import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readTrail, type TrailRecord } from '@tooltrail/cli';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = path.dirname(new URL(import.meta.url).pathname);
const tsx = path.resolve(here, '../../../node_modules/.bin/tsx');

describe('the AI SDK example, end to end', () => {
  it('records the coerced, denied, invalid and allowed refund calls of a generateText run in the collector files', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'tooltrail-ai-sdk-'));
    const env = { ...process.env, INIT_CWD: cwd, OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' };
    const { stdout } = await run(tsx, [path.resolve(here, '../src/main.ts')], { cwd: path.resolve(here, '..'), env, timeout: 60_000 });

    const runId = /run ([0-9a-f-]{36}): 2 ok, 1 denied, 1 invalid; \d+ records delivered/.exec(stdout)?.[1];
    expect(runId, stdout).toBeDefined();
    expect(stdout).toContain('model: I refunded 100 of your 250 now');
    expect(stdout).toContain('refunds actually paid: 100 on ORD-7\n');
    expect(stdout).toContain('the model was told (call_2): tool call "issue_refund" (call_2) denied by rule refund.limit: refunds over 100 need a human (asked 250)');
    // The shared table (examples/shared): a call whose tool never ran says "refused".
    expect(stdout).toMatch(/call_2\s+issue_refund\s+customer:1042\s+refused: denied by refund\.limit\s+0\s+\{"orderId":"ORD-7","amount":250\}\n\s+model proposed\s+\{"orderId":"ORD-7","amount":"250"\}/);
    expect(stdout).toMatch(/call_3\s+issue_refund\s+customer:1042\s+refused: invalid arguments\s+0/);
    expect(stdout).toMatch(/\ntrace [0-9a-f]{32}\n/);

    const trail = await readTrail(path.join(cwd, 'audit-trail'));
    expect(trail.problems).toEqual([]);
    const runSpan = trail.records.find((r) => r.name === 'invoke_agent shop-assistant' && r.attributes['tooltrail.run.id'] === runId)!;
    expect(runSpan).toBeDefined();
    const calls = trail.records
      .filter((r) => r.traceId === runSpan.traceId && r.name.startsWith('execute_tool '))
      .sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
    expect(calls.map((r) => [r.attributes['gen_ai.tool.call.id'], r.attributes['gen_ai.tool.name'], r.attributes['tooltrail.outcome']])).toEqual([
      ['call_1', 'lookup_order', 'ok'],
      ['call_2', 'issue_refund', 'denied'],
      ['call_3', 'issue_refund', 'invalid'],
      ['call_4', 'issue_refund', 'ok'],
    ]);
    for (const c of calls) expect(c.attributes).toMatchObject({ 'tooltrail.run.id': runId, 'user.id': 'customer:1042', 'gen_ai.agent.name': 'shop-assistant' });
    const [lookup, denied, invalid] = calls as [TrailRecord, TrailRecord, TrailRecord];
    // What the model proposed beside what executed.
    expect(lookup.attributes).toMatchObject({
      'tooltrail.arguments.proposed': '{"orderId":" ord-7 "}',
      'gen_ai.tool.call.arguments': '{"orderId":"ORD-7"}',
      'tooltrail.arguments.mutated': true,
    });
    expect(denied.attributes).toMatchObject({
      'gen_ai.tool.call.arguments': '{"orderId":"ORD-7","amount":250}',
      'tooltrail.arguments.proposed': '{"orderId":"ORD-7","amount":"250"}',
      'tooltrail.policy.rule': 'refund.limit',
      'tooltrail.attempts': 0,
    });
    expect(JSON.parse(String(invalid.attributes['tooltrail.validation.issues']))).toMatchObject([{ path: ['amount'], code: 'too_small' }]);
  });
});
