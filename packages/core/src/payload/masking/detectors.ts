/**
 * The value detector catalog. Each detector finds one kind of secret or personal value inside
 * any string, prose included. Patterns are anchored on what the value must contain (a prefix,
 * an `@`, a checksum) so that ordinary text, ids and dates pass unchanged; see docs/masking.md.
 */
import {
  basicAuthValid,
  bearerValid,
  cardMatch,
  digitsOf,
  ibanValid,
  ipv6Valid,
  looksRandom,
  phoneMatch,
} from './checks.js';

/** `redact`: `[REDACTED:kind]`. `hash`: `[kind:hmac12]`, equal values correlate. `partial`: `****4242`. */
export type MaskStrategy = 'redact' | 'hash' | 'partial';

/**
 * The cheap test a string must pass before a detector's pattern runs on it. Most strings a
 * tool sees fail every gate, and a gate costs one indexOf or one short regex test.
 */
export type Gate = 'at' | 'url' | 'digits' | 'dotDigit' | 'colon' | 'iban' | 'long' | 'contains' | 'literal' | 'always';

export interface DetectorDef {
  readonly id: string;
  readonly strategy: MaskStrategy;
  readonly gate: Gate;
  /**
   * For gate `literal`: prefixes (case-sensitive) one of which every match starts with. These
   * detectors find tokens, so a match is also a run of at least `minLength` characters
   * without a space, and text without such a run is not searched at all.
   */
  readonly literals?: readonly string[];
  /** For gate `contains`: substrings one of which every match contains (found with indexOf). */
  readonly needles?: readonly string[];
  /** The shortest match the pattern can produce: shorter strings are not searched. */
  readonly minLength: number;
  /** Global; with the `d` flag when `group` is set. */
  readonly pattern?: RegExp;
  /** Mask only this capture group (the token after `Bearer `, the userinfo of a URL). */
  readonly group?: number;
  /** A user detector that finds spans itself (an NER model, say). */
  readonly find?: (text: string) => Iterable<{ start: number; end: number }>;
  /** Confirms a match; a span confirms only that part of it (offsets within the match). */
  readonly validate?: (match: string) => boolean | { start: number; end: number };
  /** What a hash token is computed over, so `Bob@Example.com` and `bob@example.com` correlate. */
  readonly canonical?: (match: string) => string;
  readonly partial?: (match: string) => string;
  /**
   * Matches of these kinds that start inside one of this detector's matches are dropped: the
   * secret is already covered, and merging would also mask what follows (a URL's host).
   */
  readonly suppresses?: readonly string[];
  /** Built-in detectors have a fixed catalog entry; user ones do not. */
  readonly builtin: boolean;
}

const lastFourDigits = (m: string): string => `****${digitsOf(m).slice(-4)}`;
const lowerCase = (m: string): string => m.toLowerCase();
const digitsOnly = (m: string): string => digitsOf(m);
const phoneCanonical = (m: string): string => (m.startsWith('+') ? '+' : '') + digitsOf(m);
const noSpaces = (m: string): string => m.replace(/ /g, '');

/** Generic partial form: the last four characters of a long value, nothing of a short one. */
export function partialTail(m: string): string {
  return m.length >= 12 ? `****${m.slice(-4)}` : '****';
}

function def(d: Omit<DetectorDef, 'builtin'>): DetectorDef {
  return Object.freeze({ ...d, builtin: true });
}

/**
 * Order matters only for naming: where matches of two detectors overlap, the region is masked
 * as a whole under the kind of the one that starts first (or comes first here on a tie).
 */
export const BUILTIN_DETECTORS: readonly DetectorDef[] = Object.freeze([
  def({
    id: 'private_key',
    strategy: 'redact',
    gate: 'contains',
    needles: ['-----BEGIN'],
    minLength: 26,
    // An unterminated block is masked to the end of the text: half a key is still a key.
    pattern: /-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/g,
  }),
  def({
    id: 'jwt',
    strategy: 'redact',
    gate: 'literal',
    literals: ['eyJ'],
    minLength: 24,
    pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g,
  }),
  def({
    id: 'url_credentials',
    strategy: 'redact',
    gate: 'url',
    minLength: 8,
    // Greedy up to the last `@` of the authority: user names and passwords with `@` in them
    // are masked whole; the host stays visible.
    pattern: /\b[A-Za-z][A-Za-z0-9+.-]{1,30}:\/\/([^\s/?#:]*:[^\s/?#]*)@/dg,
    group: 1,
    suppresses: ['email'],
  }),
  def({
    id: 'bearer',
    strategy: 'redact',
    gate: 'contains',
    needles: ['earer', 'EARER'],
    minLength: 15,
    pattern: /\bbearer\s+([A-Za-z0-9._~+/-]{8,}=*)/dgi,
    group: 1,
    validate: bearerValid,
  }),
  def({
    id: 'basic_auth',
    strategy: 'redact',
    gate: 'contains',
    needles: ['asic', 'ASIC'],
    minLength: 14,
    pattern: /\bbasic\s+([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])/dgi,
    group: 1,
    validate: basicAuthValid,
  }),
  def({
    id: 'aws_access_key_id',
    strategy: 'redact',
    gate: 'literal',
    literals: ['AKIA', 'ASIA', 'ABIA', 'ACCA', 'A3T'],
    minLength: 20,
    pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])/g,
  }),
  def({
    id: 'github_token',
    strategy: 'redact',
    gate: 'literal',
    literals: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
    minLength: 33,
    pattern: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244})(?![A-Za-z0-9_])/g,
  }),
  def({
    id: 'gitlab_token',
    strategy: 'redact',
    gate: 'literal',
    literals: ['glpat-', 'gldt-', 'glrt-', 'glptt-', 'glft-', 'glsoat-', 'glcbt-', 'glimt-', 'glagent-'],
    minLength: 25,
    pattern: /(?<![A-Za-z0-9_-])gl(?:pat|dt|rt|ptt|ft|soat|cbt|imt|agent)-[A-Za-z0-9_-]{20,}/g,
  }),
  def({
    id: 'slack_token',
    strategy: 'redact',
    gate: 'literal',
    literals: ['xox', 'xapp-', 'hooks.slack.com'],
    minLength: 15,
    pattern:
      /(?<![A-Za-z0-9_-])(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,})|https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_+-]{20,}/g,
  }),
  def({
    id: 'stripe_key',
    strategy: 'redact',
    gate: 'literal',
    literals: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_', 'whsec_'],
    minLength: 24,
    pattern: /(?<![A-Za-z0-9_])(?:[sr]k_(?:live|test)_[A-Za-z0-9]{16,247}|whsec_[A-Za-z0-9+/=]{24,})(?![A-Za-z0-9_])/g,
  }),
  def({
    id: 'anthropic_key',
    strategy: 'redact',
    gate: 'literal',
    literals: ['sk-ant-'],
    minLength: 27,
    pattern: /(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}/g,
  }),
  def({
    id: 'openai_key',
    strategy: 'redact',
    gate: 'literal',
    literals: ['sk-'],
    minLength: 23,
    pattern: /(?<![A-Za-z0-9_-])sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g,
    // `sk-learn-pipeline-...` is a name; a key has random mixed case and digits.
    validate: (m) => looksRandom(m.slice(3)),
  }),
  def({
    id: 'google_api_key',
    strategy: 'redact',
    gate: 'literal',
    literals: ['AIza'],
    minLength: 39,
    pattern: /(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])/g,
  }),
  def({
    id: 'npm_token',
    strategy: 'redact',
    gate: 'literal',
    literals: ['npm_'],
    minLength: 40,
    pattern: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g,
  }),
  def({
    id: 'aws_secret_access_key',
    strategy: 'redact',
    gate: 'long',
    minLength: 40,
    // Exactly 40 base64 characters with mixed case and a digit: git SHAs (lowercase hex) and
    // words do not qualify; a random key usually does.
    pattern: /(?:^|[^A-Za-z0-9/+=])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/dg,
    group: 1,
    validate: looksRandom,
  }),
  def({
    id: 'email',
    strategy: 'hash',
    gate: 'at',
    minLength: 6,
    pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])/g,
    canonical: lowerCase,
    partial: (m) => `****${m.slice(m.indexOf('@'))}`,
  }),
  def({
    id: 'card',
    strategy: 'partial',
    gate: 'digits',
    minLength: 13,
    // Not inside a word: the digits of a UUID's last groups are no card.
    pattern: /(?<![\w-])\d(?:[ -]?\d){12,18}(?!\w)/g,
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
    pattern: /(?<![\w-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w-])/g,
    canonical: digitsOnly,
    partial: lastFourDigits,
  }),
  def({
    id: 'phone',
    strategy: 'hash',
    gate: 'digits',
    minLength: 9,
    // A phone number needs a shape: a +country code, a (area) code or 3-3-4 with - or .,
    // or a trunk 0 with separated groups. Bare digit runs (order numbers) never match.
    pattern:
      /(?<![\w+])(?:\+[1-9](?:[ .()-]{0,2}\d){6,14}|\(\d{3}\) ?\d{3}[ .-]\d{4}|\d{3}-\d{3}-\d{4}|\d{3}\.\d{3}\.\d{4}|0\d{1,4}(?:[ .-]\d{2,4}){2,5})(?![\d-]|\.\d)/g,
    validate: phoneMatch,
    canonical: phoneCanonical,
    partial: lastFourDigits,
  }),
  def({
    id: 'ipv4',
    strategy: 'hash',
    gate: 'dotDigit',
    minLength: 7,
    pattern: /(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\w|\.\d)/g,
  }),
  def({
    id: 'ipv6',
    strategy: 'hash',
    gate: 'colon',
    minLength: 6,
    pattern: /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])/g,
    validate: ipv6Valid,
    canonical: lowerCase,
  }),
]);

export const BUILTIN_DETECTOR_IDS: ReadonlySet<string> = new Set(BUILTIN_DETECTORS.map((d) => d.id));

/**
 * Secrets written as `key=value` or `"key": "value"` in free text (an error message quoting a
 * connection string, a log line, JSON that does not parse). The key must match a key-name
 * rule; its value is masked under that rule's kind. Not a catalog entry: its kind varies.
 */
export const KEY_VALUE_DETECTOR_ID = 'key_value';

// Key, optionally quoted (also as \" inside JSON held in a string), then : or =, then the
// value: double-quoted, escaped-quoted, single-quoted, or bare up to a delimiter.
export const KEY_VALUE_PATTERN =
  /(?<![\w.[\\-])(\\?["']?)([A-Za-z][A-Za-z0-9_.-]{0,63})\1[ \t]*[:=][ \t]*(?:"((?:[^"\\\r\n]|\\.)*)"|\\"((?:[^"\\]|\\[^"])*)\\"|'([^'\r\n]*)'|([^\s,;&"'<>)\]}]+))/dg;
