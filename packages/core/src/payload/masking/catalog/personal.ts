/**
 * Personal data: addresses, payment and bank numbers, national ids and network addresses, each
 * confirmed by a checksum or a strict shape so that order numbers, versions and dates pass.
 */
import { cardMatch, ibanValid, ipv6Match, phoneMatch } from './checks.js';
import { def, digitsOnly, lastFourDigits, lowerCase, noSpaces, phoneCanonical, type DetectorDef } from './detector-def.js';

export const PERSONAL_DETECTORS: readonly DetectorDef[] = [
  def({
    id: 'email',
    strategy: 'hash',
    gate: 'at',
    minLength: 6,
    // No look-behind: when the leftmost start fails (a leading `.`/`-`, a local part over 64
    // characters), a later one masks the address rather than none.
    // Internationalised addresses too (`josé.garcía@ejemplo.es`, `müller@bücher.de`): letters and
    // marks of any script, the top-level domain ASCII, punycode or letters.
    pattern: /[\p{L}\p{N}][\p{L}\p{M}\p{N}._%+-]{0,63}@(?:[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?\.)+(?:xn--[a-z0-9-]{1,59}|\p{L}[\p{L}\p{M}]{1,23})(?![\p{L}\p{M}\p{N}-])/gu,
    canonical: lowerCase,
    partial: (m) => `****${m.slice(m.indexOf('@'))}`,
  }),
  def({
    id: 'card',
    strategy: 'partial',
    gate: 'digits',
    minLength: 13,
    // Not inside a word: the digits of a UUID's last groups are no card; nor the hex digits of a
    // `%XX` escape (`%2520…`: the decoded view finds a card written after an encoded space).
    pattern: /(?<![\w-]|%[0-9A-Fa-f]?)\d(?:[ -]?\d){12,18}(?!\w)/g,
    validate: cardMatch,
    canonical: digitsOnly,
    partial: lastFourDigits,
  }),
  def({
    id: 'iban',
    strategy: 'hash',
    gate: 'iban',
    minLength: 15,
    pattern: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![A-Za-z0-9])/g,
    validate: ibanValid,
    canonical: noSpaces,
    partial: (m) => `****${noSpaces(m).slice(-4)}`,
  }),
  def({
    id: 'ssn',
    strategy: 'hash',
    gate: 'digits',
    minLength: 11,
    // US SSN with separators; area 000, 666 and 9xx, group 00 and serial 0000 are never issued.
    // Nine bare digits only right after an SSN label (`SSN 536221234`, `social security number is …`).
    pattern:
      /(?<![\w-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w-])|(?<=\b(?:SSN|[Ss]ocial [Ss]ecurity(?: [Nn]umber| [Nn]o\.?)?)(?:[ \t]*(?:#|[Nn]o\.?|[Nn]umber|is|:))*[ \t]*)(?!000|666|9\d\d)\d{3}(?!00)\d{2}(?!0000)\d{4}(?![\w-])/g,
    canonical: digitsOnly,
    partial: lastFourDigits,
  }),
  def({
    id: 'phone',
    strategy: 'hash',
    gate: 'digits',
    minLength: 9,
    // A phone number needs a shape: a +country code, a (area) code or 3-3-4 with - or .,
    // or a trunk 0 (never 00) and separated groups; phoneMatch then checks the national
    // structure. Bare digit runs and references glued to a word (`INV-0042-…`) never match.
    pattern:
      /(?<![\w+-]|%[0-9A-Fa-f]?)(?:\+[1-9](?:[ .()-]{0,2}\d){6,14}|\(\d{3}\) ?\d{3}[ .-]\d{4}|\d{3}-\d{3}-\d{4}|\d{3}\.\d{3}\.\d{4}|0[1-9]\d{0,3}(?:[ .-]\d{2,4}){2,5})(?![\d-]|\.\d)/g,
    validate: phoneMatch,
    canonical: phoneCanonical,
    partial: lastFourDigits,
  }),
  def({
    id: 'ipv4',
    strategy: 'hash',
    gate: 'dotDigit',
    minLength: 7,
    // A `.` before is a namespace or punctuation (`peer.203.0.113.42`), or after a digit a longer number.
    pattern: /(?<!\w|\d\.)(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\w|\.\d)/g,
  }),
  def({
    id: 'ipv6',
    strategy: 'hash',
    gate: 'colon',
    minLength: 6,
    pattern: /(?<![\w:]|\d\.)(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])/g,
    validate: ipv6Match,
    canonical: lowerCase,
  }),
];
