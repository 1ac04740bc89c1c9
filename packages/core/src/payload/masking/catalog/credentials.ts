/**
 * Credentials: private keys, tokens in headers and URLs, and provider tokens found by the
 * prefix every one of them starts with (so text without the prefix is never searched).
 */
import { basicAuthValid, bearerValid, looksRandom } from './checks.js';
import { def, type DetectorDef } from './detector-def.js';

const SK_HEX = /^(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{32,64}$/;

export const CREDENTIAL_DETECTORS: readonly DetectorDef[] = [
  def({
    id: 'private_key',
    strategy: 'redact',
    gate: 'contains',
    needles: ['-----BEGIN', '-----begin', '---- BEGIN SSH2', 'PuTTY-User-Key-File-'],
    minLength: 26,
    // An unterminated block is masked to the end of the text: half a key is still a key. Also
    // RFC 4716 (`---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----`) and PuTTY's .ppk, whose private
    // lines follow `Private-Lines:` (the public half before them stays; the needle is the .ppk
    // header, so `Private-Lines:` is only looked for in a .ppk).
    pattern:
      /-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)|-----begin[a-z0-9 ]*private key(?: block)?-----[\s\S]*?(?:-----end[a-z0-9 ]*private key(?: block)?-----|$)|---- BEGIN SSH2 [A-Z ]*PRIVATE KEY ----[\s\S]*?(?:---- END SSH2 [A-Z ]*PRIVATE KEY ----|$)|Private-Lines: \d+[\s\S]*?(?:Private-MAC: [0-9a-fA-F]+|$)/g,
  }),
  def({
    id: 'jwt',
    strategy: 'redact',
    gate: 'literal',
    literals: ['eyJ', 'eyAi', 'ewo'],
    minLength: 24,
    // A JWS (header.payload.signature) or a JWE (five parts, the second empty with `dir`); the
    // JSON may be spaced (`{ "alg"` is `eyAi`, `{\n` is `ewo`).
    pattern:
      /(?<![A-Za-z0-9_-])(?:eyJ|eyAi|ewo)[A-Za-z0-9_-]{8,}\.(?:(?:eyJ|eyAi|ewo)[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*|[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})/g,
  }),
  def({
    id: 'url_credentials',
    strategy: 'redact',
    gate: 'url',
    minLength: 8,
    // Greedy up to the last `@` of the authority: user names and passwords with `@` in them
    // are masked whole; the host stays visible. Also Go's MySQL DSN, which has no scheme:
    // `app:pw@tcp(db:3306)/x` (also `unix(`, `udp(`).
    pattern: /(?:\b[A-Za-z][A-Za-z0-9+.-]{1,30}:\/\/|(?<![\w@:/.%+-])(?=[\w.-]{1,64}:[^\s@/]{0,256}@(?:tcp|udp|unix)\())([^\s/?#:]*:[^\s/?#]*)@/dg,
    group: 1,
    suppresses: ['email'],
  }),
  def({
    id: 'bearer',
    strategy: 'redact',
    gate: 'contains',
    // Whole words with a capital first letter: needles that start with a common letter (`earer`)
    // are tried at every `e` of prose; `B`/`b` are rare.
    needles: ['Bearer', 'bearer', 'BEARER'],
    minLength: 15,
    pattern: /\bbearer\s+([A-Za-z0-9._~+/-]{8,}=*)/dgi,
    group: 1,
    validate: bearerValid,
  }),
  def({
    id: 'basic_auth',
    strategy: 'redact',
    gate: 'contains',
    needles: ['Basic', 'basic', 'BASIC'],
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
    // `sk-learn-pipeline-...` is a name; a key has random mixed case and digits, or is 32+ hex
    // characters with letters and digits (the `sk-` keys of other AI providers, DeepSeek's).
    validate: (m) => looksRandom(m.slice(3)) || SK_HEX.test(m.slice(3)),
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
];

/**
 * Detectors with no prefix, only a shape: last in naming order, so a specific detector that
 * matches the same span (a 40-character token behind its label) names it.
 */
export const GENERIC_SECRET_DETECTORS: readonly DetectorDef[] = [
  def({
    id: 'aws_secret_access_key',
    strategy: 'redact',
    gate: 'long',
    minLength: 40,
    // Exactly 40 base64 characters with mixed case and a digit: git SHAs (lowercase hex) and
    // words do not qualify; a random key usually does. An `=` before is an assignment
    // (`?key=…`, `secret=…`): padding only ends a base64 run.
    pattern: /(?:^|[^A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/dg,
    group: 1,
    validate: looksRandom,
  }),
];
