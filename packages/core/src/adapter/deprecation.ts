import { consoleLogger, type AuditLogger } from '../contract/logger.js';
import { loggerOf, resolveAuditor } from './resolve-auditor.js';

// One set per process, not per build: an app that loads an adapter's ESM and CJS builds (or two
// copies of core) must still see each deprecation once, not once per copy.
const SEEN_KEY = Symbol.for('tooltrail.adapter.deprecations.v1');
type GlobalWithSeen = typeof globalThis & { [SEEN_KEY]?: Set<string> };
const seen = ((globalThis as GlobalWithSeen)[SEEN_KEY] ??= new Set<string>());

/**
 * Warns, once per process for each `oldName`, that it is deprecated and what replaces it. The
 * old name keeps working: the warning is how an app learns to move before it is removed.
 * `oldName` should say where it lives (`@tooltrail/langchain auditTool()`), since two adapters
 * may have deprecated the same word.
 */
export function warnDeprecated(oldName: string, replacement: string, logger: AuditLogger = consoleLogger): void {
  if (seen.has(oldName)) return;
  seen.add(oldName);
  logger.warn(`${oldName} is deprecated and will be removed in a later version; use ${replacement} instead`);
}

/** Forgets the warnings given so far: for tests that assert a warning is given. */
export function resetDeprecationWarnings(): void {
  seen.clear();
}

/**
 * `warnDeprecated` through the logger of the auditor an adapter's `options` name (else the
 * default auditor's, else the console). A bad `auditor` option is not reported here: the
 * adapter's own check does that, with its own message.
 */
export function warnDeprecatedOption(options: { readonly auditor?: unknown } | undefined, oldName: string, replacement: string): void {
  let auditor;
  try {
    auditor = resolveAuditor(options);
  } catch {
    auditor = undefined;
  }
  warnDeprecated(oldName, replacement, loggerOf(auditor));
}
