/**
 * `@tooltrail/core/integrity`: what a verifier needs to check a trail without the wrapper: the
 * record's canonical bytes, its hash and MAC, checkpoint content, and the key helpers.
 */
export {
  canonicalRecordJson,
  canonicalCheckpointJson,
  recordHash,
  recordMac,
  GENESIS_HASH,
  RECORD_VERSION,
  CHECKPOINT_VERSION,
} from '../integrity/canonical.js';
export type { CanonicalRecord, CanonicalValue, CheckpointContent } from '../integrity/canonical.js';
/** A finished span's canonical bytes (what the chain hashes), straight from the span. */
export { spanCanonicalJson } from '../integrity/span-record.js';
export { generateSigningKeyPair, keyId, loadPublicKey, loadSigningKey } from '../integrity/keys.js';
/** Reads a key or token file without blocking on a FIFO or reading a device without end. */
export { readSmallFileSync, SMALL_FILE_MAX_BYTES } from '../files/read-small-file.js';
/** mkdir -p that fails instead of looping (Node 20's recursive mkdir never returns under /proc). */
export { makeDirSync } from '../files/make-dir.js';
