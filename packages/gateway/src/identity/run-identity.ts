import { RUN_TOKEN_META_KEY, type RunIdentityInput, type RunTokenClaims } from '@tooltrail/core';
import { copyAgent, copyPrincipal, type ConnectionIdentity } from './connection-identity.js';
import type { RunTokenKeys } from './run-token-keys.js';

/** What the gateway made of a call's run token claim (recorded on every call as `tooltrail.run.claim`). */
export type RunClaim = 'verified' | 'none' | 'unsigned' | 'invalid';

export type RunIdentityResult =
  | { ok: true; run: RunIdentityInput; claim: RunClaim; attributes: Record<string, string> }
  | { ok: false; reason: string };

export const ATTR_RUN_CLAIM = 'tooltrail.run.claim';
/** Why a claim is unsigned or invalid: a code of verifyRunToken (`signature`, `expired`, ...) or `no_keys`. */
export const ATTR_RUN_CLAIM_REASON = 'tooltrail.run.claim.reason';
/** Key id of a verified token. */
export const ATTR_RUN_CLAIM_KEY_ID = 'tooltrail.run.claim.key_id';
/** What an unsigned or invalid token says, as it says it (not trusted; masked like every value). */
export const ATTR_RUN_CLAIM_RUN_ID = 'tooltrail.run.claim.run_id';
export const ATTR_RUN_CLAIM_PRINCIPAL_ID = 'tooltrail.run.claim.principal.id';
/** The connection's own principal, when a verified token of an actForOthers connection names another. */
export const ATTR_CONNECTION_PRINCIPAL_ID = 'tooltrail.connection.principal.id';
export const ATTR_CONNECTION_PRINCIPAL_TYPE = 'tooltrail.connection.principal.type';
/** The name of the bearer token the HTTP connection authenticated with. */
export const ATTR_CONNECTION_TOKEN_NAME = 'tooltrail.connection.token.name';

const MAX_CLAIMED_CHARS = 256;

/**
 * The run one `tools/call` is recorded under. The connection's identity is authoritative; a run
 * token in `params._meta["tooltrail/runToken"]` can only narrow it:
 * - verified: the run is the token's (its run id, principal, agent), provided its principal is
 *   the connection's (a principal type or agent name/id the connection names must match too) —
 *   a different principal is rejected unless the connection may `actForOthers`;
 * - none / unsigned / invalid: the connection's identity (no run id: the caller uses the
 *   connection's run), the claim recorded; with `requireToken` the call is rejected instead.
 * `ok: false` means the call is denied (recorded as refused) with `reason`.
 */
export function runIdentityFor(
  conn: ConnectionIdentity,
  meta: Record<string, unknown> | undefined,
  keys: RunTokenKeys | undefined,
  requireToken: boolean,
): RunIdentityResult {
  const base: Record<string, string> = conn.tokenName === undefined ? {} : { [ATTR_CONNECTION_TOKEN_NAME]: conn.tokenName };
  const token = meta === undefined || meta === null || typeof meta !== 'object' ? undefined : meta[RUN_TOKEN_META_KEY];
  if (token === undefined) {
    if (requireToken) return { ok: false, reason: 'this gateway requires a run token (runTokens.require) and the call has none' };
    return connectionRun(conn, 'none', { ...base, [ATTR_RUN_CLAIM]: 'none' });
  }
  if (keys === undefined) {
    const attrs = { ...base, [ATTR_RUN_CLAIM]: 'unsigned', [ATTR_RUN_CLAIM_REASON]: 'no_keys', ...claimedValues(token) };
    if (requireToken) return { ok: false, reason: 'a run token was sent but this gateway has no run token keys to check it' };
    return connectionRun(conn, 'unsigned', attrs);
  }
  const checked = keys.verify(token);
  if (!checked.ok) {
    const claim: RunClaim = checked.reason === 'unsigned' ? 'unsigned' : 'invalid';
    if (requireToken) return { ok: false, reason: `the run token is ${claim} (${checked.reason}: ${checked.message}); this gateway requires a valid one` };
    return connectionRun(conn, claim, { ...base, [ATTR_RUN_CLAIM]: claim, [ATTR_RUN_CLAIM_REASON]: checked.reason, ...claimedValues(token) });
  }
  return narrowed(conn, checked.claims, base);
}

function narrowed(conn: ConnectionIdentity, claims: RunTokenClaims, base: Record<string, string>): RunIdentityResult {
  const p = claims.principal;
  const samePrincipal = p.id === conn.principal.id && (p.type === undefined || conn.principal.type === undefined || p.type === conn.principal.type);
  if (!samePrincipal && !conn.actForOthers) {
    return {
      ok: false,
      reason: `the run token names principal ${describe(p)}, but this connection is ${describe(conn.principal)} and may not act for other principals`,
    };
  }
  for (const field of ['name', 'id'] as const) {
    const mine = conn.agent?.[field];
    const theirs = claims.agent?.[field];
    if (mine !== undefined && theirs !== undefined && mine !== theirs) {
      return { ok: false, reason: `the run token names agent ${field} ${JSON.stringify(theirs)}, but this connection is agent ${JSON.stringify(mine)}` };
    }
  }
  // The same principal: the connection's, with the token's type when the connection names none.
  const principal = samePrincipal ? copyPrincipal({ id: p.id, type: conn.principal.type ?? p.type }) : copyPrincipal(p);
  const agent = { ...copyAgent(conn.agent ?? {}), ...copyAgent(claims.agent ?? {}) };
  const attributes: Record<string, string> = { ...base, [ATTR_RUN_CLAIM]: 'verified', [ATTR_RUN_CLAIM_KEY_ID]: claims.keyId };
  if (!samePrincipal) {
    attributes[ATTR_CONNECTION_PRINCIPAL_ID] = conn.principal.id;
    if (conn.principal.type !== undefined) attributes[ATTR_CONNECTION_PRINCIPAL_TYPE] = conn.principal.type;
  }
  const run: RunIdentityInput = { principal, runId: claims.runId };
  if (agent.name !== undefined || agent.id !== undefined) run.agent = agent;
  return { ok: true, run, claim: 'verified', attributes };
}

function connectionRun(conn: ConnectionIdentity, claim: RunClaim, attributes: Record<string, string>): RunIdentityResult {
  const run: RunIdentityInput = { principal: copyPrincipal(conn.principal) };
  if (conn.agent !== undefined) run.agent = copyAgent(conn.agent);
  return { ok: true, run, claim, attributes };
}

/** The run id and principal an unchecked token claims, when its payload decodes: evidence, never identity. */
function claimedValues(token: unknown): Record<string, string> {
  if (typeof token !== 'string' || token.length > 8192) return {};
  const body = token.split('.')[1];
  if (body === undefined || !/^[A-Za-z0-9_-]+$/.test(body)) return {};
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return {};
  }
  if (typeof payload !== 'object' || payload === null) return {};
  const { runId, principal } = payload as { runId?: unknown; principal?: { id?: unknown } };
  const out: Record<string, string> = {};
  if (typeof runId === 'string' && runId !== '') out[ATTR_RUN_CLAIM_RUN_ID] = runId.slice(0, MAX_CLAIMED_CHARS);
  const id = typeof principal === 'object' && principal !== null ? principal.id : undefined;
  if (typeof id === 'string' && id !== '') out[ATTR_RUN_CLAIM_PRINCIPAL_ID] = id.slice(0, MAX_CLAIMED_CHARS);
  return out;
}

function describe(p: { id: string; type?: string | undefined }): string {
  return p.type === undefined ? JSON.stringify(p.id) : `${JSON.stringify(p.id)} (${p.type})`;
}
