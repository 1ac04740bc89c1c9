import { createHmac } from 'node:crypto';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AuditDeniedError, AuditValidationError, deny, rewrite } from '../src/index.js';
import { alice, childrenOf, harness, rejection } from './helpers.js';

class MailboxFullError extends Error {}

// Masking is on by default: emails are recorded as keyed HMAC tokens. A fixed key makes them exact.
const MASK_KEY = 'span-contract-mask-key-0123456789';
const emailToken = (email: string) => `[email:${createHmac('sha256', MASK_KEY).update(email).digest('hex').slice(0, 12)}]`;

describe('execute_tool span contract', () => {
  it('records an ok call with every attribute of the table, exactly', async () => {
    const h = harness({ masking: { hashKey: MASK_KEY } });
    const sendEmail = h.auditor.withAudit(async (args: { to: string; subject: string }) => ({ queued: true, to: args.to }), {
      name: 'send_email',
      description: 'Send an email',
      schema: z.object({ to: z.string().email(), subject: z.string(), priority: z.number().default(3) }),
    });
    let runId = '';
    await h.auditor.run({ ...alice, runId: 'run-1', attributes: { tenant: 'acme', shard: 2 } }, async () => {
      runId = 'run-1';
      await sendEmail({ to: 'bob@example.com', subject: 'hi' });
    });
    const [span, ...rest] = await h.toolSpans();
    expect(rest).toHaveLength(0);
    expect(span!.name).toBe('execute_tool send_email');
    expect(span!.kind).toBe(SpanKind.INTERNAL);
    expect(span!.status).toEqual({ code: SpanStatusCode.OK });
    const callId = span!.attributes['gen_ai.tool.call.id'];
    expect(callId).toMatch(/^call_[0-9a-f]{24}$/);
    expect(span!.attributes).toEqual({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'send_email',
      'gen_ai.tool.call.id': callId,
      'gen_ai.tool.type': 'function',
      'gen_ai.tool.description': 'Send an email',
      // The schema's default is part of what executed.
      'gen_ai.tool.call.arguments': `{"to":"${emailToken('bob@example.com')}","subject":"hi","priority":3}`,
      'gen_ai.tool.call.result': `{"queued":true,"to":"${emailToken('bob@example.com')}"}`,
      'tooltrail.arguments.proposed': `{"to":"${emailToken('bob@example.com')}","subject":"hi"}`,
      'tooltrail.arguments.mutated': true,
      // Arguments, proposal and result each held the address once.
      'tooltrail.mask.count': 3,
      'tooltrail.mask.kinds': ['email'],
      'tooltrail.outcome': 'ok',
      'tooltrail.decision': 'allow',
      'tooltrail.attempts': 1,
      'tooltrail.run.id': runId,
      'user.id': 'user:42',
      'tooltrail.principal.type': 'user',
      'gen_ai.agent.name': 'support-bot',
      'gen_ai.agent.id': 'bot-7',
      'gen_ai.conversation.id': 'conv-1',
      'tooltrail.run.attr.tenant': 'acme',
      'tooltrail.run.attr.shard': 2,
      // The integrity chain (docs/integrity.md): seq 1 is the stream start; a call with one
      // attempt has no attempt record (docs/decisions.md), so the call's record is seq 2.
      'tooltrail.stream.id': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'tooltrail.seq': 2,
      'tooltrail.prev_hash': expect.stringMatching(/^[0-9a-f]{64}$/),
      'tooltrail.hash': expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(span!.resource.attributes['service.name']).toBe('test-agent');
  });

  it('omits the proposed arguments when nothing changed them', async () => {
    const h = harness();
    const lookup = h.auditor.withAudit(async function lookup(id: string) {
      return { id, tier: 'gold' };
    });
    await h.auditor.run(alice, () => lookup('c-1'));
    const [span] = await h.toolSpans();
    expect(span!.attributes['gen_ai.tool.name']).toBe('lookup');
    expect(span!.attributes['gen_ai.tool.call.arguments']).toBe('"c-1"');
    expect(span!.attributes['tooltrail.arguments.mutated']).toBe(false);
    expect(span!.attributes).not.toHaveProperty('tooltrail.arguments.proposed');
    expect(span!.attributes).not.toHaveProperty('gen_ai.tool.description');
  });

  it('records a tool error with its class as error.type, an exception event, and rethrows it unchanged', async () => {
    const h = harness();
    const thrown = new MailboxFullError('mailbox of bob is full');
    let ran = 0;
    const send = h.auditor.withAudit(
      async (_: { to: string }) => {
        ran++;
        throw thrown;
      },
      { name: 'send_email' },
    );
    const err = await h.auditor.run(alice, () => rejection(send({ to: 'bob@example.com' })));
    expect(err).toBe(thrown);
    expect(ran).toBe(1);
    const spans = await h.spans();
    const [span] = spans.filter((s) => s.name === 'execute_tool send_email');
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'mailbox of bob is full' });
    expect(span!.attributes['tooltrail.outcome']).toBe('error');
    expect(span!.attributes['error.type']).toBe('MailboxFullError');
    expect(span!.attributes['tooltrail.attempts']).toBe(1);
    expect(span!.attributes['tooltrail.decision']).toBe('allow');
    expect(span!.attributes).not.toHaveProperty('gen_ai.tool.call.result');
    const events = span!.events.filter((e) => e.name === 'exception');
    expect(events).toHaveLength(1);
    expect(events[0]!.attributes!['exception.type']).toBe('MailboxFullError');
    expect(events[0]!.attributes!['exception.message']).toBe('mailbox of bob is full');
    expect(String(events[0]!.attributes!['exception.stacktrace'])).toContain('span-contract.test.ts');
    // One attempt only: the failure is on the call span, and no attempt record repeats it.
    expect(childrenOf(spans, span!)).toEqual([]);
  });

  it('records a denied call, never runs the body, and throws AuditDeniedError with reason and rule', async () => {
    const outside = (c: { args: unknown }) =>
      String((c.args as { to: string }).to).endsWith('@example.com') ? undefined : deny('recipient outside the company', { rule: 'mail.internal-only' });
    const h = harness({ policy: [outside], masking: { hashKey: MASK_KEY } });
    let ran = 0;
    const send = h.auditor.withAudit(
      async (_: { to: string }) => {
        ran++;
      },
      { name: 'send_email' },
    );
    const err = await h.auditor.run(alice, () => rejection(send({ to: 'mallory@evil.io' })));
    expect(ran).toBe(0);
    expect(err).toBeInstanceOf(AuditDeniedError);
    expect((err as AuditDeniedError).reason).toBe('recipient outside the company');
    expect((err as AuditDeniedError).rule).toBe('mail.internal-only');
    expect((err as AuditDeniedError).tool).toBe('send_email');
    const spans = await h.spans();
    const [span] = spans.filter((s) => s.name === 'execute_tool send_email');
    expect(childrenOf(spans, span!)).toHaveLength(0);
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes).toMatchObject({
      'tooltrail.outcome': 'denied',
      'error.type': 'tooltrail.denied',
      'tooltrail.decision': 'deny',
      'tooltrail.policy.rule': 'mail.internal-only',
      'tooltrail.policy.reason': 'recipient outside the company',
      'tooltrail.attempts': 0,
      'gen_ai.tool.call.arguments': `{"to":"${emailToken('mallory@evil.io')}"}`,
      'user.id': 'user:42',
    });
    expect(span!.attributes['gen_ai.tool.call.id']).toBe((err as AuditDeniedError).callId);
  });

  it('records an invalid call with the zod issues, never runs the body, and throws AuditValidationError', async () => {
    const h = harness();
    let ran = 0;
    const send = h.auditor.withAudit(
      async (_: { to: string }) => {
        ran++;
      },
      { name: 'send_email', schema: z.object({ to: z.string().email() }) },
    );
    const err = await h.auditor.run(alice, () => rejection(send({ to: 'not-an-address' })));
    expect(ran).toBe(0);
    expect(err).toBeInstanceOf(AuditValidationError);
    const issues = (err as AuditValidationError).issues;
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toEqual(['to']);
    expect(issues[0]!.code).toBe('invalid_format');
    const [span] = await h.toolSpans();
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes).toMatchObject({
      'tooltrail.outcome': 'invalid',
      'error.type': 'tooltrail.invalid_arguments',
      'tooltrail.attempts': 0,
      'gen_ai.tool.call.arguments': '{"to":"not-an-address"}',
      'tooltrail.arguments.mutated': false,
    });
    expect(span!.attributes).not.toHaveProperty('tooltrail.decision');
    expect(JSON.parse(String(span!.attributes['tooltrail.validation.issues']))).toEqual(issues);
  });

  it('nests spans: invoke_agent -> execute_tool (-> tool_attempt when retried), in one trace', async () => {
    const h = harness();
    const t = h.auditor.withAudit(async function ping() {
      return 'pong';
    });
    await h.auditor.run(alice, async () => {
      await t();
      await t();
    });
    const spans = await h.spans();
    const [runSpan] = spans.filter((s) => s.name === 'invoke_agent support-bot');
    expect(runSpan).toBeDefined();
    expect(runSpan!.parentSpanContext).toBeUndefined();
    expect(runSpan!.attributes['gen_ai.operation.name']).toBe('invoke_agent');
    const tools = childrenOf(spans, runSpan!);
    expect(tools.map((s) => s.name)).toEqual(['execute_tool ping', 'execute_tool ping']);
    for (const tool of tools) {
      expect(tool.spanContext().traceId).toBe(runSpan!.spanContext().traceId);
      // A call with one attempt has no attempt record: its body ran under the call span.
      expect(childrenOf(spans, tool)).toEqual([]);
    }
    // And the stream-start record (docs/integrity.md).
    expect(spans).toHaveLength(4);
  });

  it('records policy rewrites as the executed arguments, with the proposal beside them', async () => {
    const redirect = () => rewrite({ to: 'security@example.com' }, 'quarantine external mail', { rule: 'mail.quarantine' });
    const h = harness({ policy: [redirect], masking: { hashKey: MASK_KEY } });
    const received: unknown[] = [];
    const send = h.auditor.withAudit(async (args: { to: string }) => received.push(args), { name: 'send_email' });
    await h.auditor.run(alice, () => send({ to: 'x@evil.io' }));
    expect(received).toEqual([{ to: 'security@example.com' }]);
    const [span] = await h.toolSpans();
    expect(span!.attributes).toMatchObject({
      'tooltrail.decision': 'rewrite',
      'tooltrail.policy.rule': 'mail.quarantine',
      'tooltrail.policy.reason': 'quarantine external mail',
      'gen_ai.tool.call.arguments': `{"to":"${emailToken('security@example.com')}"}`,
      'tooltrail.arguments.proposed': `{"to":"${emailToken('x@evil.io')}"}`,
      'tooltrail.arguments.mutated': true,
      'tooltrail.outcome': 'ok',
    });
  });

  it('uses gen_ai.tool.type from the options', async () => {
    const h = harness();
    const q = h.auditor.withAudit(async (sql: string) => sql.length, { name: 'query', type: 'datastore' });
    await h.auditor.run(alice, () => q('select 1'));
    const [span] = await h.toolSpans();
    expect(span!.attributes['gen_ai.tool.type']).toBe('datastore');
    expect(span!.attributes['gen_ai.tool.call.result']).toBe('8');
  });
});
