/**
 * The canonical form of a tool definition that a pin hashes: JSON with every object's keys
 * sorted (by UTF-16 code units, as `Array.prototype.sort` orders strings), no whitespace, absent
 * (`undefined`) members left out, array order kept. Two definitions that differ only in key
 * order or formatting hash the same; any change of a name, a word of the description or a
 * schema keyword does not.
 */
import { createHash } from 'node:crypto';

/** What a pin covers of an MCP tool: its name, description and input schema. Nothing else. */
export interface PinnedDefinition {
  readonly name: string;
  readonly description?: string | undefined;
  readonly inputSchema?: unknown;
}

/** Deeper than this is no tool schema: refused rather than recursed into. */
const MAX_DEPTH = 256;

function write(value: unknown, depth: number, out: string[]): void {
  if (depth > MAX_DEPTH) throw new RangeError(`tool definition nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value === 'boolean' || typeof value === 'string') {
    out.push(JSON.stringify(value));
    return;
  }
  if (typeof value === 'number') {
    out.push(Number.isFinite(value) ? JSON.stringify(value) : 'null');
    return;
  }
  if (Array.isArray(value)) {
    out.push('[');
    value.forEach((item, i) => {
      if (i > 0) out.push(',');
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') out.push('null');
      else write(item, depth + 1, out);
    });
    out.push(']');
    return;
  }
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined && typeof record[k] !== 'function' && typeof record[k] !== 'symbol')
      .sort();
    out.push('{');
    keys.forEach((k, i) => {
      if (i > 0) out.push(',');
      out.push(JSON.stringify(k), ':');
      write(record[k], depth + 1, out);
    });
    out.push('}');
    return;
  }
  // bigint and the like cannot come from JSON-RPC; hashed by their text rather than dropped.
  out.push(JSON.stringify(String(value)));
}

/** Canonical JSON text of any JSON value (sorted keys, no whitespace). */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, 0, out);
  return out.join('');
}

/** `sha256:` + hex of the canonical JSON of `{ name, description, inputSchema }`. */
export function definitionHash(tool: PinnedDefinition): string {
  const pinned: Record<string, unknown> = { name: tool.name };
  if (tool.description !== undefined) pinned.description = tool.description;
  if (tool.inputSchema !== undefined) pinned.inputSchema = tool.inputSchema;
  return `sha256:${createHash('sha256').update(canonicalJson(pinned), 'utf8').digest('hex')}`;
}
