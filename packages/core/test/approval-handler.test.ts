import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { AuditConfigError, AuditDeniedError, ask, semconv as sc, type ApprovalRequest } from '../src/index.js';
import { alice, harness, rejection } from './helpers.js';

const needsOk = ask('wire transfers need a person', { rule: 'money.ask' });

function approvalEvent(span: ReadableSpan): Record<string, unknown> | undefined {
  return span.events.find((e) => e.name === sc.EVENT_APPROVAL)?.attributes;
}

function setup(handler?: (req: ApprovalRequest) => unknown, timeoutMs?: number) {
  const h = harness(
    handler === undefined ? {} : { approval: { handler: handler as never, ...(timeoutMs !== undefined ? { timeoutMs } : {}) } },
  );
  let ran = 0;
  const tool = h.auditor.withAudit(async (a: { to: string; amount: number }) => `sent ${a.amount} to ${a.to} #${++ran}`, {
    name: 'wire_money',
    policy: [() => needsOk],
  });
  return { h, tool, ran: () => ran };
}

describe('ask with an approval handler', () => {
  it('approved: the handler sees the real and the masked arguments, the call runs, the approval is recorded', async () => {
    const seen: ApprovalRequest[] = [];
    const { h, tool, ran } = setup((req) => {
      seen.push(req);
      return { decision: 'approved', by: 'user:alice', reason: 'known payee', at: 1_700_000_000_000 };
    });
    const out = await h.auditor.run(alice, () => tool.invokeWith({ callId: 'c-1' }, { to: 'bob', amount: 5 }));
    expect(out).toBe('sent 5 to bob #1');
    expect(ran()).toBe(1);
    const req = seen[0] as ApprovalRequest;
    expect(req).toMatchObject({ tool: 'wire_money', callId: 'c-1', args: { to: 'bob', amount: 5 }, rule: 'money.ask', reason: 'wire transfers need a person' });
    expect(JSON.parse(req.argsMasked)).toEqual({ to: 'bob', amount: 5 });
    expect(req.run?.principal.id).toBe('user:42');
    expect(req.policy).toBeUndefined();
    expect(req.signal.aborted).toBe(false);
    const [span] = await h.toolSpans();
    const a = span!.attributes;
    expect(a[sc.ATTR_OUTCOME]).toBe('ok');
    expect(a[sc.ATTR_DECISION]).toBe('ask');
    expect(a[sc.ATTR_POLICY_RULE]).toBe('money.ask');
    expect(a[sc.ATTR_APPROVAL_RULE]).toBe('money.ask');
    expect(a[sc.ATTR_APPROVAL_DECISION]).toBe('approved');
    expect(a[sc.ATTR_APPROVAL_BY]).toBe('user:alice');
    expect(approvalEvent(span!)).toMatchObject({
      [sc.ATTR_APPROVAL_DECISION]: 'approved',
      [sc.ATTR_APPROVAL_BY]: 'user:alice',
      [sc.ATTR_APPROVAL_REASON]: 'known payee',
      [sc.ATTR_APPROVAL_AT]: new Date(1_700_000_000_000).toISOString(),
      [sc.ATTR_APPROVAL_SOURCE]: sc.APPROVAL_SOURCE_HANDLER,
    });
  });

  it('rejected: the body never runs, the call is denied with rule tooltrail.approval, never a success', async () => {
    const { h, tool, ran } = setup(async () => ({ decision: 'rejected', by: 'user:alice', reason: 'unknown payee' }));
    const err = await rejection(h.auditor.run(alice, () => tool({ to: 'mallory', amount: 9_000 })));
    expect(AuditDeniedError.isInstance(err)).toBe(true);
    expect((err as AuditDeniedError).rule).toBe(sc.RULE_APPROVAL);
    expect((err as AuditDeniedError).reason).toBe('unknown payee');
    expect(ran()).toBe(0);
    const [span] = await h.toolSpans();
    const a = span!.attributes;
    expect(a[sc.ATTR_OUTCOME]).toBe('denied');
    expect(a[sc.ATTR_DECISION]).toBe('deny');
    expect(a[sc.ATTR_POLICY_RULE]).toBe(sc.RULE_APPROVAL);
    expect(a[sc.ATTR_APPROVAL_RULE]).toBe('money.ask');
    expect(a[sc.ATTR_APPROVAL_DECISION]).toBe('rejected');
    expect(a[sc.ATTR_ATTEMPTS]).toBe(0);
    expect(JSON.parse(String(a[sc.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]))).toEqual({ to: 'mallory', amount: 9_000 });
    expect(approvalEvent(span!)?.[sc.ATTR_APPROVAL_SOURCE]).toBe(sc.APPROVAL_SOURCE_HANDLER);
    expect(h.auditor.stats().calls).toEqual({ ok: 0, error: 0, denied: 1, invalid: 0 });
  });

  it('timed out: its own deadline (not policyTimeoutMs), the signal aborts, denied and rejected by tooltrail; a late answer is ignored', async () => {
    let request: ApprovalRequest | undefined;
    let answer: ((v: unknown) => void) | undefined;
    const { h, tool, ran } = setup((req) => {
      request = req;
      return new Promise((resolve) => (answer = resolve));
    }, 60);
    const started = Date.now();
    const err = await rejection(h.auditor.run(alice, () => tool({ to: 'bob', amount: 1 })));
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    expect((err as AuditDeniedError).rule).toBe(sc.RULE_APPROVAL);
    expect((err as AuditDeniedError).reason).toMatch(/no approval within 60 ms/);
    expect(request!.signal.aborted).toBe(true);
    answer!({ decision: 'approved', by: 'user:late' });
    await new Promise((r) => setTimeout(r, 10));
    expect(ran()).toBe(0);
    const [span] = await h.toolSpans();
    expect(span!.attributes[sc.ATTR_OUTCOME]).toBe('denied');
    expect(approvalEvent(span!)).toMatchObject({
      [sc.ATTR_APPROVAL_DECISION]: 'rejected',
      [sc.ATTR_APPROVAL_BY]: sc.APPROVER_TOOLTRAIL,
      [sc.ATTR_APPROVAL_SOURCE]: sc.APPROVAL_SOURCE_HANDLER,
    });
    expect(String(approvalEvent(span!)?.[sc.ATTR_APPROVAL_REASON])).toMatch(/no approval within 60 ms/);
  });

  it('the approval deadline is apart from policyTimeoutMs: a slow person is not cut off by the rules\' deadline', async () => {
    const h = harness({
      policyTimeoutMs: 20,
      approval: { handler: () => new Promise((r) => setTimeout(() => r({ decision: 'approved', by: 'user:slow' }), 80)), timeoutMs: 2_000 },
    });
    const tool = h.auditor.withAudit(async () => 'ran', { name: 'slow_ok', policy: [async () => needsOk] });
    expect(await h.auditor.run(alice, () => tool())).toBe('ran');
  });

  it('handler throws (sync and async) or answers garbage: denied, the error on the record, masked', async () => {
    const secret = 'AKIA' + 'IOSFODNN7EXAMPLE';
    const throwers = [
      () => {
        throw new Error(`approval service down, key ${secret}`);
      },
      async () => {
        throw new Error('async failure');
      },
      () => ({ decision: 'yes', by: '' }),
    ];
    for (const handler of throwers) {
      const { h, tool, ran } = setup(handler);
      const err = await rejection(h.auditor.run(alice, () => tool({ to: 'bob', amount: 2 })));
      expect((err as AuditDeniedError).rule).toBe(sc.RULE_APPROVAL);
      expect((err as AuditDeniedError).reason).toMatch(/approval handler failed/);
      expect(ran()).toBe(0);
      const [span] = await h.toolSpans();
      const a = span!.attributes;
      expect(a[sc.ATTR_OUTCOME]).toBe('denied');
      expect(a[sc.ATTR_APPROVAL_BY]).toBe(sc.APPROVER_TOOLTRAIL);
      expect(a[sc.ATTR_POLICY_ERROR]).toBeDefined();
      expect(span!.events.some((e) => e.name === 'exception')).toBe(true);
      expect(JSON.stringify(span!.attributes) + JSON.stringify(span!.events)).not.toContain(secret);
    }
  });

  it('no handler: an ask is denied (rule tooltrail.approval), saying no approver is configured', async () => {
    const { h, tool, ran } = setup(undefined);
    const err = await rejection(h.auditor.run(alice, () => tool({ to: 'bob', amount: 3 })));
    expect((err as AuditDeniedError).rule).toBe(sc.RULE_APPROVAL);
    expect((err as AuditDeniedError).reason).toMatch(/no approver is configured/);
    expect(ran()).toBe(0);
    const [span] = await h.toolSpans();
    expect(span!.attributes[sc.ATTR_OUTCOME]).toBe('denied');
    expect(span!.attributes[sc.ATTR_APPROVAL_RULE]).toBe('money.ask');
    expect(approvalEvent(span!)).toBeUndefined();
  });

  it('an approval the call carries (a framework flow) answers the ask without the handler', async () => {
    let asked = 0;
    const { h, tool } = setup(() => {
      asked++;
      return { decision: 'rejected', by: 'x' };
    });
    const out = await h.auditor.run(alice, () => tool.invokeWith({ callId: 'fw-1', approval: { decision: 'approved', by: 'user:bob', source: 'test.flow' } }, { to: 'bob', amount: 4 }));
    expect(out).toMatch(/^sent 4/);
    expect(asked).toBe(0);
  });

  it('shutdown while waiting for an answer: denied and recorded before the stream ends', async () => {
    // The in-memory exporter forgets its spans at shutdown: keep what it was given.
    const kept: ReadableSpan[] = [];
    const exporter = {
      export: (spans: ReadableSpan[], done: (r: { code: number }) => void) => {
        kept.push(...spans);
        done({ code: 0 });
      },
      shutdown: async () => undefined,
    };
    const h = harness({ exporter, approval: { handler: () => new Promise(() => undefined) } });
    let ran = 0;
    const tool = h.auditor.withAudit(async () => ++ran, { name: 'wire_money', policy: [() => needsOk] });
    const call = h.auditor.run(alice, () => tool());
    await new Promise((r) => setTimeout(r, 10));
    const done = h.auditor.shutdown(200);
    const err = await rejection(call);
    expect((err as AuditDeniedError).reason).toMatch(/shut down while the call waited for approval/);
    expect(await done).toBe(true);
    expect(ran).toBe(0);
    const span = kept.find((s) => s.name === 'execute_tool wire_money');
    expect(span?.attributes[sc.ATTR_OUTCOME]).toBe('denied');
    expect(span?.attributes[sc.ATTR_APPROVAL_BY]).toBe(sc.APPROVER_TOOLTRAIL);
  });

  it('bad approval options are AuditConfigErrors', () => {
    expect(() => harness({ approval: { handler: 'nope' as never } })).toThrow(AuditConfigError);
    expect(() => harness({ approval: { handler: () => ({ decision: 'approved', by: 'a' }), timeotMs: 5 } as never })).toThrow(/did you mean `approval.timeoutMs`/);
    expect(() => harness({ approval: { handler: () => ({ decision: 'approved', by: 'a' }), timeoutMs: -1 } })).toThrow(AuditConfigError);
  });
});

describe('approval options without a handler (framework flows only)', () => {
  it('takes { timeoutMs } alone; an ask with no handler and no framework answer is denied, the body never runs', async () => {
    const h = harness({ approval: { timeoutMs: 60_000 } });
    expect(h.auditor.approvalHandler).toBeUndefined();
    let ran = 0;
    const tool = h.auditor.withAudit(async () => ++ran, { name: 'wire_money', policy: [() => needsOk] });
    const err = await rejection(h.auditor.run(alice, () => tool()));
    expect(AuditDeniedError.isInstance(err)).toBe(true);
    expect(ran).toBe(0);
    const [span] = await h.toolSpans();
    expect(span!.attributes[sc.ATTR_OUTCOME]).toBe('denied');
    expect(span!.attributes[sc.ATTR_POLICY_RULE]).toBe(sc.RULE_APPROVAL);
  });

  it('exposes the handler it was given as auditor.approvalHandler', () => {
    const handler = () => ({ decision: 'approved' as const, by: 'user:alice' });
    expect(harness({ approval: { handler } }).auditor.approvalHandler).toBe(handler);
  });
});
