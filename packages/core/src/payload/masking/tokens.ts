/**
 * Mask tokens. `hash` tokens are keyed HMAC-SHA256, never plain hashes: an unkeyed hash of an
 * email or a card number is reversed by hashing guesses. Equal values give equal tokens under
 * one key, so an investigator can see that two calls used the same recipient.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { AuditConfigError } from '../../contract/errors.js';
import type { AuditLogger } from '../../contract/logger.js';
import { partialTail, type MaskStrategy } from './catalog/detector-def.js';

/** Hex characters of the HMAC kept in a token: 48 bits, plenty to tell values apart in one trail. */
export const TOKEN_HEX_LENGTH = 12;
/** A key shorter than this is a password, not a key. */
export const MIN_KEY_BYTES = 16;
export const MASK_KEY_ENV = 'TOOLTRAIL_MASK_KEY';

// One random key per process, shared by every auditor in it, so their tokens correlate; and
// one warning per process, however many auditors are created. Kept on globalThis so the ESM
// and CJS builds, if both are loaded, share it too.
const STATE_KEY = Symbol.for('tooltrail.core.mask-key.v1');
type GlobalWithKey = typeof globalThis & { [STATE_KEY]?: { key: Buffer | undefined; warned: boolean } };
const processState = ((globalThis as GlobalWithKey)[STATE_KEY] ??= { key: undefined, warned: false });

/** Where the key came from, for the docs and for tests. */
export type KeySource = 'option' | 'env' | 'process';

/**
 * The HMAC key: the `hashKey` option, else TOOLTRAIL_MASK_KEY, else a random key for this
 * process (tokens then correlate only within the process, and a warning says so once).
 */
export function resolveHashKey(
  option: string | Uint8Array | undefined,
  env: NodeJS.ProcessEnv,
  logger: AuditLogger,
): { key: Buffer; source: KeySource } {
  if (option !== undefined) return { key: checkedKey(option, 'masking.hashKey'), source: 'option' };
  const fromEnv = env[MASK_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { key: checkedKey(fromEnv, MASK_KEY_ENV), source: 'env' };
  if (!processState.warned) {
    processState.warned = true;
    logger.warn(
      `masking: no HMAC key configured (masking.hashKey or ${MASK_KEY_ENV}); using a random key for this process. ` +
        'Hash tokens will not correlate across restarts or processes.',
    );
  }
  return { key: (processState.key ??= randomBytes(32)), source: 'process' };
}

function checkedKey(value: string | Uint8Array, name: string): Buffer {
  const key = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  if (key.length < MIN_KEY_BYTES) {
    throw new AuditConfigError(`${name} must be at least ${MIN_KEY_BYTES} bytes (use 32 random bytes, e.g. \`openssl rand -hex 32\`)`);
  }
  return key;
}

/** For tests only: forget the process key and the warning. */
export function resetProcessKeyForTests(): void {
  processState.key = undefined;
  processState.warned = false;
}

const CACHE_LIMIT = 2048;

export class Tokenizer {
  // Canonical value -> truncated HMAC hex. Values repeat across calls (the same recipient, the
  // same account); an HMAC costs about 3 µs here, a lookup a few ns. Bounded, then reset.
  private readonly cache = new Map<string, string>();

  constructor(private readonly key: Buffer) {}

  /** The first TOKEN_HEX_LENGTH hex characters of HMAC-SHA256(key, value). */
  short(value: string): string {
    let hex = this.cache.get(value);
    if (hex === undefined) {
      hex = createHmac('sha256', this.key).update(value, 'utf8').digest('hex').slice(0, TOKEN_HEX_LENGTH);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(value, hex);
    }
    return hex;
  }

  /** The full HMAC-SHA256 (hex) of a payload: for digests and cut payloads. */
  digest(text: string): string {
    return createHmac('sha256', this.key).update(text, 'utf8').digest('hex');
  }

  /**
   * The text that replaces a masked value. `canonical` is what a hash is computed over;
   * `partial` renders the partial form for this kind.
   */
  token(kind: string, strategy: MaskStrategy, value: string, canonical: string, partial: ((v: string) => string) | undefined): string {
    switch (strategy) {
      case 'hash':
        return `[${kind}:${this.short(canonical)}]`;
      case 'partial':
        return (partial ?? partialTail)(value);
      default:
        return `[REDACTED:${kind}]`;
    }
  }
}
