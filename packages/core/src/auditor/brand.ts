import type { Auditor } from './types.js';

/**
 * A global symbol, so an auditor made by core's ESM build is recognised by its CJS build (or by
 * another copy of core), where `instanceof` says false. Both builds share one default auditor
 * and one run store through globalThis already; this lets them share auditors too.
 */
export const AUDITOR_BRAND: unique symbol = Symbol.for('tooltrail.auditor');

/** True for an auditor made by `createAuditor()` of any build or copy of @tooltrail/core. */
export function isAuditor(value: unknown): value is Auditor {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[AUDITOR_BRAND] === true;
}
