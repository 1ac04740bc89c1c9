import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMaskingEncoder } from '../src/index.js';
import { EncodeReport } from '../src/payload/encode-report.js';
import { decodeBase64Text } from '../src/payload/masking/base64-text.js';
import { KeyMatcher } from '../src/payload/masking/key-names.js';
import { BUILTIN_KEY_RULES } from '../src/payload/masking/catalog/key-rules.js';
import { isInvisible, mayNeedNormalising, normalisedViews, normaliseKey, normaliseText } from '../src/payload/masking/normalise.js';
import { formOf } from './masking-forms.js';

const KEY = 'normalise-test-hmac-key-0123456789';
const hex = (value: string) => createHmac('sha256', KEY).update(value).digest('hex').slice(0, 12);
const encoder = createMaskingEncoder({ hashKey: KEY }, { logger: { warn() {} } });
const EMAIL = 'dana.whitfield@example.org';
const CARD = '4111 1111 1111 1111';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const fw = (s: string) => formOf('fullwidth', s);

function mask(text: string): { out: string; report: EncodeReport } {
  const report = new EncodeReport();
  const json = encoder.json({ v: text }, { tool: 't', field: 'arguments', report });
  return { out: (JSON.parse(json) as { v: string }).v, report };
}
const masked = (text: string) => mask(text).out;

describe('percent-decoding', () => {
  it('masks the whole encoded sequence, the plain text around it kept as written', () => {
    expect(masked('to=dana.whitfield%40example.org&y=%41%42')).toBe(`to=[email:${hex(EMAIL)}]&y=%41%42`);
    expect(masked('q=4111%201111%201111%201111 ok')).toBe('q=****1111 ok');
    expect(masked(formOf('url_all', `mail ${EMAIL}`))).toBe(`%6D%61%69%6C%20[email:${hex(EMAIL)}]`);
  });

  it('decodes multi-byte UTF-8: encoded full-width digits and encoded zero-width characters', () => {
    expect(masked(encodeURIComponent(fw(CARD)))).toBe('****1111');
    // The view reads `password=hunter2-horse`: whichever password detector names it, the value goes.
    expect(masked('pass%E2%80%8Bword=hunter2-horse')).toMatch(/^pass%E2%80%8Bword=\[REDACTED:[a-z_]*password\]$/);
    expect(masked('pass%77ord=hunter2-horse')).toMatch(/^pass%77ord=\[REDACTED:[a-z_]*password\]$/);
  });

  it('leaves invalid and cut sequences as written, decoding what is valid around them', () => {
    for (const s of ['%E2%82 broken', '%ZZ%4', '100% sure', '%', '%%41', '%ED%A0%80 surrogate', '%C0%AF overlong', '%F5%80%80%80']) {
      expect(masked(s)).toBe(s);
      expect(normaliseText(s)).not.toMatch(/\uFFFD/);
    }
    expect(normaliseText('%E2%82%41')).toBe('%E2%82A');
    expect(masked(`%FF ${encodeURIComponent(EMAIL)} %FE`)).toBe(`%FF [email:${hex(EMAIL)}] %FE`);
    // `+` is no space here: it is a phone's country code and a base64 character.
    expect(normaliseText('a+b%20c')).toBe('a+b c');
  });
});

describe('NFKC folding and invisible characters', () => {
  it('full-width digits reach the number detectors; the token is that of the plain value', () => {
    expect(masked(fw(CARD))).toBe('****1111');
    expect(masked(`card ${fw(CARD)} end`)).toBe('card ****1111 end');
    expect(masked(fw('536-22-1234'))).toBe(masked('536-22-1234'));
    expect(masked(fw(EMAIL))).toBe(`[email:${hex(EMAIL)}]`);
    expect(masked(`ＩＢＡＮ ${fw('GB82WEST12345698765432')}`)).toBe(`ＩＢＡＮ ${masked('GB82WEST12345698765432')}`);
  });

  it('ignores zero-width, bidi, soft hyphen and Mongolian vowel separators inside a value', () => {
    const split = [...EMAIL].join('\u200B');
    expect(masked(split)).toBe(`[email:${hex(EMAIL)}]`);
    expect(masked(`x ${[...CARD].join('\u00AD')} y`)).toBe('x ****1111 y');
    expect(masked(`x ${formOf('zerowidth', '536-22-1234')} y`)).toBe(`x ${masked('536-22-1234')} y`);
    // Non-breaking and ideographic spaces fold to spaces: a card written with them is a card.
    expect(masked('4111\u00A01111\u00A01111\u00A01111')).toBe('****1111');
  });

  it('knows every Default_Ignorable_Code_Point as invisible, and nothing else', () => {
    const di = /^\p{Default_Ignorable_Code_Point}$/u;
    const wrong: number[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      if (isInvisible(cp) !== di.test(String.fromCodePoint(cp))) wrong.push(cp);
    }
    expect(wrong.map((c) => c.toString(16))).toEqual([]);
  });
});

describe('base64 and base64url text', () => {
  it('masks the whole run when its decoded text holds a secret', () => {
    expect(masked(`x ${b64(`contact ${EMAIL} please`)} y`)).toBe(`x [email:${hex(EMAIL)}] y`);
    expect(masked(`https://x.example/share/${Buffer.from(EMAIL).toString('base64url')}`)).toBe(`https://x.example/share/[email:${hex(EMAIL)}]`);
    expect(masked(b64('536-22-1234'))).toBe(masked('536-22-1234'));
    expect(masked(b64(b64(`mail ${EMAIL}`)))).toMatch(/^\[email:/);
    expect(masked(`data=${b64(`password=hunter2-horse`)}`)).toBe('data=[REDACTED:password]');
  });

  it('keeps what a detector needs encoded: a JWT, Basic credentials', () => {
    const auth = `Basic ${b64('aladdin:open-sesame-42')}`;
    expect(masked(auth)).toBe('Basic [REDACTED:basic_auth]');
    expect(masked(encodeURIComponent(auth))).toBe('Basic%20[REDACTED:basic_auth]');
  });

  it('leaves binary, hashes, ids and text without a secret as written', () => {
    const binary = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 73 + 11) & 0xff)).toString('base64');
    for (const s of [
      binary,
      b64('just an ordinary sentence, nothing to hide'),
      '9fceb02d0ae598e95dc970b74767f19372d61af8',
      '123e4567-e89b-12d3-a456-426614174000',
      'application/octet-stream',
      'customerAccountIdentifier',
    ]) {
      expect(masked(s)).toBe(s);
    }
    expect(decodeBase64Text(binary)).toBeUndefined();
    expect(decodeBase64Text(b64('héllo wörld, ça va'))).toBe('héllo wörld, ça va');
    expect(decodeBase64Text(b64('bell\u0007 inside'))).toBeUndefined();
    expect(decodeBase64Text('QUJD+-_/QUJD')).toBeUndefined(); // mixed alphabets
  });
});

describe('offsets', () => {
  it('map every view character back to its source, through both passes', () => {
    const s = `a%41 ${b64(`x ${EMAIL}`)} ｚ\u200Bq`;
    const views = normalisedViews(s) as NonNullable<ReturnType<typeof normalisedViews>>;
    expect(views).toHaveLength(2);
    const last = views[1]!;
    const at = last.text.indexOf(EMAIL);
    const [start, end] = last.toSource(at, at + EMAIL.length);
    expect(s.slice(start, end)).toBe(b64(`x ${EMAIL}`));
    expect(s.slice(...last.toSource(1, 2))).toBe('%41');
    const z = last.text.indexOf('z');
    expect(s.slice(...last.toSource(z, z + 2))).toBe('ｚ\u200Bq');
  });

  it('mask mixed encoded and plain secrets in one string, each where it is', () => {
    const s = `one ${EMAIL}, two ${encodeURIComponent(EMAIL)}, three ${fw(EMAIL)}, four ${b64(EMAIL)}.`;
    const t = `[email:${hex(EMAIL)}]`;
    const { out, report } = mask(s);
    expect(out).toBe(`one ${t}, two ${t}, three ${t}, four ${t}.`);
    expect(report.masked).toBe(4);
  });
});

describe('ordinary text and cost', () => {
  it('records ordinary non-ASCII text unchanged: accents, CJK, emoji, RTL, Indic', () => {
    for (const s of [
      'Café crème, naïve façade, Ærøskøbing, Straße, 129,90 €',
      '東京都千代田区、２０２５年３月１５日（土）：会議は１０時から。',
      '👩‍👩‍👧‍👦 family, 🇩🇪 flag, ❤️ heart, 🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland',
      'مرحبا‏ بالعالم — שלום עולם',
      'क्‍ष हिन्दी, 한국어 텍스트, Ελληνικά, русский текст',
      'file%20name.pdf and 50%25 off, https://example.org/search?q=caf%C3%A9',
      'lone \uD800 and \uDFFF surrogates stay',
    ]) {
      expect(masked(s)).toBe(s);
    }
  });

  it('sends ASCII prose without %XX or a long base64 run down the old path', () => {
    expect(mayNeedNormalising('We refunded EUR 129.90 on 2026-11-21; ticket T-1042, order #48213.')).toBe(false);
    expect(mayNeedNormalising('café')).toBe(true);
    expect(mayNeedNormalising('a%41')).toBe(true);
    expect(mayNeedNormalising(`x ${b64(EMAIL)}`)).toBe(true);
    expect(normalisedViews('ascii text with a customerAccountIdentifier')).toBeUndefined();
  });

  it('finishes on 1 MB strings of every kind', () => {
    const mb = 1 << 20;
    const inside = (filler: string, secret: string) => `${filler.repeat(Math.ceil(mb / 2 / filler.length))} ${secret} ${filler.repeat(Math.ceil(mb / 2 / filler.length))}`;
    const cases: [string, string][] = [
      [inside('ordinary words and numbers 12 34 ', EMAIL), EMAIL],
      [inside('ｆｕｌｌ　ｗｉｄｔｈ ', fw(EMAIL)), fw(EMAIL)],
      [inside('%41%42%43 ', encodeURIComponent(EMAIL)), encodeURIComponent(EMAIL)],
      [inside('東京\u200B', EMAIL), EMAIL],
      [b64(inside('text inside base64 ', EMAIL)), EMAIL],
      ['QUFB'.repeat(mb / 4), 'none'],
      ['%'.repeat(mb), 'none'],
      ['\u200B'.repeat(mb), 'none'],
    ];
    for (const [s, secret] of cases) {
      const out = encoder.text(s, { tool: 't', field: 'error' });
      if (secret !== 'none') expect(out.includes(secret)).toBe(false);
    }
  });

  it('answers repeated short strings from the memo, replaying what they counted', () => {
    const s = fw('536-22-1234');
    const a = mask(s);
    const b = mask(s);
    expect(b.out).toBe(a.out);
    expect(b.report.masked).toBe(1);
    expect(b.report.kinds).toEqual(['ssn']);
  });
});

describe('key names', () => {
  const keys = new KeyMatcher(BUILTIN_KEY_RULES);
  it('are normalised before word splitting', () => {
    for (const k of ['pass\u200Bword', 'ｐａｓｓｗｏｒｄ', 'pass%77ord', 'ｐａｓｓ－ｗｏｒｄ'.replace('－', ''), 'pass\u00ADword', '\uFEFFpassword']) expect(keys.match(k), k).toBe('password');
    expect(keys.match('ａｐｉＫｅｙ')).toBe('api_key');
    // Folded, a name splits as its ASCII spelling does: `ｐａｓｓＷｏｒｄ` is `passWord`, two words.
    expect(keys.match('ｐａｓｓＷｏｒｄ')).toBe(keys.match('passWord'));
    expect(keys.match('max_ｔｏｋｅｎｓ')).toBeUndefined();
    expect(normaliseKey('plain_key')).toBe('plain_key');
  });

  it('mask their values in objects and in key=value text', () => {
    const json = encoder.json({ 'pass\u200Bword': 'v1-secret', ｐａｓｓｗｏｒｄ: 'v2-secret', 'pass%77ord': 'v3-secret' }, { tool: 't', field: 'arguments', report: new EncodeReport() });
    expect(json).not.toMatch(/v\d-secret/);
    expect(masked('ｐａｓｓｗｏｒｄ＝hunter2-horse')).not.toContain('hunter2');
  });
});
