import { toSafeJson } from '../serialize/safe-json.js';

/** Which part of a record a payload becomes; masking rules can differ per field. */
export type PayloadField = 'arguments' | 'proposed' | 'result' | 'error' | 'identity' | 'issues';

export interface EncodeContext {
  readonly tool: string;
  readonly field: PayloadField;
}

/**
 * Turns a value that came from a call into the string a span carries. This is the seam where
 * masking sits: everything a span records that came from the call passes through here first.
 */
export interface PayloadEncoder {
  /** A structured value, as JSON. Must never throw. */
  json(value: unknown, ctx: EncodeContext): string;
  /** Free text (an error message, a stack trace, an identity value). Must never throw. */
  text(value: string, ctx: EncodeContext): string;
}

/** Records values as they are, made JSON-safe. The default until a masking policy is set. */
export const plainEncoder: PayloadEncoder = {
  json: (value) => toSafeJson(value),
  text: (value) => value,
};
