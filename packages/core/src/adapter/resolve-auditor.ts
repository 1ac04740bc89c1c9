import { AuditConfigError } from '../contract/errors.js';
import { consoleLogger, type AuditLogger } from '../contract/logger.js';
import type { AuditedFunction, Auditor } from '../auditor/auditor.js';
import { getDefaultAuditor, withAudit } from '../auditor/default-auditor.js';
import { isAuditor } from '../auditor/brand.js';
import type { ToolFunction, ToolOptions } from '../call/tool-definition.js';

/**
 * The auditor an adapter's options name, else the process default (which may not exist yet:
 * undefined then). Throws `AuditConfigError` when `options.auditor` is set to something that is
 * not an auditor, so a wrong value fails where the tools are wrapped, not at the first call.
 */
export function resolveAuditor(options: { readonly auditor?: unknown } | undefined, fn = 'this adapter'): Auditor | undefined {
  const given = options?.auditor;
  if (given === undefined) return getDefaultAuditor();
  // By brand, not instanceof: an auditor from core's other build (ESM beside CJS) is accepted.
  if (!isAuditor(given)) throw new AuditConfigError(`${fn}: \`auditor\` must be an auditor made by createAuditor()`);
  return given;
}

/**
 * Wraps a tool body for an adapter: with `options.auditor`, on that auditor; without, on the
 * default auditor looked up at each call, so tools can be wrapped at import time, before the
 * app has created its auditor.
 */
export function withAdapterAudit<F extends ToolFunction>(
  options: { readonly auditor?: unknown } | undefined,
  fn: F,
  toolOptions: ToolOptions<F>,
  name = 'this adapter',
): AuditedFunction<F> {
  const given = options?.auditor === undefined ? undefined : resolveAuditor(options, name);
  return given !== undefined ? given.withAudit(fn, toolOptions) : withAudit(fn, toolOptions);
}

/**
 * Where an adapter's warnings go: the auditor's `logger`, else the console. Checked by shape: the
 * auditor may come from core's other build, or be an app's own implementation of the interface.
 */
export function loggerOf(auditor: Auditor | undefined): AuditLogger {
  const logger = (auditor as { logger?: unknown } | undefined)?.logger;
  return typeof logger === 'object' && logger !== null && typeof (logger as AuditLogger).warn === 'function' ? (logger as AuditLogger) : consoleLogger;
}
