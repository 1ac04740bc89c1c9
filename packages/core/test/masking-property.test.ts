import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMaskingEncoder } from '../src/index.js';
import { EncodeReport } from '../src/payload/encode-report.js';
import { BY_KEY, DETECTED, type Planted } from './fixtures/secrets-corpus.js';
import { excluded, filled, FORMS, formOf, KEY_FORMS, leaks, type Form } from './masking-forms.js';

const ctx = (report: EncodeReport) => ({ tool: 't', field: 'arguments', report }) as const;
const encoder = createMaskingEncoder({ hashKey: 'property-test-hmac-key-0123456789' }, { logger: { warn() {} } });

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** One secret to plant, how, in which encoded form, and where (an index into the containers of the random value). */
const plantArb = fc.record({
  secret: fc.nat(DETECTED.length + BY_KEY.length - 1),
  mode: fc.constantFrom('value', 'prose', 'key', 'array'),
  form: fc.constantFrom(...FORMS),
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

/** What must not survive: the needles, and their spellings in a form that encodes character by character. */
interface Needles {
  plain: string[];
  formed: string[];
}

/** The form a plant really takes: its own, unless that form is excluded for the entry (then plain). */
function formFor(d: Planted, form: Form): Form {
  return excluded(d, form) === undefined ? form : 'plain';
}

function formedNeedles(d: Planted, form: Form): string[] {
  const plain = d.needles ?? [d.value];
  return form === 'url' || form === 'url_all' || form === 'fullwidth' ? plain.map((n) => formOf(form, n)) : [];
}

/** Plants each secret in the value; returns the strings that must not survive masking. */
function plant(root: { [k: string]: Json }, plants: Plant[]): Needles {
  const needles: Needles = { plain: [], formed: [] };
  for (const p of plants) {
    const spots = containers(root);
    const spot = spots[p.where % spots.length]!;
    let piece: Json;
    let name = `planted_${p.where}`;
    if (p.secret < DETECTED.length) {
      const d = DETECTED[p.secret]!;
      const form = formFor(d, p.form);
      const text = formOf(form, filled(d), p.where);
      needles.plain.push(...(d.needles ?? [d.value]));
      needles.formed.push(...formedNeedles(d, form));
      if (p.mode === 'prose') piece = `${p.words[0]} ${text} ${p.words[1]}`;
      else if (p.mode === 'array') piece = [p.words[0], text];
      else if (p.mode === 'key') {
        piece = 1;
        name = text;
      } else piece = text;
    } else {
      const k = BY_KEY[p.secret - DETECTED.length]!;
      // The key name in a form a rule must still see through (full-width, zero-width, %XX).
      name = formOf(KEY_FORMS[p.where % KEY_FORMS.length]!, k.key, p.where);
      // A short value is looked for as its "key":"value" pair (three digits occur anywhere).
      needles.plain.push(k.value.length < 6 ? JSON.stringify({ [name]: k.value }).slice(1, -1) : k.value);
      piece = p.mode === 'array' ? [k.value] : k.value;
    }
    if (Array.isArray(spot)) spot.push(p.mode === 'key' || p.secret >= DETECTED.length ? { [name]: piece } : piece);
    else spot[name] = piece;
  }
  return needles;
}

function expectNoLeak(out: string, needles: Needles, what: unknown): void {
  const left = leaks(out, needles.plain, needles.formed);
  for (const n of needles.plain) if (n.includes('":"')) expect(out, JSON.stringify(what)).not.toContain(n);
  expect(left, `${JSON.stringify(what)}\n-> ${out}`).toEqual([]);
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
        expectNoLeak(out, needles, plants);
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
        expect(leaks(out, needles.plain, needles.formed)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('masks text the same way: no planted secret, in any form, survives in an error message', () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(DETECTED.length - 1), fc.constantFrom(...FORMS), fc.string(), (before, i, f, after) => {
        const d = DETECTED[i]!;
        const form = formFor(d, f);
        const out = encoder.text(`${before} ${formOf(form, filled(d), i)} ${after}`, { tool: 't', field: 'error' });
        expect(leaks(out, d.needles ?? [d.value], formedNeedles(d, form)), out).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('masks every corpus entry in every form, alone and in prose (no sampling)', () => {
    const misses: string[] = [];
    for (const d of DETECTED) {
      for (const form of FORMS) {
        if (excluded(d, form) !== undefined) continue;
        const text = formOf(form, filled(d), 3);
        for (const value of [text, `Please use ${text} for this.`, { [text]: 1 }]) {
          const out = encoder.json({ v: value }, ctx(new EncodeReport()));
          const left = leaks(out, d.needles ?? [d.value], formedNeedles(d, form));
          if (left.length > 0) misses.push(`${d.kind} ${form}: ${out}`);
        }
      }
    }
    expect(misses).toEqual([]);
  });

  it('lists every entry left out of a form, with its reason', () => {
    const skipped = DETECTED.flatMap((d) => FORMS.flatMap((f) => (excluded(d, f) === undefined ? [] : [`${d.kind}:${f}: ${excluded(d, f)}`])));
    // Only reasons written down in masking-forms.ts; none silently.
    for (const line of skipped) expect(line).toMatch(/: .+/);
  });
});
