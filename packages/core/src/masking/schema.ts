/**
 * Schema sensitivity: fields a tool's zod schema marks sensitive are masked whatever their
 * value looks like. The schema is walked once, at wrap time, into a tree of paths.
 */
import type { MaskStrategy } from './detectors.js';

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

/**
 * Marks a schema as sensitive and returns it unchanged: `z.object({ ssn: sensitive(z.string()) })`.
 * Zod's own metadata works too: `z.string().meta({ sensitive: true })`.
 */
export function sensitive<S extends object>(schema: S, options: SensitiveOptions = {}): S {
  if (typeof schema !== 'object' || schema === null) throw new TypeError('sensitive() takes a schema object');
  const kind = options.kind ?? SENSITIVE_KIND;
  if (!KIND_PATTERN.test(kind)) throw new TypeError(`sensitive(): kind must be 1-64 letters, digits, "_", "." or "-", got ${JSON.stringify(kind)}`);
  const strategy = options.strategy;
  if (strategy !== undefined && strategy !== 'redact' && strategy !== 'hash' && strategy !== 'partial') {
    throw new TypeError('sensitive(): strategy must be redact, hash or partial');
  }
  marks.set(schema, Object.freeze({ kind, strategy }));
  return schema;
}

/** The zod 4 internals this walk reads. Anything else is treated as a leaf. */
interface ZodInternals {
  _zod?: { def?: ZodDef };
  meta?: () => unknown;
}
interface ZodDef {
  type?: string;
  shape?: Record<string, unknown>;
  catchall?: unknown;
  innerType?: unknown;
  element?: unknown;
  valueType?: unknown;
  items?: unknown[];
  rest?: unknown;
  options?: unknown[];
  left?: unknown;
  right?: unknown;
  in?: unknown;
  out?: unknown;
  getter?: () => unknown;
}

const MAX_DEPTH = 32;

function markOf(schema: object): SensitiveMark | undefined {
  const own = marks.get(schema);
  if (own) return own;
  const meta = (schema as ZodInternals).meta;
  if (typeof meta === 'function') {
    const m = meta.call(schema) as { sensitive?: unknown } | undefined;
    if (m !== null && typeof m === 'object' && m.sensitive === true) return { kind: SENSITIVE_KIND, strategy: undefined };
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

class SchemaWalk {
  private readonly active = new Set<object>();

  visit(schema: unknown, depth: number): SensitiveNode | undefined {
    if (typeof schema !== 'object' || schema === null || depth > MAX_DEPTH) return undefined;
    const mark = markOf(schema);
    if (mark) return { mark };
    // A recursive schema (z.lazy) meets itself: its marks are already being collected above.
    if (this.active.has(schema)) return undefined;
    const def = (schema as ZodInternals)._zod?.def;
    if (def === undefined) return undefined;
    this.active.add(schema);
    try {
      return this.visitDef(def, depth);
    } finally {
      this.active.delete(schema);
    }
  }

  private visitDef(def: ZodDef, depth: number): SensitiveNode | undefined {
    const next = depth + 1;
    switch (def.type) {
      case 'object': {
        let children: Map<string, SensitiveNode> | undefined;
        for (const [key, child] of Object.entries(def.shape ?? {})) {
          const node = this.visit(child, next);
          if (node) (children ??= new Map()).set(key, node);
        }
        const any = def.catchall !== undefined ? this.visit(def.catchall, next) : undefined;
        return children || any ? { ...(children ? { children } : {}), ...(any ? { any } : {}) } : undefined;
      }
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'nonoptional':
      case 'readonly':
      case 'catch':
      case 'success':
        return this.visit(def.innerType, depth);
      case 'array': {
        const any = this.visit(def.element, next);
        return any ? { any } : undefined;
      }
      case 'record': {
        const any = this.visit(def.valueType, next);
        return any ? { any } : undefined;
      }
      case 'tuple': {
        let children: Map<string, SensitiveNode> | undefined;
        (def.items ?? []).forEach((item, i) => {
          const node = this.visit(item, next);
          if (node) (children ??= new Map()).set(String(i), node);
        });
        const any = def.rest !== undefined && def.rest !== null ? this.visit(def.rest, next) : undefined;
        return children || any ? { ...(children ? { children } : {}), ...(any ? { any } : {}) } : undefined;
      }
      case 'union': {
        let out: SensitiveNode | undefined;
        for (const option of def.options ?? []) out = merge(out, this.visit(option, depth));
        return out;
      }
      case 'intersection':
        return merge(this.visit(def.left, depth), this.visit(def.right, depth));
      case 'pipe':
        // Mask by both sides: the recorded value may be the input (proposed) or the output.
        return merge(this.visit(def.in, depth), this.visit(def.out, depth));
      case 'lazy':
        return typeof def.getter === 'function' ? this.visit(def.getter(), depth) : undefined;
      default:
        return undefined;
    }
  }
}

/** The sensitive paths of a zod 4 schema, or undefined when it marks none. */
export function sensitivePaths(schema: unknown): SensitiveNode | undefined {
  return new SchemaWalk().visit(schema, 0);
}
