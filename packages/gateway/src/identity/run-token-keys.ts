import { statSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { AuditConfigError, publicRunTokenKey, runTokenKeyId, verifyRunToken, type RunTokenKey, type RunTokenVerification } from '@tooltrail/core';
import { readSmallFileSync } from '@tooltrail/core/integrity';

/** Tokens checked once are remembered (by their text) until they expire: a run sends the same one on every call. */
const CACHE_MAX = 1024;
const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;

/**
 * The public keys run tokens are checked against (`runTokens.publicKey`: one PEM file, which may
 * hold several keys while one is rotated out). A valid answer is cached until the token expires,
 * so a run's calls after the first cost a map lookup, not a signature check.
 */
export class RunTokenKeys {
  readonly publicKeys: readonly KeyObject[];
  readonly keyIds: readonly string[];
  private readonly now: () => number;
  private readonly verified = new Map<string, Extract<RunTokenVerification, { ok: true }>>();

  constructor(keys: readonly RunTokenKey[], options: { now?: () => number } = {}) {
    if (keys.length === 0) throw new AuditConfigError('run tokens need at least one public key');
    this.publicKeys = Object.freeze(keys.map((k) => publicRunTokenKey(k)));
    this.keyIds = Object.freeze(this.publicKeys.map((k) => runTokenKeyId(k)));
    this.now = options.now ?? Date.now;
  }

  /** verifyRunToken against these keys, at this object's clock. */
  verify(token: unknown): RunTokenVerification {
    const now = this.now();
    if (typeof token === 'string') {
      const hit = this.verified.get(token);
      if (hit !== undefined) {
        if (now < hit.claims.expiresAt) return hit;
        this.verified.delete(token);
      }
    }
    const result = verifyRunToken(token, this.publicKeys, now);
    if (result.ok && typeof token === 'string') {
      if (this.verified.size >= CACHE_MAX) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(token, result);
    }
    return result;
  }
}

/** The keys of the config's `runTokens`, or undefined without it. A bad or writable key file is an AuditConfigError. */
export function loadRunTokenKeys(config: { publicKey: string } | undefined, options: { now?: () => number } = {}): RunTokenKeys | undefined {
  if (config === undefined) return undefined;
  const file = config.publicKey;
  let text: string;
  try {
    text = readSmallFileSync(file, 'run token public key file').toString('utf8');
  } catch (err) {
    throw new AuditConfigError(`runTokens.publicKey: ${(err as Error).message}`);
  }
  if (process.platform !== 'win32' && (statSync(file).mode & 0o002) !== 0) {
    throw new AuditConfigError(`runTokens.publicKey: ${file} is writable by every user: anyone could put their own key there (chmod o-w ${file})`);
  }
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new AuditConfigError(`runTokens.publicKey: ${file} holds no "-----BEGIN PUBLIC KEY-----" block (an Ed25519 SPKI PEM)`);
  try {
    return new RunTokenKeys(blocks, options);
  } catch (err) {
    throw new AuditConfigError(`runTokens.publicKey: ${file}: ${(err as Error).message}`);
  }
}
