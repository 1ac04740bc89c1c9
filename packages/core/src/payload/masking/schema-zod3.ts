/** A zod 3 schema's definition (`zod@3`, or `zod/v3` of zod 4), tagged by `typeName`, read for sensitive paths. */
import type { SensitiveNode } from './schema-mark.js';
import { merge, whole, type SchemaVisitor } from './schema-tree.js';

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


/** The sensitive paths under one zod 3 definition. */
export function visitZod3(w: SchemaVisitor, def: Record<PropertyKey, unknown>, depth: number): SensitiveNode | undefined {
  const type = def.typeName as string;
  const next = depth + 1;
  const inner = ZOD3_WRAPPERS[type];
  if (inner !== undefined) return w.visit(def[inner], depth);
  if (ZOD3_LEAVES.has(type)) return undefined;
  switch (type) {
    case 'ZodEffects': {
      // A refinement or preprocess keeps the schema's shape; a transform's output has any shape.
      const inner = w.visit(def.schema, depth);
      return (def.effect as { type?: unknown } | undefined)?.type === 'transform' ? whole(inner) : inner;
    }
    case 'ZodObject':
      return w.object(typeof def.shape === 'function' ? (def.shape as () => unknown)() : def.shape, def.catchall, depth);
    case 'ZodArray': {
      const any = w.visit(def.type, next);
      return any ? { any } : undefined;
    }
    case 'ZodRecord': {
      const any = w.visit(def.valueType, next);
      return any ? { any } : undefined;
    }
    case 'ZodTuple':
      return w.tuple(def.items, def.rest, depth);
    case 'ZodUnion':
    case 'ZodDiscriminatedUnion':
      return w.options(def.options, depth);
    case 'ZodIntersection':
      return merge(w.visit(def.left, depth), w.visit(def.right, depth));
    case 'ZodPipeline':
      return merge(w.visit(def.in, depth), w.visit(def.out, depth));
    case 'ZodLazy':
      return w.lazy(def.getter, depth);
    case 'ZodMap':
      return whole(merge(w.visit(def.keyType, next), w.visit(def.valueType, next)));
    case 'ZodSet':
      return whole(w.visit(def.valueType, next));
    default:
      return w.unknownType(type, def, depth);
  }
}
