import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { AuditConfigError } from '../contract/errors.js';
import { readSmallFileSync } from '../files/read-small-file.js';

/** A run token key: a node:crypto KeyObject, or PEM text (PKCS#8 private, SPKI public). */
export type RunTokenKey = KeyObject | string;

const PEM = '-----BEGIN';

/** The first 16 hex of SHA-256 over the public key's SPKI DER bytes, as checkpoints name keys. */
export function runTokenKeyId(key: RunTokenKey): string {
  const k = typeof key === 'string' ? publicRunTokenKey(key) : key;
  const pub = k.type === 'private' ? createPublicKey(k) : k;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** The Ed25519 private key that mints run tokens. A public key, or any other kind, is an AuditConfigError. */
export function privateRunTokenKey(source: RunTokenKey, allowFile = false): KeyObject {
  try {
    const key = typeof source === 'string' ? createPrivateKey(pemOrFile(source, allowFile, 'run token key file')) : source;
    if (!isKeyObject(key) || key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
      throw new Error('not an Ed25519 private key (KeyObject or PKCS#8 PEM)');
    }
    return key;
  } catch (err) {
    throw new AuditConfigError(`run token key unusable: ${(err as Error).message}`, [], 'TOOLTRAIL_RUN_TOKEN_KEY');
  }
}

/** The Ed25519 public key that checks run tokens (a private key gives its public half). */
export function publicRunTokenKey(source: RunTokenKey, allowFile = false): KeyObject {
  try {
    const key = typeof source === 'string' ? createPublicKey(pemOrFile(source, allowFile, 'run token public key file')) : source;
    if (!isKeyObject(key) || key.asymmetricKeyType !== 'ed25519' || key.type === 'secret') {
      throw new Error('not an Ed25519 public key (KeyObject or SPKI PEM)');
    }
    return key.type === 'private' ? createPublicKey(key) : key;
  } catch (err) {
    throw new AuditConfigError(`run token public key unusable: ${(err as Error).message}`, [], 'TOOLTRAIL_RUN_TOKEN_KEY');
  }
}

function pemOrFile(source: string, allowFile: boolean, what: string): string | Buffer {
  if (source.includes(PEM)) return source;
  if (!allowFile) throw new Error('expected PEM text (-----BEGIN ...) or a KeyObject');
  return readSmallFileSync(source, what);
}

function isKeyObject(v: unknown): v is KeyObject {
  return typeof v === 'object' && v !== null && typeof (v as KeyObject).export === 'function' && typeof (v as KeyObject).type === 'string';
}
