import { createHash, timingSafeEqual } from 'node:crypto';
import { statSync } from 'node:fs';
import { parseTokensFile } from '@tooltrail/cli';
import { AuditConfigError } from '@tooltrail/core';
import { readSmallFileSync } from '@tooltrail/core/integrity';
import { copyAgent, copyPrincipal, type ConnectionIdentity, type TokenLookup } from './connection-identity.js';

/**
 * The gateway's tokens file: the collector's format (docs/collector.md, "Writer tokens") with
 * three more fields per entry, which the collector's strict loader refuses, so the gateway reads
 * its own file. The common part is still checked by the collector's own rules (parseTokensFile):
 *
 * ```json
 * { "version": 1, "writers": [ { "writer": "support-agent", "sha256": "<64 hex>",
 *   "principal": { "id": "svc:support", "type": "service" }, "agent": { "name": "support-bot" },
 *   "actForOthers": true, "comment": "..." } ] }
 * ```
 *
 * An entry without `principal` is a collector entry: its writer name is the principal, of type
 * `service`. So a collector tokens file works here as it is.
 */
export interface GatewayTokenEntry {
  writer: string;
  sha256: string;
  principal: { id: string; type?: string };
  agent?: { name?: string; id?: string };
  actForOthers: boolean;
}

const EXTRA_KEYS = ['principal', 'agent', 'actForOthers'] as const;
const MAX_ID = 512;

/** Checks a parsed gateway tokens file; every problem is an AuditConfigError naming the entry. */
export function parseGatewayTokens(value: unknown, where = 'gateway tokens file'): GatewayTokenEntry[] {
  const writers = isObject(value) && Array.isArray(value.writers) ? (value.writers as unknown[]) : undefined;
  const issues: string[] = [];
  const extras = (writers ?? []).map((e, i) => (isObject(e) ? extraFields(e, `writers[${i}]`, issues) : undefined));
  // The collector's checks on what is left: version, names, hashes, duplicates, unknown keys.
  const common = writers === undefined ? value : { ...(value as Record<string, unknown>), writers: writers.map((e) => (isObject(e) ? withoutExtras(e) : e)) };
  let parsed: ReturnType<typeof parseTokensFile> | undefined;
  try {
    parsed = parseTokensFile(common, where);
  } catch (err) {
    // By name: the error may come from the cli's other build.
    if ((err as Error | undefined)?.name !== 'TokensFileError') throw err;
    issues.unshift((err as Error).message);
  }
  if (issues.length > 0 || parsed === undefined) throw new AuditConfigError(`invalid ${where}`, issues);
  return parsed.writers.map((w, i) => {
    const x = extras[i]!;
    return {
      writer: w.writer,
      sha256: w.sha256,
      principal: x.principal ?? { id: w.writer, type: 'service' },
      ...(x.agent === undefined ? {} : { agent: x.agent }),
      actForOthers: x.actForOthers,
    };
  });
}

/** Reads a gateway tokens file. Refuses one every user may write: it decides who connects as whom. */
export function loadGatewayTokens(file: string): GatewayTokenEntry[] {
  let text: string;
  try {
    text = readSmallFileSync(file, 'tokens file').toString('utf8');
  } catch (err) {
    throw new AuditConfigError(`cannot read the gateway tokens file ${file}: ${(err as Error).message}`);
  }
  if (process.platform !== 'win32' && (statSync(file).mode & 0o002) !== 0) {
    throw new AuditConfigError(`${file} is writable by every user: anyone could add a token for any principal (chmod o-w ${file})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AuditConfigError(`${file} is not JSON: ${(err as Error).message}`);
  }
  return parseGatewayTokens(value, file);
}

/** The token table of `listen.http.tokensFile`. */
export function loadTokenLookup(file: string): GatewayTokenTable {
  return new GatewayTokenTable(loadGatewayTokens(file));
}

/** Bearer token → connection identity. Tokens are compared by hash, in constant time, with every entry. */
export class GatewayTokenTable implements TokenLookup {
  private readonly entries: { hash: Buffer; entry: GatewayTokenEntry }[];

  constructor(entries: readonly GatewayTokenEntry[]) {
    this.entries = entries.map((entry) => ({ hash: Buffer.from(entry.sha256, 'hex'), entry }));
  }

  get size(): number {
    return this.entries.length;
  }

  authenticate(authorization: string | undefined): ConnectionIdentity | undefined {
    const m = authorization === undefined ? null : /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(authorization);
    if (!m) return undefined;
    const presented = createHash('sha256').update(m[1]!, 'utf8').digest();
    let found: GatewayTokenEntry | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(presented, e.hash) && found === undefined) found = e.entry;
    }
    if (found === undefined) return undefined;
    return {
      principal: copyPrincipal(found.principal),
      ...(found.agent === undefined ? {} : { agent: copyAgent(found.agent) }),
      actForOthers: found.actForOthers,
      transport: 'http',
      tokenName: found.writer,
    };
  }
}

interface Extras {
  principal: { id: string; type?: string } | undefined;
  agent: { name?: string; id?: string } | undefined;
  actForOthers: boolean;
}

function extraFields(e: Record<string, unknown>, at: string, issues: string[]): Extras {
  const out: Extras = { principal: undefined, agent: undefined, actForOthers: false };
  if (e.principal !== undefined) {
    const p = e.principal;
    if (!isObject(p)) issues.push(`${at}.principal must be an object {"id","type"?}`);
    else {
      unknown(p, ['id', 'type'], `${at}.principal`, issues);
      const id = name(p.id, `${at}.principal.id`, true, issues);
      const type = name(p.type, `${at}.principal.type`, false, issues);
      if (id !== undefined) out.principal = type === undefined ? { id } : { id, type };
    }
  }
  if (e.agent !== undefined) {
    const a = e.agent;
    if (!isObject(a)) issues.push(`${at}.agent must be an object {"name"?,"id"?}`);
    else {
      unknown(a, ['name', 'id'], `${at}.agent`, issues);
      const n = name(a.name, `${at}.agent.name`, false, issues);
      const id = name(a.id, `${at}.agent.id`, false, issues);
      out.agent = { ...(n === undefined ? {} : { name: n }), ...(id === undefined ? {} : { id }) };
    }
  }
  if (e.actForOthers !== undefined) {
    if (typeof e.actForOthers !== 'boolean') issues.push(`${at}.actForOthers must be true or false`);
    else out.actForOthers = e.actForOthers;
  }
  if (out.actForOthers && out.principal === undefined) {
    issues.push(`${at}: actForOthers needs an explicit principal (the service that acts for others)`);
  }
  return out;
}

function withoutExtras(e: Record<string, unknown>): Record<string, unknown> {
  const rest = { ...e };
  for (const k of EXTRA_KEYS) delete rest[k];
  return rest;
}

function name(v: unknown, at: string, required: boolean, issues: string[]): string | undefined {
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_ID) {
    issues.push(`${at} must be a non-empty string of at most ${MAX_ID} characters`);
    return undefined;
  }
  return v;
}

function unknown(obj: Record<string, unknown>, known: readonly string[], at: string, issues: string[]): void {
  for (const k of Object.keys(obj)) if (!known.includes(k)) issues.push(`${at}: unknown key "${k}" (allowed: ${known.join(', ')})`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
