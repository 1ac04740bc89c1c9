/**
 * Government ids: each a strict shape and, where the issuer defines one, a checksum, so that
 * order numbers and references with the same digit count pass. Passport numbers have no
 * checksum of their own and are only taken after a passport label.
 */
import { nhsValid, passportShape } from './id-checks.js';
import { def, digitsOnly, lastFourDigits, type DetectorDef } from './detector-def.js';
import { VAT_COUNTRIES, vatValid } from './vat-checks.js';

const alphanumeric = (m: string): string => m.replace(/[^A-Za-z0-9]/g, '');

/** Passport labels, several languages, each as it is written at the start of a line or mid-sentence and in capitals. */
const PASSPORT_LABEL =
  '(?:[Pp]assport|PASSPORT|[Rr]eisepass|REISEPASS|[Pp]asseport|PASSEPORT|[Pp]asaporte|PASAPORTE|[Pp]assaporto|PASSAPORTO|[Pp]aspoort|PASPOORT)';
/** What may follow the label: `No.`, `number`, `Nr.`, `n°`, `#`, then quotes, `:` or `=`, or `is`. */
const LABEL_TAIL =
  '(?:[ \\t_-]{0,2}(?:[Nn][Oo]\\.?|[Nn]umber|NUMBER|[Nn]ummer|NUMMER|[Nn][Rr]\\.?|[Nn]°|[Nn]um[eé]ro|[Nn]úmero|ID|#))?["\']?[ \\t]{0,3}[:#=]?[ \\t]{0,3}["\']?(?:is[ \\t]{1,3})?';

export const GOV_ID_DETECTORS: readonly DetectorDef[] = [
  def({
    id: 'us_itin',
    strategy: 'hash',
    gate: 'digits',
    minLength: 11,
    // 9xx, then the group ranges the IRS issues (50-65, 70-88, 90-92, 94-99), then four
    // digits; with separators, as the SSN detector: nine bare digits are any number.
    pattern: /(?<![\w-])9\d\d([- ])(?:5\d|6[0-5]|7\d|8[0-8]|9[0-24-9])\1\d{4}(?![\w-])/g,
    canonical: digitsOnly,
    partial: lastFourDigits,
  }),
  def({
    id: 'uk_nhs_number',
    strategy: 'hash',
    gate: 'digits',
    minLength: 10,
    // Written 3-3-4 with spaces (the NHS's own format), or as ten bare digits after an NHS
    // label. The issued ranges start with 3, 4, 6, 7 or 9; mod 11 does the rest.
    pattern:
      /(?<![\w-])(?:[34679]\d\d \d{3} \d{4}|[34679]\d{9}(?<=[Nn][Hh][Ss](?:[ \t_-]{0,2}(?:[Nn][Oo]\.?|[Nn]umber|#))?["']?[ \t]{0,2}[:#=]?[ \t]{0,2}["']?\d{10}))(?![\w-])/g,
    validate: nhsValid,
    canonical: digitsOnly,
    partial: lastFourDigits,
  }),
  def({
    id: 'uk_national_insurance_number',
    strategy: 'hash',
    gate: 'iban',
    minLength: 9,
    // HMRC's rules: first letter not D, F, I, Q, U, V; second also not O; BG, GB, KN, NK,
    // NT, TN and ZZ never allocated; suffix A-D. Compact or spaced `AB 12 34 56 C`.
    pattern: /(?<![A-Za-z0-9])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z](?:\d{6}|(?: \d\d){3} )[A-D](?![A-Za-z0-9])/g,
    canonical: alphanumeric,
  }),
  def({
    id: 'passport_number',
    strategy: 'hash',
    gate: 'contains',
    // Whole labels in three cases: needles starting with `P`/`R` are tried far less often in
    // prose than tails starting with `a` or `e`.
    needles: ['Passport', 'passport', 'PASSPORT', 'Reisepass', 'reisepass', 'REISEPASS', 'Passeport', 'passeport', 'PASSEPORT', 'Pasaporte', 'pasaporte', 'PASAPORTE', 'Passaporto', 'passaporto', 'PASSAPORTO', 'Paspoort', 'paspoort', 'PASPOORT'],
    minLength: 14,
    pattern: new RegExp(`${PASSPORT_LABEL}${LABEL_TAIL}([A-Z0-9]{6,9})(?![A-Za-z0-9])`, 'dg'),
    group: 1,
    validate: passportShape,
  }),
  def({
    id: 'eu_vat_number',
    strategy: 'hash',
    gate: 'iban',
    minLength: 8,
    // Country prefix, an optional space, the national number (Belgium's also dotted); the
    // shape and check digit per country are in vat-checks.ts.
    pattern: new RegExp(`(?<![A-Za-z0-9])(?:${VAT_COUNTRIES.join('|')}) ?(?:[0-9A-Z]{8,12}|[01]\\d{3}\\.\\d{3}\\.\\d{3})(?![A-Za-z0-9])`, 'g'),
    validate: vatValid,
    canonical: alphanumeric,
  }),
];
