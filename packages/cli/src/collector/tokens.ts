import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { statSync } from 'node:fs';
import { readSmallFileSync } from '@tooltrail/core/integrity';
import { didYouMean } from './nearest.js';

/**
 * The writers' tokens file (docs/collector.md, "Writer tokens"): which bearer tokens may write,
 * and the writer name each one maps to. The file holds the SHA-256 of each token, never the
 * token, so reading it does not let anyone write. The gateway reuses this format and module.
 *
 * ```json
 * { "version": 1, "writers": [ { "writer": "billing-agent", "sha256": "<64 hex digits>" } ] }
 * ```
 */

export class TokensFileError extends Error {
  override readonly name = 'TokensFileError';
}

export interface TokenEntry {
  /** The name recorded with every span this token writes. */
  writer: string;
  /** SHA-256 of the token's UTF-8 bytes, 64 lowercase hex digits. */
  sha256: string;
  /** Free text for the people who manage the file (who, when). */
  comment?: string;
}

export interface TokensFile {
  version: 1;
  writers: TokenEntry[];
}

/** Writer names: what a person can read in a report, and safe in a log line. */
export const WRITER_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const FILE_KEYS = ['version', 'writers'] as const;
const ENTRY_KEYS = ['writer', 'sha256', 'comment'] as const;

/** Checks a parsed tokens file strictly: unknown keys, bad hashes, duplicates are errors. */
export function parseTokensFile(value: unknown, where = 'tokens file'): TokensFile {
  if (!isObject(value)) throw new TokensFileError(`${where}: expected a JSON object {"version":1,"writers":[...]}`);
  unknownKeys(value, FILE_KEYS, where);
  if (value.version !== 1) throw new TokensFileError(`${where}: "version" must be 1, got ${JSON.stringify(value.version)}`);
  if (!Array.isArray(value.writers)) throw new TokensFileError(`${where}: "writers" must be an array`);
  const seen = new Set<string>();
  const writers = value.writers.map((e: unknown, i: number): TokenEntry => {
    const at = `${where}: writers[${i}]`;
    if (!isObject(e)) throw new TokensFileError(`${at} must be an object {"writer","sha256"}`);
    unknownKeys(e, ENTRY_KEYS, at);
    if (typeof e.writer !== 'string' || !WRITER_NAME.test(e.writer)) {
      throw new TokensFileError(`${at}.writer must be a name of letters, digits and . _ : @ / - (at most 128), got ${JSON.stringify(e.writer)}`);
    }
    if (typeof e.sha256 !== 'string' || !HEX64.test(e.sha256.toLowerCase())) {
      throw new TokensFileError(`${at}.sha256 must be the SHA-256 of the token in hex (64 digits; tooltrail keygen --token prints it), never the token itself`);
    }
    if (e.comment !== undefined && typeof e.comment !== 'string') throw new TokensFileError(`${at}.comment must be a string`);
    const sha256 = e.sha256.toLowerCase();
    if (seen.has(sha256)) throw new TokensFileError(`${at}: the same token hash is listed twice`);
    seen.add(sha256);
    return { writer: e.writer, sha256, ...(e.comment === undefined ? {} : { comment: e.comment }) };
  });
  if (writers.length === 0) throw new TokensFileError(`${where}: "writers" is empty, so no writer could ever write`);
  return { version: 1, writers };
}

/** Reads and checks a tokens file. Refuses one that anyone may write to: it decides who writes. */
export function loadTokensFile(file: string): TokensFile {
  let text: string;
  try {
    text = readSmallFileSync(file, 'tokens file').toString('utf8');
  } catch (err) {
    throw new TokensFileError(`cannot read the tokens file ${file}: ${(err as Error).message}`);
  }
  if (process.platform !== 'win32' && (statSync(file).mode & 0o002) !== 0) {
    throw new TokensFileError(`${file} is writable by every user: anyone could add a writer (chmod o-w ${file})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new TokensFileError(`${file} is not JSON: ${(err as Error).message}`);
  }
  return parseTokensFile(value, file);
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random token (256 bits) and its entry for the tokens file. */
export function newToken(writer: string): { token: string; entry: TokenEntry } {
  if (!WRITER_NAME.test(writer)) throw new TokensFileError(`writer name ${JSON.stringify(writer)} must be letters, digits and . _ : @ / - (at most 128)`);
  const token = `tt_${randomBytes(32).toString('base64url')}`;
  return { token, entry: { writer, sha256: tokenHash(token) } };
}

/** Who may write: answers a request's `authorization` header with a writer name, or undefined. */
export class TokenTable {
  private readonly entries: { hash: Buffer; writer: string }[];

  constructor(file: TokensFile) {
    this.entries = file.writers.map((e) => ({ hash: Buffer.from(e.sha256, 'hex'), writer: e.writer }));
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * The writer for `Authorization: Bearer <token>`. The presented token is hashed and compared
   * with every entry in constant time, so the answer's timing says nothing about the tokens.
   */
  authenticate(header: string | undefined): string | undefined {
    const m = header === undefined ? null : /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header);
    if (!m) return undefined;
    const presented = createHash('sha256').update(m[1]!, 'utf8').digest();
    let found: string | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(presented, e.hash) && found === undefined) found = e.writer;
    }
    return found;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unknownKeys(obj: Record<string, unknown>, known: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      throw new TokensFileError(`${where}: unknown key "${key}"${didYouMean(key, known)} (allowed: ${known.join(', ')})`);
    }
  }
}
