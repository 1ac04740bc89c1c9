/**
 * Evaluation: every decision kind, file order, rewrite of nested paths (and evaluation going on
 * with the rewritten arguments), the default, CEL errors failing closed, load-time errors naming
 * the rule, `run` in conditions, and the reads a trace reports.
 */
import { describe, expect, it } from 'vitest';
import { AuditConfigError } from '../src/contract/errors.js';
import { compilePolicy, evaluatePolicyDocument, parsePolicyDocument, type PolicyDocument } from '../src/entries/policy.js';

const compile = (doc: Omit<PolicyDocument, 'default'> & { default?: 'allow' | 'deny' }, baseDir?: string) =>
  compilePolicy(parsePolicyDocument(JSON.stringify({ default: 'allow', ...doc }), 'json'), baseDir ? { baseDir } : undefined);

describe('decision kinds and order', () => {
  const p = compile({
    id: 'kinds',
    rules: [
      { id: 'strip-bcc', tools: ['send_email'], decide: 'rewrite', remove: ['bcc'], set: { 'headers.x-audited': true }, reason: 'no bcc' },
      { id: 'ask-external', tools: ['send_email'], when: "facts.emails.exists(e, e.domain != 'example.com')", decide: 'ask', reason: 'external mail' },
      { id: 'allow-mail', tools: ['send_email'], decide: 'allow', reason: 'internal mail' },
      { id: 'never-delete', tools: ['db.*'], when: "tool == 'db.drop' || args.sql.lowerAscii().contains('drop ')", decide: 'deny', reason: 'destructive' },
      { id: 'db-ok', tools: ['db.*'], decide: 'allow' },
    ],
  });

  it('allow', () => {
    expect(evaluatePolicyDocument(p, { tool: 'db.query', args: { sql: 'select 1' } })).toEqual({ kind: 'allow', rule: 'db-ok', reason: undefined });
  });
  it('deny', () => {
    expect(evaluatePolicyDocument(p, { tool: 'db.query', args: { sql: 'DROP table x' } })).toEqual({ kind: 'deny', rule: 'never-delete', reason: 'destructive' });
    expect(evaluatePolicyDocument(p, { tool: 'db.drop', args: {} }).rule).toBe('never-delete');
  });
  it('rewrite then allow: recorded as the rewrite, with the rewritten arguments', () => {
    const args = { to: 'bob@example.com', bcc: 'mallory@evil.io', headers: { a: 1 } };
    const d = evaluatePolicyDocument(p, { tool: 'send_email', args });
    expect(d).toEqual({ kind: 'rewrite', rule: 'strip-bcc', reason: 'no bcc', args: { to: 'bob@example.com', headers: { a: 1, 'x-audited': true } } });
    expect(args).toEqual({ to: 'bob@example.com', bcc: 'mallory@evil.io', headers: { a: 1 } }); // not mutated
  });
  it('later rules see the rewritten arguments (the removed bcc no longer asks)', () => {
    expect(evaluatePolicyDocument(p, { tool: 'send_email', args: { to: 'a@example.com', bcc: 'x@evil.io' } }).kind).toBe('rewrite');
    const d = evaluatePolicyDocument(p, { tool: 'send_email', args: { to: 'x@evil.io', bcc: 'b@example.com' } });
    expect(d).toEqual({ kind: 'ask', rule: 'ask-external', reason: 'external mail', args: { to: 'x@evil.io', headers: { 'x-audited': true } } });
  });
  it('no applicable rule: the default; a deny default names no rule', () => {
    expect(evaluatePolicyDocument(p, { tool: 'other', args: {} })).toEqual({ kind: 'allow', rule: undefined, reason: undefined });
    const strict = compile({ id: 'strict', default: 'deny', rules: [{ id: 'search', tools: ['search'], decide: 'allow' }] });
    expect(evaluatePolicyDocument(strict, { tool: 'search', args: {} }).kind).toBe('allow');
    expect(evaluatePolicyDocument(strict, { tool: 'shell', args: {} })).toMatchObject({ kind: 'deny', rule: undefined, reason: expect.stringContaining('default is deny') });
  });
  it('the first applicable allow ends evaluation (file order)', () => {
    const q = compile({ id: 'o', rules: [{ id: 'a', tools: ['*'], decide: 'allow' }, { id: 'd', tools: ['*'], decide: 'deny' }] });
    expect(evaluatePolicyDocument(q, { tool: 'x', args: {} }).rule).toBe('a');
  });
});

describe('rewrite of nested paths', () => {
  it('sets and removes through objects and arrays, creating what is missing', () => {
    const p = compile({
      id: 'rw',
      rules: [{ id: 'rw', tools: ['t'], decide: 'rewrite', set: { 'a.b.c': 'x', 'list.1.name': 'n', 'new.0': 1, cc: null }, remove: ['secret.token', 'items.0', 'absent.key'] }],
    });
    const args = { a: { b: { c: 'old', d: 1 } }, list: [{ name: 'a' }, { name: 'b' }], secret: { token: 't', keep: 1 }, items: [1, 2] };
    const d = evaluatePolicyDocument(p, { tool: 't', args });
    expect(d.args).toEqual({ a: { b: { c: 'x', d: 1 } }, list: [{ name: 'a' }, { name: 'n' }], new: [1], cc: null, secret: { keep: 1 }, items: [2] });
    expect(args.list[1]?.name).toBe('b');
    expect(args.items).toEqual([1, 2]);
  });
  it('refuses prototype paths at load', () => {
    expect(() => compile({ id: 'rw', rules: [{ id: 'bad', tools: ['t'], decide: 'rewrite', set: { '__proto__.x': 1 } }] })).toThrow(/rule bad: path __proto__\.x/);
  });
});

describe('CEL', () => {
  it('an evaluation error denies (fail closed) and carries the error', () => {
    const p = compile({ id: 'c', rules: [{ id: 'needs-to', tools: ['t'], when: "args.to.endsWith('@example.com')", decide: 'allow' }] });
    const d = evaluatePolicyDocument(p, { tool: 't', args: {} });
    expect(d.kind).toBe('deny');
    expect(d.rule).toBe('tooltrail.policy-error:needs-to');
    expect(d.reason).toMatch(/No such key: to/);
    expect(d.error).toBeInstanceOf(Error);
    expect(evaluatePolicyDocument(p, { tool: 't', args: { to: 42 } }).kind).toBe('deny');
  });
  it('a dyn condition that is not a bool at run time denies', () => {
    const p = compile({ id: 'c', rules: [{ id: 'flag', tools: ['t'], when: 'args.flag', decide: 'allow' }] });
    expect(evaluatePolicyDocument(p, { tool: 't', args: { flag: true } }).kind).toBe('allow');
    expect(evaluatePolicyDocument(p, { tool: 't', args: { flag: 'yes' } })).toMatchObject({ kind: 'deny', rule: 'tooltrail.policy-error:flag' });
  });
  it('compile errors name the rule: syntax, types, unknown fields, non-bool, unknown variables', () => {
    const bad = (when: string) => () => compile({ id: 'c', rules: [{ id: 'r1', tools: ['t'], when, decide: 'deny' }] });
    for (const [when, msg] of [
      ['args.a ==', /rule r1: when does not parse/],
      ["facts.emails.exists(e, e.domian == 'x')", /rule r1: when: No such key: domian/],
      ["tool == 1", /rule r1: when: no such overload/],
      ["'x'", /rule r1: when must be a bool, not string/],
      ['secrets.x == 1', /rule r1: when: Unknown variable: secrets/],
    ] as const) {
      expect(bad(when)).toThrow(msg);
      try {
        bad(when)();
      } catch (err) {
        expect(AuditConfigError.isInstance(err)).toBe(true);
      }
    }
  });
  it('lists every bad rule at once', () => {
    try {
      compile({ id: 'c', rules: [{ id: 'r1', tools: ['t'], when: '1 +', decide: 'deny' }, { id: 'r2', tools: ['t'], when: 'nope', decide: 'deny' }] });
      expect.unreachable();
    } catch (err) {
      expect((err as AuditConfigError).issues).toHaveLength(2);
    }
  });
  it('sees run identity; absent parts are empty strings', () => {
    const p = compile({
      id: 'run',
      rules: [
        { id: 'admins', tools: ['*'], when: "run.principal.type == 'admin' && run.agent.name == 'ops' && run.attributes['tenant'] == 'acme' && run.run_id != ''", decide: 'allow' },
        { id: 'anon', tools: ['*'], when: "run.principal.id == ''", decide: 'deny', reason: 'no principal' },
      ],
    });
    expect(evaluatePolicyDocument(p, { tool: 'x', args: {}, run: { principal: { id: 'u1', type: 'admin' }, agent: { name: 'ops' }, runId: 'r', attributes: { tenant: 'acme' } } }).rule).toBe('admins');
    expect(evaluatePolicyDocument(p, { tool: 'x', args: {} }).rule).toBe('anon');
    expect(evaluatePolicyDocument(p, { tool: 'x', args: {}, run: { principal: { id: 'u2' } } }).kind).toBe('allow');
  });
  it('numbers compare across int and double; arithmetic on arguments needs doubles', () => {
    const p = compile({ id: 'n', rules: [{ id: 'n', tools: ['t'], when: 'args.a == 150 && args.b > 1 && args.a * 2.0 == 300.0 && size(args.l) == 2', decide: 'deny' }] });
    expect(evaluatePolicyDocument(p, { tool: 't', args: { a: 150, b: 1.5, l: [1, 2] } }).rule).toBe('n');
  });
  it('inDomain and underPath do not match look-alike prefixes', () => {
    const p = compile({
      id: 'h',
      rules: [{ id: 'h', tools: ['t'], when: "inDomain(args.h, 'example.com') && underPath(args.p, '/srv/data/')", decide: 'allow' }],
      default: 'deny',
    });
    const d = (h: string, path: string) => evaluatePolicyDocument(p, { tool: 't', args: { h, p: path } }).kind;
    expect(d('a.example.com', '/srv/data/x')).toBe('allow');
    expect(d('example.com', '/srv/data')).toBe('allow');
    expect(d('evilexample.com', '/srv/data/x')).toBe('deny');
    expect(d('example.com', '/srv/database')).toBe('deny');
  });
});

describe('tool globs', () => {
  const p = compile({ id: 'g', default: 'deny', rules: [{ id: 'g', tools: ['mail.*', 'get_?', 'exact.name'], decide: 'allow' }] });
  it.each([
    ['mail.send', 'allow'],
    ['mail.', 'allow'],
    ['mail.a.b', 'allow'],
    ['get_x', 'allow'],
    ['get_xy', 'deny'],
    ['exact.name', 'allow'],
    ['exactXname', 'deny'],
    ['mailXsend', 'deny'],
    ['xmail.send', 'deny'],
    ['mail.send\nshell', 'allow'],
  ])('%j -> %s', (tool, kind) => {
    expect(evaluatePolicyDocument(p, { tool, args: {} }).kind).toBe(kind);
  });
});

describe('trace: the argument values a condition read', () => {
  const p = compile({
    id: 't',
    rules: [
      { id: 'r1', tools: ['a'], when: "args.to.size() > 0 && has(args.meta.tag) && args['x-y'][0] == 1 && facts.fields['cc'].emails.size() == 0 && facts.numbers['amount'] > 1", decide: 'allow' },
      { id: 'r2', tools: ['b'], when: "facts.emails.exists(e, e.domain == 'x')", decide: 'allow' },
      { id: 'r3', tools: ['c'], when: 'args[tool] == 1', decide: 'allow' },
      { id: 'r4', tools: ['zzz'], when: 'args.never == 1', decide: 'allow' },
    ],
  });
  const reads = (tool: string, args: unknown) => {
    const seen = new Set<string>();
    evaluatePolicyDocument(p, { tool, args }, { read: (x) => seen.add(x) });
    return [...seen].sort();
  };
  it('reports literal paths, fields and numbers by key', () => {
    expect(reads('a', { to: 'x', meta: { tag: 1 }, 'x-y': [1], cc: '', amount: 2 })).toEqual(['amount', 'cc', 'meta.tag', 'to', 'x-y.0']);
  });
  it('a whole-argument fact reports every string argument', () => {
    expect(reads('b', { to: 'a@x', n: 1, list: ['s', 2] })).toEqual(['list.0', 'to']);
  });
  it('a dynamic index reports the whole arguments', () => {
    expect(reads('c', { c: 1 })).toEqual(['']);
  });
  it('rules whose tools do not match read nothing', () => {
    expect(reads('other', { never: 1 })).toEqual([]);
  });
});

describe('absurd arguments', () => {
  it('arguments nested too deep for facts deny (fail closed)', () => {
    const p = compile({ id: 'd', rules: [{ id: 'mail', tools: ['t'], when: "facts.emails.exists(e, e.domain != 'example.com')", decide: 'deny' }] });
    let deep: unknown = 'mallory@evil.io';
    for (let i = 0; i < 200; i++) deep = { n: deep };
    expect(evaluatePolicyDocument(p, { tool: 't', args: deep })).toMatchObject({ kind: 'deny', rule: 'tooltrail.policy-error:mail' });
  });
  it('undefined and primitive arguments do not throw', () => {
    const p = compile({ id: 'u', rules: [{ id: 'm', tools: ['t'], when: 'has(args.x)', decide: 'deny' }] });
    expect(evaluatePolicyDocument(p, { tool: 't', args: undefined }).kind).toBe('allow');
    expect(evaluatePolicyDocument(p, { tool: 't', args: 'str' }).kind).toBe('allow'); // has() on a string is false
  });
});
