/**
 * Sets of sequence numbers (or checkpoint indexes) as sorted intervals. Findings are reported as
 * ranges, and a forged line may claim any number up to 2^53-1: nothing here allocates in
 * proportion to a number's size, only to the count of intervals, which is capped.
 */

export type Range = [number, number];

/** Intervals kept per finding; beyond it the highest are dropped and counted. */
export const MAX_RANGES = 1000;

/** Sorted, disjoint, non-adjacent intervals, inserted in any order. */
export class RangeSet {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  /** Numbers in intervals dropped to respect the cap (when the set was too fragmented to keep). */
  droppedNumbers = 0;
  droppedRanges = 0;

  constructor(private readonly cap: number = MAX_RANGES) {}

  get size(): number {
    return this.starts.length;
  }

  /** Numbers in the set (plus those in dropped intervals). */
  get count(): number {
    let n = this.droppedNumbers;
    for (let i = 0; i < this.starts.length; i++) n += (this.ends[i] as number) - (this.starts[i] as number) + 1;
    return n;
  }

  add(n: number): void {
    this.addRange(n, n);
  }

  addRange(a: number, b: number): void {
    if (b < a) return;
    const { starts, ends } = this;
    const last = starts.length - 1;
    // The common case: in order, extending or following the last interval.
    if (last < 0 || a > (ends[last] as number) + 1) {
      starts.push(a);
      ends.push(b);
    } else if (a >= (starts[last] as number)) {
      if (b > (ends[last] as number)) ends[last] = b;
    } else {
      // First interval that ends at or after a - 1 (could touch or overlap [a, b]).
      let lo = 0;
      let hi = starts.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((ends[mid] as number) < a - 1) lo = mid + 1;
        else hi = mid;
      }
      let j = lo;
      let s = a;
      let e = b;
      while (j < starts.length && (starts[j] as number) <= b + 1) {
        s = Math.min(s, starts[j] as number);
        e = Math.max(e, ends[j] as number);
        j++;
      }
      starts.splice(lo, j - lo, s);
      ends.splice(lo, j - lo, e);
    }
    while (starts.length > this.cap) {
      const s = starts.pop() as number;
      const e = ends.pop() as number;
      this.droppedNumbers += e - s + 1;
      this.droppedRanges++;
    }
  }

  has(n: number): boolean {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ends[mid] as number) < n) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.starts.length && (this.starts[lo] as number) <= n;
  }

  ranges(): Range[] {
    return this.starts.map((s, i) => [s, this.ends[i] as number]);
  }
}

/** Compresses a sorted list of numbers into [from, to] ranges. */
export function toRanges(nums: number[]): Range[] {
  const out: Range[] = [];
  for (const n of nums) {
    const last = out[out.length - 1];
    if (last && n === last[1] + 1) last[1] = n;
    else if (!last || n > last[1]) out.push([n, n]);
  }
  return out;
}

/** `1-4, 9, 12-13`; long lists are cut, saying how many intervals were left out. */
export function formatRanges(ranges: Range[], dropped = 0, max = 20): string {
  const shown = ranges.slice(0, max).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`));
  const more = ranges.length - shown.length + dropped;
  return more > 0 ? `${shown.join(', ')} and ${more} more range(s)` : shown.join(', ');
}
