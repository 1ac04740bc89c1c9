import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FLAG_VALUE, mayHoldFlag } from '../src/payload/masking/key-value-scan.js';

// The flag form's pre-check must never say no where the flag regex would match: a miss would
// leave `--password value` in clear. Checked against the regex itself on strings made of the
// characters that matter around a dash.
describe('mayHoldFlag', () => {
  it('is true whenever FLAG_VALUE matches', () => {
    const ch = fc.constantFrom('-', '-', 'a', 'Z', 'p', '1', '_', '.', ' ', '\t', '\n', '=', "'", '"', 'é', '@');
    fc.assert(
      fc.property(fc.array(ch, { maxLength: 24 }).map((a) => a.join('')), (s) => {
        FLAG_VALUE.lastIndex = 0;
        if (FLAG_VALUE.test(s)) expect(mayHoldFlag(s)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('answers the cases by hand', () => {
    for (const s of ['--password x', '-storepass x', 'run -u x', 'a --b c', '\t-k v', '--auth.password p']) expect(mayHoldFlag(s), s).toBe(true);
    for (const s of ['2026-11-21', '123e4567-e89b-12d3', 'tier-2', 'en-GB', 'a-b c', '5-7 days', '---', '- 1', '-_x']) expect(mayHoldFlag(s), s).toBe(false);
  });
});
