/**
 * Unknown option keys are errors, never silently ignored: a typo like `duribility: 'strict'`
 * would otherwise run buffered, and `integrity.checkpointEvry` would leave the default in place.
 * Every message names the key and, when one is close, the valid name it was probably meant to be.
 */
import type { z } from 'zod';

/** Largest delay a Node timer takes (2^31-1 ms); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** Optimal-string-alignment distance (Levenshtein plus adjacent transpositions), case-insensitive. */
function distance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = [];
  for (let i = 0; i <= s.length; i++) d.push([i]);
  for (let j = 1; j <= t.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= s.length; i++) {
    const row = d[i] as number[];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let v = Math.min((d[i - 1] as number[])[j] as number + 1, (row[j - 1] as number) + 1, ((d[i - 1] as number[])[j - 1] as number) + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = v;
    }
  }
  return (d[s.length] as number[])[t.length] as number;
}

/** The valid name closest to `name`, when one is close enough to be a plausible typo. */
export function nearestName(name: string, valid: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of valid) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const limit = Math.max(2, Math.floor(Math.max(name.length, best?.length ?? 0) / 3));
  return bestDistance <= limit ? best : undefined;
}

export function unknownKeyMessage(prefix: string, key: string, valid: readonly string[]): string {
  const near = nearestName(key, valid);
  const hint = near !== undefined ? `did you mean \`${prefix}${near}\`?` : `valid options here: ${valid.join(', ') || '(none)'}`;
  return `unknown option \`${prefix}${key}\`; ${hint}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

const isOptionsObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Adds an issue for every own key of `value` not in `valid`. */
export function checkKeys(value: object, valid: readonly string[], prefix: string, issues: string[]): void {
  for (const key of Object.keys(value)) if (!valid.includes(key)) issues.push(unknownKeyMessage(prefix, key, valid));
}


/** The parts of a zod 4 schema this walk reads. */
interface Def {
  type?: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  element?: z.ZodType;
  valueType?: z.ZodType;
  in?: z.ZodType;
}
const defOf = (schema: unknown): Def | undefined => (schema as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/**
 * Every unknown key in `value`, at any depth the zod `schema` describes as objects (options
 * groups, arrays of option objects, records of them). The schema stays the single list of valid
 * names: a key added to it is accepted here with no second list to update.
 */
export function unknownKeys(schema: z.ZodType, value: unknown, prefix = ''): string[] {
  const issues: string[] = [];
  walk(schema, value, prefix, issues, 0);
  return issues;
}

function walk(schema: unknown, value: unknown, prefix: string, issues: string[], depth: number): void {
  const def = defOf(schema);
  if (def === undefined || depth > 16 || value === undefined || value === null) return;
  switch (def.type) {
    case 'object': {
      // Any object, not only plain ones: an options object built by a class (or Object.create)
      // with a misspelt own key must not be read as a valid one.
      if (!isOptionsObject(value) || def.shape === undefined) return;
      const shape = def.shape;
      const valid = Object.keys(shape);
      checkKeys(value, valid, prefix, issues);
      for (const key of valid) if (key in value) walk(shape[key], value[key], `${prefix}${key}.`, issues, depth + 1);
      return;
    }
    case 'optional':
    case 'nullable':
    case 'default':
    case 'readonly':
      walk(def.innerType, value, prefix, issues, depth);
      return;
    case 'pipe':
      walk(def.in, value, prefix, issues, depth);
      return;
    case 'union':
      // `integrity: {...} | false`: the object options apply to an object value.
      if (isOptionsObject(value)) for (const option of def.options ?? []) if (defOf(option)?.type === 'object') walk(option, value, prefix, issues, depth);
      return;
    case 'array':
      if (Array.isArray(value)) value.forEach((item, i) => walk(def.element, item, `${prefix.slice(0, -1)}[${i}].`, issues, depth + 1));
      return;
    case 'record':
      if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) walk(def.valueType, v, `${prefix}${k}.`, issues, depth + 1);
      return;
    default:
      return;
  }
}
