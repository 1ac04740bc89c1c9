import type { ArgumentSchema, SchemaIssue, SchemaResult } from '@tooltrail/core';
import { Validator } from '@langchain/core/utils/json_schema';
import {
  interopSafeParse,
  interopSafeParseAsync,
  isInteropZodError,
  isInteropZodSchema,
  type InteropZodType,
} from '@langchain/core/utils/types';

/**
 * The tool's own schema as a tooltrail `ArgumentSchema`, validating exactly as
 * `StructuredTool.call` would: zod (v3 or v4) parses and transforms; anything else is a JSON
 * schema that is checked but never changes the input. tooltrail runs it in place of LangChain's
 * parse, so the executed arguments it records are the ones the tool body receives.
 */
export function toArgumentSchema(schema: unknown): ArgumentSchema | undefined {
  if (schema === undefined || schema === null) return undefined;
  if (isInteropZodSchema(schema)) {
    // Zod classic and mini schemas have safeParse: handing over the schema itself lets tooltrail
    // see `sensitive()` marks on it, so those fields are masked in the trail.
    if (typeof (schema as { safeParse?: unknown }).safeParse === 'function') return schema as unknown as ArgumentSchema;
    return zodInterop(schema);
  }
  return jsonSchema(schema);
}

/** Zod 4 core schemas carry no methods: parse through LangChain's interop helpers. */
function zodInterop(schema: InteropZodType): ArgumentSchema {
  const toResult = (r: { success: true; data: unknown } | { success: false; error: unknown }): SchemaResult => {
    if (r.success) return { success: true, data: r.data };
    // Not a ZodError (e.g. an async refinement in a sync parse): throw, so tooltrail parses again
    // asynchronously or records the schema as broken.
    if (!isInteropZodError(r.error)) throw r.error;
    return { success: false, error: { issues: (r.error as { issues: SchemaIssue[] }).issues } };
  };
  return {
    safeParse: (input) => toResult(interopSafeParse(schema, input)),
    safeParseAsync: async (input) => toResult(await interopSafeParseAsync(schema, input)),
  };
}

type JsonSchemaArg = ConstructorParameters<typeof Validator>[0];

/** JSON schema tools: LangChain validates (draft 2019-09, first error) and passes the input on unchanged. */
function jsonSchema(schema: unknown): ArgumentSchema {
  const validator = new Validator(schema as JsonSchemaArg);
  return {
    safeParse(input) {
      const result = validator.validate(input);
      if (result.valid) return { success: true, data: input };
      return {
        success: false,
        error: {
          issues: result.errors.map((e) => ({ path: pointerPath(e.instanceLocation), code: e.keyword, message: e.error })),
        },
      };
    },
  };
}

/** `#/items/0/name` → `['items', 0, 'name']`. */
function pointerPath(location: string): (string | number)[] {
  const pointer = location.startsWith('#') ? location.slice(1) : location;
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => {
      const key = decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
      return /^(0|[1-9]\d*)$/.test(key) ? Number(key) : key;
    });
}
