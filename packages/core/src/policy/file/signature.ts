/**
 * Detached Ed25519 signatures over a policy file's bytes. With a public key configured, a file
 * whose signature is missing, malformed, wrong, or made for other bytes is refused: whoever can
 * write the policy file but not sign it cannot change what the agent may do.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readSmallFileSync } from '../../files/read-small-file.js';

const SIGNATURE_MAX_BYTES = 4_096;

/** A PEM public key, or the path of a file holding one; must be Ed25519. */
export function loadPolicyPublicKey(key: string): KeyObject {
  const pem = key.includes('-----BEGIN') ? key : readSmallFileSync(key, 'public key', 64 * 1024).toString('utf8');
  let k: KeyObject;
  try {
    k = createPublicKey(pem);
  } catch (err) {
    throw new Error(`the public key is not a PEM public key: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (k.asymmetricKeyType !== 'ed25519') throw new Error(`the public key is ${k.asymmetricKeyType ?? 'unknown'}, not Ed25519`);
  return k;
}

/** The signature file's bytes; throws an Error saying why it cannot be read (missing, not a file, too big). */
export function readSignatureFile(signaturePath: string): Buffer {
  try {
    return readSmallFileSync(signaturePath, 'signature file', SIGNATURE_MAX_BYTES);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new Error(code === 'ENOENT' ? `signature file ${signaturePath} is missing` : `cannot read signature file: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Throws an Error saying why, unless `signaturePath` holds a valid signature of `bytes` by `key`.
 * `raw`: the signature file's bytes when the caller read them already (one read, one verdict).
 */
export function verifyPolicySignature(bytes: Buffer, signaturePath: string, key: KeyObject, raw?: Buffer): void {
  const text = (raw ?? readSignatureFile(signaturePath)).toString('utf8').trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new Error(`signature file ${signaturePath} is not base64`);
  const sig = Buffer.from(text, 'base64');
  if (sig.length !== 64) throw new Error(`signature file ${signaturePath} holds ${sig.length} bytes, an Ed25519 signature is 64`);
  if (!verify(null, bytes, key, sig)) throw new Error(`the signature in ${signaturePath} does not verify for this file's bytes`);
}
