// Hostile review (defect 4): a user-supplied answer whose getters throw - `then` on an approval
// handler's answer, a policy rule's verdict or a schema's result, a `kind` or `reason` that
// throws when read or stringified - is a failure of whoever gave it: the call is denied (approval,
// policy) or invalid (schema), recorded, and released, so shutdown resolves. Never a raw error
// with no record and a call left in flight.
import { describe, expect, it } from 'vitest';
import { AuditDeniedError, AuditValidationError, ask, semconv as sc, type ApprovalRequest, type PolicyRule } from '../src/index.js';
import { alice, harness, rejection } from './helpers.js';

const needsOk = ask('wire transfers need a person', { rule: 'money.ask' });

/** An object whose `then` getter throws. */
function thenThrows(message = 'then-getter'): object {
  return Object.defineProperty({}, 'then', {
    get() {
      throw new Error(message);
    },
  });
}

/** A Proxy every property read of which throws. */
function trapAll(message = 'trap'): object {
  return new Proxy(
    {},
    {
      get() {
        throw new Error(message);
      },
      ownKeys() {
        throw new Error(message);
      },
      getPrototypeOf() {
        throw new Error(message);
      },
    },
  );
}

/** A value whose string conversion throws. */
function unprintable(): object {
  return {
    [Symbol.toPrimitive]() {
      throw new Error('no string for you');
    },
  };
}

type Opts = Parameters<typeof harness>[0];

async function call(opts: Opts, toolOptions: Record<string, unknown>) {
  const h = harness(opts);
  let ran = 0;
  const tool = h.auditor.withAudit(async (a: { to: string }) => `sent to ${a.to} #${++ran}`, { name: 'wire_money', ...toolOptions } as never);
  const err = await rejection(h.auditor.run(alice, () => tool({ to: 'mallory' })));
  const spans = await h.toolSpans();
  const shutdown = await Promise.race([
    Promise.resolve(h.auditor.shutdown()).then(() => 'resolved'),
    new Promise((r) => setTimeout(() => r('still waiting after 2 s'), 2_000)),
  ]);
  return { err, ran, spans, shutdown, attrs: spans[0]?.attributes ?? {} };
}

const handlerOpts = (handler: (req: ApprovalRequest) => unknown): Opts => ({ approval: { handler: handler as never, timeoutMs: 1_000 } });

describe('hostile: an approval handler answer with throwing getters', () => {
  const cases: [string, () => unknown, string][] = [
    ['a `then` getter that throws', () => thenThrows(), 'then-getter'],
    ['a Proxy whose every trap throws', () => trapAll(), 'trap'],
    [
      'a real promise whose `constructor` getter throws (Promise.resolve would throw at once)',
      () =>
        Object.defineProperty(Promise.resolve({ decision: 'approved', by: 'user:alice' }), 'constructor', {
          get() {
            throw new Error('ctor-getter');
          },
        }),
      'ctor-getter',
    ],
    [
      'a promise of an answer whose `then` getter throws',
      () => Promise.resolve().then(() => ({ decision: 'approved', by: 'user:alice', then: undefined, ...{} })).then(() => thenThrows('inner-then')),
      'inner-then',
    ],
  ];
  for (const [name, answer, message] of cases) {
    it(`${name}: denied by tooltrail.approval, recorded, shutdown resolves`, async () => {
      const r = await call(handlerOpts(answer), { policy: [() => needsOk] });
      expect(r.err).toBeInstanceOf(AuditDeniedError);
      expect(r.ran).toBe(0);
      expect(r.spans).toHaveLength(1);
      const reason = `the approval handler failed (${message}); call denied (fail closed)`;
      expect(r.attrs[sc.ATTR_OUTCOME]).toBe('denied');
      expect(r.attrs[sc.ATTR_POLICY_RULE]).toBe(sc.RULE_APPROVAL);
      expect(r.attrs[sc.ATTR_APPROVAL_RULE]).toBe('money.ask');
      expect(r.attrs[sc.ATTR_POLICY_REASON]).toBe(reason);
      expect(r.attrs[sc.ATTR_APPROVAL_DECISION]).toBe('rejected');
      expect(r.attrs[sc.ATTR_APPROVAL_BY]).toBe(sc.APPROVER_TOOLTRAIL);
      expect(r.attrs[sc.ATTR_ATTEMPTS]).toBe(0);
      expect((r.err as AuditDeniedError).reason).toBe(reason);
      expect(r.shutdown).toBe('resolved');
    });
  }

  it('an answer whose reason is an object that cannot be printed: denied as no answer', async () => {
    const r = await call(
      handlerOpts(() => ({ decision: 'approved', by: 'user:alice', reason: unprintable() })),
      { policy: [() => needsOk] },
    );
    expect(r.err).toBeInstanceOf(AuditDeniedError);
    expect(r.ran).toBe(0);
    expect(r.attrs[sc.ATTR_OUTCOME]).toBe('denied');
    expect(r.attrs[sc.ATTR_POLICY_RULE]).toBe(sc.RULE_APPROVAL);
    expect(r.attrs[sc.ATTR_POLICY_REASON]).toBe(
      "the approval handler failed (the approval handler's answer is not one: reason must be a string); call denied (fail closed)",
    );
    expect(r.shutdown).toBe('resolved');
  });
});

describe('hostile: a carried approval with throwing getters', () => {
  it('invokeWith({ approval: Proxy }) whose traps throw: denied and recorded, shutdown resolves', async () => {
    const h = harness();
    let ran = 0;
    const tool = h.auditor.withAudit(async (_a: { to: string }) => ++ran, { name: 'wire_money', policy: [() => needsOk] });
    const err = await rejection(h.auditor.run(alice, () => tool.invokeWith({ callId: 'c-1', approval: trapAll('approval-trap') as never }, { to: 'x' })));
    const [span, more] = await h.toolSpans();
    expect(more).toBeUndefined();
    expect(ran).toBe(0);
    // The option check of invokeWith() may refuse it first (an error, nothing recorded, nothing
    // in flight); if it gets to the call, it is denied on the record.
    if (span === undefined) {
      expect(err).not.toBeInstanceOf(AuditDeniedError);
    } else {
      expect(err).toBeInstanceOf(AuditDeniedError);
      expect(span.attributes[sc.ATTR_OUTCOME]).toBe('denied');
      expect(span.attributes[sc.ATTR_POLICY_RULE]).toBe(sc.RULE_APPROVAL);
    }
    const shutdown = await Promise.race([Promise.resolve(h.auditor.shutdown()).then(() => 'resolved'), new Promise((r) => setTimeout(() => r('hung'), 2_000))]);
    expect(shutdown).toBe('resolved');
  });
});

describe('hostile: a policy rule verdict with throwing getters', () => {
  const ruleError = (rule: string, message: string) => ({
    rule: `${sc.RULE_POLICY_ERROR_PREFIX}${rule}`,
    reason: `policy rule ${rule} failed, call denied (fail closed): ${message}`,
  });
  const named = (name: string, f: PolicyRule): PolicyRule => Object.defineProperty(f, 'name', { value: name });
  const cases: [string, PolicyRule, string][] = [
    ['returns an object whose `then` getter throws', named('thenRule', () => thenThrows() as never), 'then-getter'],
    ['returns a Proxy whose every trap throws', named('proxyRule', () => trapAll() as never), 'trap'],
    [
      'returns a decision whose `kind` getter throws',
      named('kindRule', () => Object.defineProperty({ reason: 'r' }, 'kind', { enumerable: true, get: () => { throw new Error('kind-getter'); } }) as never),
      'kind-getter',
    ],
    [
      'returns a deny whose reason cannot be printed',
      named('reasonRule', () => ({ kind: 'deny', reason: unprintable() }) as never),
      'policy rule reasonRule returned a decision whose reason is not a string',
    ],
    [
      'returns an ask whose rule id is not a string',
      named('idRule', () => ({ kind: 'ask', reason: 'r', rule: unprintable() }) as never),
      'policy rule idRule returned a decision whose rule is not a string',
    ],
    [
      'throws an Error whose message getter throws',
      named('messageRule', () => {
        const e = new Error('x');
        Object.defineProperty(e, 'message', { get: () => { throw new Error('message-getter'); } });
        throw e;
      }),
      'unknown error',
    ],
    [
      'throws a Proxy whose every trap throws',
      named('thrownProxyRule', () => {
        throw trapAll();
      }),
      'unknown error',
    ],
    ['resolves to an object whose `then` getter throws', named('asyncThenRule', async () => Promise.resolve().then(() => thenThrows('late-then')) as never), 'late-then'],
  ];
  for (const [name, rule, message] of cases) {
    it(`a rule that ${name}: denied as a broken rule, recorded, shutdown resolves`, async () => {
      const r = await call({}, { policy: [rule] });
      expect(r.err).toBeInstanceOf(AuditDeniedError);
      expect(r.ran).toBe(0);
      expect(r.spans).toHaveLength(1);
      const want = ruleError(rule.name, message);
      expect(r.attrs[sc.ATTR_OUTCOME]).toBe('denied');
      expect(r.attrs[sc.ATTR_DECISION]).toBe('deny');
      expect(r.attrs[sc.ATTR_POLICY_RULE]).toBe(want.rule);
      expect(r.attrs[sc.ATTR_POLICY_REASON]).toBe(want.reason);
      expect(r.attrs[sc.ATTR_ATTEMPTS]).toBe(0);
      expect(r.shutdown).toBe('resolved');
    });
  }
});

describe('hostile: a schema result with throwing getters', () => {
  const schemaCase = (name: string, schema: object, message: string) =>
    it(`a schema that ${name}: invalid, recorded, shutdown resolves`, async () => {
      const r = await call({}, { schema });
      expect(r.err).toBeInstanceOf(AuditValidationError);
      expect(r.ran).toBe(0);
      expect(r.spans).toHaveLength(1);
      expect(r.attrs[sc.ATTR_OUTCOME]).toBe('invalid');
      expect(JSON.parse(String(r.attrs[sc.ATTR_VALIDATION_ISSUES]))).toEqual([{ path: [], code: sc.ISSUE_SCHEMA_ERROR, message: `schema failed: ${message}` }]);
      expect(r.shutdown).toBe('resolved');
    });
  schemaCase('answers an object whose `then` getter throws', { safeParse: () => thenThrows() }, 'then-getter');
  schemaCase('answers a Proxy whose every trap throws', { safeParse: () => trapAll() }, 'trap');
  schemaCase('answers a result whose `success` getter throws', { safeParse: () => Object.defineProperty({}, 'success', { get: () => { throw new Error('success-getter'); } }) }, 'success-getter');
  schemaCase(
    'answers a failure whose error.issues getter throws',
    { safeParse: () => ({ success: false, error: Object.defineProperty({}, 'issues', { get: () => { throw new Error('issues-getter'); } }) }) },
    'issues-getter',
  );
  schemaCase('resolves to an object whose `then` getter throws', { safeParse: () => Promise.resolve().then(() => thenThrows('late-then')) }, 'late-then');
});

describe('hostile: a tool body that throws an error with throwing getters', () => {
  it('an Error whose constructor getter throws: recorded error, shutdown resolves', async () => {
    const h = harness();
    const tool = h.auditor.withAudit(
      async (_a: { to: string }) => {
        const e = new Error('body failed');
        Object.defineProperty(e, 'constructor', { get: () => { throw new Error('ctor-getter'); } });
        throw e;
      },
      { name: 'wire_money' },
    );
    const err = await rejection(h.auditor.run(alice, () => tool({ to: 'x' })));
    expect((err as Error).message).toBe('body failed');
    const spans = await h.toolSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]!.attributes[sc.ATTR_OUTCOME]).toBe('error');
    expect(spans[0]!.attributes[sc.ATTR_ERROR_TYPE]).toBe('Error');
    expect(spans[0]!.attributes[sc.ATTR_ATTEMPTS]).toBe(1);
    const shutdown = await Promise.race([Promise.resolve(h.auditor.shutdown()).then(() => 'resolved'), new Promise((r) => setTimeout(() => r('hung'), 2_000))]);
    expect(shutdown).toBe('resolved');
  });
});

describe('hostile: the last resort when a decision step throws what no step guards', () => {
  it('a rewrite to a revoked Proxy of a two-argument tool: recorded error (body never ran), shutdown resolves', async () => {
    const h = harness();
    let ran = 0;
    const { proxy, revoke } = Proxy.revocable([1, 2], {});
    revoke();
    const tool = h.auditor.withAudit(async (a: number, b: number) => (ran++, a + b), {
      name: 'add',
      policy: [() => ({ kind: 'rewrite', args: proxy, reason: 'hostile' })],
    });
    const err = await rejection(h.auditor.run(alice, () => tool(1, 2)));
    expect(err).toBeInstanceOf(TypeError);
    expect(ran).toBe(0);
    const spans = await h.toolSpans();
    expect(spans).toHaveLength(1);
    const a = spans[0]!.attributes;
    expect(a[sc.ATTR_OUTCOME]).toBe('error');
    expect(a[sc.ATTR_ERROR_TYPE]).toBe('TypeError');
    expect(a[sc.ATTR_ATTEMPTS]).toBe(0);
    expect(a[sc.ATTR_DECISION]).toBe('rewrite');
    const shutdown = await Promise.race([Promise.resolve(h.auditor.shutdown()).then(() => 'resolved'), new Promise((r) => setTimeout(() => r('hung'), 2_000))]);
    expect(shutdown).toBe('resolved');
  });
});

/** An object whose `key` reads `first` once, then `later` (a getter that changes its answer). */
function flipping<T extends object>(base: T, key: string, first: unknown, later: unknown): T {
  let reads = 0;
  return Object.defineProperty(base, key, { enumerable: true, get: () => (reads++ === 0 ? first : later) });
}

describe('hostile: a framework report whose fields change between the check and the record', () => {
  it('recordRefused({ reason }) whose reason turns into an unprintable object after the check: an AuditConfigError, nothing in flight', async () => {
    const h = harness();
    const tool = h.auditor.withAudit(async (_a: { to: string }) => 1, { name: 'wire_money' });
    const input = flipping({ kind: 'denied', callId: 'c-r', args: { to: 'x' } }, 'reason', 'the person said no', unprintable());
    const thrown = await rejection(h.auditor.run(alice, async () => tool.recordRefused(input as never)));
    expect((thrown as Error | undefined)?.name).toBe('AuditConfigError');
    expect(await h.toolSpans()).toHaveLength(0);
    const shutdown = await Promise.race([Promise.resolve(h.auditor.shutdown()).then(() => 'resolved'), new Promise((r) => setTimeout(() => r('hung'), 2_000))]);
    expect(shutdown).toBe('resolved');
  });

  it('recordRefused({ kind: invalid, issues }) whose issue message changes after the check: an AuditConfigError, nothing in flight', async () => {
    const h = harness();
    const tool = h.auditor.withAudit(async (_a: { to: string }) => 1, { name: 'wire_money' });
    const issue = flipping({ path: [], code: 'bad' }, 'message', 'bad input', unprintable());
    const thrown = await rejection(h.auditor.run(alice, async () => tool.recordRefused({ kind: 'invalid', reason: 'bad input', issues: [issue as never] })));
    expect((thrown as Error | undefined)?.name).toBe('AuditConfigError');
    expect(await h.toolSpans()).toHaveLength(0);
    const shutdown = await Promise.race([Promise.resolve(h.auditor.shutdown()).then(() => 'resolved'), new Promise((r) => setTimeout(() => r('hung'), 2_000))]);
    expect(shutdown).toBe('resolved');
  });

  it('recordPendingApproval({ rule }) whose rule turns into an object after the check: an AuditConfigError, nothing recorded', async () => {
    const h = harness();
    const input = flipping({ callId: 'c-p', args: { to: 'x' } }, 'rule', 'money.ask', unprintable());
    const thrown = await rejection(h.auditor.run(alice, async () => h.auditor.recordPendingApproval('wire_money', input as never)));
    expect((thrown as Error | undefined)?.name).toBe('AuditConfigError');
    expect(await h.toolSpans()).toHaveLength(0);
  });
});
