import { asSchema, jsonSchema, type FlexibleSchema, type Schema } from 'ai';
import type { ArgumentSchema, SchemaIssue, SchemaResult } from '@tooltrail/core';

/**
 * A tool's `inputSchema`, split in two so tooltrail sees the model's raw proposal:
 * - `modelSchema` goes to the SDK: the same JSON Schema for the model, but it neither validates
 *   nor transforms, so `execute` receives the input exactly as the model produced it;
 * - `auditSchema` goes to tooltrail, which validates and transforms before policy and the body,
 *   so the trail holds both sides (proposed, executed) and records a failure as `invalid`.
 */
export interface SplitSchema {
  readonly modelSchema: Schema<unknown>;
  readonly auditSchema: ArgumentSchema;
}

/** Standard Schema v1, as much of it as is read here (zod mini, valibot, arktype, ...). */
interface StandardIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}
type StandardResult = { readonly value: unknown; readonly issues?: undefined } | { readonly issues: ReadonlyArray<StandardIssue> };
interface StandardSchemaLike {
  readonly '~standard': { validate(value: unknown): StandardResult | PromiseLike<StandardResult> };
}

export function isThenable<T>(v: unknown): v is PromiseLike<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function hasSafeParse(s: unknown): s is ArgumentSchema {
  return typeof s === 'object' && s !== null && typeof (s as { safeParse?: unknown }).safeParse === 'function';
}

function isStandard(s: unknown): s is StandardSchemaLike {
  return typeof s === 'object' && s !== null && '~standard' in s;
}

function issueCode(issue: unknown): string | undefined {
  const code = (issue as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function toIssue(raw: unknown): SchemaIssue {
  const i = raw as { message?: unknown; path?: unknown };
  const path = Array.isArray(i.path)
    ? i.path.map((seg: unknown) => (typeof seg === 'object' && seg !== null && 'key' in seg ? (seg as { key: PropertyKey }).key : (seg as PropertyKey)))
    : [];
  return { path, code: issueCode(raw), message: typeof i.message === 'string' ? i.message : String(i.message) };
}

/** Issues out of whatever a schema's `validate` failed with: a ZodError, a TypeValidationError, any Error. */
function issuesOf(error: unknown): SchemaIssue[] {
  const direct = (error as { issues?: unknown } | null)?.issues;
  if (Array.isArray(direct)) return direct.map(toIssue);
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (Array.isArray(cause)) return cause.map(toIssue);
  const nested = (cause as { issues?: unknown } | null)?.issues;
  if (Array.isArray(nested)) return nested.map(toIssue);
  const message = error instanceof Error ? error.message : String(error);
  return [{ path: [], code: 'invalid', message }];
}

function fromStandard(r: StandardResult): SchemaResult {
  return r.issues !== undefined ? { success: false, error: { issues: r.issues.map(toIssue) } } : { success: true, data: r.value };
}

type Validated = { success: true; value: unknown } | { success: false; error: unknown };
function fromSdk(r: Validated): SchemaResult {
  return r.success ? { success: true, data: r.value } : { success: false, error: { issues: issuesOf(r.error) } };
}

/**
 * tooltrail's core asks for a synchronous `safeParse` and falls back to `safeParseAsync` when it
 * throws (as zod does for async refinements). Schemas that answer with a promise are bridged so:
 * the pending promise is handed to the `safeParseAsync` call that follows at once, so the input is
 * validated once, not twice.
 */
function bridged(run: (input: unknown) => SchemaResult | PromiseLike<SchemaResult>): ArgumentSchema {
  let pending: { input: unknown; result: PromiseLike<SchemaResult> } | undefined;
  return {
    safeParse(input) {
      const result = run(input);
      if (!isThenable<SchemaResult>(result)) return result;
      pending = { input, result };
      throw new Error('this schema validates asynchronously');
    },
    safeParseAsync(input) {
      const p = pending;
      pending = undefined;
      return Promise.resolve(p !== undefined && p.input === input ? p.result : run(input));
    },
  };
}

/** The tooltrail side of any schema the SDK accepts. */
function auditSide(original: FlexibleSchema<unknown> | undefined, sdk: () => Schema<unknown>): ArgumentSchema {
  // zod 3/4 go to core as they are: it validates them natively and reads `sensitive()` fields for masking.
  if (hasSafeParse(original)) return original;
  if (isStandard(original)) {
    const std = original['~standard'];
    return bridged((input) => {
      const r = std.validate(input);
      return isThenable<StandardResult>(r) ? Promise.resolve(r).then(fromStandard) : fromStandard(r);
    });
  }
  // jsonSchema(), lazy schemas: their `validate`, when they have one; without it nothing is checked, as in the SDK.
  return bridged((input) => {
    const validate = sdk().validate;
    if (validate === undefined) return { success: true, data: input };
    const r = validate(input);
    return isThenable<Validated>(r) ? Promise.resolve(r).then(fromSdk) : fromSdk(r);
  });
}

export function splitSchema(original: FlexibleSchema<unknown> | undefined): SplitSchema {
  // Resolved lazily, like the SDK does: a lazy schema is only built when first needed.
  let resolved: Schema<unknown> | undefined;
  const sdk = (): Schema<unknown> => (resolved ??= asSchema(original));
  return {
    // No `validate`: the SDK passes the parsed JSON through untouched.
    modelSchema: jsonSchema(() => sdk().jsonSchema),
    auditSchema: auditSide(original, sdk),
  };
}

/** Parses with an ArgumentSchema the way core does (sync first, async when it must). */
export async function parseWith(schema: ArgumentSchema, input: unknown): Promise<SchemaResult> {
  try {
    return schema.safeParse(input);
  } catch (err) {
    if (!schema.safeParseAsync) throw err;
    return await schema.safeParseAsync(input);
  }
}

/** A parse that never throws: `ok: false` for input the schema rejects (or a schema that threw). */
export type Parsed = { ok: true; value: unknown } | { ok: false };

/** The model's raw input as it would execute: tooltrail's validation, without recording anything. */
export function parserOf(schema: ArgumentSchema): (raw: unknown) => Promise<Parsed> {
  return async (raw) => {
    try {
      const r = await parseWith(schema, raw);
      return r.success ? { ok: true, value: r.data } : { ok: false };
    } catch {
      return { ok: false };
    }
  };
}
