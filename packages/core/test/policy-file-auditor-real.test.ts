import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditDeniedError, semconv as sc } from '../src/index.js';
import { tempDir } from './collector-harness.js';
import { alice, harness, rejection } from './helpers.js';

// The auditor with a real policy file (part A's loader): the seeds' send_email exfiltration.
const POLICY = `id: support-agent
default: allow
rules:
  - id: mail-inside-company
    tools: ["send_email"]
    when: "facts.emails.exists(e, e.domain != 'example.com')"
    decide: deny
    reason: "mail leaves example.com"
  - id: big-refund
    tools: ["refund"]
    when: "args.amount > 100"
    decide: ask
    reason: "refund over 100"
`;

describe('createAuditor({ policyFile }) with a real file', () => {
  it('denies the exfiltration, asks for the big refund, records id and version', async () => {
    const dir = tempDir('policy-file-auditor');
    const file = path.join(dir, 'policy.yaml');
    writeFileSync(file, POLICY);
    const h = harness({ policyFile: { path: file, watch: false }, approval: { handler: () => ({ decision: 'approved', by: 'user:sec' }) } });
    const send = h.auditor.withAudit(async (_a: { to: string }) => 'sent', { name: 'send_email' });
    const refund = h.auditor.withAudit(async (_a: { amount: number }) => 'refunded', { name: 'refund' });
    const err = await rejection(h.auditor.run(alice, () => send({ to: 'mallory@evil.io, bob@example.com' })));
    expect((err as AuditDeniedError).rule).toBe('mail-inside-company');
    expect(await h.auditor.run(alice, () => send({ to: 'bob@example.com' }))).toBe('sent');
    expect(await h.auditor.run(alice, () => refund({ amount: 500 }))).toBe('refunded');
    const [denied, sent, refunded] = await h.toolSpans();
    expect(denied!.attributes[sc.ATTR_POLICY_ID]).toBe('support-agent');
    expect(String(denied!.attributes[sc.ATTR_POLICY_VERSION])).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(sent!.attributes[sc.ATTR_POLICY_RULE]).toBe(sc.RULE_POLICY_DEFAULT);
    expect(refunded!.attributes[sc.ATTR_DECISION]).toBe('ask');
    expect(refunded!.attributes[sc.ATTR_APPROVAL_DECISION]).toBe('approved');
    expect(h.auditor.policyStatus()).toMatchObject({ id: 'support-agent', reloadFailures: 0 });
    await h.auditor.shutdown(500);
  });
});
