import { afterEach, describe, expect, it } from 'vitest';
import { findHoles, holesRead, maskTokens } from '../src/review/replay/holes.js';
import { conditionReads, traceRead } from '../src/review/replay/reads.js';
import { expectedKind, recordedDecision } from '../src/review/replay/recorded.js';
import { replayCall, type Candidate, type CandidateInput } from '../src/review/replay/replay.js';
import { readReplayCalls, toReplayCall } from '../src/review/replay/source.js';
import { ReplayTally, sortVerdicts } from '../src/review/replay/summary.js';
import { callSpan, writeTrail, type FakeCall } from './report-fixture.js';
import { cleanup, tempDir } from './helpers.js';

afterEach(cleanup);

describe('mask tokens and holes', () => {
  it('finds every token form docs/masking.md names', () => {
    expect(maskTokens('[REDACTED:password]')).toEqual(['password']);
    expect(maskTokens('to [email:3f9a1c0d2b7e] and [phone:0123456789ab]')).toEqual(['email', 'phone']);
    expect(maskTokens('card ****4242')).toEqual(['partial']);
    expect(maskTokens('****@example.org')).toEqual(['partial']);
    expect(maskTokens('postgres://[REDACTED:url_credentials]@db:5432/x')).toEqual(['url_credentials']);
    expect(maskTokens('[MASKING_FAILED]')).toEqual(['masking_failed']);
    for (const plain of ['bob@example.com', '[draft] hello', 'a*b', '[email:xyz]', '[email:3F9A1C0D2B7E]']) expect(maskTokens(plain), plain).toBeUndefined();
  });

  it('places holes at dotted paths: values, cut strings, cut arrays and objects, masked keys', () => {
    const args = {
      to: ['bob@example.com', '[email:3f9a1c0d2b7e]'],
      body: 'long text…[truncated]',
      cc: ['a@example.com', '[+3 items]'],
      meta: { a: 1, '[truncated]': '+2 keys' },
      headers: { '[REDACTED:authorization]': 'x' },
      nested: { deep: { card: '****4242' } },
    };
    const holes = findHoles(args).map((h) => [h.path, h.cause, h.shape]);
    expect(holes).toEqual([
      ['to.1', 'masked', 'value'],
      ['body', 'truncated', 'value'],
      ['cc', 'truncated', 'container'],
      ['meta', 'truncated', 'container'],
      ['headers', 'masked', 'container'],
      ['nested.deep.card', 'masked', 'value'],
    ]);
    const hs = findHoles(args);
    const read = (p: string) => holesRead(hs, p, args).map((h) => h.path);
    expect(read('to.0')).toEqual([]);
    expect(read('to.1')).toEqual(['to.1']);
    expect(read('to')).toEqual(['to.1']); // a container read holds the hole
    expect(read('cc.0')).toEqual([]); // present in the record
    expect(read('cc.2')).toEqual(['cc']); // was cut away
    expect(read('meta.a')).toEqual([]);
    expect(read('meta.b')).toEqual(['meta']);
    expect(read('nested')).toEqual(['nested.deep.card']);
    expect(read('subject')).toEqual([]);
    expect(read('').length).toBe(hs.length);
  });
});

describe('what a condition reads', () => {
  it('reads argument paths, whole-list facts and run paths from the text', () => {
    expect(conditionReads("facts.emails.exists(e, e.domain != 'example.com')")).toEqual([{ on: 'all' }]);
    expect(conditionReads("args.to.endsWith('@x') && args['cc'][0] == 'a' && facts.fields.to.emails.size() > 0")).toEqual([
      { on: 'args', path: 'to' },
      { on: 'args', path: 'cc.0' },
      { on: 'args', path: 'to' },
    ]);
    expect(conditionReads("facts.numbers['amount'] > 100 || size(args) > 3")).toEqual([
      { on: 'args', path: 'amount' },
      { on: 'args', path: '' },
    ]);
    expect(conditionReads("run.principal.id == 'args.to' && tool == 'x'")).toEqual([{ on: 'run', path: 'run.principal.id' }]);
    expect(conditionReads('x.args == 1')).toEqual([]);
  });

  it('maps trace paths, with or without args., and fact names', () => {
    expect(traceRead('to')).toEqual({ on: 'args', path: 'to' });
    expect(traceRead('args.to')).toEqual({ on: 'args', path: 'to' });
    expect(traceRead('')).toEqual({ on: 'args', path: '' });
    expect(traceRead('facts.urls')).toEqual({ on: 'all' });
    expect(traceRead('facts.fields.a.b.urls')).toEqual({ on: 'args', path: 'a.b' });
    expect(traceRead('run.attributes.tenant')).toEqual({ on: 'run', path: 'run.attributes.tenant' });
  });
});

describe('recorded decisions and the chain', () => {
  it('classifies what the record says', () => {
    const v = (c: Partial<FakeCall>) => recordedDecision(toReplayCall(callSpan({ tool: 't', at: 0, ...c }))!);
    expect(v({})).toMatchObject({ kind: 'allow', by: 'code' });
    // With a policy file loaded, its default and the rules the candidate has are the file's; other rules may be either.
    expect(v({ outcome: 'denied', rule: 'r', policyId: 'p' })).toMatchObject({ kind: 'deny', rule: 'r', by: 'unknown' });
    expect(recordedDecision(toReplayCall(callSpan({ tool: 't', at: 0, outcome: 'denied', rule: 'r', policyId: 'p' }))!, new Set(['r']))).toMatchObject({ by: 'file' });
    expect(v({ outcome: 'denied', rule: 'tooltrail.policy-default', policyId: 'p' })).toMatchObject({ kind: 'deny', by: 'file' });
    expect(v({ outcome: 'denied', rule: 'r' })).toMatchObject({ by: 'code' });
    expect(
      recordedDecision(toReplayCall(callSpan({ tool: 't', at: 0, outcome: 'denied', rule: 'tooltrail.approval', policyId: 'p', extra: { 'tooltrail.approval.rule': 'big', 'tooltrail.approval.decision': 'rejected' } }))!, new Set(['big'])),
    ).toMatchObject({ kind: 'ask', by: 'file', askRule: 'big', approval: 'rejected' });
    expect(v({ outcome: 'denied', rule: 'tooltrail.require-identity' })).toMatchObject({ kind: 'deny', by: 'identity' });
    expect(v({ outcome: 'denied', rule: 'tooltrail.approval', extra: { 'tooltrail.approval.decision': 'rejected' } })).toMatchObject({ kind: 'ask', approval: 'rejected' });
    expect(v({ outcome: 'pending_approval' })).toMatchObject({ kind: 'ask', approval: 'pending' });
    expect(v({ outcome: 'invalid' })).toMatchObject({ kind: 'invalid' });
    expect(v({ extra: { 'tooltrail.decision': 'rewrite' } })).toMatchObject({ kind: 'rewrite' });
  });

  it('keeps code rules as recorded and replaces the file step', () => {
    const code = (kind: 'allow' | 'deny' | 'ask' | 'rewrite') => ({ kind, rule: 'c', by: 'code' as const });
    const file = (kind: 'allow' | 'deny' | 'ask' | 'rewrite') => ({ kind, rule: 'f', by: 'file' as const });
    expect(expectedKind(code('deny'), 'allow')).toBe('deny');
    expect(expectedKind(code('deny'), 'ask')).toBe('deny');
    expect(expectedKind(code('allow'), 'ask')).toBe('ask');
    expect(expectedKind(code('rewrite'), 'allow')).toBe('rewrite');
    expect(expectedKind(code('allow'), 'deny')).toBe('deny');
    expect(expectedKind(file('deny'), 'allow')).toBe('allow');
    expect(expectedKind(file('ask'), 'allow')).toBe('allow');
    expect(expectedKind({ kind: 'deny', rule: 'tooltrail.require-identity', by: 'identity' }, 'allow')).toBe('deny');
  });
});

/**
 * A stand-in for core's evaluator with the same contract (rules in order, first allow/deny/ask
 * ends it, `trace.read` for the argument paths a condition read), so the replay's own logic is
 * tested apart from CEL.
 */
function fakeCandidate(): Candidate {
  const emails = (args: unknown): string[] => JSON.stringify(args).match(/[^\s"',;<>]+@[^\s"',;<>]+/g) ?? [];
  const rules: { id: string; tool: string; when?: string; decide: 'allow' | 'deny' | 'ask'; test?: (c: CandidateInput, read: (p: string) => void) => boolean }[] = [
    {
      id: 'mail-inside-company',
      tool: 'send_email',
      when: "facts.emails.exists(e, e.domain != 'example.com')",
      decide: 'deny',
      test: (c, read) => (read(''), emails(c.args).some((e) => !e.toLowerCase().endsWith('@example.com'))),
    },
    { id: 'big-refund', tool: 'refund', when: 'args.amount > 100', decide: 'ask', test: (c, read) => (read('amount'), Number((c.args as { amount?: unknown }).amount) > 100) },
    { id: 'lookup-vip', tool: 'lookup', when: "args.id.startsWith('VIP')", decide: 'ask', test: (c, read) => (read('id'), String((c.args as { id?: unknown }).id).startsWith('VIP')) },
    { id: 'search-secrets', tool: 'search', when: "args.q.contains('secret')", decide: 'deny', test: (c, read) => (read('q'), String((c.args as { q?: unknown }).q).includes('secret')) },
    { id: 'no-export', tool: 'export_customers', decide: 'deny' },
    // Reads run identity only: the trace says nothing, the text does.
    { id: 'admin-only-root', tool: 'admin', when: "run.principal.id != 'user:root'", decide: 'deny', test: (c) => c.run?.principal?.id !== 'user:root' },
  ];
  return {
    id: 'candidate',
    version: 'sha256:00',
    rules: rules.map((r) => ({ id: r.id, when: r.when, matches: (t: string) => t === r.tool })),
    evaluate(call, trace) {
      for (const r of rules) {
        if (r.tool !== call.tool) continue;
        if (!r.test || r.test(call, (p) => trace.read(p))) return { kind: r.decide, rule: r.id, reason: r.id };
      }
      return { kind: 'allow', rule: undefined, reason: undefined };
    },
  };
}

const T0 = Date.UTC(2026, 4, 4, 9, 0);
const at = (min: number) => T0 + min * 60_000;
const base = { agent: 'support-bot', principal: 'user:4711', runId: 'run-1' };

/** The crafted trail: [label, call]. Labels are what the test expects to find in each list. */
const CRAFTED: [string, FakeCall][] = [
  ['mail-inside', { ...base, tool: 'send_email', at: at(1), args: '{"to":"bob@example.com","subject":"hi"}' }],
  ['mail-hashed', { ...base, tool: 'send_email', at: at(2), args: '{"to":"[email:3f9a1c0d2b7e]","subject":"hi"}' }],
  ['mail-partial', { ...base, tool: 'send_email', at: at(3), args: '{"to":"bob@example.com, ****@evil.io"}' }],
  ['refund-small', { ...base, tool: 'refund', at: at(4), args: '{"amount":50,"card":"****4242"}' }],
  ['refund-big', { ...base, tool: 'refund', at: at(5), args: '{"amount":500,"card":"****4242"}' }],
  ['delete-code-denied', { ...base, tool: 'delete_file', at: at(6), outcome: 'denied', rule: 'no-etc', args: '{"path":"/etc/passwd"}' }],
  ['delete-file-denied', { ...base, tool: 'delete_file', at: at(7), outcome: 'denied', rule: 'old-rule', policyId: 'old', policyVersion: 'sha256:11', args: '{"path":"/tmp/x"}' }],
  ['invalid', { ...base, tool: 'refund', at: at(8), outcome: 'invalid', args: '{"amount":"lots"}' }],
  ['lookup-mask-failed', { ...base, tool: 'lookup', at: at(9), args: '"[MASKING_FAILED]"', extra: { 'tooltrail.mask.failed': 1 } }],
  ['search-cut', { ...base, tool: 'search', at: at(10), args: '{"q":"find the…[truncated]"}', extra: { 'tooltrail.payload.truncated': ['arguments'] } }],
  ['export-mask-failed', { ...base, tool: 'export_customers', at: at(11), args: '"[MASKING_FAILED]"' }],
  ['admin-masked-principal', { ...base, principal: '[email:abcdef012345]', tool: 'admin', at: at(12), args: '{}' }],
  ['pending', { ...base, tool: 'refund', at: at(13), outcome: 'pending_approval', rule: 'big-refund', policyId: 'candidate', args: '{"amount":900}' }],
  ['outside-run', { tool: 'send_email', at: at(14), outcome: 'denied', rule: 'tooltrail.require-identity', args: '{"to":"x@evil.io"}' }],
  ['search-plain', { ...base, tool: 'search', at: at(15), args: '{"q":"weather"}' }],
];

describe('replaying a crafted trail', () => {
  it('lists exactly the calls decided differently, the ones it cannot decide and the invalid ones', async () => {
    const dir = await tempDir();
    const spans = CRAFTED.map(([, c]) => callSpan(c));
    // A duplicate (at-least-once delivery) is replayed once.
    await writeTrail(dir, [...spans, spans[0]!]);
    const label = new Map(spans.map((s, i) => [s.spanId, CRAFTED[i]![0]]));
    const tally = new ReplayTally(() => true);
    const candidate = fakeCandidate();
    for await (const call of readReplayCalls({ kind: 'dir', dir }, {})) tally.add(replayCall(candidate, call));
    const list = sortVerdicts(tally.listed);
    const of = (kind: string) => list.filter((v) => v.kind === kind).map((v) => label.get(v.call.spanId));
    expect(of('differs')).toEqual(['refund-big', 'delete-file-denied', 'export-mask-failed']);
    expect(of('undecidable')).toEqual(['mail-hashed', 'mail-partial', 'lookup-mask-failed', 'search-cut', 'admin-masked-principal']);
    expect(of('invalid')).toEqual(['invalid']);
    expect(of('same')).toEqual(['mail-inside', 'refund-small', 'delete-code-denied', 'pending', 'outside-run', 'search-plain']);
    expect(tally.summary).toEqual({
      calls: 15,
      same: 6,
      differs: 3,
      undecidable: 5,
      invalid: 1,
      changes: { 'allow→ask': 1, 'deny→allow': 1, 'allow→deny': 1 },
      undecidableBy: { masked: 3, masking_failed: 1, truncated: 1 },
    });
    expect(tally.exitCode()).toBe(1);

    const byLabel = (l: string) => list.find((v) => label.get(v.call.spanId) === l)!;
    expect(byLabel('refund-big')).toMatchObject({ recorded: { kind: 'allow' }, candidate: { kind: 'ask', rule: 'big-refund' }, expected: 'ask' });
    expect(byLabel('delete-file-denied')).toMatchObject({ recorded: { kind: 'deny', rule: 'old-rule', by: 'unknown' }, candidate: { kind: 'allow', rule: undefined } });
    // Never a guess: no candidate decision where a needed value is masked.
    expect(byLabel('mail-hashed').candidate).toBeUndefined();
    expect(byLabel('mail-hashed').needed).toEqual({ causes: ['masked'], paths: ['to'], kinds: ['email'] });
    expect(byLabel('mail-partial').needed).toEqual({ causes: ['masked'], paths: ['to'], kinds: ['partial'] });
    expect(byLabel('lookup-mask-failed').needed).toEqual({ causes: ['masking_failed'], paths: ['(all arguments)'], kinds: [] });
    expect(byLabel('search-cut').needed?.causes).toEqual(['truncated']);
    expect(byLabel('search-cut').notes).toContain('arguments were cut to the size cap when recorded');
    expect(byLabel('admin-masked-principal').needed).toEqual({ causes: ['masked'], paths: ['run.principal.id'], kinds: ['email'] });
    // A rule without a condition decides even when the arguments are unreadable.
    expect(byLabel('export-mask-failed')).toMatchObject({ candidate: { kind: 'deny', rule: 'no-export' } });
    // A masked card the candidate never reads does not stop a decision.
    expect(byLabel('refund-small').kind).toBe('same');
  });
});
