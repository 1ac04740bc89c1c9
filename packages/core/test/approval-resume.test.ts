// Hostile review (defect 8): an approval asked for one set of arguments must not approve others.
// A call held `pending_approval` with { amount: 10 } and resumed under its call id with an
// approved approval and { amount: 10000 } ran and was recorded ok. Now the pending record
// carries a hash of the arguments it was held with; a resume with other arguments is denied
// (rule tooltrail.approval); a resume this auditor cannot check says so on the record.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AuditDeniedError, ask, semconv as sc } from '../src/index.js';
import { argumentsHash as keyedHash, argumentsKey, ATTR_APPROVAL_ARGS_CHECK, ATTR_APPROVAL_ARGS_HASH, canonicalArguments } from '../src/call/args-binding.js';

/** The masking key of every auditor here: argument hashes are keyed with it. */
const HASH_KEY = 'approval-resume-test-key-0123456789';
const KEY = argumentsKey(Buffer.from(HASH_KEY, 'utf8'));
const argumentsHash = (callId: string, args: unknown) => keyedHash(KEY, callId, args);
import { alice, harness, rejection } from './helpers.js';

const refundAsks = () => ask('refunds need a person', { rule: 'refund.ask' });

function setup(opts: Parameters<typeof harness>[0] = { approval: { timeoutMs: 60_000 } }, schema?: z.ZodType) {
  const h = harness({ masking: { hashKey: HASH_KEY }, ...opts });
  const ran: unknown[] = [];
  const tool = h.auditor.withAudit(async (a: { amount: number; currency?: string }) => (ran.push(a), 'refunded'), {
    name: 'refund',
    policy: [refundAsks],
    ...(schema !== undefined ? { schema } : {}),
  } as never);
  const pending = (callId: string, args?: unknown) =>
    h.auditor.run(alice, async () => h.auditor.recordPendingApproval('refund', { callId, ...(args !== undefined ? { args } : {}) }));
  const resume = (callId: string, args: unknown, approval: Record<string, unknown> = { decision: 'approved', by: 'user:alice' }, extra: Record<string, unknown> = {}) =>
    h.auditor.run(alice, () => tool.invokeWith({ callId, approval: approval as never, ...extra }, args as never));
  const records = async () => {
    const spans = await h.toolSpans();
    return {
      pending: spans.filter((s) => s.attributes[sc.ATTR_OUTCOME] === sc.OUTCOME_PENDING_APPROVAL).map((s) => s.attributes),
      resumed: spans.filter((s) => s.attributes[sc.ATTR_OUTCOME] !== sc.OUTCOME_PENDING_APPROVAL).map((s) => s.attributes),
    };
  };
  const shutdown = () =>
    Promise.race([Promise.resolve(h.auditor.shutdown()).then(() => 'resolved'), new Promise((r) => setTimeout(() => r('hung'), 2_000))]);
  return { h, tool, ran, pending, resume, records, shutdown };
}

const OTHER_ARGS = 'the approval resumes a call held for approval with other arguments than this call\'s; call denied (fail closed)';
const OTHER_HASH = "the approval's argsHash names other arguments than this call's; call denied (fail closed)";

describe('canonicalArguments and argumentsHash', () => {
  it('sorts keys, keeps JSON values, and is a salted HMAC-SHA256 of the canonical text, keyed with the masking key', () => {
    expect(canonicalArguments({ b: [1, 'x', null, true], a: { d: 2.5, c: -0 } })).toBe('{"a":{"c":0,"d":2.5},"b":[1,"x",null,true]}');
    expect(canonicalArguments({ a: undefined, b: [undefined], c: new Date(0) })).toBe('{"b":[null],"c":"1970-01-01T00:00:00.000Z"}');
    const keyId = createHmac('sha256', HASH_KEY).update('tooltrail-args-key-id').digest('hex').slice(0, 8);
    const want = `hmac-sha256:${keyId}:` + createHmac('sha256', HASH_KEY).update('tooltrail-args-v1\nfw-1\n{"amount":10}').digest('hex');
    expect(argumentsHash('fw-1', { amount: 10 })).toBe(want);
    // Keyed: whoever reads the trail cannot confirm a guess of masked arguments without the key.
    expect(keyedHash(argumentsKey(Buffer.from('another-key-0123456789abcdef')), 'fw-1', { amount: 10 })).not.toBe(want);
    // Salted with the call id: the same arguments under two calls do not link.
    expect(argumentsHash('fw-2', { amount: 10 })).not.toBe(want);
  });

  it('arguments JSON cannot hold have no hash (a function, a bigint, a cycle, a Map, a getter that throws)', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const throwing = Object.defineProperty({}, 'x', { enumerable: true, get: () => { throw new Error('no'); } });
    for (const v of [{ f: () => 1 }, { n: 1n }, cyclic, { m: new Map([['amount', 10]]) }, throwing]) expect(argumentsHash('c', v)).toBeUndefined();
  });
});

describe('approval resume: bound to the pending call\'s arguments (same auditor)', () => {
  it('resumed with other arguments: denied by tooltrail.approval, body never runs, recorded, shutdown resolves', async () => {
    const t = setup();
    await t.pending('fw-1', { amount: 10 });
    const err = await rejection(t.resume('fw-1', { amount: 10000 }));
    expect(err).toBeInstanceOf(AuditDeniedError);
    expect((err as AuditDeniedError).rule).toBe(sc.RULE_APPROVAL);
    expect((err as AuditDeniedError).reason).toBe(OTHER_ARGS);
    expect(t.ran).toEqual([]);
    const { pending, resumed } = await t.records();
    expect(pending).toHaveLength(1);
    expect(pending[0]![ATTR_APPROVAL_ARGS_HASH]).toBe(argumentsHash('fw-1', { amount: 10 }));
    expect(resumed).toHaveLength(1);
    const a = resumed[0]!;
    expect(a[sc.ATTR_OUTCOME]).toBe('denied');
    expect(a[sc.ATTR_DECISION]).toBe('deny');
    expect(a[sc.ATTR_POLICY_RULE]).toBe(sc.RULE_APPROVAL);
    expect(a[sc.ATTR_POLICY_REASON]).toBe(OTHER_ARGS);
    expect(a[sc.ATTR_APPROVAL_RESUMED]).toBe(true);
    expect(a[sc.ATTR_APPROVAL_DECISION]).toBe('rejected');
    expect(a[sc.ATTR_APPROVAL_BY]).toBe(sc.APPROVER_TOOLTRAIL);
    expect(a[ATTR_APPROVAL_ARGS_CHECK]).toBe('mismatch');
    expect(a[ATTR_APPROVAL_ARGS_HASH]).toBe(argumentsHash('fw-1', { amount: 10000 }));
    expect(a[sc.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]).toBe('{"amount":10000}');
    expect(a[sc.ATTR_ATTEMPTS]).toBe(0);
    expect(await t.shutdown()).toBe('resolved');
  });

  it('resumed with the same arguments (keys in another order): runs, matched, the same hash as the pending record', async () => {
    const t = setup();
    await t.pending('fw-2', { amount: 10, currency: 'EUR' });
    await expect(t.resume('fw-2', { currency: 'EUR', amount: 10 })).resolves.toBe('refunded');
    expect(t.ran).toEqual([{ currency: 'EUR', amount: 10 }]);
    const { pending, resumed } = await t.records();
    expect(resumed[0]![sc.ATTR_OUTCOME]).toBe('ok');
    expect(resumed[0]![sc.ATTR_APPROVAL_RESUMED]).toBe(true);
    expect(resumed[0]![ATTR_APPROVAL_ARGS_CHECK]).toBe('matched');
    expect(resumed[0]![ATTR_APPROVAL_ARGS_HASH]).toBe(pending[0]![ATTR_APPROVAL_ARGS_HASH]);
  });

  it('held with the validated arguments (as the adapters do), resumed with the raw ones: matched', async () => {
    const t = setup(undefined, z.object({ amount: z.number(), currency: z.string().default('EUR') }));
    await t.pending('fw-3', { amount: 10, currency: 'EUR' });
    await expect(t.resume('fw-3', { amount: 10 })).resolves.toBe('refunded');
    const { resumed } = await t.records();
    expect(resumed[0]![ATTR_APPROVAL_ARGS_CHECK]).toBe('matched');
  });

  it('held with the raw arguments, resumed with the same raw ones under a transforming schema: matched', async () => {
    const t = setup(undefined, z.object({ amount: z.number(), currency: z.string().default('EUR') }));
    await t.pending('fw-4', { amount: 10 });
    await expect(t.resume('fw-4', { amount: 10 })).resolves.toBe('refunded');
    const { resumed } = await t.records();
    expect(resumed[0]![ATTR_APPROVAL_ARGS_CHECK]).toBe('matched');
  });

  it('a schema cannot launder other arguments: held { amount: 10 }, resumed { amount: "10000" } coerced', async () => {
    const t = setup(undefined, z.object({ amount: z.coerce.number() }));
    await t.pending('fw-5', { amount: 10 });
    const err = await rejection(t.resume('fw-5', { amount: '10000' }));
    expect((err as AuditDeniedError).reason).toBe(OTHER_ARGS);
    expect(t.ran).toEqual([]);
  });

  it('held without arguments: the resume runs, recorded unchecked (never silently ok)', async () => {
    const t = setup();
    await t.pending('fw-6');
    await expect(t.resume('fw-6', { amount: 10000 })).resolves.toBe('refunded');
    const { pending, resumed } = await t.records();
    expect(pending[0]![ATTR_APPROVAL_ARGS_HASH]).toBeUndefined();
    expect(resumed[0]![ATTR_APPROVAL_ARGS_CHECK]).toBe('unchecked');
    expect(resumed[0]![ATTR_APPROVAL_ARGS_HASH]).toBe(argumentsHash('fw-6', { amount: 10000 }));
  });

  it('a rejected resume stays a rejection (its reason), whatever the arguments', async () => {
    const t = setup();
    await t.pending('fw-7', { amount: 10 });
    const err = await rejection(t.resume('fw-7', { amount: 10000 }, { decision: 'rejected', by: 'user:bob', reason: 'no' }));
    expect((err as AuditDeniedError).reason).toBe('no');
    expect(t.ran).toEqual([]);
  });

  it('the binding is used once: a second resume of the same id is no longer a held call', async () => {
    const t = setup();
    await t.pending('fw-8', { amount: 10 });
    await expect(t.resume('fw-8', { amount: 10 })).resolves.toBe('refunded');
    // Not held any more; resumed: true from the framework, nothing to check it against.
    await expect(t.resume('fw-8', { amount: 10000 }, undefined, { resumed: true })).resolves.toBe('refunded');
    const { resumed } = await t.records();
    expect(resumed.map((a) => a[ATTR_APPROVAL_ARGS_CHECK])).toEqual(['matched', 'unchecked']);
  });
});

describe('approval resume in another process: the approval carries the hash, or the record says unchecked', () => {
  it('resumed: true, no argsHash: runs, recorded resumed with args_check unchecked and the hash of what ran', async () => {
    const t = setup();
    await expect(t.resume('fw-9', { amount: 10000 }, undefined, { resumed: true })).resolves.toBe('refunded');
    const { resumed } = await t.records();
    const a = resumed[0]!;
    expect(a[sc.ATTR_OUTCOME]).toBe('ok');
    expect(a[sc.ATTR_APPROVAL_RESUMED]).toBe(true);
    expect(a[ATTR_APPROVAL_ARGS_CHECK]).toBe('unchecked');
    expect(a[ATTR_APPROVAL_ARGS_HASH]).toBe(argumentsHash('fw-9', { amount: 10000 }));
  });

  it('an approval whose argsHash is for other arguments: denied', async () => {
    const t = setup();
    const approval = { decision: 'approved', by: 'user:alice', argsHash: argumentsHash('fw-10', { amount: 10 }) };
    const err = await rejection(t.resume('fw-10', { amount: 10000 }, approval, { resumed: true }));
    expect(err).toBeInstanceOf(AuditDeniedError);
    expect((err as AuditDeniedError).reason).toBe(OTHER_HASH);
    expect(t.ran).toEqual([]);
    const { resumed } = await t.records();
    expect(resumed[0]![sc.ATTR_OUTCOME]).toBe('denied');
    expect(resumed[0]![sc.ATTR_POLICY_RULE]).toBe(sc.RULE_APPROVAL);
    expect(resumed[0]![ATTR_APPROVAL_ARGS_CHECK]).toBe('mismatch');
  });

  it('an approval whose argsHash matches: runs, matched', async () => {
    const t = setup();
    const approval = { decision: 'approved', by: 'user:alice', argsHash: argumentsHash('fw-11', { amount: 10 }) };
    await expect(t.resume('fw-11', { amount: 10 }, approval, { resumed: true })).resolves.toBe('refunded');
    const { resumed } = await t.records();
    expect(resumed[0]![ATTR_APPROVAL_ARGS_CHECK]).toBe('matched');
  });

  it('an argsHash made with another key (another process without the shared masking key): unchecked, said so, never matched', async () => {
    const t = setup();
    const other = keyedHash(argumentsKey(Buffer.from('another-key-0123456789abcdef')), 'fw-13', { amount: 10 });
    await expect(t.resume('fw-13', { amount: 10 }, { decision: 'approved', by: 'user:alice', argsHash: other }, { resumed: true })).resolves.toBe('refunded');
    const { resumed } = await t.records();
    expect(resumed[0]![ATTR_APPROVAL_ARGS_CHECK]).toBe('unchecked');
    expect(resumed[0]![ATTR_APPROVAL_ARGS_HASH]).toBe(argumentsHash('fw-13', { amount: 10 }));
  });

  it('the pending record\'s hash does not confirm guesses of a masked value without the key', async () => {
    const t = setup();
    await t.pending('fw-14', { ssn: '536-22-1234' });
    const { pending } = await t.records();
    const recorded = String(pending[0]![ATTR_APPROVAL_ARGS_HASH]);
    expect(String(pending[0]![sc.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS])).not.toContain('536-22-1234');
    const { createHash } = await import('node:crypto');
    const plain = createHash('sha256').update('tooltrail-args-v1\nfw-14\n{"ssn":"536-22-1234"}').digest('hex');
    expect(recorded).toBe(argumentsHash('fw-14', { ssn: '536-22-1234' }));
    expect(recorded).not.toContain(plain);
  });

  it('an argsHash that is not one: the call is not run', async () => {
    const t = setup();
    const err = await rejection(t.resume('fw-12', { amount: 10 }, { decision: 'approved', by: 'user:alice', argsHash: 'md5:abc' }, { resumed: true }));
    expect(String((err as Error).message)).toContain('approval.argsHash');
    expect(t.ran).toEqual([]);
  });

  it('a plain approval with the call (not a resume): nothing to bind, no args_check', async () => {
    const t = setup();
    await expect(t.h.auditor.run(alice, () => t.tool.invokeWith({ approval: { decision: 'approved', by: 'user:alice' } }, { amount: 10 }))).resolves.toBe('refunded');
    const { resumed } = await t.records();
    expect(resumed[0]![ATTR_APPROVAL_ARGS_CHECK]).toBeUndefined();
  });
});
