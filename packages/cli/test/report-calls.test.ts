import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../src/commands/io.js';
import { readCalls, toCallView, type CallView } from '../src/review/calls.js';
import { parseTimeArg } from '../src/review/time-arg.js';
import { callSpan, writeTrail } from './report-fixture.js';
import { cleanup, tempDir } from './helpers.js';

afterEach(cleanup);

describe('toCallView', () => {
  it('flattens an execute_tool record', () => {
    const span = callSpan({
      tool: 'send_email',
      at: Date.UTC(2026, 4, 1, 9, 30),
      durationMs: 40,
      outcome: 'denied',
      agent: 'support-bot',
      principal: 'user:42',
      runId: 'run-1',
      rule: 'mail-inside-company',
      reason: 'mail leaves example.com',
      policyId: 'support-agent',
      policyVersion: 'sha256:ab',
      args: '{"to":"[email:a6520e700de2]"}',
      extra: { 'gen_ai.agent.id': 'bot-7', 'tooltrail.stream.id': 's-1', 'tooltrail.approval.decision': 'rejected', 'tooltrail.approval.by': 'user:alice' },
    });
    const v = toCallView(span)!;
    expect(v).toMatchObject<Partial<CallView>>({
      traceId: span.traceId,
      spanId: span.spanId,
      time: Date.UTC(2026, 4, 1, 9, 30),
      tool: 'send_email',
      outcome: 'denied',
      decision: 'deny',
      rule: 'mail-inside-company',
      reason: 'mail leaves example.com',
      policyId: 'support-agent',
      policyVersion: 'sha256:ab',
      runId: 'run-1',
      agentName: 'support-bot',
      agentId: 'bot-7',
      principalId: 'user:42',
      principalType: 'user',
      attempts: 0,
      retries: 0,
      errorType: 'tooltrail.denied',
      approval: { decision: 'rejected', by: 'user:alice' },
      argsJson: '{"to":"[email:a6520e700de2]"}',
      service: 'support-agent',
      streamId: 's-1',
    });
    expect(v.durationMs).toBeCloseTo(40, 3);
    expect(v.callId).toMatch(/^call_/);
  });

  it('counts retries and takes unfinished intents, but not attempts, strict intents or runs', () => {
    expect(toCallView(callSpan({ tool: 't', at: 0, outcome: 'error', attempts: 3 }))).toMatchObject({ attempts: 3, retries: 2, outcome: 'error' });
    const base = callSpan({ tool: 't', at: 0 });
    expect(toCallView({ ...base, name: 'tool_attempt t', attributes: { 'gen_ai.tool.name': 't', 'tooltrail.attempt': 1 } })).toBeUndefined();
    expect(toCallView({ ...base, name: 'tool_intent t', attributes: { ...base.attributes, 'tooltrail.record': 'intent' } })).toBeUndefined();
    expect(toCallView({ ...base, name: 'tool_intent t', attributes: { ...base.attributes, 'tooltrail.record': 'unfinished' } })?.outcome).toBe('unfinished');
    expect(toCallView({ ...base, name: 'invoke_agent bot', attributes: { 'gen_ai.operation.name': 'invoke_agent' } })).toBeUndefined();
    expect(toCallView({ ...base, name: 'tooltrail.checkpoint', attributes: {} })).toBeUndefined();
  });
});

describe('readCalls', () => {
  it('reads a collector folder in a time range, each call once', async () => {
    const dir = await tempDir();
    const t0 = Date.UTC(2026, 4, 1);
    const spans = [0, 1, 2, 3].map((h) => callSpan({ tool: `tool${h}`, at: t0 + h * 3_600_000 }));
    await writeTrail(dir, [...spans, spans[1]!]); // a duplicate delivery
    const all: CallView[] = [];
    let done: { records: number } | undefined;
    for await (const c of readCalls({ kind: 'dir', dir }, {}, { onDone: (i) => (done = i) })) all.push(c);
    expect(all.map((c) => c.tool)).toEqual(['tool0', 'tool1', 'tool2', 'tool3']);
    expect(done?.records).toBe(5);
    const some: string[] = [];
    for await (const c of readCalls({ kind: 'dir', dir }, { since: new Date(t0 + 3_600_000), until: new Date(t0 + 3 * 3_600_000) })) some.push(c.tool);
    expect(some).toEqual(['tool1', 'tool2']);
  });
});

describe('parseTimeArg', () => {
  const now = new Date('2026-05-08T12:00:00Z');
  it('reads durations ago and ISO dates', () => {
    expect(parseTimeArg('7d', now).toISOString()).toBe('2026-05-01T12:00:00.000Z');
    expect(parseTimeArg('24h', now).toISOString()).toBe('2026-05-07T12:00:00.000Z');
    expect(parseTimeArg('90m', now).toISOString()).toBe('2026-05-08T10:30:00.000Z');
    expect(parseTimeArg('2026-05-01T09:30:00Z').toISOString()).toBe('2026-05-01T09:30:00.000Z');
    expect(parseTimeArg('2026-05-01').toISOString()).toBe('2026-05-01T00:00:00.000Z');
  });
  it('refuses anything else', () => {
    for (const bad of ['', '7', 'yesterday', '7x', '-7d', '2026-13-45']) expect(() => parseTimeArg(bad, now), bad).toThrow(UsageError);
  });
});
