import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readTrail } from '@tooltrail/cli';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = path.dirname(new URL(import.meta.url).pathname);
const tsx = path.resolve(here, '../../../node_modules/.bin/tsx');

describe('the LangChain example, end to end', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'tooltrail-langchain-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('records the agent loop (ok, invalid, denied, ok) with the ToolCall ids, attributed to the run, in the collector files', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, INIT_CWD: cwd };
    delete env.TOOLTRAIL_DEMO_DIR;
    const { stdout } = await run(tsx, [path.resolve(here, '../src/main.ts')], { cwd: path.resolve(here, '..'), env, timeout: 60_000 });
    const runId = /run ([0-9a-f-]{36}): 2 ok, 1 invalid, 1 denied, 0 failed; \d+ records delivered\n/.exec(stdout)?.[1];
    expect(runId, stdout).toBeDefined();
    // The model read both refusals and recovered; only the allowed booking happened.
    expect(stdout).toContain('tool call_book_1 [error]: Error: invalid arguments for tool "book_flight": passengers:');
    expect(stdout).toContain('tool call_book_2 [error]: Error: the call to tool "book_flight" was denied by policy rule travel.budget');
    expect(stdout).toContain('bookings actually made: OSL-LIS 17:40 x3\n');

    const trail = await readTrail(path.join(cwd, 'audit-trail'));
    expect(trail.problems).toEqual([]);
    const runSpan = trail.records.find((r) => r.name === 'invoke_agent travel-bot' && r.attributes['tooltrail.run.id'] === runId);
    expect(runSpan).toBeDefined();
    const calls = trail.records
      .filter((r) => r.name.startsWith('execute_tool ') && r.attributes['tooltrail.run.id'] === runId)
      .sort((a, b) => String(a.attributes['gen_ai.tool.call.id']).localeCompare(String(b.attributes['gen_ai.tool.call.id'])));
    expect(calls.map((r) => [r.attributes['gen_ai.tool.call.id'], r.attributes['tooltrail.outcome'], r.attributes['tooltrail.attempts']])).toEqual([
      ['call_book_1', 'invalid', 0],
      ['call_book_2', 'denied', 0],
      ['call_book_3', 'ok', 1],
      ['call_search_1', 'ok', 1],
    ]);
    for (const c of calls) {
      expect(c.parentSpanId).toBe(runSpan!.spanId);
      expect(c.attributes['user.id']).toBe('user:1207');
      expect(c.attributes['gen_ai.agent.name']).toBe('travel-bot');
    }
    const [invalid, denied, booked, search] = calls;
    expect(JSON.parse(String(invalid!.attributes['tooltrail.validation.issues']))).toMatchObject([{ path: ['passengers'], code: 'too_big' }]);
    expect(denied!.attributes).toMatchObject({ 'tooltrail.policy.rule': 'travel.budget', 'error.type': 'tooltrail.denied' });
    // The schema's default is part of what executed; the model's sloppy codes beside what ran.
    expect(booked!.attributes['gen_ai.tool.call.arguments']).toBe('{"flight":"OSL-LIS 17:40","passengers":3,"budget":930}');
    expect(search!.attributes['gen_ai.tool.call.arguments']).toBe('{"from":"OSL","to":"LIS"}');
    expect(search!.attributes['tooltrail.arguments.proposed']).toBe('{"from":" osl","to":"lis "}');
    // run span + 4 calls (calls with one attempt have no attempt record)
    expect(trail.records.filter((r) => r.traceId === runSpan!.traceId)).toHaveLength(5);
  });
});
