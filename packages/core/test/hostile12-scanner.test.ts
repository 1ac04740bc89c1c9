import { describe, expect, it } from 'vitest';
import { createMaskingEncoder } from '../src/index.js';
import { EncodeReport } from '../src/payload/encode-report.js';
import { fakeRandom } from './fixtures/secrets-corpus.js';

// Issue 12 hostile review: bugs found outside the detector catalog. Each was an `it.fails`
// naming the file and the bug; fixed in issue 12's integration (or decided, where marked).

const enc = createMaskingEncoder({ hashKey: 'hostile12-scanner-hmac-key-0123456789' }, { logger: { warn() {} } });
const out = (v: unknown): string => enc.json(v, { tool: 't', field: 'arguments', report: new EncodeReport() });
const text = (s: string): string => JSON.parse(out(s)) as string;
const PW = `Hq${fakeRandom(10, 93)}-77`;

describe('text-masker.ts render(): regions with `suppresses`', () => {
  // BUG (text-masker.ts, render): `for (const r of all) found = found.filter(...)` runs once per
  // region whose detector declares `suppresses` (every tokens-infra token, the labelled service
  // tokens, connection_string_password), so a string with R such matches costs O(R^2): 100 KB of
  // `;Password=a b` (7,700 connection-string passwords) takes ~2 s, 25 KB ~0.1 s. The patterns
  // themselves take ~2 ms. Expected: linear (collect the suppressing spans once, then filter once).
  it('masks 100 KB holding thousands of suppressing matches in linear time', () => {
    const s = ';Password=a b'.repeat(Math.ceil(100_000 / 13)).slice(0, 100_000);
    // The fastest of five runs, after a warm-up: one run beside busy processes took 533 and
    // 1182 ms (CI shares 2 cores), the fastest of five stays near 50 ms there; the quadratic
    // render takes ~2 s every time, so no run gets under the bound.
    out({ s: s.slice(0, 25_000) });
    let fastest = Infinity;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      out({ s });
      fastest = Math.min(fastest, performance.now() - t);
    }
    expect(fastest).toBeLessThan(400);
  });
});

describe('key-names.ts: metadata words', () => {
  // BUG (key-names.ts, METADATA_AFTER / METADATA_BEFORE): these keys describe a secret and hold
  // none, yet their values are masked (a boolean flag or an ARN becomes [REDACTED:...], and the
  // record loses it). Missing words: after `arn`, `hint`, `attempts`, `retries`, `last_changed`/
  // `changed`, `domain`, `header`, `status`, `photo`, `country`, `state`, `provider`, `manager`,
  // `set`, `exists`, `sent`, `budget`, `bucket`, `last4`; before `has`, `is`, `requires`.
  it('keep flags and descriptions of secrets readable', () => {
    const v = {
      pin_attempts: 3,
      has_password: true,
      is_secret: false,
      password_last_changed: '2025-03-14',
      cookie_domain: '.example.org',
      passport_country: 'DE',
      token_budget: 4000,
    };
    expect(out(v)).toBe(JSON.stringify(v));
    // An ARN's key is metadata (`secret_arn`), but its text holds `secret:db`, which the
    // key=value rule reads as an assignment: over-masked, on purpose (a colon-separated secret
    // in text looks the same).
    expect(out({ secret_arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db' })).toBe(
      JSON.stringify({ secret_arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:[REDACTED:secret]' }),
    );
  });

  // DECIDED (was reported as a bug): a key that is a sentence (a map from prose to counts,
  // a table's header row) is matched word by word like an identifier, so its value is masked.
  // is still matched word by word, so its value is masked. A form label used as a key
  // (`Enter your new password`) holds the secret in its value: telling a label from a sentence
  // would leak it. More masked, never less.
  it('apply key-name rules to a key that is a sentence, as to a form label (over-masking, decided)', () => {
    const v = { 'Passport office opens at 9': 1, 'The pilot pinned the map and spun the pin.': 2, 'Enter your new password': 'hunter2-x' };
    expect(out(v)).toBe(
      JSON.stringify({ 'Passport office opens at 9': '[REDACTED:passport]', 'The pilot pinned the map and spun the pin.': '[REDACTED:pin]', 'Enter your new password': '[REDACTED:password]' }),
    );
  });
});

describe('text-masker.ts runKeyValue: forms the key=value rule does not read', () => {
  // GAP (text-masker.ts runKeyValue / the key=value rule): XML elements and .NET config
  // `<add key="Password" value="..."/>` leak the value; `--password 'x'` (flag, space, value)
  // leaks it too. A catalog detector could take the XML forms, but its kind varies by key: the
  // rule's owner should decide.
  it('masks <password>...</password>, <add key="Password" value="..."/> and --password <value>', () => {
    expect(text(`<password>${PW}</password>`)).not.toContain(PW);
    expect(text(`<add key="DbPassword" value="${PW}"/>`)).not.toContain(PW);
    expect(text(`docker login --password '${PW}' -u ci`)).not.toContain(PW);
  });

  // GAP (text-masker.ts runKeyValue): a bare value stops at the first space, so a YAML or prose
  // password with spaces leaks all but its first word. (`password` cannot join LINE_VALUE_RULES
  // in catalog/key-rules.ts: `password=x user=y` on one line would lose `user=y`.) Perhaps: after
  // `: ` with nothing else key-like on the rest of the line, take the rest of the line.
  it('masks a bare password with spaces in YAML', () => {
    expect(text('password: Hunter Horse 77\nuser: app')).toBe('password: [REDACTED:password]\nuser: app');
  });
});
