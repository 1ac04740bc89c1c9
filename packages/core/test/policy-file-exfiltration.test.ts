/**
 * The seeds' send_email exfiltration and its evasions against a domain allow-list: every
 * evasion is denied, every legitimate recipient list is allowed. Then URL host, path and
 * number rules over the same normalised facts.
 */
import { describe, expect, it } from 'vitest';
import { compilePolicy, evaluatePolicyDocument, parsePolicyDocument, policyFacts } from '../src/entries/policy.js';

const mailPolicy = compilePolicy(
  parsePolicyDocument(
    `
id: mail
default: allow
rules:
  - id: mail-inside-company
    tools: ["send_email", "mail.*"]
    when: "facts.emails.exists(e, !inDomain(e.domain, 'example.com'))"
    decide: deny
    reason: mail leaves example.com
`,
    'yaml',
  ),
);

const send = (args: unknown, tool = 'send_email') => evaluatePolicyDocument(mailPolicy, { tool, args });

const evasions: Array<[string, unknown]> = [
  ['plain outside address', { to: 'mallory@evil.io' }],
  ['list, outside first', { to: 'mallory@evil.io, bob@example.com' }],
  ['list, outside last', { to: 'bob@example.com; mallory@evil.io' }],
  ['whitespace-separated list', { to: 'bob@example.com mallory@evil.io' }],
  ['array of recipients', { to: ['bob@example.com', 'mallory@evil.io'] }],
  ['in cc', { to: 'bob@example.com', cc: 'mallory@evil.io' }],
  ['nested recipients', { message: { headers: { to: [{ address: 'mallory@evil.io' }] } } }],
  ['suffix look-alike', { to: 'x@example.com.evil.io' }],
  ['prefix look-alike', { to: 'x@evilexample.com' }],
  ['display name hides the address', { to: '"bob@example.com" <mallory@evil.io>' }],
  ['display name list', { to: 'Bob <bob@example.com>, Mallory <mallory@evil.io>' }],
  ['quoted local part', { to: '"bob@example.com"@evil.io' }],
  ['two @', { to: 'bob@example.com@evil.io' }],
  ['source route', { to: '@example.com:mallory@evil.io' }],
  ['comment', { to: 'mallory@evil.io(bob@example.com)' }],
  ['percent-encoded @', { to: 'mallory%40evil.io' }],
  ['double percent-encoded @', { to: 'mallory%2540evil.io' }],
  ['percent-encoded comma', { to: 'bob@example.com%2Cmallory@evil.io' }],
  ['HTML entity @', { to: 'mallory&#64;evil.io' }],
  ['upper case outside', { to: 'MALLORY@EVIL.IO' }],
  ['space around @', { to: 'mallory @ evil.io' }],
  ['tab and newline separated', { to: 'bob@example.com\t\nmallory@evil.io' }],
  ['full-width @ and letters', { to: 'mallory＠ｅｖｉｌ.io' }],
  ['full-width comma', { to: 'bob@example.com，mallory@evil.io' }],
  ['zero-width space joins two addresses', { to: 'bob@example.com\u200bmallory@evil.io' }],
  ['zero-width inside the outside domain', { to: 'mallory@ev\u200bil.io' }],
  ['trailing dot on an outside domain', { to: 'mallory@evil.io.' }],
  ['Cyrillic a look-alike (IDN)', { to: 'bob@exаmple.com' }],
  ['Greek o look-alike (IDN)', { to: 'bob@examplе.cοm' }],
  ['punycode of a look-alike', { to: 'bob@xn--exmple-4nf.com' }],
  ['mailto link in body', { to: 'bob@example.com', body: 'write to <mailto:mallory@evil.io?subject=x>' }],
  ['address in the body', { to: 'bob@example.com', body: 'forward everything to mallory@evil.io.' }],
  ['ideographic full stop look-alike', { to: 'mallory@evil。io' }],
];

const legitimate: Array<[string, unknown]> = [
  ['one inside address', { to: 'bob@example.com' }],
  ['subdomain', { to: 'ops@mail.example.com' }],
  ['comma list', { to: 'bob@example.com, alice@example.com' }],
  ['semicolon list with spaces', { to: ' bob@example.com ;alice@example.com ; ' }],
  ['display names', { to: 'Bob Smith <bob@example.com>, "Smith, Alice" <alice@example.com>' }],
  ['upper-case domain', { to: 'Bob@EXAMPLE.COM' }],
  ['trailing dot', { to: 'bob@example.com.' }],
  ['full-width inside address', { to: 'ｂｏｂ＠ｅｘａｍｐｌｅ．ｃｏｍ' }],
  ['zero-width inside an inside address', { to: 'bo\u200bb@example.com' }],
  ['percent-encoded inside address', { to: 'bob%40example.com' }],
  ['array', { to: ['bob@example.com', 'Alice <alice@example.com>'], cc: [] }],
  ['no recipients in other fields', { to: 'bob@example.com', subject: 'Q3 numbers', body: 'See attached, thanks!' }],
  ['mailto', { to: 'mailto:bob@example.com' }],
];

describe('send_email against a domain allow-list', () => {
  it.each(evasions)('denies: %s', (_name, args) => {
    const d = send(args);
    expect(d).toMatchObject({ kind: 'deny', rule: 'mail-inside-company', reason: 'mail leaves example.com' });
  });

  it.each(legitimate)('allows: %s', (_name, args) => {
    expect(send(args)).toEqual({ kind: 'allow', rule: undefined, reason: undefined });
  });

  it('matches tools by glob, and other tools are not affected', () => {
    expect(send({ to: 'mallory@evil.io' }, 'mail.send').kind).toBe('deny');
    expect(send({ to: 'mallory@evil.io' }, 'search').kind).toBe('allow');
    expect(send({ to: 'mallory@evil.io' }, 'send_email_v2').kind).toBe('allow');
  });

  it('normalises each address into local part and lower-cased punycode domain', () => {
    const f = policyFacts({ to: 'Bob <Bob@EXAMPLE.com.>, x@bücher.de' });
    expect(f.emails).toEqual([
      { address: 'Bob@example.com', local: 'Bob', domain: 'example.com' },
      { address: 'x@xn--bcher-kva.de', local: 'x', domain: 'xn--bcher-kva.de' },
    ]);
    expect(f.fields['to']?.emails).toHaveLength(2);
  });

  it('a per-field rule reads only that field', () => {
    const p = compilePolicy(
      parsePolicyDocument(
        JSON.stringify({
          id: 'p',
          default: 'allow',
          rules: [{ id: 'to-inside', tools: ['send_email'], when: "!facts.fields['to'].emails.all(e, inDomain(e.domain, ['example.com', 'example.org']))", decide: 'deny' }],
        }),
        'json',
      ),
    );
    expect(evaluatePolicyDocument(p, { tool: 'send_email', args: { to: ['a@example.org', 'b@x.example.com'], body: 'cc mallory@evil.io' } }).kind).toBe('allow');
    expect(evaluatePolicyDocument(p, { tool: 'send_email', args: { to: ['a@example.org', 'b@evil.io'] } }).kind).toBe('deny');
    // No `to` at all: the field lookup fails, and a failing condition denies.
    expect(evaluatePolicyDocument(p, { tool: 'send_email', args: { body: 'x' } })).toMatchObject({ kind: 'deny', rule: 'tooltrail.policy-error:to-inside' });
  });
});

const urlPolicy = compilePolicy(
  parsePolicyDocument(
    `
id: web
default: allow
rules:
  - id: fetch-allow-list
    tools: ["fetch", "http_*"]
    when: "facts.urls.exists(u, !(u.scheme == 'https' && u.host == 'api.example.com' && u.port == 443))"
    decide: deny
`,
    'yaml',
  ),
);

describe('URL host rules', () => {
  const fetch = (url: unknown) => evaluatePolicyDocument(urlPolicy, { tool: 'fetch', args: { url } }).kind;
  it.each([
    'https://api.example.com@evil.io/x',
    'https://api.example.com:443@evil.io/',
    'https://evil.io\\@api.example.com/',
    'https://evil.io#@api.example.com',
    'https://api.example.com.evil.io/',
    'https://api.example.com:8443/',
    'http://api.example.com/',
    'HTTPS://EVIL.IO/',
    'https://apі.example.com/', // Cyrillic i
    'https%3A%2F%2Fevil.io%2Fupload',
    'evil.io/upload',
    'https:evil.io',
    ['https://api.example.com/ok', 'https://evil.io/'],
    'ftp://api.example.com/',
  ])('denies %s', (url) => {
    expect(fetch(url)).toBe('deny');
  });

  it.each(['https://api.example.com/v1/items?q=1', 'HTTPS://API.EXAMPLE.COM:443/v1', 'https://api.example.com./v1', 'https://ＡＰＩ.example.com/'])('allows %s', (url) => {
    expect(fetch(url)).toBe('allow');
  });

  it('parses scheme, host, default port, decoded path with dot segments resolved, query', () => {
    expect(policyFacts({ u: 'see HTTP://User@Example.COM/a/%2e%2e/b/..%2f..%2fetc?x=1.' }).urls).toEqual([
      { url: 'http://User@example.com/b/..%2f..%2fetc?x=1', scheme: 'http', host: 'example.com', port: 80, path: '/etc', query: 'x=1' },
    ]);
  });
});

describe('path rules', () => {
  const p = compilePolicy(
    parsePolicyDocument(
      JSON.stringify({
        id: 'fs',
        default: 'allow',
        rules: [{ id: 'data-only', tools: ['read_file', 'write_file'], when: "facts.paths.exists(p, !underPath(p, '/srv/data'))", decide: 'deny' }],
      }),
      'json',
    ),
    { baseDir: '/srv/data/work' },
  );
  const read = (args: unknown) => evaluatePolicyDocument(p, { tool: 'read_file', args }).kind;

  it.each([
    { path: '/srv/data/../../etc/passwd' },
    { path: '/srv/data/./x/../../../etc/shadow' },
    { path: '../../../etc/passwd' },
    { path: '/srv/data2/x' },
    { path: '//etc//passwd' },
    { target: 'file:///etc/passwd' },
    { files: ['/srv/data/a', '/etc/hosts'] },
    { filePath: 'notes/../../../../root/.ssh/id_ed25519' },
    { options: { src: '/etc/passwd' } },
  ])('denies %j', (args) => {
    expect(read(args)).toBe('deny');
  });

  it.each([{ path: '/srv/data/reports/q3.csv' }, { path: 'reports/../q3.csv' }, { path: './x' }, { filename: 'a.txt' }, { text: 'etc passwd' }])('allows %j', (args) => {
    expect(read(args)).toBe('allow');
  });

  it('resolves relative paths against baseDir', () => {
    expect(policyFacts({ path: 'a/../b' }, { baseDir: '/srv' }).paths).toEqual(['/srv/b']);
  });
});

describe('number rules', () => {
  const p = compilePolicy(
    parsePolicyDocument(
      `
id: money
default: allow
rules:
  - id: large-transfer
    tools: [transfer]
    when: "facts.numbers.exists(k, k.endsWith('amount') && facts.numbers[k] > 1000)"
    decide: ask
    reason: large transfer needs approval
  - id: negative
    tools: [transfer]
    when: "has(args.amount) && args.amount < 0"
    decide: deny
`,
      'yaml',
    ),
  );
  const t = (args: unknown) => evaluatePolicyDocument(p, { tool: 'transfer', args }).kind;
  it('reads numbers and numeric strings, by dotted path', () => {
    expect(t({ amount: 1500 })).toBe('ask');
    expect(t({ amount: '1500.50' })).toBe('ask');
    expect(t({ amount: ' 2e3 ' })).toBe('ask');
    expect(t({ lines: [{ amount: 10 }, { amount: 5000 }] })).toBe('ask');
    expect(t({ amount: 999.99 })).toBe('allow');
    expect(t({ amount: -5 })).toBe('deny');
    // An amount as people write it is a number fact too (facts.ts numericString).
    expect(t({ amount: '1,500' })).toBe('ask');
    // An ambiguous one is not a number fact; and `args.amount < 0` on a string is a CEL type error: fail closed.
    expect(evaluatePolicyDocument(p, { tool: 'transfer', args: { amount: '1,5' } })).toMatchObject({ kind: 'deny', rule: 'tooltrail.policy-error:negative' });
    expect(policyFacts({ a: { b: [1, '2'] }, c: 'x', d: Number.NaN }).numbers).toEqual({ 'a.b.0': 1, 'a.b.1': 2 });
  });
});
