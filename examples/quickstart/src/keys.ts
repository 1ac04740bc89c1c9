import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { collectorBin } from '@tooltrail/cli';

/**
 * The demo's keys, made once with `tooltrail keygen` and kept in a folder only the user running
 * the demo can read (0700, files 0600), outside every folder the demo's tools and its collector
 * read or write: $TOOLTRAIL_DEMO_KEYS, else $XDG_CONFIG_HOME/tooltrail-demo, else
 * ~/.config/tooltrail-demo. One folder holds them all for the demo's sake; in production each
 * lives apart (docs/integrity.md, "Where each key lives"):
 *   - tooltrail-signing.key  the agent's signing key: a secret mount of the agent process only
 *   - integrity.key          the agent's MAC key: the same
 *   - writer.token           the agent's bearer token for the collector: the same
 *   - tooltrail-seal.key     the collector's seal key: the collector's host only
 *   - tokens.json            the collector's list of accepted tokens (their SHA-256 only)
 *   - *.pub                  public keys: with whoever runs tooltrail verify
 */
export interface DemoKeys {
  dir: string;
  created: boolean;
  signingKey: string;
  signingPub: string;
  sealKey: string;
  sealPub: string;
  macKeyFile: string;
  macKey: string;
  token: string;
  tokensFile: string;
}

const WRITER = 'support-agent';

export function keysFolder(): string {
  if (process.env.TOOLTRAIL_DEMO_KEYS) return path.resolve(process.env.TOOLTRAIL_DEMO_KEYS);
  const config = process.env.XDG_CONFIG_HOME ? path.resolve(process.env.XDG_CONFIG_HOME) : path.join(homedir(), '.config');
  return path.join(config, 'tooltrail-demo');
}

const inside = (child: string, parent: string) => {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

function keygen(args: string[]): string {
  return execFileSync(process.execPath, [collectorBin, 'keygen', ...args], { encoding: 'utf8' });
}

/** Makes the keys on first use; refuses a folder others can read, or one the demo writes into. */
export function demoKeys(demoFolders: string[]): DemoKeys {
  const dir = keysFolder();
  for (const f of demoFolders) {
    if (inside(dir, f) || inside(f, dir)) throw new Error(`the demo's keys folder ${dir} must lie outside ${f}, which the demo writes`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) throw new Error(`${dir} belongs to another user: the demo keeps its keys only in a folder of yours`);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  const k: DemoKeys = {
    dir,
    created: false,
    signingKey: path.join(dir, 'tooltrail-signing.key'),
    signingPub: path.join(dir, 'tooltrail-signing.pub'),
    sealKey: path.join(dir, 'tooltrail-seal.key'),
    sealPub: path.join(dir, 'tooltrail-seal.pub'),
    macKeyFile: path.join(dir, 'integrity.key'),
    macKey: '',
    token: '',
    tokensFile: path.join(dir, 'tokens.json'),
  };
  const tokenFile = path.join(dir, 'writer.token');
  if (!existsSync(k.signingKey)) {
    keygen(['--out', dir]);
    k.created = true;
  }
  if (!existsSync(k.sealKey)) {
    keygen(['--seal', '--out', dir]);
    k.created = true;
  }
  if (!existsSync(k.macKeyFile)) {
    writeFileSync(k.macKeyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    k.created = true;
  }
  if (!existsSync(tokenFile) || !existsSync(k.tokensFile)) {
    const out = keygen(['--token', '--writer', WRITER, '--tokens-file', k.tokensFile]);
    const token = /^token:\s+(\S+)$/m.exec(out)?.[1];
    if (!token) throw new Error(`tooltrail keygen --token printed no token: ${out}`);
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    k.created = true;
  }
  for (const f of [k.signingKey, k.sealKey, k.macKeyFile, tokenFile, k.tokensFile]) chmodSync(f, 0o600);
  k.macKey = readFileSync(k.macKeyFile, 'utf8').trim();
  k.token = readFileSync(tokenFile, 'utf8').trim();
  return k;
}
