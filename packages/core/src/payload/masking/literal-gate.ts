/**
 * The literal gate: which literal-gated detectors have one of their fixed prefixes in a string,
 * found in one pass. Same answer as a regex of every literal, longest first, exec'd left to
 * right without overlaps (at `sk-ant-` only the anthropic detector is flagged, not `sk-`), but
 * V8 runs a regex of ~200 alternatives at ~4 ns a character: here each position costs one
 * lookup of its first two characters, and only literals starting with them are compared.
 */
import type { DetectorDef } from './catalog/detector-def.js';
import { escapeRegExp } from './gates.js';

/** Buckets are indexed by the first two characters when both are below this. */
const PAIR_BASE = 128;

export class LiteralGate {
  /** Literal → the catalog positions of the detectors it flags. */
  private readonly byLiteral = new Map<string, number[]>();
  /** First-two-character code → 1 + index into `buckets`, 0 when no literal starts so. */
  private readonly pairIndex: Uint16Array | undefined;
  /** Literals sharing their first two characters, longest first (the regex's order). */
  private readonly buckets: string[][] = [];
  /** Used when some literal is shorter than two characters or not ASCII there. */
  private readonly regex: RegExp | undefined;
  readonly empty: boolean;
  /** seen[order] === gen: already flagged in this call (no allocation per string). */
  private readonly seen: Uint32Array;
  private gen = 0;

  constructor(detectors: readonly DetectorDef[]) {
    const literals: string[] = [];
    this.seen = new Uint32Array(detectors.length);
    detectors.forEach((d, order) => {
      if (d.gate !== 'literal') return;
      for (const lit of d.literals ?? []) {
        const list = this.byLiteral.get(lit);
        if (list) list.push(order);
        else {
          this.byLiteral.set(lit, [order]);
          literals.push(lit);
        }
      }
    });
    // Longest first: at `sk-ant-` the anthropic detector must be the one flagged. Stable.
    literals.sort((a, b) => b.length - a.length);
    this.empty = literals.length === 0;
    const paired = literals.every((l) => l.length >= 2 && l.charCodeAt(0) < PAIR_BASE && l.charCodeAt(1) < PAIR_BASE);
    if (!paired) {
      this.regex = new RegExp(literals.map(escapeRegExp).join('|'), 'g');
      return;
    }
    const index = new Uint16Array(PAIR_BASE * PAIR_BASE);
    for (const lit of literals) {
      const key = lit.charCodeAt(0) * PAIR_BASE + lit.charCodeAt(1);
      let b = index[key] as number;
      if (b === 0) {
        this.buckets.push([]);
        b = index[key] = this.buckets.length;
      }
      (this.buckets[b - 1] as string[]).push(lit);
    }
    this.pairIndex = index;
  }

  /** Catalog positions of the literal-gated detectors whose literal occurs in `s`, ascending. */
  flag(s: string): number[] {
    const out: number[] = [];
    if (this.empty) return out;
    if (++this.gen === 0xffffffff) {
      this.seen.fill(0);
      this.gen = 1;
    }
    const index = this.pairIndex;
    if (index === undefined) this.flagByRegex(s, out);
    else this.flagByPairs(s, index, out);
    return out.length > 1 ? out.sort((a, b) => a - b) : out;
  }

  private add(orders: readonly number[], out: number[]): void {
    for (const o of orders) {
      if (this.seen[o] === this.gen) continue;
      this.seen[o] = this.gen;
      out.push(o);
    }
  }

  private flagByPairs(s: string, index: Uint16Array, out: number[]): void {
    const n = s.length;
    let i = 0;
    let c1 = n > 0 ? s.charCodeAt(0) : 0;
    while (i + 1 < n) {
      const c0 = c1;
      c1 = s.charCodeAt(i + 1);
      const b = (c0 | c1) < PAIR_BASE ? (index[c0 * PAIR_BASE + c1] as number) : 0;
      if (b !== 0) {
        const lit = this.match(this.buckets[b - 1] as string[], s, i);
        if (lit !== undefined) {
          this.add(this.byLiteral.get(lit) as number[], out);
          // Matches do not overlap: go on after this one, as the regex would.
          i += lit.length;
          c1 = i < n ? s.charCodeAt(i) : 0;
          continue;
        }
      }
      i++;
    }
  }

  /** The first literal of the bucket at `i`; its first two characters are known to match. */
  private match(bucket: readonly string[], s: string, i: number): string | undefined {
    const n = s.length;
    next: for (const lit of bucket) {
      const len = lit.length;
      if (i + len > n) continue;
      for (let k = 2; k < len; k++) if (s.charCodeAt(i + k) !== lit.charCodeAt(k)) continue next;
      return lit;
    }
    return undefined;
  }

  private flagByRegex(s: string, out: number[]): void {
    const re = this.regex as RegExp;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(s)) !== null) {
      if (m[0].length === 0) re.lastIndex++; // an empty literal matches everywhere
      const list = this.byLiteral.get(m[0]);
      if (list) this.add(list, out);
    }
  }
}
