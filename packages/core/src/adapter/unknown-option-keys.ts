import { checkKeys, unknownKeys } from '../contract/option-keys.js';
import { RETRY_KEYS } from '../call/retry.js';
import { toolMaskingOptionsSchema } from '../payload/masking/plan.js';

/**
 * The unknown-key check of a framework adapter's own options, exported from `@tooltrail/core` for
 * the adapters (an app has no need of it). One issue for every own key of `options` that is not
 * in `valid`, named after `prefix` (`tools.search.`) and with the nearest valid name when one is
 * close: "unknown option `tools.search.retyr`; did you mean `tools.search.retry`?". The core
 * groups an adapter passes through to its tools, `retry` and `masking` (when `valid` has them),
 * are checked inside against core's own names, so an adapter lists only its own keys and never
 * a copy of core's. Keys only: values are left to the code that reads them; `options` that is not
 * an object gives no issue. The caller throws `AuditConfigError` with the issues it collects.
 */
export function unknownOptionKeys(options: unknown, valid: readonly string[], prefix = ''): string[] {
  const issues: string[] = [];
  if (typeof options !== 'object' || options === null) return issues;
  checkKeys(options, valid, prefix, issues);
  const { retry, masking } = options as { retry?: unknown; masking?: unknown };
  if (valid.includes('retry') && typeof retry === 'object' && retry !== null) checkKeys(retry, RETRY_KEYS, `${prefix}retry.`, issues);
  if (valid.includes('masking')) issues.push(...unknownKeys(toolMaskingOptionsSchema, masking, `${prefix}masking.`));
  return issues;
}
