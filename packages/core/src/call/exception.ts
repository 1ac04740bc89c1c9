import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import type { EncodeReport } from '../payload/encode-report.js';
import type { PayloadEncoder } from '../payload/payload-encoder.js';
import type { ToolMaskingSpec } from '../payload/masking/plan.js';
import { describeError } from '../payload/safe-json.js';
import * as sc from '../contract/semconv.js';

export const STATUS_OK = Object.freeze({ code: SpanStatusCode.OK });

/** `error.type`: the class of what was thrown, `_OTHER` for non-Error throws. */
export function errorType(err: unknown): string {
  if (err instanceof Error) {
    const ctorName = err.constructor?.name;
    return ctorName && ctorName !== 'Object' ? ctorName : err.name || 'Error';
  }
  return sc.ERROR_TYPE_OTHER;
}

/**
 * An `exception` event with masked message and stack. `report`: the call's tally, when the event
 * goes on the call span. Fails closed: masking that throws records the marker, never the text.
 */
export function recordException(
  span: Span,
  encoder: PayloadEncoder,
  tool: string,
  masking: ToolMaskingSpec | undefined,
  err: unknown,
  report?: EncodeReport,
): void {
  let attrs: Attributes;
  try {
    const ctx = { tool, field: 'error', masking, report } as const;
    attrs = {
      [sc.ATTR_EXCEPTION_TYPE]: errorType(err),
      [sc.ATTR_EXCEPTION_MESSAGE]: encoder.text(describeError(err), ctx),
    };
    if (err instanceof Error && typeof err.stack === 'string') attrs[sc.ATTR_EXCEPTION_STACKTRACE] = encoder.text(err.stack, ctx);
  } catch {
    attrs = { [sc.ATTR_EXCEPTION_TYPE]: errorType(err), [sc.ATTR_EXCEPTION_MESSAGE]: sc.MASKING_FAILED_MARKER };
  }
  span.addEvent(sc.EVENT_EXCEPTION, attrs);
}
