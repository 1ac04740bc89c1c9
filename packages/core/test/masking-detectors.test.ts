import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AuditConfigError, createMaskingEncoder, type EncodeReport, type MaskingOptions } from '../src/index.js';
import { EncodeReport as Report } from '../src/payload/encode-report.js';
import { BUILTIN_DETECTORS } from '../src/payload/masking/catalog/builtin.js';
import { BY_KEY, DETECTED } from './fixtures/secrets-corpus.js';
import { filled } from './masking-forms.js';

const KEY = 'detector-test-hmac-key-0123456789';
const hex = (value: string, key = KEY) => createHmac('sha256', key).update(value).digest('hex').slice(0, 12);

function encoder(options: MaskingOptions = {}) {
  return createMaskingEncoder({ hashKey: KEY, ...options }, { logger: { warn() {} } });
}

function mask(value: unknown, options: MaskingOptions = {}): { json: string; report: EncodeReport } {
  const report = new Report();
  const json = encoder(options).json(value, { tool: 't', field: 'arguments', report });
  return { json, report };
}

describe('value detectors', () => {
  it('catch every corpus value alone, in prose and in parentheses, each as one masked value of its kind', () => {
    for (const p of DETECTED) {
      const v = filled(p);
      for (const text of [v, `Please use ${v} for this, thanks.`, `(${v})`]) {
        const { json, report } = mask({ note: text });
        for (const needle of p.needles ?? [p.value]) expect(json, `${p.kind} in ${JSON.stringify(text)}`).not.toContain(needle);
        expect(report.kinds, text).toEqual([p.kind]);
        expect(report.masked, text).toBe(1);
      }
    }
  });

  it('document every built-in detector in docs/masking.md, each with one catalog row', () => {
    const doc = readFileSync(new URL('../../../docs/masking.md', import.meta.url), 'utf8');
    const rows = BUILTIN_DETECTORS.map((d) => d.id).filter((id) => doc.split(`\n| \`${id}\` |`).length !== 2);
    expect(rows).toEqual([]);
  });

  it('cover every built-in detector with the corpus', () => {
    const covered = new Set(DETECTED.map((p) => p.kind));
    expect(BUILTIN_DETECTORS.map((d) => d.id).filter((id) => !covered.has(id))).toEqual([]);
  });

  it('write the exact token of each strategy', () => {
    const text = 'mail dana.whitfield@example.org, card 4111 1111 1111 1111, key ghp_' + 'x'.repeat(36);
    expect(JSON.parse(mask(text).json)).toBe(
      `mail [email:${hex('dana.whitfield@example.org')}], card ****1111, key [REDACTED:github_token]`,
    );
    const redacted = mask(text, { strategies: { email: 'redact', card: 'hash', github_token: 'partial' } }).json;
    expect(JSON.parse(redacted)).toBe(`mail [REDACTED:email], card [card:${hex('4111111111111111')}], key ****${'x'.repeat(4)}`);
    expect(JSON.parse(mask('dana.whitfield@example.org', { strategies: { email: 'partial' } }).json)).toBe('****@example.org');
  });

  it('hash a canonical form, so the same value written differently correlates', () => {
    const a = JSON.parse(mask('Dana.Whitfield@Example.org').json);
    const b = JSON.parse(mask('dana.whitfield@example.org').json);
    expect(a).toBe(b);
    expect(JSON.parse(mask('+44 20 7946 0958').json)).toBe(JSON.parse(mask('+44-20-7946-0958').json));
  });

  it('give equal tokens for equal values under one key and different tokens under another', () => {
    const one = encoder();
    const other = createMaskingEncoder({ hashKey: 'another-hmac-key-abcdefghijklmnop' }, { logger: { warn() {} } });
    const ctx = { tool: 't', field: 'arguments' } as const;
    const v = { to: 'dana.whitfield@example.org', ip: '203.0.113.42' };
    expect(one.json(v, ctx)).toBe(one.json(structuredClone(v), ctx));
    expect(one.json(v, ctx)).toBe(`{"to":"[email:${hex(v.to)}]","ip":"[ipv4:${hex(v.ip)}]"}`);
    const second = other.json(v, ctx);
    expect(second).not.toBe(one.json(v, ctx));
    expect(second).toBe(`{"to":"[email:${hex(v.to, 'another-hmac-key-abcdefghijklmnop')}]","ip":"[ipv4:${hex(v.ip, 'another-hmac-key-abcdefghijklmnop')}]"}`);
    expect(one.json({ to: 'carol@example.org' }, ctx)).not.toBe(one.json({ to: 'dana.whitfield@example.org' }, ctx));
  });

  it('mask the userinfo of a URL, the token after Bearer and the value of key=value text, keeping the rest', () => {
    const out = (s: string) => JSON.parse(mask(s).json) as string;
    expect(out('fetch https://bot:hunter2pass@ci.example.org/job/7 failed')).toBe('fetch https://[REDACTED:url_credentials]@ci.example.org/job/7 failed');
    expect(out('smtp://dana@example.org:p@ss w0rd@mail.example.org')).not.toContain('p@ss');
    expect(out('smtp://dana@example.org:p@ssw0rd@mail.example.org:25')).toBe('smtp://[REDACTED:url_credentials]@mail.example.org:25');
    expect(out('Authorization: Bearer abc123.def456-ghi')).toBe('Authorization: [REDACTED:authorization]');
    expect(out('header Bearer abc123.def456-ghi sent')).toBe('header Bearer [REDACTED:bearer] sent');
    expect(out('DSN host=db password=hunter2;user=app')).toBe('DSN host=db password=[REDACTED:password];user=app');
    expect(out('retry with {"api_key": "plain-words-here", "max_tokens": 5}')).toBe(
      'retry with {"api_key": "[REDACTED:api_key]", "max_tokens": 5}',
    );
    expect(out('callback=https://x.example/cb?access_token=zzz111&state=ok')).toBe(
      'callback=https://x.example/cb?access_token=[REDACTED:access_token]&state=ok',
    );
  });

  it('mask a card number cut short by what follows it, and card numbers held as numbers', () => {
    expect(JSON.parse(mask('card 4111 1111 1111 1111 12 exp').json)).toBe('card ****1111 12 exp');
    expect(mask({ n: 4111111111111111 }).json).toBe('{"n":"****1111"}');
    expect(mask({ n: 4111111111111112 }).json).toBe('{"n":4111111111111112}');
  });

  it('run custom detectors (pattern with validator, capture group, or a find function) and switch detectors off', () => {
    const employee = { id: 'employee_id', pattern: /\bEMP-(\d{6})\b/, validate: (m: string) => m !== '000000' };
    const names = { id: 'person', find: (t: string) => [...t.matchAll(/Dana Whitfield/g)].map((m) => ({ start: m.index, end: m.index + m[0].length })) };
    const { json, report } = mask('EMP-123456 and EMP-000000 reported by Dana Whitfield to dana@example.org', {
      detectors: [employee, names],
      disable: ['email'],
    });
    expect(JSON.parse(json)).toBe('EMP-[REDACTED:employee_id] and EMP-000000 reported by [REDACTED:person] to dana@example.org');
    expect(report.kinds).toEqual(['employee_id', 'person']);
  });

  it('reject unknown detector ids, clashing custom ids, short keys and unknown options', () => {
    expect(() => encoder({ disable: ['phones'] })).toThrow(AuditConfigError);
    expect(() => encoder({ detectors: [{ id: 'email', pattern: /x/ }] })).toThrow(/built-in detector id/);
    expect(() => encoder({ detectors: [{ id: 'x', pattern: /x/, find: () => [] }] })).toThrow(/exactly one of pattern and find/);
    expect(() => createMaskingEncoder({ hashKey: 'short' })).toThrow(/at least 16 bytes/);
    expect(() => encoder({ maxPayloadBytes: 10 })).toThrow(/at least 256/);
    expect(() => encoder({ strategies: { email: 'encrypt' as never } })).toThrow(AuditConfigError);
    expect(() => encoder({ keyz: [] } as never)).toThrow(AuditConfigError);
  });
});

describe('key names', () => {
  it('mask values under secret key names at any depth, case- and separator-insensitively', () => {
    let deep: Record<string, unknown> = Object.fromEntries(BY_KEY.map((k) => [k.key, k.value]));
    for (let i = 0; i < 10; i++) deep = { level: i, inner: deep, list: [deep] };
    const { json, report } = mask(deep);
    for (const k of BY_KEY) expect(json).not.toContain(k.value);
    expect(report.masked).toBe(BY_KEY.length * 2 ** 10);
    expect(report.kinds.sort()).toEqual([...new Set(BY_KEY.map((k) => k.kind))].sort());
    const first = mask(Object.fromEntries(BY_KEY.map((k) => [k.key, k.value]))).json;
    expect(JSON.parse(first)).toEqual(Object.fromEntries(BY_KEY.map((k) => [k.key, `[REDACTED:${k.kind}]`])));
  });

  it('leave keys that describe a secret without holding it, and keep null, booleans and empty strings', () => {
    const value = {
      max_tokens: 512,
      token_count: 17,
      maxTokens: 9,
      token_type: 'Bearer',
      tokenizer: 'cl100k',
      secret_name: 'prod/db',
      password_policy: 'min 12 chars',
      private_key_id: 'k-1',
      password: null,
      token: false,
      secret: '',
      keyboard: 'dvorak',
      monkey: 'banana',
    };
    const { json, report } = mask(value);
    expect(JSON.parse(json)).toEqual(value);
    expect(report.masked).toBe(0);
  });

  it('mask whole structured values under a secret key, and apply extra and allowed keys', () => {
    expect(mask({ credentials: { user: 'bob', pass: 'x' }, cvv: 737 }).json).toBe('{"credentials":"[REDACTED:credentials]","cvv":"[REDACTED:cvv]"}');
    expect(mask({ recipientName: 'Dana Whitfield', token: 't' }, { keys: ['recipient_name'], allowKeys: ['token'] }).json).toBe(
      '{"recipientName":"[REDACTED:recipient_name]","token":"t"}',
    );
    expect(mask({ recipient_name: 'Dana' }, { keys: ['recipientName'], strategies: { recipient_name: 'hash' } }).json).toBe(
      `{"recipient_name":"[recipient_name:${hex('Dana')}]"}`,
    );
  });

  it('mask values detected in property names, keeping both when two names mask alike', () => {
    expect(mask({ 'dana@example.org': 1, 'carol@example.org': 2 }).json).toBe(`{"[email:${hex('dana@example.org')}]":1,"[email:${hex('carol@example.org')}]":2}`);
    const { json, report } = mask({ 'dana@example.org': 1, 'carol@example.org': 2 }, { strategies: { email: 'redact' } });
    expect(json).toBe('{"[REDACTED:email]":1,"[REDACTED:email] #2":2}');
    expect(report.masked).toBe(2);
  });
});

describe('false positives stay bounded', () => {
  const ordinary = {
    max_tokens: 4096,
    token_count: 1234,
    request_id: '123e4567-e89b-12d3-a456-426614174000',
    uuids: ['f47ac10b-58cc-4372-a567-0e02b2c3d479', '00000000-0000-0000-0000-000000000000'],
    commit: '9fceb02d0ae598e95dc970b74767f19372d61af8',
    short_sha: '9fceb02',
    created: '2026-11-21T12:30:45.123Z',
    dates: ['2026-11-21', '21.11.2026', '11/21/2026', '2026-11-21 12:30'],
    order_numbers: ['4111111111111112', '1234567812345678', 'ORD-2026-000123', 'INV-48213'],
    amounts: ['EUR 1,299.90', '$ 12,345.67', '129.90'],
    version: 'v2.14.3',
    semver_range: '^1.2.3',
    time: '12:30:45',
    port: 'localhost:8080',
    path: '/var/lib/app/data.json',
    url: 'https://docs.example.org/guide/getting-started?tab=2#install',
    npm_scope: '@tooltrail/core',
    prose:
      'Hello Dana, we processed the refund of EUR 129.90 for order 48213 on 2026-11-21. The amount appears within 5-7 business days. ' +
      'Basic information about the bearer instrument is in section 4.2; the sk-learn-model-training pipeline was retrained.',
    markdown: '## Summary\n\n- item one: done\n- item two: pending (see ticket T-1001)\n',
    counts: { total: 15, retries: 2, ratio: 0.25, big: 123456789 },
  };

  it('records ids, hashes, dates, Luhn-failing order numbers and ordinary prose unchanged', () => {
    const { json, report } = mask(ordinary);
    expect(json).toBe(JSON.stringify(ordinary));
    expect(report.masked).toBe(0);
    expect(report.kinds).toEqual([]);
  });
});
