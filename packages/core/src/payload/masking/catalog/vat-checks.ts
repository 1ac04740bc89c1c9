/**
 * VAT identification numbers of EU member states (and the UK's GB/XI): per country the shape
 * the VIES service documents and the check digit each national scheme defines. A prefix and
 * some digits is not enough: without the check, `DE` plus nine digits is one in ten numbers.
 */
import { luhnValid } from './checks.js';

const num = (s: string, i: number): number => s.charCodeAt(i) - 48;

/** Sum of digit i times weights[i]. */
function weighted(d: string, weights: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += num(d, i) * (weights[i] as number);
  return sum;
}

/** ISO 7064 MOD 11,10 (Germany, Croatia): the last digit checks the ones before it. */
function mod11_10(d: string): boolean {
  let p = 10;
  for (let i = 0; i < d.length - 1; i++) {
    let s = (num(d, i) + p) % 10;
    if (s === 0) s = 10;
    p = (2 * s) % 11;
  }
  return (11 - p) % 10 === num(d, d.length - 1);
}

/**
 * `11 - sum mod 11` as the check digit; the schemes differ in what 10 and 11 become (a digit,
 * or never issued: undefined).
 */
function mod11Check(d: string, weights: readonly number[], ten: number | undefined, eleven: number | undefined): boolean {
  let c: number | undefined = 11 - (weighted(d, weights) % 11);
  if (c === 10) c = ten;
  else if (c === 11) c = eleven;
  return c === num(d, weights.length);
}

function austria(b: string): boolean {
  if (!/^U\d{8}$/.test(b)) return false;
  const d = b.slice(1);
  let sum = 0;
  for (let i = 0; i < 7; i++) {
    let v = num(d, i);
    if (i % 2 === 1) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
    sum += v;
  }
  return (10 - ((sum + 4) % 10)) % 10 === num(d, 7);
}

function belgium(b: string): boolean {
  const d = b.replace(/\./g, '');
  if (!/^[01]\d{9}$/.test(d)) return false;
  return 97 - (Number(d.slice(0, 8)) % 97) === Number(d.slice(8));
}

function bulgaria(d: string): boolean {
  if (!/^\d{9}$/.test(d)) return false;
  let r = weighted(d, [1, 2, 3, 4, 5, 6, 7, 8]) % 11;
  if (r === 10) r = (weighted(d, [3, 4, 5, 6, 7, 8, 9, 10]) % 11) % 10;
  return r === num(d, 8);
}

function cyprus(b: string): boolean {
  if (!/^[013459]\d{7}[A-Z]$/.test(b)) return false;
  // Digits in even places are replaced through this table before summing.
  const odd = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21];
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += i % 2 === 0 ? (odd[num(b, i)] as number) : num(b, i);
  return String.fromCharCode(65 + (sum % 26)) === b[8];
}

function czechia(d: string): boolean {
  // Legal entities: eight digits (the birth-number forms of persons are not matched).
  if (!/^[0-8]\d{7}$/.test(d)) return false;
  const c = (11 - (weighted(d, [8, 7, 6, 5, 4, 3, 2]) % 11)) % 10;
  return c === num(d, 7);
}

function spain(b: string): boolean {
  const nifLetters = 'TRWAGMYFPDXBNJZSQVHLCKE';
  if (/^\d{8}[A-Z]$/.test(b)) return nifLetters[Number(b.slice(0, 8)) % 23] === b[8];
  if (/^[XYZ]\d{7}[A-Z]$/.test(b)) return nifLetters[Number('XYZ'.indexOf(b[0] as string) + b.slice(1, 8)) % 23] === b[8];
  if (/^[KLM]\d{7}[A-Z]$/.test(b)) return nifLetters[Number(b.slice(1, 8)) % 23] === b[8];
  if (!/^[ABCDEFGHJNPQRSUVW]\d{7}[0-9A-J]$/.test(b)) return false;
  // Companies (CIF): digits in odd places doubled and folded, the check a digit or a letter.
  let sum = 0;
  for (let i = 1; i <= 7; i++) {
    const v = num(b, i);
    sum += i % 2 === 1 ? (v * 2 > 9 ? v * 2 - 9 : v * 2) : v;
  }
  const c = (10 - (sum % 10)) % 10;
  return b[8] === String(c) || b[8] === 'JABCDEFGHI'[c];
}

function france(b: string): boolean {
  if (!/^[0-9A-HJ-NP-Z]{2}\d{9}$/.test(b)) return false;
  const siren = b.slice(2);
  // Numeric key: derived from the SIREN; newer letter keys: the SIREN's own Luhn digit.
  if (/^\d\d/.test(b)) return Number(b.slice(0, 2)) === (12 + 3 * (Number(siren) % 97)) % 97;
  return luhnValid(siren);
}

function greece(d: string): boolean {
  if (!/^\d{9}$/.test(d)) return false;
  return (weighted(d, [256, 128, 64, 32, 16, 8, 4, 2]) % 11) % 10 === num(d, 8);
}

function ireland(b: string): boolean {
  const m = /^(\d{7})([A-W])([AHW]?)$/.exec(b);
  if (m === null) return false;
  const d = m[1] as string;
  let sum = weighted(d, [8, 7, 6, 5, 4, 3, 2]);
  if (m[3] === 'A') sum += 9;
  else if (m[3] === 'H') sum += 72;
  return 'WABCDEFGHIJKLMNOPQRSTUV'[sum % 23] === m[2];
}

function italy(d: string): boolean {
  if (!/^\d{11}$/.test(d)) return false;
  // Digits 8-10 are the issuing tax office.
  const office = Number(d.slice(7, 10));
  if (!((office >= 1 && office <= 100) || office === 120 || office === 121 || office === 888 || office === 999)) return false;
  return luhnValid(d);
}

function netherlands(b: string): boolean {
  if (!/^\d{9}B\d{2}$/.test(b)) return false;
  // Older numbers: the 11-test on the nine digits; since 2020 sole traders get ISO 7064
  // mod 97-10 over `NL` + number, letters counted as N = 23, L = 21, B = 11.
  const d = b.slice(0, 9);
  if (weighted(d, [9, 8, 7, 6, 5, 4, 3, 2]) % 11 === num(d, 8)) return true;
  let rem = 2321 % 97;
  for (const ch of b) rem = ch === 'B' ? (rem * 100 + 11) % 97 : (rem * 10 + (ch.charCodeAt(0) - 48)) % 97;
  return rem === 1;
}

function romania(d: string): boolean {
  if (!/^[1-9]\d{5,9}$/.test(d)) return false;
  const weights = [7, 5, 3, 2, 1, 7, 5, 3, 2].slice(10 - d.length);
  return ((weighted(d, weights) * 10) % 11) % 10 === num(d, d.length - 1);
}

function unitedKingdom(d: string): boolean {
  if (!/^\d{9}(?:\d{3})?$/.test(d)) return false;
  // Older numbers sum to 0 mod 97, those issued since 2010 to 42 (55 for a few ranges).
  const r = (weighted(d, [8, 7, 6, 5, 4, 3, 2]) + Number(d.slice(7, 9))) % 97;
  return r === 0 || r === 42 || r === 55;
}

/** Country prefix to the check of what follows it. */
const BY_COUNTRY: Readonly<Record<string, (body: string) => boolean>> = {
  AT: austria,
  BE: belgium,
  BG: bulgaria,
  CY: cyprus,
  CZ: czechia,
  DE: (d) => /^[1-9]\d{8}$/.test(d) && mod11_10(d),
  DK: (d) => /^[1-9]\d{7}$/.test(d) && weighted(d, [2, 7, 6, 5, 4, 3, 2, 1]) % 11 === 0,
  EE: (d) => /^10\d{7}$/.test(d) && (10 - (weighted(d, [3, 7, 1, 3, 7, 1, 3, 7]) % 10)) % 10 === num(d, 8),
  EL: greece,
  GR: greece,
  ES: spain,
  FI: (d) => /^\d{8}$/.test(d) && mod11Check(d, [7, 9, 10, 5, 8, 4, 2], undefined, 0),
  FR: france,
  GB: unitedKingdom,
  XI: unitedKingdom,
  HR: (d) => /^\d{11}$/.test(d) && mod11_10(d),
  HU: (d) => /^\d{8}$/.test(d) && (10 - (weighted(d, [9, 7, 3, 1, 9, 7, 3]) % 10)) % 10 === num(d, 7),
  IE: ireland,
  IT: italy,
  LU: (d) => /^\d{8}$/.test(d) && Number(d.slice(0, 6)) % 89 === Number(d.slice(6)),
  MT: (d) => /^[1-9]\d{7}$/.test(d) && 37 - (weighted(d, [3, 4, 6, 7, 8, 9]) % 37) === Number(d.slice(6)),
  NL: netherlands,
  PL: (d) => /^\d{10}$/.test(d) && weighted(d, [6, 5, 7, 2, 3, 4, 5, 6, 7]) % 11 === num(d, 9),
  PT: (d) => /^[1-9]\d{8}$/.test(d) && mod11Check(d, [9, 8, 7, 6, 5, 4, 3, 2], 0, 0),
  RO: romania,
  SE: (d) => /^\d{10}01$/.test(d) && luhnValid(d.slice(0, 10)),
  SI: (d) => /^[1-9]\d{7}$/.test(d) && mod11Check(d, [8, 7, 6, 5, 4, 3, 2], 0, undefined),
  SK: (d) => /^[1-9]\d[2-47-9]\d{7}$/.test(d) && Number(d) % 11 === 0,
};

export const VAT_COUNTRIES: readonly string[] = Object.keys(BY_COUNTRY);

/** A VAT number as matched: prefix, an optional space, the national number. */
export function vatValid(match: string): boolean {
  const check = BY_COUNTRY[match.slice(0, 2)];
  if (check === undefined) return false;
  return check(match.slice(2).replace(/^ /, ''));
}
