import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readSmallFileSync } from '@tooltrail/core/integrity';

/**
 * The collector's seal key: an Ed25519 key of its own, held only on the collector's host (never
 * by the agent, whose keys sign the agent's chain). Key ids are the same as the agent's signing
 * keys': the first 16 hex digits of the SHA-256 of the public key's SPKI DER.
 */

export class SealKeyError extends Error {
  override readonly name = 'SealKeyError';
}

export function sealKeyId(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** The private seal key from a PKCS#8 PEM file; refuses anything but an Ed25519 private key. */
export function loadSealKey(file: string): KeyObject {
  let pem: string;
  try {
    pem = readSmallFileSync(file, 'seal key file').toString('utf8');
  } catch (err) {
    throw new SealKeyError(`cannot read the seal key ${file}: ${(err as Error).message}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new SealKeyError(`${file} is not a private key in PEM form: ${(err as Error).message} (tooltrail keygen --seal writes one)`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new SealKeyError(`${file} is a ${key.asymmetricKeyType ?? 'unknown'} key; the seal key must be Ed25519 (tooltrail keygen --seal writes one)`);
  }
  return key;
}

/** A public key (SPKI PEM) or private key (PKCS#8 PEM), as the key a verifier trusts. */
export function loadSealPublicKey(pemOrFile: string): KeyObject {
  const pem = pemOrFile.includes('-----BEGIN') ? pemOrFile : readSmallFileSync(pemOrFile, 'collector public key file').toString('utf8');
  const key = pem.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new SealKeyError('a collector seal key must be Ed25519');
  return key;
}
