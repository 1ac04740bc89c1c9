import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readSmallFileSync } from '../files/read-small-file.js';
import { AuditConfigError } from '../contract/errors.js';

/** A short, stable name for a public key: the first 16 hex of SHA-256 over its SPKI DER bytes. */
export function keyId(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export function loadSigningKey(source: KeyObject | string): KeyObject {
  try {
    const key = typeof source === 'string' ? createPrivateKey(source.includes('-----BEGIN') ? source : readSmallFileSync(source, 'signing key file')) : source;
    if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 private key');
    return key;
  } catch (err) {
    throw new AuditConfigError(`integrity signing key unusable: ${(err as Error).message}`, [], 'TOOLTRAIL_INTEGRITY_KEY');
  }
}

export function loadPublicKey(source: KeyObject | string): KeyObject {
  try {
    const key = typeof source === 'string' ? createPublicKey(source.includes('-----BEGIN') ? source : readSmallFileSync(source, 'public key file')) : source;
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 public key');
    return key.type === 'private' ? createPublicKey(key) : key;
  } catch (err) {
    throw new AuditConfigError(`public key unusable: ${(err as Error).message}`, [], 'TOOLTRAIL_INTEGRITY_KEY');
  }
}

/** A new Ed25519 key pair as PEM (PKCS#8 private, SPKI public). */
export function generateSigningKeyPair(): { privateKeyPem: string; publicKeyPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyId(publicKey),
  };
}
