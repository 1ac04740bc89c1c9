import { describe, expect, it } from 'vitest';
import { createMaskingEncoder } from '../src/index.js';
import { EncodeReport } from '../src/payload/encode-report.js';
import { GOV_ID_DETECTORS } from '../src/payload/masking/catalog/gov-ids.js';
import { DETECTED, type Planted } from './fixtures/secrets-corpus.js';
import { PERSONAL_BY_KEY, PERSONAL_DETECTED } from './fixtures/secrets-corpus-personal.js';

const options = { hashKey: 'personal-test-hmac-key-0123456789' };
const encoder = createMaskingEncoder(options, { logger: { warn() {} } });
/** For the hostile inputs: large enough that nothing is cut, so the output can be compared whole. */
const roomy = createMaskingEncoder({ ...options, maxPayloadBytes: 1 << 20 }, { logger: { warn() {} } });

function mask(value: unknown, enc = encoder): { json: string; report: EncodeReport } {
  const report = new EncodeReport();
  const json = enc.json(value, { tool: 't', field: 'arguments', report });
  return { json, report };
}

/** The value in the text it must sit in to be detected (its label), or alone. */
const planted = (p: Planted): string => (p.context === undefined ? p.value : p.context.replace('{}', p.value));

/**
 * Masks `value` and asserts nothing of the planted value is left and it was masked once, under
 * its id. `alsoKeyRule`: a label used as a property name (`NHS number: …`) is also a key-name
 * rule, which masks the property's value as well.
 */
function expectMasked(value: unknown, p: Planted, where: string, alsoKeyRule = false): void {
  const { json, report } = mask(value);
  for (const needle of p.needles ?? [p.value]) expect(json, `${p.kind} ${where}`).not.toContain(needle);
  if (alsoKeyRule) {
    expect(report.kinds, `${p.kind} ${where}`).toContain(p.kind);
    return;
  }
  expect(report.kinds, `${p.kind} ${where}`).toEqual([p.kind]);
  expect(report.masked, `${p.kind} ${where}`).toBe(1);
}

/** Masks `value` and asserts it is recorded exactly as plain JSON would record it. */
function expectKept(value: unknown, what = JSON.stringify(value)): void {
  const { json, report } = mask(value);
  expect(json, what).toBe(JSON.stringify(value));
  expect(report.kinds, what).toEqual([]);
}

describe('government ids and personal values', () => {
  it('mask every corpus value alone, in prose, as an object key and inside JSON, under its own id', () => {
    for (const p of PERSONAL_DETECTED) {
      const text = planted(p);
      expectMasked({ note: text }, p, 'alone');
      expectMasked({ note: `Please check ${text} before Friday, thanks.` }, p, 'in prose');
      expectMasked({ note: `(${text})` }, p, 'in parentheses');
      expectMasked({ [text]: 1 }, p, 'as a key', p.context !== undefined);
      expectMasked({ raw: JSON.stringify({ customer: { ref: text } }) }, p, 'in JSON held in a string');
      expectMasked([[{ deep: [text] }]], p, 'at depth');
    }
  });

  it('cover every gov-id detector with a corpus entry', () => {
    const covered = new Set(PERSONAL_DETECTED.map((p) => p.kind));
    expect(GOV_ID_DETECTORS.map((d) => d.id).filter((id) => !covered.has(id))).toEqual([]);
  });

  it('keep an ITIN outside the IRS group ranges, and SSNs stay SSNs', () => {
    for (const v of ['912-93-4417', '912-49-4417', '912-66-4417', '912-89-4417', '912-78-441', '912784417', '912-78 4417']) expectKept({ v });
    expect(mask({ v: '536-22-1234' }).report.kinds).toEqual(['ssn']);
  });

  it('keep NHS-shaped numbers with a wrong check digit, an unissued range or no label', () => {
    for (const v of ['482 739 1603', '482 739 1601', '582 739 1602', '182 739 1602', '6291837404', 'order 6291837404', 'NHS number: 6291837405']) {
      expectKept({ v });
    }
  });

  it('keep NI-number shapes with prefixes HMRC never allocates or a wrong suffix', () => {
    for (const v of ['QQ123456C', 'GB481236C', 'NK481236C', 'TN481236A', 'ZZ481236B', 'DA481236A', 'AO481236B', 'PW481236E', 'PW48123C', 'XPW481236C', 'PW481236CA', 'pw481236c']) {
      expectKept({ v });
    }
  });

  it('mask the spaced NI-number form, alone and in prose', () => {
    const p: Planted = { kind: 'uk_national_insurance_number', value: 'PW 48 12 36 C' };
    expectMasked({ v: p.value }, p, 'alone');
    expectMasked({ note: `NI number ${p.value} on file` }, p, 'in prose');
  });

  it('take a passport number only after a passport label, and only in a passport shape', () => {
    for (const v of [
      '533380006',
      'Bring your passport and a printed boarding pass.',
      'Your passport number is required to book.',
      'PASSPORT CONTROL 2',
      'Passport No. EXPIRED',
      'passport 2026',
      'Passport photos must be 35x45 mm.',
      'passport number: ABCDEFGH1',
      'Passport No. 5333800061',
    ]) {
      expectKept({ v });
    }
    const { json } = mask({ note: 'Passport No. 533380006, issued 2019.' });
    expect(JSON.parse(json).note).toMatch(/^Passport No\. \[passport_number:[0-9a-f]{12}\], issued 2019\.$/);
  });

  it('keep VAT-shaped values with a wrong check digit, an unknown prefix or in lower case', () => {
    // The Dutch suffix (`B01`) and the Swedish `01` are not checked: those two are flipped by hand.
    const byHand = ['NL817364925B01', 'SE556381927501'];
    const flipped = PERSONAL_DETECTED.filter((p) => p.kind === 'eu_vat_number' && !/^(NL|SE)/.test(p.value)).map((p) => {
      const last = p.value.slice(-1);
      const swap = /\d/.test(last) ? String((Number(last) + 1) % 10) : last === 'A' ? 'B' : 'A';
      return p.value.slice(0, -1) + swap;
    });
    for (const v of [...flipped, ...byHand, 'XX273918461', 'US273918461', 'de273918461', 'DE27391846', 'DE2739184610', 'CODE273918461', 'ES739182641']) expectKept({ v });
  });

  it('leave the references the old phone pattern took for numbers', () => {
    for (const v of ['INV-0042-2025-03', 'Ticket 0123-4567-89', 'LOT 04.2025.118', 'ref 0123-45-6789', 'Order 0815-4711-0042', '123-456-7890', '415-123-4567', '(911) 555-0187', '0042 2025 0318']) {
      expectKept({ v });
      expectKept({ [`see ${v} again`]: v });
    }
  });

  it('still catch every phone number of the whole corpus, and national layouts', () => {
    const phones = DETECTED.filter((p) => p.kind === 'phone');
    expect(phones.length).toBeGreaterThanOrEqual(7);
    for (const p of phones) expectMasked({ note: `call ${p.value} today` }, p, 'in prose');
    for (const v of ['020 7946 0018', '0161 496 0000', '01632 960 123', '089 1234 5678', '02 9876 5432', '0412 345 678', '02 123 45 67', '044 668 18 00', '090-1234-5678']) {
      expectMasked({ note: `Tel. ${v}` }, { kind: 'phone', value: v }, 'national');
    }
  });

  it('mask values under the new key-name rules, and leave words that only contain them', () => {
    for (const k of PERSONAL_BY_KEY) expect(mask({ [k.key]: k.value }).json).toBe(JSON.stringify({ [k.key]: `[REDACTED:${k.kind}]` }));
    expectKept({ pinned: true, spin: 'left', pin_count: 4, spinner: 'dots', pinyin: 'ni hao', passport_expiry: '2031-04-30', nhs_number_format: '3-3-4', tax_id_type: 'EIN' });
  });

  it('leave pin_code_length visible: a shorter rule inside a longer one a metadata word disqualified does not count', () => {
    expectKept({ pin_code_length: 6, pinCodeMaxLength: 8 });
    expect(mask({ pin_code: '4711' }).json).toBe(JSON.stringify({ pin_code: '[REDACTED:pin_code]' }));
    expect(mask({ user_pin: '4711' }).json).toBe(JSON.stringify({ user_pin: '[REDACTED:pin]' }));
  });

  it('finish on 100 KB of near-misses without masking any of them', () => {
    const hostile = [
      'passport '.repeat(12_000),
      `Passport No.${' '.repeat(100_000)}x`,
      '912-93-4417 '.repeat(9_000),
      '482 739 1603 '.repeat(8_000),
      'NHS number: 6291837405 '.repeat(4_000),
      'QQ123456C '.repeat(10_000),
      'DE27391846 '.repeat(10_000),
      `DE${'1'.repeat(100_000)}`,
      '0123-4567-89 '.repeat(8_000),
      `0${'1-'.repeat(50_000)}`,
      `0${' 12'.repeat(35_000)}`,
      '04.2025.118 '.repeat(9_000),
    ];
    for (const text of hostile) {
      const { json, report } = mask({ text }, roomy);
      expect(report.masked, text.slice(0, 30)).toBe(0);
      expect(json === JSON.stringify({ text }), text.slice(0, 30)).toBe(true);
    }
  });
});
