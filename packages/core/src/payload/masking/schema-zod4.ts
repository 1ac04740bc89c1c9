/** A zod 4 schema's definition (classic, mini or core), tagged by `type`, read for sensitive paths. */
import { zod4Def, type SensitiveNode } from './schema-mark.js';
import { merge, whole, type SchemaVisitor } from './schema-tree.js';

const ZOD4_WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'nonoptional', 'readonly', 'catch', 'success', 'promise']);
const ZOD4_LEAVES = new Set([
  'string', 'number', 'int', 'bigint', 'boolean', 'date', 'symbol', 'undefined', 'null', 'any', 'unknown', 'never', 'void',
  'literal', 'enum', 'nan', 'template_literal', 'file', 'custom', 'transform', 'function',
]);

/** The sensitive paths under one zod 4 definition. */
export function visitZod4(w: SchemaVisitor, def: Record<PropertyKey, unknown>, depth: number): SensitiveNode | undefined {
  const type = def.type as string;
  const next = depth + 1;
  if (ZOD4_WRAPPERS.has(type)) return w.visit(def.innerType, depth);
  if (ZOD4_LEAVES.has(type)) return undefined;
  switch (type) {
    case 'object':
      return w.object(def.shape, def.catchall, depth);
    case 'array': {
      const any = w.visit(def.element, next);
      return any ? { any } : undefined;
    }
    case 'record': {
      const any = w.visit(def.valueType, next);
      return any ? { any } : undefined;
    }
    case 'tuple':
      return w.tuple(def.items, def.rest, depth);
    case 'union':
      return w.options(def.options, depth);
    case 'intersection':
      return merge(w.visit(def.left, depth), w.visit(def.right, depth));
    case 'pipe':
      // `.transform()`: the executed value has whatever shape the function returns, so paths
      // from the input cannot find the fields in it: a mark inside masks the whole value.
      if (zod4Def(def.out as object)?.type === 'transform') return whole(w.visit(def.in, depth));
      // Otherwise mask by both sides: the recorded value may be the input (proposed) or the output.
      return merge(w.visit(def.in, depth), w.visit(def.out, depth));
    case 'lazy':
      return w.lazy(def.getter, depth);
    case 'map':
      return whole(merge(w.visit(def.keyType, next), w.visit(def.valueType, next)));
    case 'set':
      return whole(w.visit(def.valueType, next));
    default:
      return w.unknownType(type, def, depth);
  }
}
