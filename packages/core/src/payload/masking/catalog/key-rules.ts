/**
 * Key-name rules: a property whose name holds one of these words is masked whatever its value
 * looks like. Each rule is a canonical snake_case name and is also the kind it is recorded as.
 */

/** The built-in rules, as canonical snake_case names. Each is also the kind it is recorded as. */
export const BUILTIN_KEY_RULES: readonly string[] = Object.freeze([
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'secrets',
  'client_secret',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'auth_token',
  'session_token',
  'api_key',
  'private_key',
  'signing_key',
  'encryption_key',
  'authorization',
  'proxy_authorization',
  'cookie',
  'cookies',
  'set_cookie',
  'session_id',
  'credential',
  'credentials',
  'connection_string',
  'otp',
  'ssn',
  'social_security_number',
  'card_number',
  'credit_card',
  'cvv',
  'cvv2',
  'cvc',
  'iban',
  'account_number',
  'date_of_birth',
  'passport_number',
]);

/** Rules whose value in free text runs to the end of the line (`Authorization: Basic ...`). */
export const LINE_VALUE_RULES: ReadonlySet<string> = new Set(['authorization', 'proxy_authorization', 'cookie', 'cookies', 'set_cookie']);
