import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AuditConfigError, AuditDeniedError, AuditValidationError, allow, ask, createAuditor, deny, rewrite, semconv as sc, type ApprovalRequest } from '../src/index.js';
import { freePort, tempDir } from './collector-harness.js';
import { alice, harness, rejection } from './helpers.js';

const approveAll = { handler: () => ({ decision: 'approved' as const, by: 'user:approver' }) };

describe('ask among the other decisions', () => {
  it('a deny anywhere wins over an ask, before or after it; the handler is never asked', async () => {
    let asked = 0;
    const h = harness({ approval: { handler: () => (asked++, { decision: 'approved', by: 'x' }) } });
    const askFirst = h.auditor.withAudit(async () => 'ran', { name: 'ask_first', policy: [() => ask('check', { rule: 'a' }), () => deny('no', { rule: 'd' })] });
    const denyFirst = h.auditor.withAudit(async () => 'ran', { name: 'deny_first', policy: [() => deny('no', { rule: 'd' }), () => ask('check', { rule: 'a' })] });
    for (const tool of [askFirst, denyFirst]) {
      const err = await rejection(h.auditor.run(alice, () => tool()));
      expect((err as AuditDeniedError).rule).toBe('d');
    }
    expect(asked).toBe(0);
    const spans = await h.toolSpans();
    expect(spans.map((s) => s.attributes[sc.ATTR_OUTCOME])).toEqual(['denied', 'denied']);
  });

  it('an ask is asked once all steps allowed, with the first asking rule; a later allow does not skip it', async () => {
    const requests: ApprovalRequest[] = [];
    const h = harness({
      policy: [() => ask('auditor asks', { rule: 'auditor.ask' })],
      approval: { handler: (r) => (requests.push(r), { decision: 'approved', by: 'user:a' }) },
    });
    const tool = h.auditor.withAudit(async () => 'ran', { name: 'two_asks', policy: [() => ask('tool asks', { rule: 'tool.ask' }), () => allow('fine', { rule: 'ok' })] });
    expect(await h.auditor.run(alice, () => tool())).toBe('ran');
    expect(requests).toHaveLength(1);
    expect(requests[0]!.rule).toBe('auditor.ask');
    const [span] = await h.toolSpans();
    expect(span!.attributes[sc.ATTR_DECISION]).toBe('ask');
    expect(span!.attributes[sc.ATTR_POLICY_RULE]).toBe('auditor.ask');
  });

  it('rewrite then ask: the approver sees the rewritten arguments, validated again, and they are what runs', async () => {
    const requests: ApprovalRequest[] = [];
    const h = harness({ approval: { handler: (r) => (requests.push(r), { decision: 'approved', by: 'user:a' }) } });
    const received: unknown[] = [];
    const schema = z.object({ to: z.string(), cc: z.string().optional() });
    const tool = h.auditor.withAudit(async (a: { to: string; cc?: string }) => (received.push(a), 'sent'), {
      name: 'send_email',
      schema,
      policy: [(call) => rewrite({ to: (call.args as { to: string }).to }, 'cc removed', { rule: 'strip-cc' }), () => ask('external mail', { rule: 'mail.ask' })],
    });
    expect(await h.auditor.run(alice, () => tool({ to: 'bob@example.com', cc: 'eve@evil.io' }))).toBe('sent');
    expect(requests[0]!.args).toEqual({ to: 'bob@example.com' });
    // As the trail records them: masked (the address is personal data), the real ones beside.
    expect(requests[0]!.argsMasked).not.toContain('bob@example.com');
    expect(Object.keys(JSON.parse(requests[0]!.argsMasked))).toEqual(['to']);
    expect(received).toEqual([{ to: 'bob@example.com' }]);
    const [span] = await h.toolSpans();
    const a = span!.attributes;
    expect(a[sc.ATTR_DECISION]).toBe('ask');
    expect(a[sc.ATTR_ARGUMENTS_MUTATED]).toBe(true);
    expect(Object.keys(JSON.parse(String(a[sc.ATTR_ARGUMENTS_PROPOSED])))).toEqual(['to', 'cc']);
  });

  it('a rewrite the schema rejects is invalid before anyone is asked', async () => {
    let asked = 0;
    const h = harness({ approval: { handler: () => (asked++, { decision: 'approved', by: 'x' }) } });
    const tool = h.auditor.withAudit(async (_a: { n: number }) => 'ran', {
      name: 'bad_rewrite',
      schema: z.object({ n: z.number() }),
      policy: [() => rewrite({ n: 'nope' }, 'broken', { rule: 'rw' }), () => ask('check', { rule: 'a' })],
    });
    const err = await rejection(h.auditor.run(alice, () => tool({ n: 1 })));
    expect(AuditValidationError.isInstance(err)).toBe(true);
    expect(asked).toBe(0);
  });

  it('decision options are checked for ask too', () => {
    expect(() => ask('x', { rul: 'a' } as never)).toThrow(AuditConfigError);
  });
});

describe('pending approvals (a framework ends the run and resumes it)', () => {
  it('pending then resumed: a pending_approval record, then the resumed call with tooltrail.approval.resumed', async () => {
    const h = harness();
    let ran = 0;
    const tool = h.auditor.withAudit(async (_a: { to: string }) => ++ran, { name: 'wire_money', policy: [() => ask('needs a person', { rule: 'money.ask' })] });
    const preview = await h.auditor.run(alice, () => tool.previewDecision({ to: 'bob' }, { callId: 'fw-9' }));
    expect(preview).toEqual({ kind: 'ask', rule: 'money.ask', reason: 'needs a person' });
    h.auditor.run(alice, () => h.auditor.recordPendingApproval('wire_money', { callId: 'fw-9', args: { to: 'bob' }, rule: preview.rule, reason: preview.reason, attributes: { 'framework.step': 2 } }));
    expect(ran).toBe(0);
    expect(h.auditor.stats().pendingApprovals).toBe(1);
    const out = await h.auditor.run(alice, () => tool.invokeWith({ callId: 'fw-9', approval: { decision: 'approved', by: 'user:alice', source: 'test.resume' } }, { to: 'bob' }));
    expect(out).toBe(1);
    const [pending, resumed] = await h.toolSpans();
    expect(pending!.attributes[sc.ATTR_OUTCOME]).toBe(sc.OUTCOME_PENDING_APPROVAL);
    expect(pending!.attributes[sc.ATTR_DECISION]).toBe('ask');
    expect(pending!.attributes[sc.ATTR_POLICY_RULE]).toBe('money.ask');
    expect(pending!.attributes[sc.ATTR_ATTEMPTS]).toBe(0);
    expect(pending!.attributes[sc.ATTR_GEN_AI_TOOL_CALL_ID]).toBe('fw-9');
    expect(pending!.attributes['framework.step']).toBe(2);
    expect(pending!.status.code).toBe(0); // unset: nothing failed (yet)
    expect(resumed!.attributes[sc.ATTR_OUTCOME]).toBe('ok');
    expect(resumed!.attributes[sc.ATTR_APPROVAL_RESUMED]).toBe(true);
    expect(resumed!.attributes[sc.ATTR_GEN_AI_TOOL_CALL_ID]).toBe('fw-9');
    expect(resumed!.attributes[sc.ATTR_APPROVAL_DECISION]).toBe('approved');
    expect(h.auditor.stats().calls).toEqual({ ok: 1, error: 0, denied: 0, invalid: 0 });
  });

  it('resumed and rejected (invokeWith or recordRefused): denied by approval, linked', async () => {
    const h = harness();
    const tool = h.auditor.withAudit(async () => 'ran', { name: 'wire_money', policy: [() => ask('needs a person', { rule: 'money.ask' })] });
    h.auditor.recordPendingApproval('wire_money', { callId: 'p-1' });
    h.auditor.recordPendingApproval('wire_money', { callId: 'p-2' });
    const err = await rejection(h.auditor.run(alice, () => tool.invokeWith({ callId: 'p-1', approval: { decision: 'rejected', by: 'user:alice' } })));
    expect((err as AuditDeniedError).rule).toBe(sc.RULE_APPROVAL);
    tool.recordRefused({ callId: 'p-2', kind: 'denied', reason: 'rejected', approval: { decision: 'rejected', by: 'user:bob' } });
    const spans = (await h.toolSpans()).filter((s) => s.attributes[sc.ATTR_OUTCOME] === 'denied');
    expect(spans).toHaveLength(2);
    for (const s of spans) expect(s.attributes[sc.ATTR_APPROVAL_RESUMED]).toBe(true);
  });

  it('a resume after the approval deadline is denied, whatever it carries; an earlier process\'s resume is marked by meta.resumed', async () => {
    const h = harness({ approval: { ...approveAll, timeoutMs: 20 } });
    const tool = h.auditor.withAudit(async () => 'ran', { name: 'wire_money', policy: [() => ask('needs a person', { rule: 'money.ask' })] });
    h.auditor.recordPendingApproval('wire_money', { callId: 'late-1' });
    await new Promise((r) => setTimeout(r, 40));
    const err = await rejection(h.auditor.run(alice, () => tool.invokeWith({ callId: 'late-1', approval: { decision: 'approved', by: 'user:alice' } })));
    expect((err as AuditDeniedError).rule).toBe(sc.RULE_APPROVAL);
    expect((err as AuditDeniedError).reason).toMatch(/past the 20 ms deadline/);
    expect(await h.auditor.run(alice, () => tool.invokeWith({ callId: 'other-process', resumed: true, approval: { decision: 'approved', by: 'user:alice' } }))).toBe('ran');
    const spans = await h.toolSpans();
    const late = spans.find((s) => s.attributes[sc.ATTR_GEN_AI_TOOL_CALL_ID] === 'late-1' && s.attributes[sc.ATTR_OUTCOME] === 'denied');
    expect(late?.attributes[sc.ATTR_APPROVAL_BY]).toBe(sc.APPROVER_TOOLTRAIL);
    const other = spans.find((s) => s.attributes[sc.ATTR_GEN_AI_TOOL_CALL_ID] === 'other-process');
    expect(other?.attributes[sc.ATTR_APPROVAL_RESUMED]).toBe(true);
  });

  it('a malformed pending report is an AuditConfigError and records nothing', async () => {
    const h = harness();
    expect(() => h.auditor.recordPendingApproval('t', {} as never)).toThrow(AuditConfigError);
    expect(() => h.auditor.recordPendingApproval('t', { callId: 'x', rul: 'a' } as never)).toThrow(/did you mean `rule`/);
    expect(() => h.auditor.recordPendingApproval('', { callId: 'x' })).toThrow(AuditConfigError);
    expect(await h.toolSpans()).toHaveLength(0);
  });
});

describe('previewDecision', () => {
  it('tells allow, deny, rewrite and ask apart, without running, asking or recording anything', async () => {
    let asked = 0;
    let ran = 0;
    const h = harness({ approval: { handler: () => (asked++, { decision: 'approved', by: 'x' }) } });
    const tool = h.auditor.withAudit(async (_a: { mode: string }) => ++ran, {
      name: 'modes',
      schema: z.object({ mode: z.string().default('allow') }),
      policy: [
        async (call) => {
          const mode = (call.args as { mode: string }).mode;
          if (mode === 'deny') return deny('no', { rule: 'r.deny' });
          if (mode === 'ask') return ask('maybe', { rule: 'r.ask' });
          if (mode === 'rewrite') return rewrite({ mode: 'allow' }, 'normalised', { rule: 'r.rewrite' });
          return allow('yes', { rule: 'r.allow' });
        },
      ],
    });
    const p = (mode: string) => h.auditor.run(alice, () => tool.previewDecision({ mode }));
    expect(await p('allow')).toEqual({ kind: 'allow', rule: 'r.allow', reason: 'yes' });
    expect(await p('deny')).toEqual({ kind: 'deny', rule: 'r.deny', reason: 'no' });
    expect(await p('ask')).toEqual({ kind: 'ask', rule: 'r.ask', reason: 'maybe' });
    expect(await p('rewrite')).toEqual({ kind: 'rewrite', rule: 'r.rewrite', reason: 'normalised' });
    // Outside a run, identity decides first.
    expect((await tool.previewDecision({ mode: 'allow' })).rule).toBe(sc.RULE_REQUIRE_IDENTITY);
    expect(asked + ran).toBe(0);
    expect(await h.toolSpans()).toHaveLength(0);
    await expect(tool.previewDecision({ mode: 'x' }, { callld: 'a' } as never)).rejects.toThrow(AuditConfigError);
  });
});

describe('strict durability', () => {
  it('a rejected approval is committed to the spool before the call rejects', async () => {
    const down = await freePort();
    const spoolDir = tempDir('ask-strict');
    const auditor = createAuditor({
      serviceName: 'ask-strict',
      endpoint: `http://127.0.0.1:${down}`,
      durability: 'strict',
      spoolDir,
      logger: { warn() {} },
      export: { timeoutMs: 200, initialBackoffMs: 10 },
      approval: { handler: async () => ({ decision: 'rejected', by: 'user:alice', reason: 'not today' }) },
    });
    const tool = auditor.withAudit(async () => 1, { name: 'wire_money', policy: [() => ask('needs a person', { rule: 'money.ask' })] });
    const before = spooled(spoolDir);
    let settled = '';
    const call = auditor.run(alice, () => tool.invokeWith({ callId: 'strict-ask-1' })).catch((err: unknown) => {
      // Synchronously when the denial reaches the caller: already on disk.
      settled = spooled(spoolDir);
      return err;
    });
    const err = await call;
    expect((err as AuditDeniedError).rule).toBe(sc.RULE_APPROVAL);
    expect(before).not.toContain('strict-ask-1');
    expect(settled).toContain('strict-ask-1');
    expect(settled).toContain('not today');
    auditor.recordPendingApproval('wire_money', { callId: 'strict-pending-1' });
    expect(spooled(spoolDir)).toContain('strict-pending-1');
    await auditor.shutdown(200);
  });
});

function spooled(dir: string): string {
  let out = '';
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out += readFileSync(p).toString('latin1');
    }
  };
  walk(dir);
  return out;
}
