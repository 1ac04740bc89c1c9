import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateSigningKeyPair } from '@tooltrail/core';
import { UsageError, type Io } from './io.js';

export const KEYGEN_USAGE = `Usage: tooltrail keygen [--out <folder>] [--name <base>] [--force]

Writes an Ed25519 key pair for signing the trail's checkpoints:
  <folder>/<base>.key   private key (PKCS#8 PEM, mode 0600): give it to the agent's auditor
                        (integrity.signingKey or TOOLTRAIL_SIGNING_KEY_FILE), nowhere else
  <folder>/<base>.pub   public key (SPKI PEM): give it to whoever runs tooltrail verify

Keep the private key where the agent's tools cannot read it (a secret mount readable only by
the process that creates the auditor), and the public key with the verifier, away from the
storage the trail lives in. See docs/integrity.md.

Options:
  --out <folder>   where to write (default .)
  --name <base>    file name base (default tooltrail-signing)
  --force          overwrite existing files
`;

export async function keygen(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { out: { type: 'string' }, name: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.out(KEYGEN_USAGE);
    return 0;
  }
  const dir = path.resolve(values.out ?? '.');
  const base = values.name ?? 'tooltrail-signing';
  if (!/^[A-Za-z0-9._-]+$/.test(base)) throw new UsageError(`--name must be a plain file name, got "${base}"`);
  const keyFile = path.join(dir, `${base}.key`);
  const pubFile = path.join(dir, `${base}.pub`);
  if (!values.force && (existsSync(keyFile) || existsSync(pubFile))) {
    io.err(`tooltrail keygen: ${keyFile} or ${pubFile} exists; pass --force to overwrite\n`);
    return 1;
  }
  mkdirSync(dir, { recursive: true });
  const pair = generateSigningKeyPair();
  writeFileSync(keyFile, pair.privateKeyPem, { mode: 0o600 });
  writeFileSync(pubFile, pair.publicKeyPem, { mode: 0o644 });
  io.out(`private key: ${keyFile}\npublic key:  ${pubFile}\nkey id:      ${pair.keyId}\n`);
  return 0;
}
