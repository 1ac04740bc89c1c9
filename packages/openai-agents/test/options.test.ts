import type { RunToolApprovalItem } from '@openai/agents';
import { AuditConfigError } from '@tooltrail/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { approveToolCall, auditOpenAIAgentsTool, rejectToolCall, type ApprovalState } from '../src/index.js';
import { harness } from './helpers.js';

/** The AuditConfigError `fn` throws (synchronously). */
function configError(fn: () => unknown): AuditConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AuditConfigError);
    return err as AuditConfigError;
  }
  throw new Error('expected an AuditConfigError');
}

const lookup = { name: 'lookup', description: 'Look an order up', parameters: z.object({ id: z.string() }), execute: async ({ id }: { id: string }) => id };

describe('auditOpenAIAgentsTool() options: an unknown key is an error naming the nearest valid name', () => {
  it('the options, their retry and masking', () => {
    const h = harness();
    const message = (audit: unknown) => configError(() => auditOpenAIAgentsTool(lookup, audit as never)).message;
    expect(message({ auditr: h.auditor })).toBe('invalid auditOpenAIAgentsTool() options: unknown option `auditr`; did you mean `auditor`?');
    expect(message({ onDenid: 'throw' })).toBe('invalid auditOpenAIAgentsTool() options: unknown option `onDenid`; did you mean `onDenied`?');
    expect(message({ formatRefusl: () => 'no' })).toBe('invalid auditOpenAIAgentsTool() options: unknown option `formatRefusl`; did you mean `formatRefusal`?');
    expect(message({ retry: { maxBackof: 5 } })).toBe('invalid auditOpenAIAgentsTool() options: unknown option `retry.maxBackof`; did you mean `retry.maxBackoffMs`?');
    expect(message({ masking: { reslt: 'digest' } })).toBe('invalid auditOpenAIAgentsTool() options: unknown option `masking.reslt`; did you mean `masking.result`?');
    // `name` and `description` belong to the SDK's tool options, the first argument.
    expect(message({ name: 'x' })).toBe(
      'invalid auditOpenAIAgentsTool() options: unknown option `name`; valid options here: auditor, onRefusal, formatRefusal, policy, retry, type, masking, approvals, onDenied, onInvalid',
    );
    expect(configError(() => auditOpenAIAgentsTool(lookup, { auditr: h.auditor, onInvlid: 'throw' } as never)).issues).toEqual([
      'unknown option `auditr`; did you mean `auditor`?',
      'unknown option `onInvlid`; did you mean `onInvalid`?',
    ]);
    expect(message('throw')).toBe('auditOpenAIAgentsTool() options must be an object');
    expect(() =>
      auditOpenAIAgentsTool(lookup, {
        auditor: h.auditor,
        policy: [],
        retry: { attempts: 2 },
        type: 'function',
        masking: { keys: ['id'] },
        onRefusal: 'throw',
        formatRefusal: (e) => e.message,
      }),
    ).not.toThrow();
  });
});

describe('approveToolCall() and rejectToolCall() options', () => {
  const item = { rawItem: { type: 'function_call', callId: 'c-1', name: 'lookup', arguments: '{}' } } as unknown as RunToolApprovalItem;
  const state = () => {
    const seen: string[] = [];
    const s: ApprovalState = { approve: () => seen.push('approve'), reject: () => seen.push('reject') };
    return { s, seen };
  };

  it('a typo is an error before the decision takes effect', async () => {
    const a = state();
    expect(configError(() => approveToolCall(a.s, item, { aprover: 'manager:7' } as never)).message).toBe(
      'invalid approveToolCall() options: unknown option `aprover`; did you mean `approver`?',
    );
    expect(configError(() => approveToolCall(a.s, item, { alwys: true } as never)).message).toBe(
      'invalid approveToolCall() options: unknown option `alwys`; did you mean `always`?',
    );
    expect(a.seen).toEqual([]);
    const r = state();
    const err = await rejectToolCall(r.s, item, { reasn: 'over the limit', mesage: 'no' } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditConfigError);
    expect((err as AuditConfigError).message).toBe(
      'invalid rejectToolCall() options: unknown option `reasn`; did you mean `reason`?; unknown option `mesage`; did you mean `message`?',
    );
    expect(r.seen).toEqual([]);
    // `always` is approval's only: a standing rejection is not offered.
    await expect(rejectToolCall(r.s, item, { always: true } as never)).rejects.toThrow(
      'invalid rejectToolCall() options: unknown option `always`; valid options here: approver, reason, message',
    );
    approveToolCall(a.s, item, { approver: 'manager:7', reason: 'ok', always: false });
    expect(await rejectToolCall(r.s, item, { approver: 'manager:7', reason: 'no', message: 'rejected' })).toBe(false);
    expect([...a.seen, ...r.seen]).toEqual(['approve', 'reject']);
  });
});
