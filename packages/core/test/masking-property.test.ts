import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMaskingEncoder } from '../src/index.js';
import { EncodeReport } from '../src/payload/encode-report.js';
import { BY_KEY, DETECTED } from './fixtures/secrets-corpus.js';

const ctx = (report: EncodeReport) => ({ tool: 't', field: 'arguments', report }) as const;
const encoder = createMaskingEncoder({ hashKey: 'property-test-hmac-key-0123456789' }, { logger: { warn() {} } });

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** One secret to plant, how, and where (an index into the containers of the random value). */
const plantArb = fc.record({
  secret: fc.nat(DETECTED.length + BY_KEY.length - 1),
  mode: fc.constantFrom('value', 'prose', 'key', 'array'),
  where: fc.nat(),
  words: fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 })),
});
type Plant = typeof plantArb extends fc.Arbitrary<infer T> ? T : never;

function containers(v: Json, out: (Json[] | { [k: string]: Json })[] = []): (Json[] | { [k: string]: Json })[] {
  if (Array.isArray(v)) {
    out.push(v);
    for (const x of v) containers(x, out);
  } else if (typeof v === 'object' && v !== null) {
    out.push(v);
    for (const x of Object.values(v)) containers(x, out);
  }
  return out;
}

/** Plants each secret in the value; returns the strings that must not survive masking. */
function plant(root: { [k: string]: Json }, plants: Plant[]): string[] {
  const needles: string[] = [];
  for (const p of plants) {
    const spots = containers(root);
    const spot = spots[p.where % spots.length]!;
    let piece: Json;
    let name = `planted_${p.where}`;
    if (p.secret < DETECTED.length) {
      const d = DETECTED[p.secret]!;
      needles.push(...(d.needles ?? [d.value]));
      if (p.mode === 'prose') piece = `${p.words[0]} ${d.value} ${p.words[1]}`;
      else if (p.mode === 'array') piece = [p.words[0], d.value];
      else if (p.mode === 'key') {
        piece = 1;
        name = d.value;
      } else piece = d.value;
    } else {
      const k = BY_KEY[p.secret - DETECTED.length]!;
      // A short value is looked for as its "key":"value" pair (three digits occur anywhere).
      needles.push(k.value.length < 6 ? JSON.stringify({ [k.key]: k.value }).slice(1, -1) : k.value);
      name = k.key;
      piece = p.mode === 'array' ? [k.value] : k.value;
    }
    if (Array.isArray(spot)) spot.push(p.mode === 'key' || p.secret >= DETECTED.length ? { [name]: piece } : piece);
    else spot[name] = piece;
  }
  return needles;
}

describe('masking, property-based', () => {
  it('leaves no planted secret in random JSON and always writes valid JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), fc.array(plantArb, { minLength: 1, maxLength: 6 }), (base, plants) => {
        const root: { [k: string]: Json } = { base: structuredClone(base) as Json };
        const needles = plant(root, plants);
        const report = new EncodeReport();
        const out = encoder.json(root, ctx(report));
        expect(() => JSON.parse(out)).not.toThrow();
        for (const n of needles) {
          expect(out).not.toContain(n);
          expect(out).not.toContain(JSON.stringify(n).slice(1, -1));
        }
        expect(report.masked).toBeGreaterThanOrEqual(1);
        expect(report.failed).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('cuts any value to the cap as valid JSON, secrets masked before the cut', () => {
    const small = createMaskingEncoder({ hashKey: 'property-test-hmac-key-0123456789', maxPayloadBytes: 300 }, { logger: { warn() {} } });
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.array(plantArb, { maxLength: 4 }), (base, plants) => {
        const root: { [k: string]: Json } = { base: structuredClone(base) as Json, filler: 'é'.repeat(200) };
        const needles = plant(root, plants);
        const report = new EncodeReport();
        const out = small.json(root, ctx(report));
        expect(Buffer.byteLength(out)).toBeLessThanOrEqual(300);
        expect(() => JSON.parse(out)).not.toThrow();
        for (const n of needles) expect(out).not.toContain(n);
      }),
      { numRuns: 200 },
    );
  });

  it('masks text the same way: no planted secret survives in an error message', () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(DETECTED.length - 1), fc.string(), (before, i, after) => {
        const d = DETECTED[i]!;
        const out = encoder.text(`${before} ${d.value} ${after}`, { tool: 't', field: 'error' });
        for (const n of d.needles ?? [d.value]) expect(out).not.toContain(n);
      }),
      { numRuns: 300 },
    );
  });
});
