/**
 * Schema sensitivity: fields a tool's zod schema marks sensitive are masked whatever their
 * value looks like. The schema is walked once, at wrap time, into a tree of paths.
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
function zod4Def(schema: object): Record<PropertyKey, unknown> | undefined {
  const def = (schema as { _zod?: { def?: unknown } })._zod?.def;
  return typeof def === 'object' && def !== null && typeof (def as { type?: unknown }).type === 'string' ? (def as Record<PropertyKey, unknown>) : undefined;
}

/** A zod 3 schema (`zod@3`, or `zod/v3` of zod 4): its definition is `_def`, tagged by `typeName`. */
function zod3Def(schema: object): Record<PropertyKey, unknown> | undefined {
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

const MAX_DEPTH = 32;

function markOf(schema: object): SensitiveMark | undefined {
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

function merge(a: SensitiveNode | undefined, b: SensitiveNode | undefined): SensitiveNode | undefined {
  if (!a) return b;
  if (!b) return a;
  const out: SensitiveNode = {};
  const mark = a.mark ?? b.mark;
  if (mark) return { mark };
  const any = merge(a.any, b.any);
  if (any) out.any = any;
  if (a.children || b.children) {
    const children = new Map(a.children);
    for (const [k, v] of b.children ?? []) {
      const merged = merge(children.get(k), v);
      if (merged) children.set(k, merged);
    }
    out.children = children;
  }
  return out;
}

/** The mark of the first sensitive thing found inside `node`, whatever the structure. */
function firstMark(node: SensitiveNode | undefined): SensitiveMark | undefined {
  if (!node) return undefined;
  if (node.mark) return node.mark;
  const any = firstMark(node.any);
  if (any) return any;
  for (const child of node.children?.values() ?? []) {
    const m = firstMark(child);
    if (m) return m;
  }
  return undefined;
}

/**
 * A container whose values the masking walk cannot address by path (a Map, a Set): if anything
 * inside is sensitive, the whole value is masked. More than needed, never less.
 */
function whole(inner: SensitiveNode | undefined): SensitiveNode | undefined {
  const mark = firstMark(inner);
  return mark ? { mark } : undefined;
}

const ZOD4_WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'nonoptional', 'readonly', 'catch', 'success', 'promise']);
const ZOD4_LEAVES = new Set([
  'string', 'number', 'int', 'bigint', 'boolean', 'date', 'symbol', 'undefined', 'null', 'any', 'unknown', 'never', 'void',
  'literal', 'enum', 'nan', 'template_literal', 'file', 'custom', 'transform', 'function',
]);
const ZOD3_WRAPPERS: Record<string, string> = {
  ZodOptional: 'innerType',
  ZodNullable: 'innerType',
  ZodDefault: 'innerType',
  ZodCatch: 'innerType',
  ZodReadonly: 'innerType',
  ZodBranded: 'type',
  ZodPromise: 'type',
};
const ZOD3_LEAVES = new Set([
  'ZodString', 'ZodNumber', 'ZodBigInt', 'ZodBoolean', 'ZodDate', 'ZodSymbol', 'ZodUndefined', 'ZodNull', 'ZodAny',
  'ZodUnknown', 'ZodNever', 'ZodVoid', 'ZodLiteral', 'ZodEnum', 'ZodNativeEnum', 'ZodNaN', 'ZodFunction',
]);

class SchemaWalk {
  private readonly active = new Set<object>();

  visit(schema: unknown, depth: number): SensitiveNode | undefined {
    if (typeof schema !== 'object' || schema === null || depth > MAX_DEPTH) return undefined;
    const mark = markOf(schema);
    if (mark) return { mark };
    // A recursive schema (z.lazy) meets itself: its marks are already being collected above.
    if (this.active.has(schema)) return undefined;
    const def4 = zod4Def(schema);
    const def3 = def4 === undefined ? zod3Def(schema) : undefined;
    if (def4 === undefined && def3 === undefined) return undefined;
    this.active.add(schema);
    try {
      return def4 !== undefined ? this.visit4(def4, depth) : this.visit3(def3 as Record<PropertyKey, unknown>, depth);
    } finally {
      this.active.delete(schema);
    }
  }

  private object(shape: unknown, catchall: unknown, depth: number): SensitiveNode | undefined {
    let children: Map<string, SensitiveNode> | undefined;
    if (typeof shape === 'object' && shape !== null) {
      for (const [key, child] of Object.entries(shape)) {
        const node = this.visit(child, depth + 1);
        if (node) (children ??= new Map()).set(key, node);
      }
    }
    const any = catchall !== undefined && catchall !== null ? this.visit(catchall, depth + 1) : undefined;
    return children || any ? { ...(children ? { children } : {}), ...(any ? { any } : {}) } : undefined;
  }

  private tuple(items: unknown, rest: unknown, depth: number): SensitiveNode | undefined {
    let children: Map<string, SensitiveNode> | undefined;
    (Array.isArray(items) ? items : []).forEach((item: unknown, i) => {
      const node = this.visit(item, depth + 1);
      if (node) (children ??= new Map()).set(String(i), node);
    });
    const any = rest !== undefined && rest !== null ? this.visit(rest, depth + 1) : undefined;
    return children || any ? { ...(children ? { children } : {}), ...(any ? { any } : {}) } : undefined;
  }

  private options(options: unknown, depth: number): SensitiveNode | undefined {
    let out: SensitiveNode | undefined;
    const list = Array.isArray(options) ? options : options instanceof Map ? [...options.values()] : [];
    for (const option of list) out = merge(out, this.visit(option, depth));
    return out;
  }

  private lazy(getter: unknown, depth: number): SensitiveNode | undefined {
    return typeof getter === 'function' ? this.visit((getter as () => unknown)(), depth) : undefined;
  }

  private visit4(def: Record<PropertyKey, unknown>, depth: number): SensitiveNode | undefined {
    const type = def.type as string;
    const next = depth + 1;
    if (ZOD4_WRAPPERS.has(type)) return this.visit(def.innerType, depth);
    if (ZOD4_LEAVES.has(type)) return undefined;
    switch (type) {
      case 'object':
        return this.object(def.shape, def.catchall, depth);
      case 'array': {
        const any = this.visit(def.element, next);
        return any ? { any } : undefined;
      }
      case 'record': {
        const any = this.visit(def.valueType, next);
        return any ? { any } : undefined;
      }
      case 'tuple':
        return this.tuple(def.items, def.rest, depth);
      case 'union':
        return this.options(def.options, depth);
      case 'intersection':
        return merge(this.visit(def.left, depth), this.visit(def.right, depth));
      case 'pipe':
        // `.transform()`: the executed value has whatever shape the function returns, so paths
        // from the input cannot find the fields in it: a mark inside masks the whole value.
        if (zod4Def(def.out as object)?.type === 'transform') return whole(this.visit(def.in, depth));
        // Otherwise mask by both sides: the recorded value may be the input (proposed) or the output.
        return merge(this.visit(def.in, depth), this.visit(def.out, depth));
      case 'lazy':
        return this.lazy(def.getter, depth);
      case 'map':
        return whole(merge(this.visit(def.keyType, next), this.visit(def.valueType, next)));
      case 'set':
        return whole(this.visit(def.valueType, next));
      default:
        return this.unknownType(type, def, depth);
    }
  }

  private visit3(def: Record<PropertyKey, unknown>, depth: number): SensitiveNode | undefined {
    const type = def.typeName as string;
    const next = depth + 1;
    const inner = ZOD3_WRAPPERS[type];
    if (inner !== undefined) return this.visit(def[inner], depth);
    if (ZOD3_LEAVES.has(type)) return undefined;
    switch (type) {
      case 'ZodEffects': {
        // A refinement or preprocess keeps the schema's shape; a transform's output has any shape.
        const inner = this.visit(def.schema, depth);
        return (def.effect as { type?: unknown } | undefined)?.type === 'transform' ? whole(inner) : inner;
      }
      case 'ZodObject':
        return this.object(typeof def.shape === 'function' ? (def.shape as () => unknown)() : def.shape, def.catchall, depth);
      case 'ZodArray': {
        const any = this.visit(def.type, next);
        return any ? { any } : undefined;
      }
      case 'ZodRecord': {
        const any = this.visit(def.valueType, next);
        return any ? { any } : undefined;
      }
      case 'ZodTuple':
        return this.tuple(def.items, def.rest, depth);
      case 'ZodUnion':
      case 'ZodDiscriminatedUnion':
        return this.options(def.options, depth);
      case 'ZodIntersection':
        return merge(this.visit(def.left, depth), this.visit(def.right, depth));
      case 'ZodPipeline':
        return merge(this.visit(def.in, depth), this.visit(def.out, depth));
      case 'ZodLazy':
        return this.lazy(def.getter, depth);
      case 'ZodMap':
        return whole(merge(this.visit(def.keyType, next), this.visit(def.valueType, next)));
      case 'ZodSet':
        return whole(this.visit(def.valueType, next));
      default:
        return this.unknownType(type, def, depth);
    }
  }

  /**
   * A schema type this walk does not know (a newer zod). Its definition is searched for schemas;
   * if any of them holds a sensitive mark, the wrap fails: masking it by a guessed path could
   * leave the value in clear, and ignoring the mark would be a silent no-op.
   */
  private unknownType(type: string, def: Record<PropertyKey, unknown>, depth: number): SensitiveNode | undefined {
    const found: SensitiveNode[] = [];
    const look = (v: unknown, level: number): void => {
      if (typeof v !== 'object' || v === null || level > 2) return;
      if (zod4Def(v) !== undefined || zod3Def(v) !== undefined) {
        const node = this.visit(v, depth + 1);
        if (node) found.push(node);
        return;
      }
      for (const item of Array.isArray(v) ? v : Object.values(v)) look(item, level + 1);
    };
    for (const key of Object.keys(def)) look(def[key], 0);
    if (found.length > 0) {
      throw new AuditConfigError(
        `sensitive(): a field marked sensitive sits inside a zod schema of type "${type}", which tooltrail cannot follow; ` +
          'mark the enclosing field sensitive instead',
      );
    }
    return undefined;
  }
}

/** The sensitive paths of a zod 3 or zod 4 schema, or undefined when it marks none. Throws when it cannot tell. */
export function sensitivePaths(schema: unknown): SensitiveNode | undefined {
  return new SchemaWalk().visit(schema, 0);
}
