import { describe, expect, it } from 'vitest';
import { createMaskingEncoder } from '../src/index.js';
import { EncodeReport } from '../src/payload/encode-report.js';
import { DETECTED, fakeRandom } from './fixtures/secrets-corpus.js';
import { filled } from './masking-forms.js';

// Issue 12 hostile review: secrets that leaked and ordinary text that was mangled, each fixed
// in the detector catalog (catalog/builtin.ts, tokens-*.ts, checks.ts, personal.ts, key-rules.ts).

const enc = createMaskingEncoder({ hashKey: 'hostile12-catalog-hmac-key-0123456789' }, { logger: { warn() {} } });
const out = (v: unknown): string => enc.json(v, { tool: 't', field: 'arguments', report: new EncodeReport() });
const text = (s: string): string => JSON.parse(out(s)) as string;
const PW = `Hq${fakeRandom(10, 91)}-77`;

/** The first corpus value of a detector, in its context. */
function corpus(kind: string): string {
  const p = DETECTED.find((q) => q.kind === kind);
  if (p === undefined) throw new Error(`no corpus entry for ${kind}`);
  return filled(p);
}

describe('the key=value rule', () => {
  it('masks CLI flags: --password=..., --api-key=..., -token=...', () => {
    expect(text(`mysql --password=${PW} -u root`)).toBe('mysql --password=[REDACTED:password] -u root');
    expect(text(`cli --api-key=${PW}`)).toBe('cli --api-key=[REDACTED:api_key]');
    expect(text(`cli -token=${PW} -v`)).toBe('cli -token=[REDACTED:token] -v');
    // A dash after a word is still part of a longer key: x-token_count is metadata.
    expect(text('x-token_count=5')).toBe('x-token_count=5');
  });

  it('masks bracketed form fields: user[password]=... (a logged form body)', () => {
    expect(text(`user[email]=a&user[password]=${PW}&commit=Sign+in`)).not.toContain(PW);
    expect(text(`user[password]=${PW}`)).toBe('user[password]=[REDACTED:password]');
  });

  it('masks JSON logged inside JSON (quotes escaped twice) without leaving the value', () => {
    const twice = JSON.stringify(JSON.stringify({ password: PW })).slice(1, -1);
    const line = `log msg="${twice}" level=info`;
    expect(text(line)).not.toContain(PW);
    expect(text(`api_key=\\\\\\"${PW}\\\\\\"`)).toBe('api_key=\\\\\\"[REDACTED:api_key]\\\\\\"');
  });

  it('takes => and := as the assignment, and the whole value after them', () => {
    expect(text(`{ password => "${PW}" }`)).toBe('{ password => "[REDACTED:password]" }');
    expect(text(`password := "${PW}"`)).toBe('password := "[REDACTED:password]"');
    // The changed pattern stays linear: 100 KB of near-misses of each new form return.
    const rep = (u: string) => u.repeat(Math.ceil(100_000 / u.length)).slice(0, 100_000);
    for (const u of ['--a', '--password', 'a[a]', 'a[password]', 'a=>', 'a:=', 'a==', '\\\\\\"k', 'password\\\\\\"', '2001:db8::1: ', 'pat.', '1//0', '/glsa_', '9:12345678:AA']) {
      expect(typeof out({ s: rep(u) })).toBe('string');
    }
  });

  it('leaves comparisons in code alone: token == null, token === undefined', () => {
    for (const s of ['if (token == null) return', 'token === undefined', 'while (password == "") retry()']) expect(text(s)).toBe(s);
  });

  it('masks multi-word values of rules whose values are words (seed phrases, passphrases, answers)', () => {
    const words = 'abandon ability able about above absent absorb abstract absurd abuse access accident';
    expect(text(`seed_phrase: ${words}`)).toBe('seed_phrase: [REDACTED:seed_phrase]');
    expect(text('passphrase: correct horse battery staple\nnext line')).toBe('passphrase: [REDACTED:passphrase]\nnext line');
    expect(text('security_answer: my first dog rex')).not.toContain('dog rex');
  });
});

describe('key-name rules a demanding user expects', () => {
  it('mask jwt, mnemonic, auth_key, subscription keys and cc_number', () => {
    for (const key of ['jwt', 'mnemonic', 'authKey', 'Ocp-Apim-Subscription-Key', 'subscription_key', 'cc_number']) {
      expect(out({ [key]: 'plain-value-42' }), key).not.toContain('plain-value-42');
    }
  });
});

describe('token boundaries', () => {
  it('atlassian token right after = (a query value, an env assignment)', () => {
    const v = corpus('atlassian_api_token');
    expect(text(`ATLASSIAN=${v}`)).toBe('ATLASSIAN=[REDACTED:atlassian_api_token]');
    expect(text(`https://x.example.org/a?x=1&q=${v}&y=2`)).toBe('https://x.example.org/a?x=1&q=[REDACTED:atlassian_api_token]&y=2');
  });

  it('harness token at the end of a sentence', () => {
    expect(text(`The key is ${corpus('harness_token')}.`)).toBe('The key is [REDACTED:harness_token].');
  });

  it('telegram bot token after a colon', () => {
    const v = corpus('telegram_bot_token');
    expect(text(`telegram:${v}`)).toBe('telegram:[REDACTED:telegram_bot_token]');
  });

  it('tokens in a URL path: sentry user token, grafana service account token, google refresh token', () => {
    for (const kind of ['sentry_token', 'grafana_token', 'google_oauth_refresh_token']) {
      for (const p of DETECTED.filter((q) => q.kind === kind && !q.value.startsWith('sntrys_') && !q.value.startsWith('glc_') && !q.value.startsWith('eyJ'))) {
        expect(text(`https://x.example.org/a/${filled(p)}/b`), kind).toBe(`https://x.example.org/a/[REDACTED:${kind}]/b`);
      }
    }
  });
});

describe('ipv6', () => {
  it('masks an address followed by ": " (an error name before its message, a log prefix)', () => {
    expect(text('connect 2001:db8:85a3::8a2e:370:7334: refused')).toMatch(/^connect \[ipv6:[0-9a-f]{12}\]: refused$/);
    expect(text('E 2001:db8::1: x')).toMatch(/^E \[ipv6:[0-9a-f]{12}\]: x$/);
    expect(text('at 10:30:45: done')).toBe('at 10:30:45: done');
  });
});
