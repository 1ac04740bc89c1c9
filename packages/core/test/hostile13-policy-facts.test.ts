/**
 * Hostile review of issue 13's policy facts: inputs that a mail, HTTP or file client reads one
 * way and the facts read another. Extra facts only ever make a rule stricter (an allow-list's
 * `all` and a deny-list's `exists` both see them), so where two readings exist, both are facts.
 */
import { describe, expect, it } from 'vitest';
import { compilePolicy, evaluatePolicyDocument, parsePolicyDocument } from '../src/entries/policy.js';

const policy = (when: string, tools = 'send_email') =>
  compilePolicy(
    parsePolicyDocument(
      JSON.stringify({ id: 'h13', default: 'allow', rules: [{ id: 'r', tools: [tools], when, decide: 'deny', reason: 'no' }] }),
      'json',
    ),
    { baseDir: '/srv/data' },
  );
const kind = (p: ReturnType<typeof policy>, args: unknown, tool = 'send_email') => evaluatePolicyDocument(p, { tool, args }).kind;

describe('hostile13: emails', () => {
  const allowList = policy("facts.emails.exists(e, !inDomain(e.domain, 'example.com'))");
  const denyList = policy("facts.emails.exists(e, inDomain(e.domain, 'evil.io'))");
  // A NUL (or another control character) ends the address for a C mailer; `#`/`=` junk before
  // a second `@` leaves the first domain the one a lenient parser delivers to.
  const evasions: Array<[string, string]> = [
    ['NUL before a second @', 'mallory@evil.io\u0000@example.com'],
    ['percent-encoded NUL', 'mallory@evil.io%00@example.com'],
    ['a control character before a second @', 'mallory@evil.io\u0001@example.com'],
    ['junk then a second @', 'mallory@evil.io#@example.com'],
    ['= then a second address', 'mallory@evil.io=bob@example.com'],
  ];
  for (const [name, to] of evasions) {
    it(`allow-list: ${name} is denied`, () => expect(kind(allowList, { to })).toBe('deny'));
    it(`deny-list: ${name} is denied`, () => expect(kind(denyList, { to })).toBe('deny'));
  }
  it('deny-list: a port or junk after the domain still names the domain', () => {
    expect(kind(denyList, { to: 'mallory@evil.io:25' })).toBe('deny');
    expect(kind(denyList, { to: 'mallory@evil.io!x' })).toBe('deny');
  });
  it('legitimate lists stay allowed', () => {
    for (const to of ['bob@example.com', 'Bob <bob@example.com>, carol@sub.example.com', 'bob@example.com;\tcarol@example.com'])
      expect(kind(allowList, { to })).toBe('allow');
  });
});

describe('hostile13: urls', () => {
  const denyEvil = policy("facts.urls.exists(u, inDomain(u.host, 'evil.io'))", 'fetch');
  const denyLoopback = policy("facts.urls.exists(u, u.host == '127.0.0.1' || u.host == 'localhost')", 'fetch');
  it('a twice percent-encoded URL is read like a once encoded one', () => {
    expect(kind(denyEvil, { url: 'https%3A%2F%2Fevil.io%2Fx' }, 'fetch')).toBe('deny');
    expect(kind(denyEvil, { url: 'https%253A%252F%252Fevil.io%252Fx' }, 'fetch')).toBe('deny');
    expect(kind(denyEvil, { note: 'go to https%253A%252F%252Fevil.io' }, 'fetch')).toBe('deny');
  });
  it('an IPv4-mapped IPv6 host is also its IPv4 address', () => {
    expect(kind(denyLoopback, { url: 'http://127.0.0.1/admin' }, 'fetch')).toBe('deny');
    expect(kind(denyLoopback, { url: 'http://[::ffff:127.0.0.1]/admin' }, 'fetch')).toBe('deny');
    expect(kind(denyLoopback, { url: 'http://[0:0:0:0:0:ffff:7f00:1]/admin' }, 'fetch')).toBe('deny');
  });
});

describe('hostile13: paths', () => {
  const jail = policy("facts.paths.exists(p, !underPath(p, '/srv/data'))", 'read_file');
  const denyEtc = policy("facts.paths.exists(p, underPath(p, '/etc'))", 'read_file');
  const escapes = ['/srv/data/%2e%2e/%2e%2e/etc/passwd', '/srv/data/..%2f..%2fetc/passwd', '/srv/data/..\\..\\etc\\passwd', 'sub\\..\\..\\..\\etc\\passwd', '%2e%2e/%2e%2e/etc/passwd'];
  for (const path of escapes) {
    it(`${path} is not under /srv/data`, () => expect(kind(jail, { path }, 'read_file')).toBe('deny'));
    it(`${path} is caught by a rule on /etc`, () => expect(kind(denyEtc, { path }, 'read_file')).toBe('deny'));
  }
  it('ordinary paths inside stay allowed', () => {
    for (const path of ['/srv/data/a.txt', 'reports/q1.csv', './x/../y.txt', '/srv/data/100%.txt', 'a\\b.txt'])
      expect(kind(jail, { path }, 'read_file')).toBe('allow');
  });
});

describe('hostile13: amounts written as people write them', () => {
  // A rule on facts.numbers guarded by has(): a string the facts did not read as a number let
  // the call through. Currency signs and codes, thousands separators and full-width digits are
  // amounts; ambiguous forms stay strings (and then `has()` is false: write such rules on args).
  const big = policy("has(facts.numbers.amount) ? facts.numbers.amount > 1000.0 : false", 'transfer');
  it('denies an amount over the limit in every written form', () => {
    for (const amount of [5000, '5000', '$5,000', '5,000.50', 'EUR 5000', '5000 EUR', '£5 000', '\uff15\uff10\uff10\uff10', '€5_000', '+5000', '5e3']) {
      expect(kind(big, { amount }, 'transfer'), JSON.stringify(amount)).toBe('deny');
    }
  });
  it('allows small amounts, and does not read hex or ambiguous separators as numbers', () => {
    for (const amount of [999, '$999.99', '0x10000', '1,5', '1.000,50']) expect(kind(big, { amount }, 'transfer'), JSON.stringify(amount)).toBe('allow');
  });
});
