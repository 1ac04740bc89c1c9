import { AuditDeniedError, AuditValidationError } from './errors.js';

/** A call tooltrail refused before the tool body ran: denied (by policy or a person), or invalid arguments. */
export type RefusedCall = AuditDeniedError | AuditValidationError;

// Matched by brand rather than instanceof: an app can load core's ESM and CJS builds side by
// side, and their error classes are then different objects.
export function isRefusal(err: unknown): err is RefusedCall {
  return AuditDeniedError.isInstance(err) || AuditValidationError.isInstance(err);
}

export function isDenial(err: RefusedCall): err is AuditDeniedError {
  return AuditDeniedError.isInstance(err);
}

/**
 * What the model reads as the tool's result. It says the call did not run and why, so the model
 * can change course instead of assuming an effect happened or retrying the same call blindly.
 * Framework adapters return it as a tool error result.
 */
export function defaultRefusalMessage(err: RefusedCall): string {
  if (isDenial(err)) {
    const by = err.rule ? ` by policy rule ${err.rule}` : ' by policy';
    return `Error: the call to tool "${err.tool}" was denied${by}: ${err.reason}. It was not executed. Do not retry it unchanged.`;
  }
  const issues = err.issues
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(arguments)'}: ${i.message}`)
    .join('; ');
  return `Error: invalid arguments for tool "${err.tool}": ${issues}. It was not executed. Fix the arguments and call the tool again.`;
}
