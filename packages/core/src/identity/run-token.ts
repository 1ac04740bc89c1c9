import { sign, verify, type KeyObject } from 'node:crypto';
import { AuditConfigError } from '../contract/errors.js';
import type { AgentIdentity, Principal } from './run-context.js';
import { privateRunTokenKey, publicRunTokenKey, runTokenKeyId, type RunTokenKey } from './run-token-keys.js';

/**
 * Run tokens (docs/gateway.md, "Identity and run tokens"): a short-lived statement, signed with
 * an Ed25519 key of the auditor's own (not the checkpoint key), that the process holding that key
 * opened run R for principal P (and agent A). Compact form: `tt1.<base64url payload>.<base64url
 * signature>`, the signature over the ASCII bytes of `tt1.<payload>`. The payload is JSON:
 * `{"v":1,"kid","runId","principal":{"id","type"?},"agent"?:{"name"?,"id"?},"iat","exp"}`,
 * times in milliseconds since the epoch.
 */
export const RUN_TOKEN_PREFIX = 'tt1';
/** The `params._meta` key @tooltrail/mcp sends the run token under. */
export const RUN_TOKEN_META_KEY = 'tooltrail/runToken';
export const DEFAULT_RUN_TOKEN_TTL_MS = 15 * 60_000;
/** Longest lifetime a token may claim: run tokens are short-lived by design. */
export const MAX_RUN_TOKEN_TTL_MS = 24 * 3_600_000;
/** How far in the future `iat` may be (clocks of two hosts disagree a little). */
export const RUN_TOKEN_CLOCK_SKEW_MS = 60_000;
/** Longest token accepted; anything longer is refused before it is decoded. */
export const MAX_RUN_TOKEN_CHARS = 8192;
const MAX_ID_CHARS = 512;

export interface RunTokenInput {
  runId: string;
  principal: Principal;
  agent?: AgentIdentity;
  /** Default 15 minutes; at most 24 hours. */
  expiresInMs?: number;
  /** Issue time in ms since the epoch (tests). Default `Date.now()`. */
  now?: number;
}

export interface RunTokenClaims {
  readonly runId: string;
  readonly principal: Readonly<Principal>;
  readonly agent: Readonly<AgentIdentity> | undefined;
  /** Milliseconds since the epoch. */
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** Id of the key that signed it (runTokenKeyId of its public key). */
  readonly keyId: string;
}

/** Why a token was refused: stable codes, one per check, in the order they are made. */
export type RunTokenRejection =
  | 'malformed' // not a string, too long, not three dot-separated parts
  | 'prefix' // not `tt1.`
  | 'base64' // a part that is not canonical base64url
  | 'unsigned' // an empty signature part
  | 'signature' // no given key verifies it (wrong key, tampered payload, forged signature)
  | 'json' // signed, but the payload is not JSON
  | 'claims' // signed JSON, but a field missing, of the wrong type, unknown, or inconsistent
  | 'expired'
  | 'not_yet_valid';

export type RunTokenVerification =
  | { ok: true; claims: RunTokenClaims }
  | { ok: false; reason: RunTokenRejection; message: string };

/** Mints a run token. Bad input or a key that is not an Ed25519 private key is an AuditConfigError. */
export function mintRunToken(input: RunTokenInput, privateKey: RunTokenKey): string {
  const key = privateRunTokenKey(privateKey);
  const ttl = input.expiresInMs ?? DEFAULT_RUN_TOKEN_TTL_MS;
  const issues: string[] = [];
  if (!Number.isSafeInteger(ttl) || ttl <= 0 || ttl > MAX_RUN_TOKEN_TTL_MS) issues.push(`expiresInMs must be a whole number of ms in 1..${MAX_RUN_TOKEN_TTL_MS}`);
  const iat = input.now ?? Date.now();
  if (!Number.isSafeInteger(iat) || iat < 0) issues.push('now must be a whole number of ms since the epoch');
  const payload: Record<string, unknown> = { v: 1, kid: runTokenKeyId(key), runId: input.runId, principal: input.principal };
  if (input.agent !== undefined) payload.agent = input.agent;
  payload.iat = iat;
  payload.exp = iat + ttl;
  issues.push(...claimIssues(payload));
  if (issues.length > 0) throw new AuditConfigError('cannot mint a run token', issues);
  const head = `${RUN_TOKEN_PREFIX}.${Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')}`;
  return `${head}.${sign(null, Buffer.from(head, 'ascii'), key).toString('base64url')}`;
}

/**
 * Checks a run token against one or more public keys at `now` (ms since the epoch). Never throws
 * for a bad token: the answer says why it was refused. A key that is not an Ed25519 key throws
 * AuditConfigError (that is the caller's configuration, not the token). Pass KeyObjects when
 * checking many tokens: PEM text is parsed on every call.
 */
export function verifyRunToken(token: unknown, publicKey: RunTokenKey | readonly RunTokenKey[], now: number = Date.now()): RunTokenVerification {
  const keys = (Array.isArray(publicKey) ? publicKey : [publicKey]).map((k: RunTokenKey) => publicRunTokenKey(k));
  if (keys.length === 0) throw new AuditConfigError('verifyRunToken() needs at least one public key');
  if (typeof token !== 'string') return no('malformed', 'a run token is a string');
  if (token.length > MAX_RUN_TOKEN_CHARS) return no('malformed', `a run token is at most ${MAX_RUN_TOKEN_CHARS} characters, got ${token.length}`);
  const parts = token.split('.');
  if (parts.length !== 3) return no('malformed', `a run token has three dot-separated parts, got ${parts.length}`);
  const [prefix, body, sig] = parts as [string, string, string];
  if (prefix !== RUN_TOKEN_PREFIX) return no('prefix', `a run token starts with "${RUN_TOKEN_PREFIX}.", not ${JSON.stringify(prefix.slice(0, 16))}`);
  const payloadBytes = base64url(body);
  if (payloadBytes === undefined || payloadBytes.length === 0) return no('base64', 'the payload is not canonical base64url');
  if (sig === '') return no('unsigned', 'the token has no signature');
  const sigBytes = base64url(sig);
  if (sigBytes === undefined) return no('base64', 'the signature is not canonical base64url');
  const signed = Buffer.from(`${prefix}.${body}`, 'ascii');
  const by = sigBytes.length === 64 ? keys.find((k) => verifies(signed, k, sigBytes)) : undefined;
  if (by === undefined) return no('signature', sigBytes.length === 64 ? 'no trusted key verifies the signature' : 'an Ed25519 signature is 64 bytes');
  let payload: unknown;
  try {
    payload = JSON.parse(payloadBytes.toString('utf8'));
  } catch {
    return no('json', 'the signed payload is not JSON');
  }
  const issues = claimIssues(payload);
  if (issues.length > 0) return no('claims', issues.join('; '));
  const p = payload as Record<string, unknown>;
  const keyId = runTokenKeyId(by);
  if (p.kid !== keyId) return no('claims', `kid ${JSON.stringify(p.kid)} is not the id of the key that signed it (${keyId})`);
  const iat = p.iat as number;
  const exp = p.exp as number;
  if (now >= exp) return no('expired', `expired ${now - exp} ms ago`);
  if (iat > now + RUN_TOKEN_CLOCK_SKEW_MS) return no('not_yet_valid', `issued ${iat - now} ms in the future`);
  const principal = p.principal as Principal;
  const agent = p.agent as AgentIdentity | undefined;
  return {
    ok: true,
    claims: Object.freeze({
      runId: p.runId as string,
      principal: Object.freeze({ ...principal }),
      agent: agent === undefined ? undefined : Object.freeze({ ...agent }),
      issuedAt: iat,
      expiresAt: exp,
      keyId,
    }),
  };
}

function no(reason: RunTokenRejection, message: string): RunTokenVerification {
  return { ok: false, reason, message };
}

function verifies(data: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    return verify(null, data, key, signature);
  } catch {
    return false;
  }
}

/** Strict base64url: only the alphabet, no padding, and the canonical encoding of what it decodes to. */
function base64url(s: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return undefined;
  const bytes = Buffer.from(s, 'base64url');
  return bytes.toString('base64url') === s ? bytes : undefined;
}

const CLAIM_KEYS = new Set(['v', 'kid', 'runId', 'principal', 'agent', 'iat', 'exp']);

/** Every problem with a payload; empty when it is a valid claims object. */
function claimIssues(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['the payload must be a JSON object'];
  const p = value as Record<string, unknown>;
  const issues: string[] = [];
  for (const k of Object.keys(p)) if (!CLAIM_KEYS.has(k)) issues.push(`unknown claim "${k}"`);
  if (p.v !== 1) issues.push('v must be 1');
  if (typeof p.kid !== 'string' || !/^[0-9a-f]{16}$/.test(p.kid)) issues.push('kid must be 16 hex digits');
  idString(p.runId, 'runId', true, issues);
  const principal = p.principal;
  if (!isPlain(principal)) issues.push('principal must be an object {id, type?}');
  else {
    for (const k of Object.keys(principal)) if (k !== 'id' && k !== 'type') issues.push(`unknown claim "principal.${k}"`);
    idString(principal.id, 'principal.id', true, issues);
    idString(principal.type, 'principal.type', false, issues);
  }
  if (p.agent !== undefined) {
    if (!isPlain(p.agent)) issues.push('agent, when given, must be an object {name?, id?}');
    else {
      for (const k of Object.keys(p.agent)) if (k !== 'name' && k !== 'id') issues.push(`unknown claim "agent.${k}"`);
      idString(p.agent.name, 'agent.name', false, issues);
      idString(p.agent.id, 'agent.id', false, issues);
    }
  }
  const iatOk = Number.isSafeInteger(p.iat) && (p.iat as number) >= 0;
  const expOk = Number.isSafeInteger(p.exp);
  if (!iatOk) issues.push('iat must be a whole number of ms since the epoch');
  if (!expOk) issues.push('exp must be a whole number of ms since the epoch');
  if (iatOk && expOk) {
    const ttl = (p.exp as number) - (p.iat as number);
    if (ttl <= 0) issues.push('exp must be after iat');
    else if (ttl > MAX_RUN_TOKEN_TTL_MS) issues.push(`a run token lives at most ${MAX_RUN_TOKEN_TTL_MS} ms, this one ${ttl}`);
  }
  return issues;
}

function idString(v: unknown, name: string, required: boolean, issues: string[]): void {
  if (v === undefined && !required) return;
  if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_ID_CHARS) {
    issues.push(`${name}${required ? '' : ', when given,'} must be a non-empty string of at most ${MAX_ID_CHARS} characters`);
  }
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
