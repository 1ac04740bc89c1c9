import { toSafeJson } from './safe-json.js';
import type { EncodeReport } from './encode-report.js';

export type { PayloadField } from './encode-report.js';
import type { PayloadField } from './encode-report.js';

/**
 * `Spec` is what the tool's wrapping resolved for the encoder (the masking encoder's own
 * `ToolMaskingSpec`); a custom encoder sees it as `unknown`.
 */
export interface EncodeContext<Spec = unknown> {
  readonly tool: string;
  readonly field: PayloadField;
  /** The attribute name a text is recorded under (a run attribute's key), for key-name rules. */
  readonly key?: string | undefined;
  /** The tool's own masking options and schema paths, resolved when it was wrapped. */
  readonly masking?: Spec | undefined;
  /** Where to tally what was masked, for the call's `tooltrail.mask.*` attributes. */
  readonly report?: EncodeReport | undefined;
}

/**
 * Turns a value that came from a call into the string a span carries. This is the seam where
 * masking sits: everything a span records that came from the call passes through here first.
 * Equal inputs must give equal outputs: the wrapper compares encodings to tell whether policy
 * or the schema changed the arguments.
 */
export interface PayloadEncoder<Spec = unknown> {
  /** A structured value, as JSON. Must never throw. */
  json(value: unknown, ctx: EncodeContext<Spec>): string;
  /** Free text (an error message, a stack trace, an identity value). Must never throw. */
  text(value: string, ctx: EncodeContext<Spec>): string;
  /** True when this encoder masks: spans then always carry `tooltrail.mask.count`. */
  readonly masks?: boolean;
}

/** Records values as they are, made JSON-safe: what `masking: false` gives. */
export const plainEncoder: PayloadEncoder = {
  json: (value) => toSafeJson(value),
  text: (value) => value,
};
