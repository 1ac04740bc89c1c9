import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AuditConfigError, AuditDeniedError, deny, semconv as sc } from '../src/index.js';
import { alice, harness, rejection } from './helpers.js';

describe('approvals on a call', () => {
  it('records an approval as a tooltrail.approval event plus summary attributes, and the call runs', async () => {
    const h = harness();
    let ran = 0;
    const tool = h.auditor.withAudit(async (a: { to: string }) => `sent to ${a.to}`, { name: 'send' });
    const at = Date.UTC(2025, 0, 2, 3, 4, 5, 6);
    const result = await h.auditor.run(alice, () =>
      tool.invokeWith({ approval: { decision: 'approved', by: 'user:alice', at, reason: 'looks right', source: 'test.ui' } }, { to: 'bob' }).then((r) => {
        ran++;
        return r;
      }),
    );
    expect(result).toBe('sent to bob');
    expect(ran).toBe(1);
    const [span] = await h.toolSpans();
    expect(span!.attributes[sc.ATTR_APPROVAL_DECISION]).toBe('approved');
    expect(span!.attributes[sc.ATTR_APPROVAL_BY]).toBe('user:alice');
    expect(span!.attributes[sc.ATTR_APPROVAL_REASON]).toBe('looks right');
    expect(span!.attributes[sc.ATTR_OUTCOME]).toBe('ok');
    // Approval is not a rule: policy decided the call as usual.
    expect(span!.attributes[sc.ATTR_POLICY_RULE]).toBeUndefined();
    const events = span!.events.filter((e) => e.name === sc.EVENT_APPROVAL);
    expect(events).toHaveLength(1);
    expect(events[0]!.attributes).toEqual({
      'tooltrail.approval.decision': 'approved',
      'tooltrail.approval.by': 'user:alice',
      'tooltrail.approval.at': '2025-01-02T03:04:05.006Z',
      'tooltrail.approval.reason': 'looks right',
      'tooltrail.approval.source': 'test.ui',
    });
  });

  it('an approved call is still subject to policy', async () => {
    const h = harness({ policy: [() => deny('never', { rule: 'r.no' })] });
    const tool = h.auditor.withAudit(async () => 1, { name: 't' });
    const err = (await h.auditor.run(alice, () => rejection(tool.invokeWith({ approval: { decision: 'approved', by: 'u' } })))) as AuditDeniedError;
    expect(err.rule).toBe('r.no');
    const [span] = await h.toolSpans();
    expect(span!.attributes[sc.ATTR_APPROVAL_DECISION]).toBe('approved');
  });

  it('a rejected approval denies the call with rule tooltrail.approval; the body and the schema never run', async () => {
    const h = harness();
    let ran = 0;
    let parsed = 0;
    const schema = z.object({ n: z.number() }).transform((v) => {
      parsed++;
      return v;
    });
    const tool = h.auditor.withAudit(async (_a: { n: number }) => ++ran, { name: 'pay', schema });
    const err = await h.auditor.run(alice, () => rejection(tool.invokeWith({ approval: { decision: 'rejected', by: 'user:bob' } }, { n: 1 })));
    expect(AuditDeniedError.isInstance(err)).toBe(true);
    const denied = err as AuditDeniedError;
    expect(denied.rule).toBe(sc.RULE_APPROVAL);
    expect(denied.rule).toBe('tooltrail.approval');
    expect(denied.reason).toBe('rejected by user:bob');
    expect(ran).toBe(0);
    expect(parsed).toBe(0);
    const spans = await h.spans();
    expect(spans.filter((s) => s.name.startsWith('tool_attempt'))).toHaveLength(0);
    const [span] = await h.toolSpans();
    expect(span!.attributes).toMatchObject({
      'tooltrail.outcome': 'denied',
      'tooltrail.decision': 'deny',
      'tooltrail.policy.rule': 'tooltrail.approval',
      'tooltrail.policy.reason': 'rejected by user:bob',
      'tooltrail.approval.decision': 'rejected',
      'tooltrail.approval.by': 'user:bob',
      'tooltrail.attempts': 0,
      'error.type': 'tooltrail.denied',
      'gen_ai.tool.call.arguments': '{"n":1}',
    });
    expect(span!.events.map((e) => e.name)).toEqual(['tooltrail.approval']);
    expect(h.auditor.stats().calls).toEqual({ ok: 0, error: 0, denied: 1, invalid: 0 });
  });

  it("a rejection's reason is the denial's reason, masked like any text", async () => {
    const h = harness();
    const tool = h.auditor.withAudit(async () => 1, { name: 't' });
    const reason = 'card 4111 1111 1111 1111 is not ours';
    const err = (await h.auditor.run(alice, () => rejection(tool.invokeWith({ approval: { decision: 'rejected', by: 'u', reason } })))) as AuditDeniedError;
    expect(err.reason).toBe(reason);
    const [span] = await h.toolSpans();
    for (const v of [span!.attributes[sc.ATTR_POLICY_REASON], span!.attributes[sc.ATTR_APPROVAL_REASON], span!.events[0]!.attributes![sc.ATTR_APPROVAL_REASON]]) {
      expect(String(v)).not.toContain('4111 1111');
      expect(String(v)).toContain('is not ours');
    }
    expect(String(span!.status.message)).not.toContain('4111 1111');
  });

  it('refuses a malformed approval before anything runs or is recorded', async () => {
    const h = harness();
    let ran = 0;
    const tool = h.auditor.withAudit(async () => ++ran, { name: 't' });
    for (const approval of [{ decision: 'maybe', by: 'u' }, { decision: 'approved', by: ' ' }, { decision: 'approved', by: 'u', at: 'soon' }, { decision: 'approved', by: 'u', whom: 1 }]) {
      const err = await h.auditor.run(alice, () => rejection(tool.invokeWith({ approval } as never)));
      expect(AuditConfigError.isInstance(err)).toBe(true);
    }
    expect(ran).toBe(0);
    expect(await h.toolSpans()).toHaveLength(0);
  });
});
