import { describe, expect, it } from 'vitest';
import { RangeSet, toRanges } from '../src/verify/ranges.js';
import { SeqTable } from '../src/verify/seq-table.js';

// The compact structures verify keeps per stream, against plain Sets and Maps on seeded random
// input: every order, dense runs, scattered numbers, numbers near 2^53.

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const fpOf = (n: number) => Buffer.from(n.toString(16).padStart(32, '0').slice(-32), 'hex').toString('latin1');

describe('SeqTable', () => {
  it.each([1, 2, 3, 4, 5, 6])('matches a Map for seeded random inserts (seed %i)', (seed) => {
    const r = rng(seed);
    const t = new SeqTable();
    const ref = new Map<number, number>();
    const max = Number.MAX_SAFE_INTEGER;
    for (let k = 0; k < 20_000; k++) {
      const pick = r();
      // Mostly runs near the start (a stream), some scattered, some near 2^53.
      const seq = pick < 0.7 ? 1 + Math.floor(r() * 5000) : pick < 0.9 ? 1 + Math.floor(r() * 1e9) : max - Math.floor(r() * 3000);
      if (ref.has(seq)) continue;
      const flags = Math.floor(r() * 4);
      ref.set(seq, flags);
      expect(t.insert(seq, flags, fpOf(seq))).toBe(true);
    }
    expect(t.size).toBe(ref.size);
    for (const [seq, flags] of ref) {
      expect(t.flags(seq)).toBe(flags);
      expect(t.fp(seq)).toBe(fpOf(seq));
    }
    for (let k = 0; k < 2000; k++) {
      const seq = 1 + Math.floor(r() * 6000);
      if (!ref.has(seq)) {
        expect(t.flags(seq)).toBe(-1);
        expect(t.fp(seq)).toBeUndefined();
      }
    }
    const sorted = [...ref.keys()].sort((a, b) => a - b);
    expect([...t.intervals()]).toEqual(toRanges(sorted));
    expect(t.min).toBe(sorted[0]);
    expect(t.max).toBe(sorted.at(-1));
  });

  it('a run of a million numbers costs about 17 bytes each', () => {
    const t = new SeqTable();
    const fp = fpOf(7);
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage();
    for (let seq = 1; seq <= 1_000_000; seq++) t.insert(seq, 1, fp);
    const after = process.memoryUsage();
    const used = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
    expect([...t.intervals()]).toEqual([[1, 1_000_000]]);
    expect(used / 1e6).toBeLessThan(40); // bytes per number, garbage of the chunk doubling included
  });
});

describe('RangeSet', () => {
  it.each([7, 8, 9])('matches a Set for seeded random additions (seed %i)', (seed) => {
    const r = rng(seed);
    const set = new RangeSet(100_000);
    const ref = new Set<number>();
    for (let k = 0; k < 5000; k++) {
      const a = Math.floor(r() * 3000);
      const b = a + Math.floor(r() * 5);
      set.addRange(a, b);
      for (let n = a; n <= b; n++) ref.add(n);
    }
    expect(set.ranges()).toEqual(toRanges([...ref].sort((x, y) => x - y)));
    expect(set.count).toBe(ref.size);
    for (let n = -2; n < 3010; n++) expect(set.has(n)).toBe(ref.has(n));
  });

  it('keeps at most its cap of intervals, the lowest, and counts the rest', () => {
    const set = new RangeSet(3);
    for (const n of [50, 10, 30, 70, 90, 11]) set.add(n);
    expect(set.ranges()).toEqual([
      [10, 11],
      [30, 30],
      [50, 50],
    ]);
    expect(set.droppedRanges).toBe(2);
    expect(set.count).toBe(6);
  });
});
