/**
 * Schema sensitivity: fields a tool's zod schema marks sensitive are masked whatever their
 * value looks like. The schema is walked once, at wrap time, into a tree of paths: this file
 * walks, schema-mark.ts reads marks, schema-zod4.ts and schema-zod3.ts read each version's
 * definitions.
 */
import { AuditConfigError } from '../../contract/errors.js';
import { markOf, zod3Def, zod4Def, type SensitiveNode } from './schema-mark.js';
import { merge, type SchemaVisitor } from './schema-tree.js';
import { visitZod3 } from './schema-zod3.js';
import { visitZod4 } from './schema-zod4.js';

export { SENSITIVE_KIND, sensitive, type SensitiveMark, type SensitiveNode, type SensitiveOptions } from './schema-mark.js';

const MAX_DEPTH = 32;

class SchemaWalk implements SchemaVisitor {
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
      return def4 !== undefined ? visitZod4(this, def4, depth) : visitZod3(this, def3 as Record<PropertyKey, unknown>, depth);
    } finally {
      this.active.delete(schema);
    }
  }

  object(shape: unknown, catchall: unknown, depth: number): SensitiveNode | undefined {
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

  tuple(items: unknown, rest: unknown, depth: number): SensitiveNode | undefined {
    let children: Map<string, SensitiveNode> | undefined;
    (Array.isArray(items) ? items : []).forEach((item: unknown, i) => {
      const node = this.visit(item, depth + 1);
      if (node) (children ??= new Map()).set(String(i), node);
    });
    const any = rest !== undefined && rest !== null ? this.visit(rest, depth + 1) : undefined;
    return children || any ? { ...(children ? { children } : {}), ...(any ? { any } : {}) } : undefined;
  }

  options(options: unknown, depth: number): SensitiveNode | undefined {
    let out: SensitiveNode | undefined;
    const list = Array.isArray(options) ? options : options instanceof Map ? [...options.values()] : [];
    for (const option of list) out = merge(out, this.visit(option, depth));
    return out;
  }

  lazy(getter: unknown, depth: number): SensitiveNode | undefined {
    return typeof getter === 'function' ? this.visit((getter as () => unknown)(), depth) : undefined;
  }

  /**
   * A schema type this walk does not know (a newer zod). Its definition is searched for schemas;
   * if any of them holds a sensitive mark, the wrap fails: masking it by a guessed path could
   * leave the value in clear, and ignoring the mark would be a silent no-op.
   */
  unknownType(type: string, def: Record<PropertyKey, unknown>, depth: number): SensitiveNode | undefined {
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
