/**
 * Text to a validated PolicyDocument. JSON and YAML both end in the same zod check; every
 * problem is listed at once, each with where it is, so a security team fixes a file in one go.
 */
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { AuditConfigError } from '../../contract/errors.js';
import { policyDocumentSchema } from './schema.js';
import type { PolicyDocument } from './types.js';

/** Nesting deeper than this is not a policy (and would be slow to walk). */
export const MAX_NESTING = 64;

function issuePath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? String(seg) : `.${String(seg)}`;
  return out === '' ? '(top level)' : out;
}

function zodIssues(error: z.ZodError, doc: unknown): string[] {
  return error.issues.map((issue) => {
    // Name the rule by its id where there is one: "rules[3] (mail-inside)" is easier to find.
    let where = issuePath(issue.path);
    const [first, index] = issue.path;
    if (first === 'rules' && typeof index === 'number') {
      const rules = (doc as { rules?: unknown }).rules;
      const rule = Array.isArray(rules) ? (rules[index] as { id?: unknown } | undefined) : undefined;
      if (rule && typeof rule.id === 'string') where = `${where} (rule ${rule.id})`;
    }
    return `${where}: ${issue.message}`;
  });
}

function tooDeep(value: unknown, depth: number): boolean {
  if (depth > MAX_NESTING) return true;
  if (typeof value !== 'object' || value === null) return false;
  for (const v of Object.values(value)) if (tooDeep(v, depth + 1)) return true;
  return false;
}

function parseJson(text: string, issues: string[]): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    issues.push(`not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
  // JSON.parse keeps the last of two equal keys without a word; in a policy that silently
  // picks one of two `default`s. The YAML parser (a JSON superset) finds them.
  const doc = parseDocument(text, { uniqueKeys: true });
  for (const e of doc.errors) if (e.code === 'DUPLICATE_KEY') issues.push(`duplicate key at line ${e.linePos?.[0].line ?? '?'}: ${firstLine(e.message)}`);
  return value;
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

function parseYaml(text: string, issues: string[]): unknown {
  // The core schema (YAML 1.2): `no` stays a string, not false. Aliases capped: a file of
  // nested anchors must not expand into gigabytes.
  const doc = parseDocument(text, { uniqueKeys: true, schema: 'core', prettyErrors: false });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) issues.push(`YAML: ${firstLine(e.message)}${e.linePos ? ` (line ${e.linePos[0].line})` : ''}`);
    return undefined;
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    issues.push(`YAML: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

/** Parses and validates a policy file's text. Throws an AuditConfigError listing every problem. */
export function parsePolicyDocument(text: string, format: 'json' | 'yaml', where = 'policy file'): PolicyDocument {
  if (typeof text !== 'string') throw new AuditConfigError(`invalid ${where}`, ['the policy text must be a string']);
  if (format !== 'json' && format !== 'yaml') throw new AuditConfigError(`invalid ${where}`, [`format must be json or yaml, not ${String(format)}`]);
  const issues: string[] = [];
  let value: unknown;
  try {
    value = format === 'json' ? parseJson(text, issues) : parseYaml(text, issues);
  } catch (err) {
    // A stack overflow on absurd nesting, or anything else the parsers throw.
    issues.push(`cannot parse: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (issues.length > 0) throw new AuditConfigError(`invalid ${where}`, issues);
  if (tooDeep(value, 0)) throw new AuditConfigError(`invalid ${where}`, [`nested deeper than ${MAX_NESTING} levels`]);
  const result = policyDocumentSchema.safeParse(value);
  if (!result.success) throw new AuditConfigError(`invalid ${where}`, zodIssues(result.error, value));
  return result.data as PolicyDocument;
}
