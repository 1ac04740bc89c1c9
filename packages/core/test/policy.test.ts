import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allow, AuditDeniedError, AuditValidationError, deny, rewrite, type ToolCall } from '../src/index.js';
import { alice, harness, rejection } from './helpers.js';

describe('policy before execution', () => {
  it('runs rules in order; the first deny wins and later rules never run', async () => {
    const order: string[] = [];
    const h = harness({
      policy: [
        function first() {
          order.push('first');
          return allow('fine so far', { rule: 'r.first' });
        },
        function second() {
          order.push('second');
          return deny('second says no');
        },
        function third() {
          order.push('third');
          return deny('third says no');
        },
      ],
    });
    const tool = h.auditor.withAudit(async () => 1, { name: 't' });
    const err = (await h.auditor.run(alice, () => rejection(tool()))) as AuditDeniedError;
    expect(order).toEqual(['first', 'second']);
    expect(err.rule).toBe('second');
    expect(err.reason).toBe('second says no');
  });

  it('lets a later rule see earlier rewrites, and executes the last rewrite', async () => {
    const seen: unknown[] = [];
    const h = harness({
      policy: [
        () => rewrite({ n: 2 }, 'double', { rule: 'a' }),
        (c: ToolCall) => {
          seen.push(c.args, c.proposedArgs);
          return rewrite({ n: (c.args as { n: number }).n + 1 }, 'inc', { rule: 'b' });
        },
      ],
    });
    const got: unknown[] = [];
    const tool = h.auditor.withAudit(async (a: { n: number }) => got.push(a), { name: 't' });
    await h.auditor.run(alice, () => tool({ n: 1 }));
    expect(seen).toEqual([{ n: 2 }, { n: 1 }]);
    expect(got).toEqual([{ n: 3 }]);
    const [span] = await h.toolSpans();
    expect(span!.attributes['tooltrail.policy.rule']).toBe('b');
    expect(span!.attributes['tooltrail.decision']).toBe('rewrite');
  });

  it('records the allowing rule when one says allow', async () => {
    const h = harness({ policy: [() => allow('read-only tool', { rule: 'readonly' }), () => undefined] });
    const tool = h.auditor.withAudit(async () => 1, { name: 't' });
    await h.auditor.run(alice, () => tool());
    const [span] = await h.toolSpans();
    expect(span!.attributes).toMatchObject({
      'tooltrail.decision': 'allow',
      'tooltrail.policy.rule': 'readonly',
      'tooltrail.policy.reason': 'read-only tool',
    });
  });

  it('denies when a rule throws (fail closed), recording the error', async () => {
    const h = harness({
      policy: [
        function brokenRule() {
          throw new RangeError('lookup table missing');
        },
      ],
    });
    let ran = false;
    const tool = h.auditor.withAudit(async () => (ran = true), { name: 't' });
    const err = (await h.auditor.run(alice, () => rejection(tool()))) as AuditDeniedError;
    expect(ran).toBe(false);
    expect(err).toBeInstanceOf(AuditDeniedError);
    expect(err.rule).toBe('tooltrail.policy-error:brokenRule');
    const [span] = await h.toolSpans();
    expect(span!.attributes).toMatchObject({
      'tooltrail.outcome': 'denied',
      'tooltrail.decision': 'deny',
      'tooltrail.policy.rule': 'tooltrail.policy-error:brokenRule',
      'tooltrail.policy.error': 'lookup table missing',
      'error.type': 'tooltrail.denied',
    });
    expect(span!.events.map((e) => [e.name, e.attributes?.['exception.type']])).toEqual([['exception', 'RangeError']]);
  });

  it('denies when an async rule rejects, or a rule returns something that is not a decision', async () => {
    const h = harness({ policy: [async () => Promise.reject('nope')] });
    const tool = h.auditor.withAudit(async () => 1, { name: 't' });
    const err = (await h.auditor.run(alice, () => rejection(tool()))) as AuditDeniedError;
    expect(err.rule).toBe('tooltrail.policy-error:policy[0]');
    const h2 = harness({ policy: [(() => ({ verdict: 'yes' })) as never] });
    const tool2 = h2.auditor.withAudit(async () => 1, { name: 't' });
    const err2 = (await h2.auditor.run(alice, () => rejection(tool2()))) as AuditDeniedError;
    expect(err2).toBeInstanceOf(AuditDeniedError);
    expect(err2.reason).toContain('not a decision');
  });

  it('awaits async rules in order', async () => {
    const h = harness({
      policy: [
        async () => {
          await new Promise((r) => setTimeout(r, 5));
          return rewrite('b', 'slow rewrite', { rule: 'slow' });
        },
        (c: ToolCall) => (c.args === 'b' ? deny('saw the rewrite', { rule: 'sees' }) : undefined),
      ],
    });
    const tool = h.auditor.withAudit(async (x: string) => x, { name: 't' });
    const err = (await h.auditor.run(alice, () => rejection(tool('a')))) as AuditDeniedError;
    expect(err.rule).toBe('sees');
  });

  it('gives rules the validated, unmasked arguments, the proposal, the call id and the run', async () => {
    const calls: ToolCall[] = [];
    const h = harness({ policy: [(c: ToolCall) => void calls.push(c)] });
    const tool = h.auditor.withAudit(async (_: { n: number }) => 1, {
      name: 't',
      schema: z.object({ n: z.coerce.number(), password: z.string() }),
    });
    await h.auditor.run({ ...alice, runId: 'r-9' }, () => tool.invokeWith({ callId: 'c-1' }, { n: '5', password: 'hunter2' } as never));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args).toEqual({ n: 5, password: 'hunter2' });
    expect(calls[0]!.proposedArgs).toEqual({ n: '5', password: 'hunter2' });
    expect(calls[0]!.callId).toBe('c-1');
    expect(calls[0]!.run?.runId).toBe('r-9');
    expect(calls[0]!.run?.principal.id).toBe('user:42');
  });

  it('denies calls outside a run with tooltrail.require-identity, unless turned off', async () => {
    const h = harness();
    let ran = 0;
    const tool = h.auditor.withAudit(async () => ran++, { name: 't' });
    const err = (await rejection(tool())) as AuditDeniedError;
    expect(err.rule).toBe('tooltrail.require-identity');
    expect(ran).toBe(0);
    const [span] = await h.toolSpans();
    expect(span!.attributes['tooltrail.policy.rule']).toBe('tooltrail.require-identity');
    expect(span!.attributes).not.toHaveProperty('user.id');

    const open = harness({ requireIdentity: false });
    const tool2 = open.auditor.withAudit(async () => 'ran', { name: 't' });
    expect(await tool2()).toBe('ran');
    const [span2] = await open.toolSpans();
    expect(span2!.attributes['tooltrail.outcome']).toBe('ok');
  });

  it('runs per-tool rules after the auditor rules', async () => {
    const order: string[] = [];
    const h = harness({ policy: [() => void order.push('global')] });
    const tool = h.auditor.withAudit(async () => 1, {
      name: 't',
      policy: [() => (order.push('tool'), deny('tool rule', { rule: 'tool-only' }))],
    });
    const err = (await h.auditor.run(alice, () => rejection(tool()))) as AuditDeniedError;
    expect(order).toEqual(['global', 'tool']);
    expect(err.rule).toBe('tool-only');
  });

  it('re-validates rewritten arguments: a rewrite cannot smuggle in what the schema rejects', async () => {
    const h = harness({ policy: [() => rewrite({ to: 'not an address' }, 'bad rewrite', { rule: 'bad' })] });
    let ran = false;
    const tool = h.auditor.withAudit(async (_: { to: string }) => (ran = true), {
      name: 'send',
      schema: z.object({ to: z.string().email() }),
    });
    const err = await h.auditor.run(alice, () => rejection(tool({ to: 'bob@example.com' })));
    expect(err).toBeInstanceOf(AuditValidationError);
    expect(ran).toBe(false);
    const [span] = await h.toolSpans();
    expect(span!.attributes['tooltrail.outcome']).toBe('invalid');
    expect(span!.attributes['tooltrail.decision']).toBe('rewrite');
  });
});
