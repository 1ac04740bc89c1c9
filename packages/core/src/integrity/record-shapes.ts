import { UNHASHED_ATTRIBUTES } from './canonical.js';

/**
 * The sorted order of a record's attribute names, computed once per shape. Records of one
 * call site have the same names in the same order every time (the call record, the attempt
 * record, a denial...), so sorting 20 names and escaping each of them per record is work
 * done once here instead.
 */
export interface RecordShape {
  /** The names in the attributes' own order (the first record's Object.keys). */
  readonly keys: readonly string[];
  /** Indices into `keys`, sorted by name in code-unit order, unhashed names left out. */
  readonly order: readonly number[];
  /** Per sorted position: `["name",`, the canonical pair's opening. */
  readonly prefixes: readonly string[];
  /** Per sorted position: `],["name",`, the previous pair's close and this one's opening. */
  readonly joiners: readonly string[];
  /**
   * Per sorted position, the last short value seen there (string, number or boolean), its JSON
   * text, and `joiner + json` as one flat string: most values repeat from record to record of a
   * shape (the principal, the agent, the tool, the outcome), so they are escaped once, and the
   * record's text is made of half as many pieces (flattening a rope costs per piece). Long
   * values are not kept (never retained).
   */
  readonly lastValues: (string | number | boolean | undefined)[];
  readonly lastJson: string[];
  readonly lastPairs: string[];
  /**
   * Per sorted position, a run of repeated pairs starting there (undefined: none). Pairs whose
   * values repeat from record to record sit side by side (the agent, the tool, the outcome), so
   * the record's text is joined from a handful of pieces instead of one per pair.
   */
  readonly runs: (PairRun | undefined)[];
}

/** Pairs at sorted positions `start` to `end` (exclusive) as one flat text, with the values it was made from. */
export interface PairRun {
  readonly end: number;
  readonly text: string;
  /** The values and their JSON text, per position from `start` (its own copy: never stale). */
  readonly values: readonly unknown[];
  readonly json: readonly string[];
}

/** Values up to this length are remembered per position (a bounded, cheap comparison). */
export const MEMO_VALUE_LENGTH = 128;

/** Shapes by name count; each list most recently used first. Bounded: a shape is cheap to redo. */
const byCount = new Map<number, RecordShape[]>();
const MAX_PER_COUNT = 8;

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function build(keys: string[]): RecordShape {
  const order: number[] = [];
  for (let i = 0; i < keys.length; i++) if (!UNHASHED_ATTRIBUTES.has(keys[i] as string)) order.push(i);
  // Code-unit order, as Array.prototype.sort gives for strings (names are unique: no ties).
  order.sort((x, y) => ((keys[x] as string) < (keys[y] as string) ? -1 : 1));
  // Joined, not `+`: flat strings, where a template would leave each a small rope that every
  // record's text would walk again when it is flattened for the hash.
  const prefixes = order.map((i) => ['[', JSON.stringify(keys[i]), ','].join(''));
  return { keys, order, prefixes, joiners: prefixes.map((p) => ['],', p].join('')), lastValues: order.map(() => undefined), lastJson: order.map(() => ''), lastPairs: order.map(() => ''), runs: order.map(() => undefined) };
}

/** The shape of these names (`keys` is adopted when the shape is new: pass a fresh array). */
export function shapeOf(keys: string[]): RecordShape {
  let list = byCount.get(keys.length);
  if (list === undefined) {
    list = [];
    byCount.set(keys.length, list);
  }
  for (let k = 0; k < list.length; k++) {
    const shape = list[k] as RecordShape;
    if (sameKeys(keys, shape.keys)) {
      if (k > 0) {
        list.splice(k, 1);
        list.unshift(shape);
      }
      return shape;
    }
  }
  const shape = build(keys);
  list.unshift(shape);
  if (list.length > MAX_PER_COUNT) list.pop();
  return shape;
}

let lastShape: RecordShape | undefined;

/**
 * The shape of an attributes object: the shape used last when the names are the same, checked
 * by walking them (no Object.keys array per record), else shapeOf. The same walk copies the
 * values into `values` in the names' order: a load inside for-in is served from the object's
 * enum cache, where `attrs[keys[i]]` later, with a different name at each site, is a
 * megamorphic lookup per value.
 */
export function shapeOfAttributes(attrs: Readonly<Record<string, unknown>>, values: unknown[]): RecordShape {
  const last = lastShape;
  if (last !== undefined) {
    const keys = last.keys;
    let i = 0;
    let same = true;
    for (const key in attrs) {
      if (keys[i] !== key) {
        same = false;
        break;
      }
      values[i++] = attrs[key];
    }
    if (same && i === keys.length) return last;
  }
  const keys = Object.keys(attrs);
  for (let i = 0; i < keys.length; i++) values[i] = attrs[keys[i] as string];
  lastShape = shapeOf(keys);
  return lastShape;
}
