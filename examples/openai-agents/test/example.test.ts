import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readTrail } from '@tooltrail/cli';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const here = path.dirname(new URL(import.meta.url).pathname);
const tsx = path.resolve(here, '../../../node_modules/.bin/tsx');

describe('the OpenAI Agents SDK example, end to end', () => {
  it('records the run (normalised, denied, approved, rejected) with the SDK call ids, attributed to the run, in the collector files', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'tooltrail-openai-agents-'));
    const env: NodeJS.ProcessEnv = { ...process.env, INIT_CWD: cwd, OPENAI_API_KEY: '' };
    delete env.TOOLTRAIL_DEMO_DIR;
    const { stdout } = await run(tsx, [path.resolve(here, '../src/main.ts')], { cwd: path.resolve(here, '..'), env, timeout: 60_000 });
    const runId = /run ([0-9a-f-]{36}): 2 ok, 2 denied, 0 invalid, 0 failed; \d+ records delivered\n/.exec(stdout)?.[1];
    expect(runId, stdout).toBeDefined();
    // The model read the denial and the rejection as tool results and finished the run.
    expect(stdout).toContain('tool call_mail: Error: the call to tool "send_email" was denied by policy rule mail.internal-only');
    expect(stdout).toContain('tool call_refund_big: A manager rejected this refund: refunds over 500 need a finance sign-off.');
    expect(stdout).toContain('refunds actually made: A-17 40\n');
    expect(stdout).toContain('mail actually sent: none\n');

    const trail = await readTrail(path.join(cwd, 'audit-trail'));
    expect(trail.problems).toEqual([]);
    const runSpan = trail.records.find((r) => r.name === 'invoke_agent support-bot' && r.attributes['tooltrail.run.id'] === runId);
    expect(runSpan).toBeDefined();
    const all = trail.records
      .filter((r) => r.name.startsWith('execute_tool ') && r.attributes['tooltrail.run.id'] === runId)
      .sort((a, b) => String(a.attributes['gen_ai.tool.call.id']).localeCompare(String(b.attributes['gen_ai.tool.call.id'])));
    // The SDK's interruptions are recorded as pending calls; the resumed calls link to them by call id.
    const pending = all.filter((r) => r.attributes['tooltrail.outcome'] === 'pending_approval');
    expect(pending.map((r) => [r.attributes['gen_ai.tool.call.id'], r.attributes['tooltrail.attempts']])).toEqual([
      ['call_refund_big', 0],
      ['call_refund_small', 0],
    ]);
    const calls = all.filter((r) => r.attributes['tooltrail.outcome'] !== 'pending_approval');
    expect(calls.filter((r) => r.attributes['tooltrail.approval.resumed'] === true).map((r) => r.attributes['gen_ai.tool.call.id'])).toEqual(['call_refund_big', 'call_refund_small']);
    expect(calls.map((r) => [r.attributes['gen_ai.tool.call.id'], r.attributes['tooltrail.outcome'], r.attributes['tooltrail.policy.rule'], r.attributes['tooltrail.attempts']])).toEqual([
      ['call_lookup', 'ok', undefined, 1],
      ['call_mail', 'denied', 'mail.internal-only', 0],
      ['call_refund_big', 'denied', 'tooltrail.approval', 0],
      ['call_refund_small', 'ok', undefined, 1],
    ]);
    // The approvals are call metadata: who decided, on both the approved and the rejected call.
    const decided = calls.filter((r) => String(r.attributes['gen_ai.tool.call.id']).startsWith('call_refund'));
    expect(decided.map((r) => [r.attributes['tooltrail.approval.decision'], r.attributes['tooltrail.approval.by']])).toEqual([
      ['rejected', 'manager:7'],
      ['approved', 'manager:7'],
    ]);
    for (const c of calls) {
      expect(c.parentSpanId).toBe(runSpan!.spanId);
      expect(c.attributes['user.id']).toBe('user:4711');
      expect(c.attributes['gen_ai.agent.name']).toBe('support-bot');
    }
    const [lookup, mail, rejected, approved] = calls;
    // The model's sloppy id beside what executed.
    expect(lookup!.attributes['gen_ai.tool.call.arguments']).toBe('{"orderId":"A-17"}');
    expect(lookup!.attributes['tooltrail.arguments.proposed']).toBe('{"orderId":" a-17 "}');
    // Masked by default: the refused recipient is a keyed token, not the address.
    expect(String(mail!.attributes['gen_ai.tool.call.arguments'])).toMatch(/^\{"to":"\[email:[0-9a-f]{12}\]"/);
    expect(rejected!.attributes).toMatchObject({
      'tooltrail.decision': 'deny',
      'tooltrail.policy.reason': 'refunds over 500 need a finance sign-off',
      'tooltrail.approval.reason': 'refunds over 500 need a finance sign-off',
      'error.type': 'tooltrail.denied',
    });
    expect(approved!.attributes).toMatchObject({
      'tooltrail.approval.decision': 'approved',
      'gen_ai.tool.call.arguments': '{"orderId":"A-17","amount":40}',
      'tooltrail.arguments.proposed': '{"orderId":"A-17","amount":"40","note":null}',
    });
    // run span + 4 calls + 2 pending records (calls with one attempt have no attempt record)
    expect(trail.records.filter((r) => r.traceId === runSpan!.traceId)).toHaveLength(7);
  });
});
