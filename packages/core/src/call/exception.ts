import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import type { EncodeReport } from '../payload/encode-report.js';
import type { PayloadEncoder } from '../payload/payload-encoder.js';
import type { ToolMaskingSpec } from '../payload/masking/plan.js';
import { describeError } from '../payload/safe-json.js';
import * as sc from '../contract/semconv.js';

export const STATUS_OK = Object.freeze({ code: SpanStatusCode.OK });
const MASKING_FAILED_JSON = JSON.stringify(sc.MASKING_FAILED_MARKER);

/** `error.type`: the class of what was thrown, `_OTHER` for non-Error throws. */
export function errorType(err: unknown): string {
  let isError: boolean;
  try {
    isError = err instanceof Error;
  } catch {
    return sc.ERROR_TYPE_OTHER; // a Proxy whose getPrototypeOf trap throws: of no knowable class
  }
  if (!isError) return sc.ERROR_TYPE_OTHER;
  try {
    const e = err as Error;
    const ctorName: unknown = e.constructor?.name;
    if (typeof ctorName === 'string' && ctorName !== '' && ctorName !== 'Object') return ctorName;
    const name: unknown = e.name;
    return typeof name === 'string' && name !== '' ? name : 'Error';
  } catch {
    return 'Error'; // an Error whose `constructor` or `name` getter throws
  }
}

/** Class names as code writes them (`TypeError`, `AuditDeniedError`, `ZodError`): recorded as they are. */
const PLAIN_TYPE = /^(?:_OTHER|[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)*)$/;
const MAX_TYPE_CHARS = 128;

/**
 * `error.type` through the masker unless it reads as a plain class name: a name is the thrower's
 * to choose (`err.name = 'sk_live_…'`, a class made at run time), so it is call data like the
 * message. The masker leaves an ordinary name as it is; a secret in it is masked.
 */
export function maskedErrorType(err: unknown, mask: (text: string) => string): string {
  const type = errorType(err);
  if (type.length <= MAX_TYPE_CHARS && PLAIN_TYPE.test(type)) return type;
  let out: string;
  try {
    out = mask(type);
  } catch {
    return sc.MASKING_FAILED_MARKER;
  }
  return out.length > MAX_TYPE_CHARS ? `${out.slice(0, MAX_TYPE_CHARS - 1)}…` : out;
}

/**
 * An `exception` event with masked message and stack, and the error's causes and members
 * (`tooltrail.exception.causes`, masked) when it has any. `report`: the call's tally, when the event
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
      [sc.ATTR_EXCEPTION_TYPE]: maskedErrorType(err, (t) => encoder.text(t, ctx)),
      [sc.ATTR_EXCEPTION_MESSAGE]: encoder.text(describeError(err), ctx),
    };
    if (err instanceof Error && typeof err.stack === 'string') attrs[sc.ATTR_EXCEPTION_STACKTRACE] = encoder.text(err.stack, ctx);
    let causes: string | undefined;
    try {
      const list = errorCauses(err);
      // Masked as one payload, so the whole list stays under the payload cap, structure kept.
      if (list !== undefined) causes = encoder.json(list, { tool, field: 'error', masking, report });
    } catch {
      causes = MASKING_FAILED_JSON; // a cause's getter or the encoder threw: never the raw text
    }
    if (causes !== undefined) attrs[sc.ATTR_EXCEPTION_CAUSES] = causes;
  } catch {
    const type = errorType(err);
    attrs = { [sc.ATTR_EXCEPTION_TYPE]: PLAIN_TYPE.test(type) ? type : sc.MASKING_FAILED_MARKER, [sc.ATTR_EXCEPTION_MESSAGE]: sc.MASKING_FAILED_MARKER };
  }
  span.addEvent(sc.EVENT_EXCEPTION, attrs);
}

/** Bounds of `tooltrail.exception.causes`: how deep a chain is followed, how many errors in all. */
export const MAX_CAUSE_DEPTH = 8;
export const MAX_CAUSES = 32;

/** One error below the thrown one: where it sits (`cause.cause`, `errors[2].cause`), its type and message. */
export interface CauseEntry {
  at: string;
  type: string;
  message: string;
}

/** Reads a property without letting a throwing getter (or a Proxy) break the record. */
function read(o: object, key: string): unknown {
  try {
    return (o as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/**
 * The thrown error's `cause` chain and AggregateError members (SuppressedError's `error` and
 * `suppressed` too), depth first, each once (cycles and shared errors are cut), at most
 * MAX_CAUSES entries MAX_CAUSE_DEPTH levels deep; undefined when there are none (the usual case
 * costs two property reads). Messages are raw here: the caller masks the list.
 */
export function errorCauses(err: unknown): CauseEntry[] | undefined {
  // The usual error has neither: nothing allocated for it.
  if (!(err instanceof Error) || (read(err, 'cause') === undefined && !Array.isArray(read(err, 'errors')) && read(err, 'name') !== 'SuppressedError')) return undefined;
  let out: CauseEntry[] | undefined;
  const seen = new Set<unknown>([err]);
  let truncated = false;
  const visit = (parent: Error, path: string, depth: number): void => {
    const children: [string, unknown][] = [];
    const cause = read(parent, 'cause');
    if (cause !== undefined) children.push(['cause', cause]);
    const errors = read(parent, 'errors');
    if (Array.isArray(errors)) {
      // Never more than the list can hold, however many members an AggregateError has.
      const n = Math.min(errors.length, MAX_CAUSES + 1);
      for (let i = 0; i < n; i++) children.push([`errors[${i}]`, read(errors, String(i))]);
    }
    if (read(parent, 'name') === 'SuppressedError') children.push(['error', read(parent, 'error')], ['suppressed', read(parent, 'suppressed')]);
    for (const [rel, child] of children) {
      if (child === undefined || seen.has(child)) continue;
      if ((out?.length ?? 0) >= MAX_CAUSES || depth >= MAX_CAUSE_DEPTH) {
        truncated = true;
        return;
      }
      seen.add(child);
      const at = path === '' ? rel : `${path}.${rel}`;
      (out ??= []).push({ at, type: errorType(child), message: describeError(child) });
      // Only errors are followed: a thrown plain object is recorded whole by describeError.
      if (child instanceof Error) visit(child, at, depth + 1);
    }
  };
  visit(err, '', 0);
  if (truncated && out !== undefined) out.push({ at: '[truncated]', type: '', message: `more than ${MAX_CAUSES} errors or ${MAX_CAUSE_DEPTH} levels` });
  return out;
}
