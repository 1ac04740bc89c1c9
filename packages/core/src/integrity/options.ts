import { AuditConfigError } from '../contract/errors.js';
import { IntegrityChain, type IntegrityOptions } from './chain.js';
import { loadSigningKey } from './keys.js';

/** Builds the chain from options and the environment (TOOLTRAIL_INTEGRITY_KEY, TOOLTRAIL_SIGNING_KEY_FILE). */
export function createIntegrityChain(options: IntegrityOptions | false | undefined, env: NodeJS.ProcessEnv = process.env): IntegrityChain | undefined {
  if (options === false) return undefined;
  const o = options ?? {};
  const macKey = o.macKey ?? (env.TOOLTRAIL_INTEGRITY_KEY || undefined);
  if (macKey !== undefined && macKey.length < 16) {
    throw new AuditConfigError('integrity.macKey must be at least 16 bytes (32 random bytes recommended)', [], 'TOOLTRAIL_INTEGRITY_KEY');
  }
  const keySource = o.signingKey ?? (env.TOOLTRAIL_SIGNING_KEY_FILE || undefined);
  const signingKey = keySource !== undefined ? loadSigningKey(keySource) : undefined;
  const every = o.checkpointEvery ?? 1000;
  if (!Number.isInteger(every) || every < 1) throw new AuditConfigError('integrity.checkpointEvery must be a positive integer');
  return new IntegrityChain(macKey, signingKey, every, o.checkpointIntervalMs ?? 10_000);
}
