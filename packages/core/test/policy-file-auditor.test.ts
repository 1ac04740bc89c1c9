import { describe, expect, it, vi, beforeEach } from 'vitest';
import { z } from 'zod';
import { AuditConfigError, AuditDeniedError, allow, ask, deny, semconv as sc, type ApprovalRequest, type ToolCall } from '../src/index.js';
import type { FileDecision, PolicyCallInput } from '../src/policy/file/file-policy.js';
import { alice, harness, rejection } from './helpers.js';

// The auditor's wiring of a policy file, against a fake FilePolicy with the same interface (the
// file format itself is part A's, tested in policy-file-*.test.ts).
const fake = vi.hoisted(() => ({
  decide: (_call: unknown): unknown => ({ kind: 'allow', rule: undefined, reason: undefined }),
  calls: [] as unknown[],
  version: 'sha256:' + 'a'.repeat(64),
  closed: 0,
  reloadFailures: 0,
  loaded: [] as unknown[],
}));

vi.mock('../src/policy/file/file-policy.js', () => ({
  loadFilePolicy: (options: unknown) => {
    fake.loaded.push(options);
    if (options === 'broken.yaml') throw new Error('broken.yaml: rules[0].decide must be allow, deny, rewrite or ask');
    return {
      get id() {
        return 'support-agent';
      },
      get version() {
        return fake.version;
      },
      decide: (call: unknown) => {
        fake.calls.push(call);
        return fake.decide(call);
      },
      status: () => ({ id: 'support-agent', version: fake.version, path: 'policy.yaml', loadedAt: 1, reloads: 2, reloadFailures: fake.reloadFailures, lastError: fake.reloadFailures ? 'bad yaml' : undefined }),
      close: () => void fake.closed++,
    };
  },
}));

const decide = (d: FileDecision | ((call: PolicyCallInput) => FileDecision)) => {
  fake.decide = (c) => (typeof d === 'function' ? d(c as PolicyCallInput) : d);
};

beforeEach(() => {
  fake.calls = [];
  fake.closed = 0;
  fake.reloadFailures = 0;
  fake.version = 'sha256:' + 'a'.repeat(64);
  decide({ kind: 'allow', rule: undefined, reason: undefined });
});

describe('createAuditor({ policyFile })', () => {
  it('a file deny wins: code rules never run, the call is denied with the file rule, id and version recorded', async () => {
    const codeRule = vi.fn(() => allow('code says yes', { rule: 'code.allow' }));
    const h = harness({ policyFile: 'policy.yaml', policy: [codeRule] });
    decide({ kind: 'deny', rule: 'mail-inside-company', reason: 'mail leaves example.com' });
    const tool = h.auditor.withAudit(async (_a: { to: string }) => 'sent', { name: 'send_email' });
    const err = await rejection(h.auditor.run(alice, () => tool({ to: 'x@example.com.evil.io' })));
    expect((err as AuditDeniedError).rule).toBe('mail-inside-company');
    expect(codeRule).not.toHaveBeenCalled();
    const [span] = await h.toolSpans();
    const a = span!.attributes;
    expect(a[sc.ATTR_OUTCOME]).toBe('denied');
    expect(a[sc.ATTR_POLICY_RULE]).toBe('mail-inside-company');
    expect(a[sc.ATTR_POLICY_ID]).toBe('support-agent');
    expect(a[sc.ATTR_POLICY_VERSION]).toBe(fake.version);
  });

  it('the file sees the validated arguments and the run', async () => {
    const h = harness({ policyFile: { path: 'policy.yaml', watch: false } });
    const tool = h.auditor.withAudit(async (_a: { n: number }) => 'ok', { name: 'count', schema: z.object({ n: z.coerce.number() }) });
    await h.auditor.run(alice, () => tool.invokeWith({ callId: 'c-1' }, { n: '7' as never }));
    expect(fake.loaded.at(-1)).toEqual({ path: 'policy.yaml', watch: false });
    expect(fake.calls[0]).toMatchObject({ tool: 'count', args: { n: 7 }, callId: 'c-1', run: { principal: { id: 'user:42' }, agent: { name: 'support-bot' } } });
  });

  it('a file allow does not skip code rules: code can narrow, never widen', async () => {
    const h = harness({ policyFile: 'policy.yaml', policy: [() => deny('code says no', { rule: 'code.deny' })] });
    decide({ kind: 'allow', rule: 'all-mail', reason: 'ok' });
    const tool = h.auditor.withAudit(async () => 'sent', { name: 'send_email' });
    const err = await rejection(h.auditor.run(alice, () => tool()));
    expect((err as AuditDeniedError).rule).toBe('code.deny');
    const [span] = await h.toolSpans();
    expect(span!.attributes[sc.ATTR_POLICY_ID]).toBe('support-agent');
  });

  it('a file rewrite is seen by the auditor and tool rules, and is what runs', async () => {
    const seen: unknown[] = [];
    const h = harness({ policyFile: 'policy.yaml', policy: [(c: ToolCall) => void seen.push(c.args)] });
    decide((c) => ({ kind: 'rewrite', rule: 'drop-bcc', reason: 'no bcc', args: { ...(c.args as object), bcc: undefined } }));
    const ran: unknown[] = [];
    const tool = h.auditor.withAudit(async (a: { to: string; bcc?: string }) => (ran.push(a), 'sent'), {
      name: 'send_email',
      policy: [(c) => void seen.push(c.args)],
    });
    await h.auditor.run(alice, () => tool({ to: 'a@example.com', bcc: 'b@evil.io' }));
    expect(seen).toEqual([{ to: 'a@example.com', bcc: undefined }, { to: 'a@example.com', bcc: undefined }]);
    expect(ran).toEqual([{ to: 'a@example.com', bcc: undefined }]);
    const [span] = await h.toolSpans();
    expect(span!.attributes[sc.ATTR_DECISION]).toBe('rewrite');
    expect(span!.attributes[sc.ATTR_POLICY_RULE]).toBe('drop-bcc');
  });

  it('a file ask is asked once the code rules allowed (with the policy in the request); a code deny after it wins', async () => {
    const requests: ApprovalRequest[] = [];
    const h = harness({ policyFile: 'policy.yaml', approval: { handler: (r) => (requests.push(r), { decision: 'approved', by: 'user:sec' }) } });
    decide({ kind: 'ask', rule: 'big-refund', reason: 'refund over 100' });
    const refund = h.auditor.withAudit(async () => 'refunded', { name: 'refund' });
    const blocked = h.auditor.withAudit(async () => 'refunded', { name: 'refund_blocked', policy: [() => deny('frozen account', { rule: 'code.frozen' })] });
    expect(await h.auditor.run(alice, () => refund())).toBe('refunded');
    expect(requests[0]).toMatchObject({ rule: 'big-refund', reason: 'refund over 100', policy: { id: 'support-agent', version: fake.version } });
    const err = await rejection(h.auditor.run(alice, () => blocked()));
    expect((err as AuditDeniedError).rule).toBe('code.frozen');
    expect(requests).toHaveLength(1);
  });

  it('identity comes first: outside a run the file is not consulted', async () => {
    const h = harness({ policyFile: 'policy.yaml' });
    const tool = h.auditor.withAudit(async () => 'x', { name: 'anything' });
    expect((await rejection(tool()) as AuditDeniedError).rule).toBe(sc.RULE_REQUIRE_IDENTITY);
    expect(fake.calls).toHaveLength(0);
  });

  it("the file's default decided: rule tooltrail.policy-default; a CEL error fails closed as a policy error", async () => {
    const h = harness({ policyFile: 'policy.yaml' });
    const tool = h.auditor.withAudit(async () => 'x', { name: 'anything' });
    await h.auditor.run(alice, () => tool());
    decide({ kind: 'deny', rule: undefined, reason: undefined });
    const byDefault = await rejection(h.auditor.run(alice, () => tool()));
    expect((byDefault as AuditDeniedError).rule).toBe(sc.RULE_POLICY_DEFAULT);
    decide({ kind: 'deny', rule: 'url-host', reason: undefined, error: new Error('no such key: host') });
    const broken = await rejection(h.auditor.run(alice, () => tool()));
    expect((broken as AuditDeniedError).rule).toBe(`${sc.RULE_POLICY_ERROR_PREFIX}url-host`);
    const [allowed, denied, errored] = await h.toolSpans();
    expect(allowed!.attributes[sc.ATTR_POLICY_RULE]).toBe(sc.RULE_POLICY_DEFAULT);
    expect(allowed!.attributes[sc.ATTR_OUTCOME]).toBe('ok');
    expect(denied!.attributes[sc.ATTR_OUTCOME]).toBe('denied');
    expect(errored!.attributes[sc.ATTR_POLICY_ERROR]).toMatch(/no such key/);
    expect(errored!.events.some((e) => e.name === 'exception')).toBe(true);
  });

  it('a reload shows on the next call; policyStatus(), stats().policyReloadFailures; the watcher closes at shutdown', async () => {
    const h = harness({ policyFile: 'policy.yaml' });
    const tool = h.auditor.withAudit(async () => 'x', { name: 'anything' });
    await h.auditor.run(alice, () => tool());
    fake.version = 'sha256:' + 'b'.repeat(64);
    fake.reloadFailures = 1;
    await h.auditor.run(alice, () => tool());
    const [first, second] = await h.toolSpans();
    expect(first!.attributes[sc.ATTR_POLICY_VERSION]).toBe('sha256:' + 'a'.repeat(64));
    expect(second!.attributes[sc.ATTR_POLICY_VERSION]).toBe('sha256:' + 'b'.repeat(64));
    expect(h.auditor.policyStatus()).toMatchObject({ id: 'support-agent', reloadFailures: 1, lastError: 'bad yaml' });
    expect(h.auditor.stats().policyReloadFailures).toBe(1);
    expect(fake.closed).toBe(0);
    await h.auditor.shutdown(500);
    expect(fake.closed).toBe(1);
  });

  it('previewDecision goes through the file too; pending records carry its id and version', async () => {
    const h = harness({ policyFile: 'policy.yaml' });
    decide({ kind: 'ask', rule: 'big-refund', reason: 'refund over 100' });
    const tool = h.auditor.withAudit(async (_a: { amount: number }) => 'x', { name: 'refund' });
    const p = await h.auditor.run(alice, () => tool.previewDecision({ amount: 500 }, { callId: 'fw-1' }));
    expect(p).toEqual({ kind: 'ask', rule: 'big-refund', reason: 'refund over 100' });
    expect(fake.calls[0]).toMatchObject({ callId: 'fw-1', args: { amount: 500 } });
    h.auditor.run(alice, () => h.auditor.recordPendingApproval('refund', { callId: 'fw-1', args: { amount: 500 }, rule: p.rule, reason: p.reason }));
    const [pending] = await h.toolSpans();
    expect(pending!.attributes[sc.ATTR_OUTCOME]).toBe(sc.OUTCOME_PENDING_APPROVAL);
    expect(pending!.attributes[sc.ATTR_POLICY_ID]).toBe('support-agent');
  });

  it('without a file: no policy attributes, policyStatus() undefined, no reload failures', async () => {
    const h = harness();
    const tool = h.auditor.withAudit(async () => 'x', { name: 'anything' });
    await h.auditor.run(alice, () => tool());
    const [span] = await h.toolSpans();
    expect(span!.attributes[sc.ATTR_POLICY_ID]).toBeUndefined();
    expect(h.auditor.policyStatus()).toBeUndefined();
    expect(h.auditor.stats().policyReloadFailures).toBe(0);
  });

  it('option mistakes are AuditConfigErrors; a file that does not load fails createAuditor()', () => {
    expect(() => harness({ policyFile: { path: 'policy.yaml', wach: false } as never })).toThrow(/did you mean `policyFile.watch`/);
    expect(() => harness({ policyFile: { path: 'policy.yaml', pollMs: -1 } })).toThrow(AuditConfigError);
    expect(() => harness({ policyFile: '' })).toThrow(AuditConfigError);
    expect(() => harness({ policyFie: 'policy.yaml' } as never)).toThrow(/did you mean `policyFile`/);
    expect(() => harness({ policyFile: 'broken.yaml' })).toThrow(/rules\[0\]\.decide/);
  });

  it('ask from code with an allow from the file: asked, rule the code rule', async () => {
    const requests: ApprovalRequest[] = [];
    const h = harness({ policyFile: 'policy.yaml', approval: { handler: (r) => (requests.push(r), { decision: 'rejected', by: 'user:sec', reason: 'no' }) } });
    decide({ kind: 'allow', rule: 'refunds', reason: undefined });
    const tool = h.auditor.withAudit(async () => 'x', { name: 'refund', policy: [() => ask('manager must see it', { rule: 'code.ask' })] });
    const err = await rejection(h.auditor.run(alice, () => tool()));
    expect((err as AuditDeniedError).rule).toBe(sc.RULE_APPROVAL);
    expect(requests[0]!.rule).toBe('code.ask');
    const [span] = await h.toolSpans();
    expect(span!.attributes[sc.ATTR_APPROVAL_RULE]).toBe('code.ask');
    expect(span!.attributes[sc.ATTR_POLICY_VERSION]).toBe(fake.version);
  });
});
