import {
  AuditorImpl,
  auditRegistry,
  makeAudited,
  type AuditedFunction,
  type AuditedTools,
  type Auditor,
  type AuditToolsOptions,
} from './auditor.js';
import type { AuditorOptions } from './config.js';
import { isAuditor } from './brand.js';
import { AuditConfigError } from '../contract/errors.js';
import type { RunIdentityInput } from '../identity/run-context.js';
import { defineTool, type ToolFunction, type ToolOptions } from '../call/tool-definition.js';

// Shared through globalThis so the ESM and CJS builds, if both are loaded, agree on one default.
const DEFAULT_KEY = Symbol.for('tooltrail.core.default-auditor.v1');
type GlobalWithDefault = typeof globalThis & { [DEFAULT_KEY]?: { auditor: AuditorImpl | undefined } };
const slot = ((globalThis as GlobalWithDefault)[DEFAULT_KEY] ??= { auditor: undefined });

/** Creates an auditor. The first one created (or the first after the default shut down) becomes the default. */
export function createAuditor(options: AuditorOptions): Auditor {
  const auditor = new AuditorImpl(options);
  if (!slot.auditor || slot.auditor.isShutdown) slot.auditor = auditor;
  return auditor;
}

/** Makes `auditor` the one top-level `withAudit`, `auditRun` and `auditTools` delegate to. */
export function setDefaultAuditor(auditor: Auditor | undefined): void {
  // By brand, not instanceof: the auditor may come from core's other build (ESM beside CJS),
  // whose AuditorImpl is another class with the same methods.
  if (auditor !== undefined && !isAuditor(auditor)) {
    throw new AuditConfigError('setDefaultAuditor() takes an auditor made by createAuditor()');
  }
  slot.auditor = auditor as AuditorImpl | undefined;
}

export function getDefaultAuditor(): Auditor | undefined {
  return slot.auditor;
}

function requireDefault(): AuditorImpl {
  const auditor = slot.auditor;
  if (!auditor) {
    throw new AuditConfigError(
      'no auditor exists: call createAuditor() before calling an audited tool; the call was refused and did not run',
      [],
      'TOOLTRAIL_NO_AUDITOR',
    );
  }
  return auditor;
}

/**
 * Wraps a tool for the default auditor, looked up at each call so tools can be wrapped at import
 * time, before the auditor exists. A call with no auditor is refused and never runs unaudited.
 */
export function withAudit<F extends ToolFunction>(fn: F, options?: ToolOptions<F>): AuditedFunction<F> {
  const def = defineTool(fn, options as ToolOptions | undefined);
  return makeAudited(requireDefault, fn, def);
}

export function auditTools<T extends object>(tools: T, options?: AuditToolsOptions): AuditedTools<T> {
  return auditRegistry(tools, options, (fn, opts) => withAudit(fn, opts));
}

/** `auditor.run()` on the default auditor. */
export function auditRun<R>(identity: RunIdentityInput, fn: () => R): Promise<Awaited<R>> {
  let auditor: AuditorImpl;
  try {
    auditor = requireDefault();
  } catch (err) {
    return Promise.reject(err);
  }
  return auditor.run(identity, fn);
}
