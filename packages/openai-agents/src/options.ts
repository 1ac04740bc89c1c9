import { AuditConfigError, unknownOptionKeys } from '@tooltrail/core';

/** Every key of `T`: the compiler refuses a list that misses one or names another. */
export const keysOf = <T>(keys: Record<keyof T, true>): readonly string[] => Object.keys(keys);

/**
 * Unknown keys in one of this adapter's options objects (and in its `retry` and `masking`) are
 * errors, each naming the nearest valid name: a typo would otherwise be silently ignored.
 */
export function checkOptions(fn: string, options: unknown, valid: readonly string[]): void {
  if (typeof options !== 'object' || options === null) throw new AuditConfigError(`${fn} options must be an object`);
  const issues = unknownOptionKeys(options, valid);
  if (issues.length > 0) throw new AuditConfigError(`invalid ${fn} options`, issues);
}
