/**
 * Validators for government ids: the checksum or the strict shape that tells an NHS number
 * from a phone number and a passport number from a word after the label `passport`.
 */
import { digitsOf } from './checks.js';

/**
 * UK NHS number: ten digits, the last a mod-11 check over the first nine weighted 10 down to
 * 2. A remainder giving check value 10 is never issued.
 */
export function nhsValid(match: string): boolean {
  const d = digitsOf(match);
  if (d.length !== 10) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (d.charCodeAt(i) - 48) * (10 - i);
  let check = 11 - (sum % 11);
  if (check === 11) check = 0;
  return check !== 10 && check === d.charCodeAt(9) - 48;
}

/**
 * Passport number shapes after a passport label. Seven to nine characters are common to all;
 * the shape keeps words (`EXPIRED`) and years out.
 */
const PASSPORT_SHAPES: readonly RegExp[] = [
  /^\d{7,9}$/, // US, UK, many others: digits only
  /^[A-Z]\d{7,8}$/, // US next generation, India, Australia
  /^[A-Z]{2}\d{6,7}$/, // Canada, Italy, Australia
  /^\d{2}[A-Z]{2}\d{5}$/, // France
  /^[A-Z]{3}\d{6}$/, // Spain
  /^[CFGHJK][CFGHJKLMNPRTVWXYZ0-9]{8}$/, // Germany: no vowels, no B, D, Q, S
  /^[A-NP-Z]{2}[A-NP-Z0-9]{6}\d$/, // Netherlands: no letter O
];

export function passportShape(match: string): boolean {
  if (digitsOf(match).length < 2) return false;
  for (const shape of PASSPORT_SHAPES) if (shape.test(match)) return true;
  return false;
}
