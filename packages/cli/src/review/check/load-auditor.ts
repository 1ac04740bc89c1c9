import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createAuditor, isAuditor, type Auditor, type AuditorOptions, type RunIdentityInput } from '@tooltrail/core';
import { UsageError } from '../../commands/io.js';

/** Runs `fn` as a run of `identity` the app's own way (an app that derives identity itself). */
export type WithRun = (identity: RunIdentityInput, fn: () => Promise<unknown>) => unknown;

export interface LoadedAuditor {
  auditor: Auditor;
  withRun: WithRun | undefined;
  /** Where it came from, for the output. */
  description: string;
  /** Shuts the auditor down (flushing it) and removes what the check made for it. */
  close(timeoutMs: number): Promise<boolean>;
}

/**
 * `--config <module>`: the module's default export is an Auditor, or a function (sync or async)
 * returning one; an optional `withRun(identity, fn)` export runs the canary the app's way.
 * Anything else is a bad command line: the check cannot run the user's configuration.
 */
export async function loadConfigModule(file: string): Promise<LoadedAuditor> {
  const abs = path.resolve(file);
  if (!existsSync(abs)) throw new UsageError(`--config ${file}: no such file`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`--config ${file}: the module failed to load: ${(err as Error).message}`);
  }
  let exported = mod.default;
  // A CommonJS module's `module.exports = { default, withRun }` arrives as default.default.
  const cjs = isObjectWith(exported, 'default') && !isAuditor(exported) ? exported : undefined;
  if (cjs) exported = cjs.default;
  let auditor: unknown = exported;
  if (typeof exported === 'function' && !isAuditor(exported)) {
    try {
      auditor = await (exported as () => unknown)();
    } catch (err) {
      throw new UsageError(`--config ${file}: its default export threw: ${(err as Error).message}`);
    }
  }
  if (!isAuditor(auditor)) {
    throw new UsageError(`--config ${file}: the default export must be an Auditor (from createAuditor) or a function returning one`);
  }
  const withRun = mod.withRun ?? cjs?.withRun;
  if (withRun !== undefined && typeof withRun !== 'function') throw new UsageError(`--config ${file}: withRun must be a function (identity, fn)`);
  const a = auditor;
  return {
    auditor: a,
    withRun: withRun as WithRun | undefined,
    description: `${abs}${withRun ? ' (its withRun)' : ''}`,
    close: (ms) => a.shutdown(ms),
  };
}

function isObjectWith(v: unknown, key: string): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && key in v;
}

export interface PolicyAuditorOptions {
  policy: string;
  endpoint: string;
  token?: string;
  serviceName: string;
}

/**
 * `--policy <file> --endpoint <url>`: the auditor an app would build from the security team's
 * policy file, with the defaults (masking on, identity required). Its spool is a temporary
 * folder, removed afterwards: the check leaves nothing behind in the working directory.
 */
export async function buildPolicyAuditor(o: PolicyAuditorOptions): Promise<LoadedAuditor> {
  if (!existsSync(o.policy)) throw new UsageError(`--policy ${o.policy}: no such file`);
  const spoolDir = await mkdtemp(path.join(tmpdir(), 'tooltrail-check-spool-'));
  // `policyFile` joins AuditorOptions with issue 13 (part B); spelled out so this builds before it lands.
  const options: AuditorOptions & { policyFile: string } = {
    serviceName: o.serviceName,
    endpoint: o.endpoint,
    policyFile: path.resolve(o.policy),
    spoolDir,
    ...(o.token !== undefined ? { headers: { authorization: `Bearer ${o.token}` } } : {}),
  };
  let auditor: Auditor;
  try {
    auditor = createAuditor(options);
  } catch (err) {
    await rm(spoolDir, { recursive: true, force: true });
    throw new UsageError(`--policy ${o.policy}: ${(err as Error).message}`);
  }
  return {
    auditor,
    withRun: undefined,
    description: `policy ${path.resolve(o.policy)}, sending to ${o.endpoint}`,
    close: async (ms) => {
      const ok = await auditor.shutdown(ms);
      await rm(spoolDir, { recursive: true, force: true });
      return ok;
    },
  };
}
