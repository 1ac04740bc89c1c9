/**
 * Marks on zod schemas: `sensitive()` and zod 4's `.meta({ sensitive: true })`, and how a
 * schema's definition is read in zod 4 (`_zod.def`) and zod 3 (`_def`).
 */
import { AuditConfigError } from '../../contract/errors.js';
import { checkKeys } from '../../contract/option-keys.js';
import type { MaskStrategy } from './catalog/detector-def.js';

export interface SensitiveOptions {
  /** The kind recorded for this field: `[REDACTED:<kind>]`. Default `sensitive`. */
  kind?: string;
  /** Default: the strategy configured for the kind, else `redact`. */
  strategy?: MaskStrategy;
}

export interface SensitiveMark {
  readonly kind: string;
  readonly strategy: MaskStrategy | undefined;
}

/** Paths into a value: named children, and `any` for array items and record values. */
export interface SensitiveNode {
  mark?: SensitiveMark;
  children?: Map<string, SensitiveNode>;
  any?: SensitiveNode;
}

export const SENSITIVE_KIND = 'sensitive';

// Shared through globalThis so a schema marked through the ESM build is seen by the CJS one.
const MARKS_KEY = Symbol.for('tooltrail.core.sensitive-schemas.v1');
type GlobalWithMarks = typeof globalThis & { [MARKS_KEY]?: WeakMap<object, SensitiveMark> };
const marks: WeakMap<object, SensitiveMark> = ((globalThis as GlobalWithMarks)[MARKS_KEY] ??= new WeakMap());

const KIND_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** Where a mark also rides on the schema's definition object, so zod's clones keep it (see sensitive()). */
const DEF_MARK = Symbol.for('tooltrail.core.sensitive-mark.v1');

/** A zod 4 schema (classic, mini or core): its definition is `_zod.def`, tagged by `type`. */
export function zod4Def(schema: object): Record<PropertyKey, unknown> | undefined {
  const def = (schema as { _zod?: { def?: unknown } })._zod?.def;
  return typeof def === 'object' && def !== null && typeof (def as { type?: unknown }).type === 'string' ? (def as Record<PropertyKey, unknown>) : undefined;
}

/** A zod 3 schema (`zod@3`, or `zod/v3` of zod 4): its definition is `_def`, tagged by `typeName`. */
export function zod3Def(schema: object): Record<PropertyKey, unknown> | undefined {
  if ((schema as { _zod?: unknown })._zod !== undefined) return undefined;
  const def = (schema as { _def?: unknown })._def;
  return typeof def === 'object' && def !== null && typeof (def as { typeName?: unknown }).typeName === 'string' ? (def as Record<PropertyKey, unknown>) : undefined;
}

/**
 * Marks a schema as sensitive and returns it unchanged: `z.object({ ssn: sensitive(z.string()) })`.
 * Takes zod 4 schemas (`zod`, `zod/mini`, `zod/v4/core`) and zod 3 schemas (`zod@3`, `zod/v3`);
 * anything else is refused here, loudly, because its fields could not be found when the tool is
 * wrapped. Zod 4's own metadata works too: `z.string().meta({ sensitive: true })`.
 *
 * The mark is kept on the schema and on its definition object: zod's chained methods
 * (`.min()`, `.describe()`, `.refine()`) copy the definition, so `sensitive(z.string()).min(9)`
 * stays sensitive instead of silently losing the mark.
 */
export function sensitive<S extends object>(schema: S, options: SensitiveOptions = {}): S {
  if (typeof schema !== 'object' || schema === null) throw new AuditConfigError('sensitive() takes a zod schema');
  if (typeof options !== 'object' || options === null) throw new AuditConfigError('sensitive(): options must be an object');
  const issues: string[] = [];
  checkKeys(options, ['kind', 'strategy'], '', issues);
  if (issues.length > 0) throw new AuditConfigError('invalid sensitive() options', issues);
  const kind = options.kind ?? SENSITIVE_KIND;
  if (typeof kind !== 'string' || !KIND_PATTERN.test(kind)) {
    throw new AuditConfigError(`sensitive(): kind must be 1-64 letters, digits, "_", "." or "-", got ${JSON.stringify(kind)}`);
  }
  const strategy = options.strategy;
  if (strategy !== undefined && strategy !== 'redact' && strategy !== 'hash' && strategy !== 'partial') {
    throw new AuditConfigError('sensitive(): strategy must be redact, hash or partial');
  }
  const def = zod4Def(schema) ?? zod3Def(schema);
  if (def === undefined) {
    throw new AuditConfigError(
      'sensitive() takes a zod 3 or zod 4 schema: the fields of other schemas cannot be found when the tool is wrapped. ' +
        'For another schema library, name the fields in masking.keys (auditor or tool) instead',
    );
  }
  const mark: SensitiveMark = Object.freeze({ kind, strategy });
  marks.set(schema, mark);
  try {
    Object.defineProperty(def, DEF_MARK, { value: mark, enumerable: true, configurable: true, writable: true });
  } catch {
    // A frozen definition: the mark stays on this schema object only.
  }
  return schema;
}

interface ZodInternals {
  meta?: () => unknown;
}

/** The mark on `schema` itself: sensitive(), on its definition, or zod 4 metadata. */
export function markOf(schema: object): SensitiveMark | undefined {
  const own = marks.get(schema);
  if (own) return own;
  const def = zod4Def(schema) ?? zod3Def(schema);
  const onDef = def?.[DEF_MARK] as SensitiveMark | undefined;
  if (onDef !== undefined) return onDef;
  const meta = (schema as ZodInternals).meta;
  if (def !== undefined && zod4Def(schema) !== undefined && typeof meta === 'function') {
    let m: unknown;
    try {
      m = meta.call(schema);
    } catch {
      m = undefined;
    }
    if (m !== null && typeof m === 'object' && (m as { sensitive?: unknown }).sensitive === true) return { kind: SENSITIVE_KIND, strategy: undefined };
  }
  return undefined;
}
