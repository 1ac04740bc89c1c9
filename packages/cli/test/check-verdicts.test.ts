import { afterEach, describe, expect, it } from 'vitest';
import type { CallView } from '../src/review/calls.js';
import { CANARY_AGENT, planCanary, type CanaryPlan } from '../src/review/check/canary.js';
import { scanRecent, type RecentScan } from '../src/review/check/principals.js';
import { emptyReadBack, type ReadBack } from '../src/review/check/read-back.js';
import type { CanaryAttempt } from '../src/review/check/run-canary.js';
import { attributedVerdict, deniedVerdict, maskedVerdict, type VerdictInput } from '../src/review/check/verdicts.js';
import { callSpan, writeTrail } from './report-fixture.js';
import { cleanup, tempDir } from './helpers.js';

afterEach(cleanup);

const SINCE = new Date('2026-05-01T00:00:00Z');
const UNTIL = new Date('2026-05-08T00:00:00Z');
const AT = Date.parse('2026-05-03T10:00:00Z');

function recordOf(plan: CanaryPlan, label: 'a' | 'b', over: Partial<CallView> = {}): CallView {
  const run = plan.runs.find((r) => r.label === label)!;
  return {
    traceId: `${label}`.repeat(32), spanId: `${label}`.repeat(16), time: AT, durationMs: 1, tool: plan.tool, callId: run.callId, outcome: 'denied', attempts: 0, retries: 0,
    principalId: run.principal.id, principalType: 'user', runId: run.runId, agentName: CANARY_AGENT, rule: 'agent-scope', argsJson: '{"note":"[REDACTED:aws_access_key_id]"}', ...over,
  };
}

function input(plan: CanaryPlan, o: { attempts?: CanaryAttempt[]; rb?: Partial<ReadBack>; recent?: RecentScan; recentError?: string; views?: Partial<Record<'a' | 'b', Partial<CallView>>> } = {}): VerdictInput {
  const rb: ReadBack = { ...emptyReadBack('1 file(s) in /t'), records: 4, bytes: 1000, related: 2, ...o.rb };
  if (o.rb?.calls === undefined) rb.calls = { a: { view: recordOf(plan, 'a', o.views?.a), where: 'f:1' }, b: { view: recordOf(plan, 'b', o.views?.b), where: 'f:2' } };
  const recent: RecentScan = o.recent ?? { description: 'd', since: SINCE.toISOString(), until: UNTIL.toISOString(), calls: 0, runs: 0, agents: 0, principals: 0, flags: [], problems: [] };
  return {
    plan,
    attempts: o.attempts ?? [{ label: 'a', result: 'denied', rule: 'agent-scope' }, { label: 'b', result: 'denied', rule: 'agent-scope' }],
    readBack: rb,
    recent: o.recentError !== undefined ? undefined : recent,
    ...(o.recentError !== undefined ? { recentError: o.recentError } : {}),
    waitedMs: 300,
  };
}

describe('check question 1: what the app saw and what the record says must agree', () => {
  it('passes when both agree on denied', () => {
    const plan = planCanary();
    expect(deniedVerdict(input(plan)).status).toBe('pass');
  });

  it('fails when the app saw the call allowed but the record says denied', () => {
    const plan = planCanary();
    const v = deniedVerdict(input(plan, { attempts: [{ label: 'a', result: 'allowed' }, { label: 'b', result: 'denied', rule: 'agent-scope' }] }));
    expect(v.status).toBe('fail');
    expect(v.summary).toBe('1 record(s) say denied where the app saw the call allowed (its body ran): the trail does not say what happened');
  });

  it('fails when the app saw the call denied but the record says it ran', () => {
    const plan = planCanary();
    const v = deniedVerdict(input(plan, { views: { b: { outcome: 'ok', decision: 'allow' } } }));
    expect(v.status).toBe('fail');
    expect(v.summary).toBe('1 record(s) say the call ran (outcome "ok") where the app saw it denied: the trail does not say what happened');
  });
});

describe('check question 3: a trail read in part cannot pass', () => {
  it('a file that could not be read makes it unknown, with why', () => {
    const plan = planCanary();
    const v = maskedVerdict(input(plan, { rb: { problems: ['/t/spans-1.jsonl: EACCES: permission denied, open'], unread: ['/t/spans-1.jsonl: EACCES: permission denied, open'] } }));
    expect(v.status).toBe('unknown');
    expect(v.summary).toBe('not all of the trail could be read (1 problem): a planted secret in what was not read would not be seen');
    expect(v.details).toContain('/t/spans-1.jsonl: EACCES: permission denied, open');
  });

  it('a hit still fails, read problems or not', () => {
    const plan = planCanary();
    const v = maskedVerdict(input(plan, { rb: { problems: ['x'], unread: ['x'], hits: [{ kind: 'card_number', where: 'f:3' }] } }));
    expect(v.status).toBe('fail');
  });
});

describe('check question 2: the recent-records scan', () => {
  it('a failed scan fails the question, with why', () => {
    const plan = planCanary();
    const v = attributedVerdict(input(plan, { recentError: 'Jaeger query failed: fetch failed' }));
    expect(v.status).toBe('fail');
    expect(v.summary).toBe('the recent-records scan failed, so a shared key in the trail was not looked for: Jaeger query failed: fetch failed');
  });

  it('a scan that could not read all of the trail does not pass', () => {
    const plan = planCanary();
    const recent: RecentScan = { description: 'd', since: SINCE.toISOString(), until: UNTIL.toISOString(), calls: 3, runs: 3, agents: 1, principals: 3, flags: [], problems: ['1 problem(s) reading d: f:9: torn'] };
    const v = attributedVerdict(input(plan, { recent }));
    expect(v.status).toBe('unknown');
    expect(v.summary).toBe('the recent-records scan could not read all of the trail: 1 problem(s) reading d: f:9: torn');
  });

  it('one agent whose many runs all ran as one principal is flagged, though other agents use others', async () => {
    const dir = await tempDir();
    const spans = [];
    for (let i = 0; i < 5; i++) spans.push(callSpan({ tool: 'lookup', at: AT + i, agent: 'orders-agent', principal: 'user:orders', runId: `run-${i}` }));
    spans.push(callSpan({ tool: 'lookup', at: AT + 10, agent: 'other-agent', principal: 'user:bob', runId: 'run-99' }));
    // Two runs of one person's agent: ordinary, not flagged.
    spans.push(callSpan({ tool: 'lookup', at: AT + 11, agent: 'alice-helper', principal: 'user:alice', runId: 'run-a1' }));
    spans.push(callSpan({ tool: 'lookup', at: AT + 12, agent: 'alice-helper', principal: 'user:alice', runId: 'run-a2' }));
    await writeTrail(dir, spans);
    const scan = await scanRecent({ kind: 'dir', dir }, SINCE, UNTIL);
    expect(scan.flags).toEqual([
      {
        kind: 'single-principal', principal: 'user:orders', principalType: 'user', calls: 5, runs: 5, agents: ['orders-agent'],
        why: 'all 5 runs of agent "orders-agent" ran as "user:orders": one identity for every run of the agent, so the trail cannot say who a run acted for',
      },
    ]);
  });

  it("skips only this check's own canary runs, not every call id starting tooltrail-check-", async () => {
    const dir = await tempDir();
    const plan = planCanary();
    const spans = [];
    // A model chose call ids that look like a check's: still counted, and a shared key is still seen.
    for (let i = 0; i < 3; i++) spans.push(callSpan({ tool: 'lookup', at: AT + i, agent: 'sneaky', principal: 'svc-shared', runId: `r-${i}`, extra: { 'gen_ai.tool.call.id': `tooltrail-check-${i}` } }));
    for (const run of plan.runs) spans.push(callSpan({ tool: plan.tool, at: AT + 9, outcome: 'denied', agent: CANARY_AGENT, principal: run.principal.id, runId: run.runId, extra: { 'gen_ai.tool.call.id': run.callId } }));
    await writeTrail(dir, spans);
    const scan = await scanRecent({ kind: 'dir', dir }, SINCE, UNTIL, new Set(plan.runs.map((r) => r.runId)));
    expect(scan.calls).toBe(3);
    expect(scan.runs).toBe(3);
    expect(scan.flags.map((f) => [f.kind, f.principal])).toEqual([
      ['single-principal', 'svc-shared'],
      ['service-account', 'svc-shared'],
    ]);
  });
});

describe('check question 2: earlier checks in the trail', () => {
  it("an earlier check's canary runs do not hide an app whose every run shares one principal", async () => {
    const dir = await tempDir();
    const earlier = planCanary();
    const spans = [
      callSpan({ tool: 'lookup', at: AT, agent: 'support', principal: 'user:ops', runId: 'r1' }),
      callSpan({ tool: 'lookup', at: AT + 1, agent: 'billing', principal: 'user:ops', runId: 'r2' }),
    ];
    for (const run of earlier.runs) spans.push(callSpan({ tool: earlier.tool, at: AT + 2, outcome: 'denied', agent: CANARY_AGENT, principal: run.principal.id, runId: run.runId, extra: { 'gen_ai.tool.call.id': run.callId } }));
    await writeTrail(dir, spans);
    const scan = await scanRecent({ kind: 'dir', dir }, SINCE, UNTIL, new Set(planCanary().runs.map((r) => r.runId)));
    expect(scan.runs).toBe(4);
    expect(scan.flags.map((f) => [f.kind, f.principal, f.why])).toEqual([
      ['single-principal', 'user:ops', 'all 2 runs of 2 agent(s) ran as "user:ops": one identity for everyone, so the trail cannot say who a run acted for'],
    ]);
  });
});
