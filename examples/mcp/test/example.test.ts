import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readTrail } from '@tooltrail/cli';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const tsx = path.resolve(here, '../../../node_modules/.bin/tsx');

describe('the MCP example, end to end', () => {
  it('records every MCP tool call of the run: rewritten, coerced, failed, denied, ok; the server got each attempt as traceparent', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'tooltrail-mcp-example-'));
    const env = { ...process.env, INIT_CWD: cwd, OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' };
    const { stdout } = await run(tsx, [path.resolve(here, '../src/main.ts')], { cwd: path.resolve(here, '..'), env, timeout: 60_000 });
    const runId = /agent run ([0-9a-f-]{36}) finished: 3 ok, 1 failed, 1 denied, 0 invalid/.exec(stdout)?.[1];
    expect(runId).toBeDefined();
    // What the model read: the server's tool error and the denial, as isError results.
    expect(stdout).toContain('<- isError: order A-9999 not found');
    expect(stdout).toContain('<- isError: Tool call "refund_order" was denied by policy rule refunds.limit');
    expect(stdout.match(/: this record \(its one attempt has no record of its own\)/g)).toHaveLength(4); // one attempt each: the call record's own span
    expect(stdout).not.toContain('NOT this record');

    const trail = await readTrail(path.join(cwd, 'audit-trail'));
    expect(trail.problems).toEqual([]);
    const calls = trail.records
      .filter((r) => r.name.startsWith('execute_tool ') && r.attributes['tooltrail.run.id'] === runId)
      .sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
    expect(calls.map((r) => [r.attributes['gen_ai.tool.call.id'], r.attributes['gen_ai.tool.name'], r.attributes['tooltrail.outcome'], r.attributes['error.type']])).toEqual([
      ['toolu_01', 'search_orders', 'ok', undefined],
      ['toolu_02', 'get_order', 'ok', undefined],
      ['toolu_03', 'get_order', 'error', 'tool_error'],
      ['toolu_04', 'refund_order', 'denied', 'tooltrail.denied'],
      ['toolu_05', 'refund_order', 'ok', undefined],
    ]);
    const [search, lookup, , refund] = calls;
    expect(search!.attributes).toMatchObject({
      'gen_ai.tool.call.arguments': '{"status":"late","limit":20}',
      'tooltrail.arguments.proposed': '{"status":"late","limit":500}',
      'tooltrail.policy.rule': 'search.max-rows',
      'user.id': 'user:4711',
    });
    expect(lookup!.attributes['tooltrail.arguments.proposed']).toBe('{"id":" a-1001 "}');
    expect(refund!.attributes).toMatchObject({ 'tooltrail.policy.rule': 'refunds.limit', 'tooltrail.attempts': 0 });
    // A denied call never reached the server: no attempt record under it.
    expect(trail.records.filter((r) => r.parentSpanId === refund!.spanId)).toEqual([]);
  });
});
