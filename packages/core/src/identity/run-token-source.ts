import type { KeyObject } from 'node:crypto';
import { auditStorage, type RunIdentity } from './run-context.js';
import { mintRunToken } from './run-token.js';

/**
 * The run tokens of runs opened by an auditor with a `runTokenKey`. A run is registered when it
 * opens (one WeakMap entry, nothing signed); the token is minted the first time someone asks for
 * it (`currentRunToken()`) and minted again once half its lifetime has passed, so a long run never
 * hands out an expired token. Runs of auditors without a key cost nothing here.
 */
interface TokenSource {
  readonly key: KeyObject;
  readonly ttlMs: number;
  token: string | undefined;
  renewAt: number;
}

// One registry per process, like the run store: a run opened through core's ESM build is seen by
// an adapter that loaded the CJS build.
const REGISTRY_KEY = Symbol.for('tooltrail.core.run-tokens.v1');
type GlobalWithRegistry = typeof globalThis & { [REGISTRY_KEY]?: WeakMap<RunIdentity, TokenSource> };
const g = globalThis as GlobalWithRegistry;
const registry: WeakMap<RunIdentity, TokenSource> = (g[REGISTRY_KEY] ??= new WeakMap<RunIdentity, TokenSource>());

/** Makes `run` one whose token can be minted with `key`. */
export function registerRunTokenSource(run: RunIdentity, key: KeyObject, ttlMs: number): void {
  registry.set(run, { key, ttlMs, token: undefined, renewAt: 0 });
}

/**
 * The run token of the run in force: a `tt1.` string (docs/gateway.md) that @tooltrail/mcp sends
 * in `params._meta["tooltrail/runToken"]` and tools may pass to other backends, which check it
 * with `verifyRunToken()`. Undefined outside a run, or inside a run whose auditor has no
 * `runTokenKey`.
 */
export function currentRunToken(now: number = Date.now()): string | undefined {
  const run = auditStorage.getStore()?.run;
  if (run === undefined) return undefined;
  const source = registry.get(run);
  if (source === undefined) return undefined;
  if (source.token === undefined || now >= source.renewAt) {
    source.token = mintRunToken(
      { runId: run.runId, principal: run.principal, ...(run.agent === undefined ? {} : { agent: run.agent }), expiresInMs: source.ttlMs, now },
      source.key,
    );
    source.renewAt = now + Math.floor(source.ttlMs / 2);
  }
  return source.token;
}
