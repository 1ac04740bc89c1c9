/**
 * Where recorded arguments no longer hold the value the call was made with: masked tokens
 * (docs/masking.md), cut payloads, digests. A replayed condition that read such a place cannot
 * be decided from the record; this module finds the places and answers "did it read one".
 */

/** Why a place in the recorded arguments is not the value the call had. */
export type HoleCause = 'masked' | 'truncated' | 'digested' | 'masking_failed' | 'unreadable';

export interface Hole {
  /** Dotted argument path (`to`, `recipients.1`); '' for the whole arguments. */
  path: string;
  cause: HoleCause;
  /**
   * `value`: the value at `path` is not what was sent. `container`: members of the object or
   * array at `path` are missing or renamed (cut items, masked keys): paths under it that the
   * record does not hold may have existed.
   */
  shape: 'value' | 'container';
  /** Mask kinds named by the tokens (`email`, `password`), when they name one. */
  kinds: string[];
}

// `[REDACTED:kind]`, `[kind:hmac12]`, partial forms `****`, `****4242`, `****@example.org`.
const REDACTED = /\[REDACTED:([^\]\s]{1,80})\]/g;
const HASHED = /\[([A-Za-z0-9_.-]{1,80}):[0-9a-f]{12}\]/g;
const PARTIAL = '****';
export const MASKING_FAILED = '[MASKING_FAILED]';
export const DIGEST = '[Digest]';
const CUT_STRING = '…[truncated]';
const CUT_TEXT = /…\[truncated, \d+ bytes\]$/;
const CUT_ITEMS = /^\[\+\d+ items\]$/;
const CUT_KEYS_KEY = '[truncated]';

/** The mask kinds a string's tokens name ('' for a partial form), or undefined when it holds none. */
export function maskTokens(s: string): string[] | undefined {
  if (s.indexOf('[') < 0 && s.indexOf(PARTIAL) < 0) return undefined;
  const kinds: string[] = [];
  for (const m of s.matchAll(REDACTED)) kinds.push(m[1] as string);
  for (const m of s.matchAll(HASHED)) kinds.push(m[1] as string);
  if (s.includes(PARTIAL)) kinds.push('partial');
  if (s.includes(MASKING_FAILED)) kinds.push('masking_failed');
  return kinds.length > 0 ? [...new Set(kinds)] : undefined;
}

function join(path: string, key: string | number): string {
  return path === '' ? String(key) : `${path}.${key}`;
}

/** Every hole in parsed recorded arguments. */
export function findHoles(args: unknown): Hole[] {
  const holes: Hole[] = [];
  const walk = (v: unknown, path: string, depth: number): void => {
    if (typeof v === 'string') {
      if (v === MASKING_FAILED) holes.push({ path, cause: 'masking_failed', shape: 'value', kinds: [] });
      else if (v === DIGEST) holes.push({ path, cause: 'digested', shape: 'value', kinds: [] });
      else if (v.endsWith(CUT_STRING) || CUT_TEXT.test(v)) holes.push({ path, cause: 'truncated', shape: 'value', kinds: [] });
      const kinds = maskTokens(v);
      if (kinds && v !== MASKING_FAILED) holes.push({ path, cause: 'masked', shape: 'value', kinds });
      return;
    }
    if (v === null || typeof v !== 'object') return;
    if (depth > 64) {
      holes.push({ path, cause: 'unreadable', shape: 'container', kinds: [] });
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        if (typeof item === 'string' && CUT_ITEMS.test(item)) holes.push({ path, cause: 'truncated', shape: 'container', kinds: [] });
        else walk(item, join(path, i), depth + 1);
      });
      return;
    }
    for (const [k, item] of Object.entries(v)) {
      if (k === CUT_KEYS_KEY) {
        holes.push({ path, cause: 'truncated', shape: 'container', kinds: [] });
        continue;
      }
      // A masked key: the member's real name is unknown, so a read of a name the record lacks may be it.
      const keyKinds = maskTokens(k);
      if (keyKinds) holes.push({ path, cause: 'masked', shape: 'container', kinds: keyKinds });
      walk(item, join(path, k), depth + 1);
    }
  };
  walk(args, '', 0);
  return holes;
}

/** Whether the parsed arguments hold something at a dotted path. */
export function hasPath(args: unknown, path: string): boolean {
  if (path === '') return true;
  let v: unknown = args;
  for (const seg of path.split('.')) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, seg)) return false;
    v = (v as Record<string, unknown>)[seg];
  }
  return true;
}

const under = (path: string, prefix: string): boolean => prefix === '' || path === prefix || path.startsWith(`${prefix}.`);

/**
 * The holes a read of `path` touches: the value itself, anything under a container read as a
 * whole, or a path under a cut or renamed container that the record does not hold.
 */
export function holesRead(holes: readonly Hole[], path: string, args: unknown): Hole[] {
  return holes.filter((h) => {
    if (under(h.path, path)) return true; // reading the hole or a container holding it
    if (!under(path, h.path)) return false;
    return h.shape === 'value' || !hasPath(args, path);
  });
}
