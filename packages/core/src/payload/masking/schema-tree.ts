/** The tree of sensitive paths a schema walk builds, and how its pieces combine. */
import type { SensitiveMark, SensitiveNode } from './schema-mark.js';

/** What the zod 3 and zod 4 readers ask of the walk: visiting children and the shared shapes. */
export interface SchemaVisitor {
  visit(schema: unknown, depth: number): SensitiveNode | undefined;
  object(shape: unknown, catchall: unknown, depth: number): SensitiveNode | undefined;
  tuple(items: unknown, rest: unknown, depth: number): SensitiveNode | undefined;
  options(options: unknown, depth: number): SensitiveNode | undefined;
  lazy(getter: unknown, depth: number): SensitiveNode | undefined;
  unknownType(type: string, def: Record<PropertyKey, unknown>, depth: number): SensitiveNode | undefined;
}

export function merge(a: SensitiveNode | undefined, b: SensitiveNode | undefined): SensitiveNode | undefined {
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
export function firstMark(node: SensitiveNode | undefined): SensitiveMark | undefined {
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
export function whole(inner: SensitiveNode | undefined): SensitiveNode | undefined {
  const mark = firstMark(inner);
  return mark ? { mark } : undefined;
}
