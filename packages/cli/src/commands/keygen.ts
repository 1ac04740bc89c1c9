import { existsSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateSigningKeyPair, makeDirSync, readSmallFileSync } from '@tooltrail/core/integrity';
import { TokensFileError, newToken, parseTokensFile, type TokensFile } from '../collector/tokens.js';
import { UsageError, type Io } from './io.js';

export const KEYGEN_USAGE = `Usage: tooltrail keygen [--seal] [--out <folder>] [--name <base>] [--force]
       tooltrail keygen --token --writer <name> [--tokens-file <file>]

Writes an Ed25519 key pair:
  <folder>/<base>.key   private key (PKCS#8 PEM, mode 0600)
  <folder>/<base>.pub   public key (SPKI PEM): give it to whoever runs tooltrail verify

Without --seal it is the agent's signing key (default name tooltrail-signing): give the .key to
the agent's auditor (integrity.signingKey or TOOLTRAIL_SIGNING_KEY_FILE), nowhere else, in a
secret mount the agent's tools cannot read.
With --seal it is the collector's seal key (default name tooltrail-seal): give the .key to
tooltrail collect --seal-key on the collector's host only, never to an agent, so the agent's
keys cannot re-seal the collector's files.
Public keys go with the verifier, away from the storage the trail lives in (docs/integrity.md).

With --token it prints a new random writer token and its entry for the collector's --tokens
file instead. The token goes to the writer (its OTLP header "authorization: Bearer <token>");
the file holds only its SHA-256. With --tokens-file the entry is added to that file (created,
mode 0600, if missing).

Options:
  --seal                 a collector seal key rather than an agent signing key
  --out <folder>         where to write (default .)
  --name <base>          file name base (default tooltrail-signing, or tooltrail-seal)
  --force                overwrite existing files
  --token                a writer token instead of a key pair
  --writer <name>        the writer name the token maps to (with --token)
  --tokens-file <file>   add the entry to this tokens file (with --token)
`;

export async function keygen(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      out: { type: 'string' },
      name: { type: 'string' },
      force: { type: 'boolean' },
      seal: { type: 'boolean' },
      token: { type: 'boolean' },
      writer: { type: 'string' },
      'tokens-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(KEYGEN_USAGE);
    return 0;
  }
  if (values.token) {
    if (values.seal || values.out !== undefined || values.name !== undefined || values.force) {
      throw new UsageError('--token takes only --writer and --tokens-file');
    }
    if (values.writer === undefined) throw new UsageError('--token needs --writer <name>: the writer name recorded with every span the token writes');
    return token(values.writer, values['tokens-file'], io);
  }
  if (values.writer !== undefined || values['tokens-file'] !== undefined) throw new UsageError('--writer and --tokens-file go with --token');
  const dir = path.resolve(values.out ?? '.');
  const base = values.name ?? (values.seal ? 'tooltrail-seal' : 'tooltrail-signing');
  if (!/^[A-Za-z0-9._-]+$/.test(base)) throw new UsageError(`--name must be a plain file name, got "${base}"`);
  const keyFile = path.join(dir, `${base}.key`);
  const pubFile = path.join(dir, `${base}.pub`);
  if (!values.force && (existsSync(keyFile) || existsSync(pubFile))) {
    io.err(`tooltrail keygen: ${keyFile} or ${pubFile} exists; pass --force to overwrite\n`);
    return 1;
  }
  makeDirSync(dir);
  const pair = generateSigningKeyPair();
  writeFileSync(keyFile, pair.privateKeyPem, { mode: 0o600 });
  writeFileSync(pubFile, pair.publicKeyPem, { mode: 0o644 });
  io.out(`private key: ${keyFile}\npublic key:  ${pubFile}\nkey id:      ${pair.keyId}\n`);
  return 0;
}

function token(writer: string, tokensFile: string | undefined, io: Io): number {
  let made: ReturnType<typeof newToken>;
  try {
    made = newToken(writer);
  } catch (err) {
    if (err instanceof TokensFileError) throw new UsageError(err.message);
    throw err;
  }
  const entry = JSON.stringify(made.entry);
  if (tokensFile !== undefined) {
    try {
      addEntry(path.resolve(tokensFile), made.entry);
    } catch (err) {
      io.err(`tooltrail keygen: ${(err as Error).message}\n`);
      return 1;
    }
  }
  io.out(
    `token:  ${made.token}\n` +
      `entry:  ${entry}\n` +
      (tokensFile === undefined ? `Add the entry to the "writers" list of the collector's --tokens file.\n` : `added to ${path.resolve(tokensFile)}\n`) +
      `Give the token to the writer only (OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer <token>"); it is not shown again.\n`,
  );
  return 0;
}

/** Adds an entry to a tokens file, checked and replaced atomically (temp file + rename). */
function addEntry(file: string, entry: TokensFile['writers'][number]): void {
  let current: TokensFile | undefined;
  if (existsSync(file)) current = parseTokensFile(JSON.parse(readSmallFileSync(file, 'tokens file').toString('utf8')) as unknown, file);
  const next = parseTokensFile({ version: 1, writers: [...(current?.writers ?? []), entry] }, file);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}
