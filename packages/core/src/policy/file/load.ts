/**
 * Reading a policy file: its bytes (small, regular file), the signature when a key is
 * configured, the text, the document, the compiled policy, and its version: `sha256:` and the
 * hex digest of exactly the bytes that were verified and parsed.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { extname, resolve } from 'node:path';
import { AuditConfigError } from '../../contract/errors.js';
import { checkKeys } from '../../contract/option-keys.js';
import { readSmallFileSync } from '../../files/read-small-file.js';
import { compilePolicy } from './compile.js';
import { parsePolicyDocument } from './parse.js';
import { loadPolicyPublicKey, readSignatureFile, verifyPolicySignature } from './signature.js';
import type { CompiledPolicy, FilePolicyOptions } from './types.js';

export interface ResolvedPolicyOptions {
  path: string;
  format: 'json' | 'yaml';
  key: KeyObject | undefined;
  signaturePath: string;
  watch: boolean;
  pollMs: number;
  baseDir: string;
}

export interface LoadedPolicy {
  compiled: CompiledPolicy;
  version: string;
}

const OPTION_KEYS = ['path', 'publicKey', 'signaturePath', 'watch', 'pollMs', 'baseDir'] as const;

export function resolvePolicyOptions(options: FilePolicyOptions | string): ResolvedPolicyOptions {
  const o: FilePolicyOptions = typeof options === 'string' ? { path: options } : options;
  const issues: string[] = [];
  if (typeof o !== 'object' || o === null) throw new AuditConfigError('invalid policyFile options', ['must be a path or an object']);
  checkKeys(o, OPTION_KEYS, 'policyFile.', issues);
  if (typeof o.path !== 'string' || o.path === '') issues.push('policyFile.path must be a non-empty string');
  for (const k of ['publicKey', 'signaturePath', 'baseDir'] as const) {
    if (o[k] !== undefined && (typeof o[k] !== 'string' || o[k] === '')) issues.push(`policyFile.${k} must be a non-empty string`);
  }
  if (o.watch !== undefined && typeof o.watch !== 'boolean') issues.push('policyFile.watch must be a boolean');
  if (o.pollMs !== undefined && (typeof o.pollMs !== 'number' || !Number.isInteger(o.pollMs) || o.pollMs < 10 || o.pollMs > 3_600_000)) {
    issues.push('policyFile.pollMs must be an integer from 10 to 3600000');
  }
  const ext = typeof o.path === 'string' ? extname(o.path).toLowerCase() : '';
  const format = ext === '.json' ? 'json' : ext === '.yaml' || ext === '.yml' ? 'yaml' : undefined;
  if (typeof o.path === 'string' && o.path !== '' && format === undefined) issues.push(`policyFile.path must end in .json, .yaml or .yml, not ${ext || '(none)'}`);
  if (issues.length > 0) throw new AuditConfigError('invalid policyFile options', issues);
  let key: KeyObject | undefined;
  if (o.publicKey !== undefined) {
    try {
      key = loadPolicyPublicKey(o.publicKey);
    } catch (err) {
      throw new AuditConfigError('invalid policyFile.publicKey', [err instanceof Error ? err.message : String(err)]);
    }
  }
  const path = resolve(o.path);
  return {
    path,
    format: format as 'json' | 'yaml',
    key,
    signaturePath: o.signaturePath !== undefined ? resolve(o.signaturePath) : `${path}.sig`,
    watch: o.watch ?? true,
    pollMs: o.pollMs ?? 1000,
    baseDir: o.baseDir ?? process.cwd(),
  };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** What a policy's inputs are: the file's bytes and, with a key, the signature's (or why it is unreadable). */
function inputsKey(bytes: Buffer | Error, sig: Buffer | Error | undefined): string {
  const h = createHash('sha256');
  for (const part of sig === undefined ? [bytes] : [bytes, sig]) {
    h.update(part instanceof Error ? `\0unreadable:${part.message}` : part);
    h.update('\0');
  }
  return h.digest('hex');
}

function readOrError(read: () => Buffer): Buffer | Error {
  try {
    return read();
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** The key of the policy's inputs as they are on disk now: a reload whose inputs did not change is skipped. */
export function currentInputsKey(o: ResolvedPolicyOptions): string {
  const bytes = readOrError(() => readSmallFileSync(o.path, 'policy file'));
  return inputsKey(bytes, o.key === undefined ? undefined : readOrError(() => readSignatureFile(o.signaturePath)));
}

/**
 * Reads, verifies, parses and compiles; throws an AuditConfigError naming the file and the
 * problem. `seen` gets the key of exactly the bytes this read (file and signature, each read
 * once), so a reload remembers what it judged, not what was there a moment before.
 */
export function readPolicyFile(o: ResolvedPolicyOptions, seen?: (key: string) => void): LoadedPolicy {
  const where = `policy file ${o.path}`;
  let bytes: Buffer;
  try {
    bytes = readSmallFileSync(o.path, 'policy file');
  } catch (err) {
    throw new AuditConfigError(`cannot read ${where}`, [err instanceof Error ? err.message : String(err)]);
  }
  const sig = o.key === undefined ? undefined : readOrError(() => readSignatureFile(o.signaturePath));
  seen?.(inputsKey(bytes, sig));
  if (o.key !== undefined) {
    try {
      if (sig instanceof Error) throw sig;
      verifyPolicySignature(bytes, o.signaturePath, o.key, sig);
    } catch (err) {
      throw new AuditConfigError(`${where} is not signed by the configured key`, [err instanceof Error ? err.message : String(err)]);
    }
  }
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new AuditConfigError(`invalid ${where}`, ['not UTF-8 text']);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const doc = parsePolicyDocument(text, o.format, where);
  const compiled = compilePolicy(doc, { baseDir: o.baseDir });
  return { compiled, version: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}
