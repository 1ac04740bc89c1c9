import type { SchemaIssue } from '@tooltrail/core';

/** What the adapter reads of a zod schema (3 or 4). */
interface SafeParser {
  safeParse(value: unknown): { success: true; data: unknown } | { success: false; error: { issues: ReadonlyArray<SchemaIssue> } };
}

/** What it reads of any other Standard Schema (valibot, arktype, ...). */
interface StandardSchemaLike {
  '~standard': {
    validate(value: unknown): unknown;
  };
}

interface StandardIssue {
  message: string;
  path?: ReadonlyArray<PropertyKey | { key: PropertyKey }>;
}

export function isSafeParser(v: unknown): v is SafeParser {
  return typeof v === 'object' && v !== null && typeof (v as { safeParse?: unknown }).safeParse === 'function';
}

function isStandardSchema(v: unknown): v is StandardSchemaLike {
  const std = (v as { '~standard'?: { validate?: unknown } } | null | undefined)?.['~standard'];
  return typeof std === 'object' && std !== null && typeof std.validate === 'function';
}

function isIssueList(v: unknown): v is ReadonlyArray<SchemaIssue> {
  return Array.isArray(v) && v.every((i) => typeof i === 'object' && i !== null && Array.isArray((i as SchemaIssue).path) && typeof (i as SchemaIssue).message === 'string');
}

function generic(message: string): SchemaIssue[] {
  return [{ path: [], code: 'invalid_arguments', message }];
}

function valueAt(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function withoutPath(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  if (path.length === 0 || typeof value !== 'object' || value === null) return value;
  const [head, ...rest] = path as [PropertyKey, ...PropertyKey[]];
  const copy: Record<PropertyKey, unknown> = Array.isArray(value) ? [...(value as unknown[])] as unknown as Record<PropertyKey, unknown> : { ...(value as Record<PropertyKey, unknown>) };
  if (rest.length === 0) delete copy[head];
  else copy[head] = withoutPath(copy[head], rest);
  return copy;
}

const samePath = (a: ReadonlyArray<PropertyKey>, b: ReadonlyArray<PropertyKey>) => a.length === b.length && a.every((k, i) => k === b[i]);

/**
 * The issues of input the SDK's parser refused before `execute` ran. The SDK drops the schema's
 * own error unless sensitive tool data logging is on, so they are found again by validating the
 * model's JSON. In strict mode the SDK turns `null` into "absent" for optional fields before
 * parsing; an issue on a `null` that disappears when the field is left out is that case, not a
 * real issue, and is dropped.
 */
export function inputIssues(parameters: unknown, input: string, error: unknown): SchemaIssue[] {
  const kept = (error as { originalError?: { issues?: unknown } } | null | undefined)?.originalError?.issues;
  if (isIssueList(kept) && kept.length > 0) return [...kept];
  let value: unknown;
  try {
    value = JSON.parse(input);
  } catch (err) {
    return [{ path: [], code: 'invalid_json', message: `the arguments are not valid JSON: ${err instanceof Error ? err.message : String(err)}` }];
  }
  const sdkMessage = error instanceof Error ? error.message : 'the arguments were rejected by the tool\'s parameter schema';
  if (isSafeParser(parameters)) {
    const first = parameters.safeParse(value);
    if (first.success) return generic(sdkMessage);
    const onNull = first.error.issues.filter((i) => i.path.length > 0 && valueAt(value, i.path) === null);
    if (onNull.length === 0) return [...first.error.issues];
    let stripped = value;
    for (const i of onNull) stripped = withoutPath(stripped, i.path);
    const second = parameters.safeParse(stripped);
    const remaining = second.success ? [] : second.error.issues;
    const real = first.error.issues.filter((i) => !onNull.includes(i) || remaining.some((r) => samePath(r.path, i.path)));
    return real.length > 0 ? real : remaining.length > 0 ? [...remaining] : generic(sdkMessage);
  }
  if (isStandardSchema(parameters)) {
    const result = parameters['~standard'].validate(value);
    const issues = (result as { issues?: ReadonlyArray<StandardIssue> } | null | undefined)?.issues;
    if (Array.isArray(issues) && issues.length > 0) {
      return issues.map((i: StandardIssue) => ({
        path: (i.path ?? []).map((p) => (typeof p === 'object' && p !== null ? p.key : p)),
        message: i.message,
      }));
    }
  }
  return generic(sdkMessage);
}
